#!/usr/bin/env python3
"""Deterministic generator for the sample dataset bundled with Sift.

Writes three JSONL files in the formats Sift understands (OpenAI chat, preference pairs and Alpaca SFT)
filled with synthetic, template-built assistant-training data across eleven topics. A known, exact number
of data-quality defects is planted on purpose so the dashboard has something to find; their locations are
written to ``defects.json`` and every row's topic to ``topics.json``.

Before anything is written the script verifies its own output (defect counts, and that no two rows are
near duplicates unless that pair was planted) and exits non-zero if a check fails.

Usage::

    python sample_data/generate.py            # writes next to this file
    python sample_data/generate.py --out DIR  # writes into DIR

Standard library only; the output depends on nothing but ``--seed`` (default below).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 1729
HERE = Path(__file__).resolve().parent
FILES = ("chat.jsonl", "preference.jsonl", "sft.jsonl")  # sorted order == global row_id order
TARGET_ROWS = {"chat.jsonl": 350, "preference.jsonl": 250, "sft.jsonl": 450}

# Similarity settings. Candidate rows are rejected while generating if they look too much like an accepted
# row (REJECT_AT); the final check fails if an unplanted pair reaches CLEAN_MAX, or a planted near
# duplicate falls below NEAR_MIN.
REJECT_AT = 0.3
CLEAN_MAX = 0.5
NEAR_MIN = 0.7
# The main response of a row (last assistant turn, chosen, output) is also kept distinct on its own, so
# a tool that compares responses only does not find unplanted near duplicates either.
RESPONSE_REJECT_AT = 0.4


# --------------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------------


def pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def fill(template: str, **kw) -> str:
    """``$name`` substitution; used for code so that literal braces stay literal."""
    return string.Template(template).substitute(**kw)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def bullets(items) -> str:
    return "\n".join(f"- {x}" for x in items)


def numbered(items) -> str:
    return "\n".join(f"{i}. {x}" for i, x in enumerate(items, 1))


def paras(*blocks) -> str:
    return "\n\n".join(b for b in blocks if b)


def code_block(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code.strip()}\n```"


def money(x: float) -> str:
    if abs(x - round(x)) < 0.005:
        return f"${x:,.0f}"
    return f"${x:,.2f}"


def num(x: float) -> str:
    """Format a number without a trailing .0 and with at most two decimals."""
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def hours_text(h: float) -> str:
    whole = int(h)
    minutes = int(round((h - whole) * 60))
    if minutes == 60:
        whole, minutes = whole + 1, 0
    parts = []
    if whole:
        parts.append(f"{whole} hour{'s' if whole != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minutes")
    return " and ".join(parts) or "0 minutes"


def listing(items) -> str:
    items = list(items)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class QA:
    """One question/answer about a topic item, in every shape the three files need."""

    key: str
    prompt: str
    response: str
    short: str  # a terse version: used for "summarise that" follow-ups and as a weak rejected answer
    rejected: str  # the worse answer for preference data
    followup: str = ""  # how the same question reads later in a conversation (defaults to prompt)
    instruction: str = ""  # optional Alpaca split; empty means instruction = prompt, input = ""
    input: str = ""
    standalone: bool = True  # False: the prompt only makes sense as a follow-up in a conversation


def sentence(text: str) -> str:
    """Add a full stop unless the text already ends a sentence."""
    return text if text.endswith((".", "?", "!")) else text + "."


def a_an(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def worse(rng: random.Random, short: str, vague: list[str], wrong: str | None = None) -> str:
    r = rng.random()
    if wrong and r < 0.35:
        return wrong
    if r < 0.7:
        return short
    return pick(rng, vague)


NAMES = [
    "Amara", "Ben", "Carlos", "Dana", "Elif", "Farah", "Gabriel", "Hana", "Ivan", "Jules", "Kofi", "Lena",
    "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wen", "Ximena",
    "Yusuf", "Zoe", "Aiko", "Bruno", "Chiara", "Diego", "Esther", "Felix", "Grace", "Hugo", "Ines", "Jonah",
    "Keiko", "Luis", "Maya", "Nikhil", "Olga", "Pedro", "Rania", "Soren", "Thandi", "Valeria", "Wiktor",
]
SURNAMES = [
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Kowalski", "Fernandes", "Nguyen", "Brennan",
    "Adeyemi", "Castillo", "Novak", "Petrov", "Rahman", "Silva", "Yamamoto", "Schulz", "Mensah", "Costa",
    "Iyer", "Larsen", "Duarte", "Kaplan", "Whitfield",
]


# --------------------------------------------------------------------------------------------------------
# topic: math word problems
# --------------------------------------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str
    text: str
    steps: list[str]
    answer: str
    wrong: str  # a plausible wrong final answer
    slip: str  # the mistake that produces it


def mp_speed(rng):
    name = pick(rng, NAMES)
    speed = pick(rng, [40, 45, 48, 50, 55, 60, 64, 70, 72, 75, 80, 90])
    hours = pick(rng, [1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6])
    dist = speed * hours
    how = pick(rng, ["drives", "rides a coach", "takes a regional train", "travels by car"])
    v = rng.randrange(3)
    if v == 0:
        text = f"{name} {how} {num(dist)} km at a steady {speed} km/h. How long does the journey take?"
        steps = [
            "Use the relationship distance = speed × time, so time = distance ÷ speed.",
            f"Time = {num(dist)} ÷ {speed} = {num(hours)} hours.",
            f"{num(hours)} hours is {hours_text(hours)}.",
        ]
        return Problem("speed", text, steps, hours_text(hours), f"{speed / dist:.2f} hours",
                       "dividing the speed by the distance instead of the other way round")
    if v == 1:
        text = (f"A freight train covers {num(dist)} kilometres in {hours_text(hours)}. "
                "What is its average speed in km/h?")
        steps = [
            "Average speed is total distance divided by total time.",
            f"Write the time as a decimal: {hours_text(hours)} = {num(hours)} h.",
            f"Speed = {num(dist)} ÷ {num(hours)} = {speed} km/h.",
        ]
        return Problem("speed", text, steps, f"{speed} km/h", f"{num(dist * hours)} km/h",
                       "multiplying the distance by the time instead of dividing")
    text = (f"{name} has to cover {num(dist)} km and wants to arrive in exactly {hours_text(hours)}. "
            "What average speed is needed?")
    steps = [
        f"The required speed is the distance divided by the time available: {num(dist)} ÷ {num(hours)}.",
        f"That works out to {speed} km/h.",
        "Any stops along the way would push the moving speed higher than this average.",
    ]
    return Problem("speed", text, steps, f"{speed} km/h", f"{num(dist * 60 / (hours * 60) + 10)} km/h",
                   "adding a buffer to the speed that the question never asked for")


def mp_discount(rng):
    price = pick(rng, [24, 36, 48, 60, 75, 80, 96, 120, 150, 180, 240, 320])
    pct = pick(rng, [10, 15, 20, 25, 30, 40])
    item = pick(rng, ["jacket", "pair of hiking boots", "desk lamp", "backpack", "set of pans",
                      "coffee grinder", "bookshelf", "tennis racket", "rice cooker", "wool sweater"])
    v = rng.randrange(3)
    sale = price * (100 - pct) / 100
    if v == 0:
        text = f"A {item} costs {money(price)}. It is on sale for {pct}% off. What is the sale price?"
        steps = [
            f"The discount is {pct}% of {money(price)}: {pct / 100:g} × "
            f"{num(price)} = {money(price * pct / 100)}.",
            f"Subtract it from the original price: {money(price)} − "
            f"{money(price * pct / 100)} = {money(sale)}.",
        ]
        return Problem("discount", text, steps, money(sale), money(price * pct / 100),
                       "stopping at the discount amount instead of subtracting it")
    if v == 1:
        second = pick(rng, [10, 20, 25])
        final = sale * (100 - second) / 100
        text = (f"A shop marks a {item} down {pct}% from {money(price)}, then takes a further {second}% off "
                f"the reduced price at checkout. What does the {item} finally cost?")
        steps = [
            f"After the first markdown: {money(price)} × {(100 - pct) / 100:g} = {money(sale)}.",
            f"The second discount applies to the new price: {money(sale)} × "
            f"{(100 - second) / 100:g} = {money(final)}.",
            f"Note this is not the same as {pct + second}% off the original price.",
        ]
        return Problem("discount", text, steps, money(final), money(price * (100 - pct - second) / 100),
                       f"adding the two discounts together as if it were {pct + second}% off")
    text = (f"After a {pct}% discount, a {item} sells for {money(sale)}. "
            "What was the price before the discount?")
    steps = [
        f"The sale price is {100 - pct}% of the original, so original × "
        f"{(100 - pct) / 100:g} = {money(sale)}.",
        f"Divide: {money(sale)} ÷ {(100 - pct) / 100:g} = {money(price)}.",
    ]
    return Problem("discount", text, steps, money(price), money(sale * (100 + pct) / 100),
                   f"adding {pct}% back onto the sale price")


def mp_bill(rng):
    bill = pick(rng, [84, 96, 120, 138, 150, 172, 186, 210, 264])
    tip = pick(rng, [15, 18, 20])
    people = pick(rng, [3, 4, 5, 6])
    total = bill * (1 + tip / 100)
    per = total / people
    place = pick(rng, ["a birthday dinner", "a team lunch", "a night out at a tapas bar", "a family brunch"])
    text = (f"The bill for {place} comes to {money(bill)}. The group adds a {tip}% tip and splits the total "
            f"evenly between {people} people. How much does each person pay?")
    steps = [
        f"Tip: {tip}% of {money(bill)} = {money(bill * tip / 100)}.",
        f"Total with tip: {money(bill)} + {money(bill * tip / 100)} = {money(total)}.",
        f"Per person: {money(total)} ÷ {people} = {money(per)}.",
    ]
    return Problem("bill", text, steps, money(per), money(bill / people),
                   "splitting the bill before adding the tip")


def mp_ratio(rng):
    a, b = pick(rng, [(2, 3), (3, 5), (1, 4), (3, 4), (2, 5), (5, 7), (4, 5)])
    unit = pick(rng, [20, 25, 30, 40, 50, 60, 75])
    total = (a + b) * unit
    n1, n2 = rng.sample(NAMES, 2)
    what = pick(rng, ["prize money of", "a bonus pool of", "profits of", "an inheritance of"])
    text = f"{n1} and {n2} share {what} {money(total)} in the ratio {a}:{b}. How much does each receive?"
    steps = [
        f"Add the parts of the ratio: {a} + {b} = {a + b} parts.",
        f"One part is worth {money(total)} ÷ {a + b} = {money(unit)}.",
        f"{n1} gets {a} × {money(unit)} = {money(a * unit)} and {n2} gets {b} × "
        f"{money(unit)} = {money(b * unit)}.",
        f"Check: {money(a * unit)} + {money(b * unit)} = {money(total)}.",
    ]
    return Problem("ratio", text, steps, f"{n1}: {money(a * unit)}, {n2}: {money(b * unit)}",
                   f"{n1}: {money(total * a / b)}", f"treating the ratio {a}:{b} as the fraction {a}/{b}")


def mp_work(rng):
    a, b = pick(rng, [(3, 6), (4, 12), (6, 12), (2, 3), (10, 15), (5, 20), (12, 24), (6, 3), (4, 6), (8, 24)])
    together = a * b / (a + b)
    job = pick(rng, [("painter", "paint a fence"), ("pump", "drain a pool"), ("printer", "print the order"),
                     ("volunteer", "sort the donations"), ("mower", "cut the field")])
    n1, n2 = rng.sample(NAMES, 2)
    if job[0] == "volunteer":
        lead = f"{n1} can {job[1]} alone in {a} hours, and {n2} can do it alone in {b} hours."
    else:
        lead = f"One {job[0]} can {job[1]} in {a} hours; a second {job[0]} takes {b} hours for the same job."
    text = lead + " How long does it take working together?"
    steps = [
        f"Work in rates: the first finishes 1/{a} of the job per hour, the second 1/{b}.",
        f"Together: 1/{a} + 1/{b} = {a + b}/{a * b} of the job per hour.",
        f"Time = {a * b}/{a + b} = {num(together)} hours, which is {hours_text(together)}.",
    ]
    return Problem("work", text, steps, hours_text(together), hours_text((a + b) / 2),
                   "averaging the two times instead of adding the rates")


def mp_fence(rng):
    length = pick(rng, [8, 10, 12, 14, 15, 18, 20, 24])
    width = pick(rng, [5, 6, 7, 9, 10, 11])
    cost = pick(rng, [12, 15, 18, 22, 25, 30])
    per = 2 * (length + width)
    if chance(rng, 0.5):
        text = (f"A rectangular garden is {length} m long and {width} m wide. Fencing costs {money(cost)} "
                f"per metre. How much will it cost to fence the whole garden?")
        steps = [
            f"Perimeter = 2 × ({length} + {width}) = {per} m.",
            f"Cost = {per} × {money(cost)} = {money(per * cost)}.",
        ]
        return Problem("fence", text, steps, money(per * cost), money(length * width * cost),
                       "using the area instead of the perimeter")
    text = (f"A lawn measures {length} m by {width} m. Turf costs {money(cost / 2)} per square metre, "
            "and you should buy 10% extra for trimming. What is the cost of the turf?")
    area = length * width
    steps = [
        f"Area = {length} × {width} = {area} m².",
        f"With 10% extra: {area} × 1.1 = {num(area * 1.1)} m².",
        f"Cost = {num(area * 1.1)} × {money(cost / 2)} = {money(area * 1.1 * cost / 2)}.",
    ]
    return Problem("fence", text, steps, money(area * 1.1 * cost / 2), money(area * cost / 2),
                   "forgetting the 10% extra")


def mp_average(rng):
    n = pick(rng, [3, 4])
    target = pick(rng, [75, 80, 85, 88, 90])
    scores = [rng.randrange(target - 12, target + 8) for _ in range(n)]
    need = target * (n + 1) - sum(scores)
    while need > 100 or need < 40:
        scores = [rng.randrange(target - 12, target + 8) for _ in range(n)]
        need = target * (n + 1) - sum(scores)
    name = pick(rng, NAMES)
    subj = pick(rng, ["chemistry", "statistics", "Spanish", "history", "biology", "economics"])
    text = (f"{name}'s {subj} test scores so far are {listing(str(s) for s in scores)}. What score is needed "
            f"on the next test to bring the average up to exactly {target}?")
    steps = [
        f"For an average of {target} over {n + 1} tests, the total must be {target} "
        f"× {n + 1} = {target * (n + 1)}.",
        f"The current total is {' + '.join(str(s) for s in scores)} = {sum(scores)}.",
        f"Needed score = {target * (n + 1)} − {sum(scores)} = {need}.",
    ]
    return Problem("average", text, steps, str(need), str(target),
                   "assuming the next score just equals the target")


def mp_interest(rng):
    p = pick(rng, [1200, 2500, 4000, 5000, 7500, 10000, 15000])
    r = pick(rng, [2, 3, 3.5, 4, 4.5, 5, 6])
    t = pick(rng, [2, 3, 4, 5, 6, 8])
    i = p * r * t / 100
    name = pick(rng, NAMES)
    text = (f"{name} deposits {money(p)} in an account that pays {num(r)}% simple interest per year. How "
            f"much interest is earned after {t} years, and what is the balance then?")
    steps = [
        "Simple interest = principal × rate × time.",
        f"I = {num(p)} × {r / 100:g} × {t} = {money(i)}.",
        f"Balance = {money(p)} + {money(i)} = {money(p + i)}.",
    ]
    return Problem("interest", text, steps, f"{money(i)} interest, {money(p + i)} balance",
                   f"{money(p * r / 100)} interest", "calculating one year of interest only")


def mp_ages(rng):
    while True:
        k = pick(rng, [3, 4, 5])
        m = rng.randrange(2, k)
        n = pick(rng, [4, 5, 6, 8, 10, 12, 15])
        if n * (m - 1) % (k - m) == 0:
            y = n * (m - 1) // (k - m)
            if 3 <= y <= 20:
                break
    x = k * y
    parent, child, subj, obj = pick(rng, [("A mother", "her son", "she", "him"),
                                          ("A father", "his daughter", "he", "her"),
                                          ("An aunt", "her nephew", "she", "him"),
                                          ("A grandfather", "his granddaughter", "he", "her")])
    times = {2: "twice", 3: "three times", 4: "four times", 5: "five times"}
    text = (f"{parent} is {times[k]} as old as {child}. In {n} years {subj} will be {times[m]} as old "
            f"as {obj}. How old are they now?")
    steps = [
        f"Let the younger age be y, so the older age is {k}y.",
        f"In {n} years: {k}y + {n} = {m}(y + {n}).",
        f"Expand: {k}y + {n} = {m}y + {m * n}, so {k - m}y = {m * n - n} and y = {y}.",
        f"The older person is {k} × {y} = {x}. Check: in {n} years they are {x + n} and "
        f"{y + n}, and {x + n} = {m} × {y + n}.",
    ]
    return Problem("ages", text, steps, f"{x} and {y}", f"{x + n} and {y + n}",
                   "giving the ages in the future instead of today")


def mp_unit_price(rng):
    item = pick(rng, [("yogurt", "pots"), ("sparkling water", "cans"), ("granola bars", "bars"),
                      ("batteries", "batteries"), ("dishwasher tablets", "tablets"), ("tea", "bags")])
    n1, n2 = pick(rng, [(6, 8), (12, 20), (4, 10), (24, 36), (30, 50), (40, 100)])
    u1 = pick(rng, [0.45, 0.5, 0.55, 0.6, 0.75, 0.8])
    u2 = u1 + pick(rng, [-0.1, -0.05, 0.05, 0.1])
    p1, p2 = n1 * u1, n2 * u2
    text = (f"A pack of {n1} {item[1]} of {item[0]} costs {money(p1)}, and a pack of {n2} costs {money(p2)}. "
            "Which pack is the better deal per item?")
    better = f"the {n1}-pack" if u1 < u2 else f"the {n2}-pack"
    worse_pack = f"the {n2}-pack" if u1 < u2 else f"the {n1}-pack"
    steps = [
        f"Small pack: {money(p1)} ÷ {n1} = {money(u1)} each.",
        f"Large pack: {money(p2)} ÷ {n2} = {money(u2)} each.",
        f"{cap(better)} is cheaper per item by {money(abs(u1 - u2))}.",
    ]
    return Problem("unit_price", text, steps, cap(better), cap(worse_pack),
                   "comparing the pack prices without dividing by the number of items")


def mp_mixture(rng):
    v1, v2 = pick(rng, [(2, 3), (4, 6), (1, 3), (5, 5), (3, 2), (6, 4)])
    c1, c2 = pick(rng, [(10, 30), (20, 50), (15, 40), (5, 25), (30, 60)])
    conc = (v1 * c1 + v2 * c2) / (v1 + v2)
    what = pick(rng, ["a saline solution", "an acid solution", "a sugar syrup", "a cleaning concentrate"])
    text = (f"A lab technician mixes {v1} litres of {what} at {c1}% strength with {v2} litres at {c2}%. "
            "What is the concentration of the mixture?")
    steps = [
        f"Amount of the dissolved substance: {v1} × {c1 / 100:g} + {v2} × {c2 / 100:g} = "
        f"{num(v1 * c1 / 100 + v2 * c2 / 100)} litres.",
        f"Total volume: {v1} + {v2} = {v1 + v2} litres.",
        f"Concentration = {num(v1 * c1 / 100 + v2 * c2 / 100)} ÷ {v1 + v2} = {num(conc)}%.",
    ]
    return Problem("mixture", text, steps, f"{num(conc)}%", f"{num((c1 + c2) / 2 + (0 if v1 != v2 else 5))}%",
                   "averaging the two percentages without weighting by volume")


def mp_consecutive(rng):
    start = rng.randrange(11, 160)
    even = chance(rng, 0.5)
    if even:
        start += start % 2
        nums = [start, start + 2, start + 4]
        label = "three consecutive even numbers"
    else:
        nums = [start, start + 1, start + 2]
        label = "three consecutive whole numbers"
    s = sum(nums)
    text = f"The sum of {label} is {s}. What are the numbers?"
    gap = 2 if even else 1
    steps = [
        f"Call the middle number n, so the numbers are n − {gap}, n and n + {gap}.",
        f"Their sum is 3n = {s}, so n = {s // 3}.",
        f"The numbers are {listing(str(x) for x in nums)}.",
    ]
    return Problem("consecutive", text, steps, listing(str(x) for x in nums),
                   listing(str(x) for x in [nums[0] + 1, nums[1] + 1, nums[2] + 1]),
                   "setting the smallest number equal to the sum divided by three")


def mp_recipe(rng):
    base, want = pick(rng, [(4, 6), (6, 9), (4, 10), (8, 12), (6, 4), (12, 18), (4, 3)])
    qty = pick(rng, [1.5, 2, 2.5, 3, 0.75, 1.25])
    ing = pick(rng, ["cups of flour", "cups of milk", "tablespoons of honey", "cups of rolled oats",
                     "cups of stock", "teaspoons of cinnamon"])
    dish = pick(rng, ["pancakes", "a pot of soup", "muffins", "a tray of flapjacks", "a curry",
                      "banana bread"])
    scaled = qty * want / base
    text = (f"A recipe for {dish} serves {base} and uses {num(qty)} {ing}. How much is "
            f"needed to serve {want} people?")
    steps = [
        f"The scale factor is {want} ÷ {base} = {num(want / base)}.",
        f"Multiply the amount: {num(qty)} × {num(want / base)} = {num(scaled)} {ing}.",
    ]
    return Problem("recipe_scale", text, steps, f"{num(scaled)} {ing}", f"{num(qty + want - base)} {ing}",
                   f"adding {want - base} to the amount instead of scaling it")


def mp_clock(rng):
    h = rng.randrange(6, 21)
    m = pick(rng, [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55])
    dur = pick(rng, [95, 110, 135, 150, 165, 200, 245, 80])
    end = h * 60 + m + dur
    eh, em = divmod(end, 60)
    ev = pick(rng, ["film", "ferry crossing", "board-game marathon", "concert", "bake", "train journey"])
    text = f"A {ev} starts at {h:02d}:{m:02d} and lasts {dur} minutes. At what time does it end?"
    steps = [
        f"{dur} minutes is {dur // 60} hour{'s' if dur // 60 != 1 else ''} and {dur % 60} minutes.",
        f"Add the hours: {h:02d}:{m:02d} + {dur // 60} h = {(h + dur // 60) % 24:02d}:{m:02d}.",
        f"Add the minutes: the {ev} ends at {eh % 24:02d}:{em:02d}.",
    ]
    wrong = f"{(h + dur // 100) % 24:02d}:{(m + dur % 100) % 60:02d}"
    return Problem("clock", text, steps, f"{eh % 24:02d}:{em:02d}", wrong,
                   "treating the minutes as if an hour had 100 of them")


def frac(a: int, b: int, short: bool = False) -> str:
    """a/b, followed by its lowest terms when those differ (or only the lowest terms if short)."""
    g = math.gcd(a, b)
    if g == 1:
        return f"{a}/{b}"
    return f"{a // g}/{b // g}" if short else f"{a}/{b} = {a // g}/{b // g}"


def mp_probability(rng):
    r, b, g = rng.randrange(2, 9), rng.randrange(2, 9), rng.randrange(1, 7)
    total = r + b + g
    holder = pick(rng, ["bag", "jar", "box", "tin"])
    things = pick(rng, [("marbles", "red", "blue", "green"), ("sweets", "lemon", "cherry", "lime"),
                        ("counters", "yellow", "black", "white")])
    if chance(rng, 0.5):
        text = (f"A {holder} holds {r} {things[1]}, {b} {things[2]} and {g} {things[3]} {things[0]}. One is "
                f"picked at random. What is the probability that it is {things[1]}?")
        steps = [
            f"There are {r} + {b} + {g} = {total} {things[0]} in total.",
            f"{cap(things[1])} ones: {r}, so P = {frac(r, total)}.",
            f"As a decimal that is about {r / total:.3f}, or {100 * r / total:.1f}%.",
        ]
        return Problem("probability", text, steps, frac(r, total, short=True), frac(r, b + g, short=True),
                       "dividing by the number of other colours instead of the total")
    p = r * (r - 1) / (total * (total - 1))
    text = (f"A {holder} contains {r} {things[1]}, {b} {things[2]} and {g} {things[3]} {things[0]}. Two are "
            f"drawn without replacement. What is the probability that both are {things[1]}?")
    steps = [
        f"First draw: {r}/{total}.",
        f"Second draw, with one {things[1]} gone: {r - 1}/{total - 1}.",
        f"Multiply: {r}/{total} × {r - 1}/{total - 1} = {frac(r * (r - 1), total * (total - 1))} ≈ {p:.3f}.",
    ]
    return Problem("probability", text, steps, frac(r * (r - 1), total * (total - 1), short=True),
                   frac(r * r, total * total, short=True),
                   "putting the first item back before the second draw")


def mp_savings(rng):
    goal = pick(rng, [450, 600, 800, 1200, 1500, 2000, 2400])
    have = pick(rng, [0, 50, 120, 200, 300])
    weekly = pick(rng, [25, 35, 40, 45, 60, 75])
    weeks = -(-(goal - have) // weekly)
    name = pick(rng, NAMES)
    thing = pick(rng, ["a used bike", "a new laptop", "a weekend trip", "a camera", "concert tickets",
                       "a sofa", "driving lessons"])
    text = (f"{name} is saving for {thing} that costs {money(goal)}, already has {money(have)}, and puts "
            f"away {money(weekly)} every week. How many weeks until there is enough?")
    steps = [
        f"Still needed: {money(goal)} − {money(have)} = {money(goal - have)}.",
        f"{money(goal - have)} ÷ {money(weekly)} = {num((goal - have) / weekly)} weeks.",
        f"Round up to a whole week: {weeks} weeks.",
    ]
    return Problem("savings", text, steps, f"{weeks} weeks", f"{goal // weekly} weeks",
                   "ignoring the money already saved")


def mp_tiles(rng):
    length, width = pick(rng, [(3, 4), (2.5, 4), (3, 3.5), (4, 5), (2, 3), (3.5, 4)])
    side = pick(rng, [0.5, 0.25])
    area = length * width
    tiles = area / (side * side)
    total = -(-int(tiles * 1.1 * 100) // 100)
    room = pick(rng, ["bathroom", "kitchen", "hallway", "utility room"])
    text = (f"A {room} floor measures {num(length)} m by {num(width)} m. It will be covered with square "
            f"tiles {int(side * 100)} cm on each side, plus 10% extra for cuts. "
            f"How many tiles should be bought?")
    steps = [
        f"Floor area: {num(length)} × {num(width)} = {num(area)} m².",
        f"One tile covers {side} × {side} = {side * side:g} m², so {num(area)} ÷ "
        f"{side * side:g} = {num(tiles)} tiles.",
        f"Add 10%: {num(tiles)} × 1.1 = {num(tiles * 1.1)}, so buy {total} tiles.",
    ]
    return Problem("tiles", text, steps, f"{total} tiles", f"{int(area / side)} tiles",
                   "dividing by the tile's side length instead of its area")


def mp_percent_change(rng):
    a = pick(rng, [40, 50, 60, 80, 120, 150, 200, 250, 400])
    pct = pick(rng, [-25, -20, -15, -10, 5, 10, 15, 20, 30, 35])
    b = a * (100 + pct) / 100
    what = pick(rng, [("monthly electricity bill", "$"), ("rent for a parking space", "$"),
                      ("number of members in a running club", ""), ("price of a train pass", "$"),
                      ("weekly visitors to a small museum", "")])
    fa = money(a) if what[1] else num(a)
    fb = money(b) if what[1] else num(b)
    text = f"The {what[0]} went from {fa} to {fb}. What is the percentage change?"
    direction = "increase" if pct > 0 else "decrease"
    steps = [
        f"Change = {fb} − {fa} = {num(b - a)}.",
        f"Divide by the original value: {num(b - a)} ÷ {num(a)} = {pct / 100:g}.",
        f"That is a {abs(pct)}% {direction}.",
    ]
    return Problem("percent_change", text, steps, f"{abs(pct)}% {direction}",
                   f"{abs(round(100 * (b - a) / b))}% {direction}",
                   "dividing by the new value instead of the old one")


MATH_KINDS = [mp_speed, mp_discount, mp_bill, mp_ratio, mp_work, mp_fence, mp_average, mp_interest, mp_ages,
              mp_unit_price, mp_mixture, mp_consecutive, mp_recipe, mp_clock, mp_probability, mp_savings,
              mp_tiles, mp_percent_change]

MATH_ASK = [
    "{p}",
    "Can you help me solve this? {p}",
    "{p} Please show your working.",
    "I'm stuck on this word problem: {p}",
    "Solve step by step: {p}",
    "Homework check: {p} I want to understand the method, not just the answer.",
    "My kid brought this home and I've forgotten how to do it. {p}",
]
MATH_INSTR = [
    "Solve the following word problem and show each step.",
    "Work out the answer to this problem, explaining your reasoning.",
    "Answer the math word problem below. Give the final answer on its own line.",
    "Explain how to solve this problem.",
]
MATH_VAGUE = [
    "Just plug the numbers into the formula and you'll get it.",
    "This is a standard problem; set up an equation and solve it.",
    "You can estimate it, it's roughly what you'd expect.",
    "Use the numbers given in the question to work it out.",
]


def math_response(rng, pr: Problem) -> str:
    style = rng.randrange(3)
    if style == 0:
        return paras(numbered(pr.steps), f"**Answer:** {pr.answer}.")
    if style == 1:
        lead = pick(rng, ["Here's the method.", "Let's set it up carefully.", "Step by step:", "Working:"])
        return paras(lead, bullets(pr.steps), f"So the answer is **{pr.answer}**.")
    return paras(" ".join(pr.steps), f"Final answer: {pr.answer}.")


def bundle_math(rng):
    kind = pick(rng, MATH_KINDS)
    pr = kind(rng)
    while pr.wrong == pr.answer:
        pr = kind(rng)
    key = "math:" + pr.text
    prompt = pick(rng, MATH_ASK).format(p=pr.text)
    resp = math_response(rng, pr)
    short = f"The answer is {pr.answer}."
    wrong = pick(rng, [f"The answer is {pr.wrong}.",
                       f"{pr.steps[0]} That gives {pr.wrong}.",
                       f"It comes out to {pr.wrong}, if you do the arithmetic quickly."])
    rejected = worse(rng, short, MATH_VAGUE, wrong)
    if chance(rng, 0.5):
        instruction, inp = pick(rng, MATH_INSTR), pr.text
    else:
        instruction, inp = pr.text, ""
    first = QA(key, prompt, resp, short, rejected, instruction=instruction, input=inp)
    # follow-up 1: the student got the wrong answer
    check = QA(
        key + ":check",
        pick(rng, [f"I got {pr.wrong}. Where did I go wrong?", f"My answer was {pr.wrong}. Is that right?",
                   f"Hmm, I ended up with {pr.wrong} when I tried it myself. What happened?"]),
        paras(
            pick(rng, ["Not quite.", "Close, but that's not it.", "That's a very common slip."])
            + f" {pr.wrong} comes from {pr.slip}.",
            f"Following the steps above gives {pr.answer}. "
            + pick(rng, ["Checking the answer against the original question is "
                         "the quickest way to catch this.",
                         "Writing each quantity with its unit makes that mistake easier to spot.",
                         "It helps to estimate roughly first, so an answer that is far off stands out."]),
        ),
        f"The mistake is {pr.slip}; the right answer is {pr.answer}.",
        f"Yes, {pr.wrong} is correct.",
        standalone=False,
    )
    practice = kind(rng)
    drill = QA(
        key + ":practice",
        pick(rng, ["Can you give me a similar one to practice?", "Got it. Give me another one like that.",
                   "Could you make up a practice problem of the same type?"]),
        paras(pick(rng, ["Try this one:", "Here's a similar problem:", "Practice problem:"]), practice.text,
              f"When you're done, check against the answer: {practice.answer}."),
        f"Try: {practice.text}",
        "Make up your own numbers and try it.",
        standalone=False,
    )
    return [first, check, drill]


# --------------------------------------------------------------------------------------------------------
# topic: python programming
# --------------------------------------------------------------------------------------------------------

PY_TASKS = [
    dict(
        key="word_freq",
        what=["counts how often each word appears in a string",
              "returns a dictionary of word frequencies for a piece of text"],
        names={"fn": ["word_counts", "count_words", "word_frequencies"],
               "arg": ["text", "sentence", "document"]},
        code=r'''
def $fn($arg):
    counts = {}
    for word in $arg.lower().split():
        word = word.strip(".,!?;:")
        if word:
            counts[word] = counts.get(word, 0) + 1
    return counts
''',
        usage=r'''
print($fn("The cat and the hat."))
# {'the': 2, 'cat': 1, 'and': 1, 'hat': 1}
''',
        notes=["Lowercasing first means \"The\" and \"the\" are counted as the same word.",
               "`strip` removes punctuation from the ends of each word, so \"hat.\" becomes \"hat\".",
               "`counts.get(word, 0)` returns 0 for a word we have not seen yet, which avoids a `KeyError`.",
               "The `if word:` check skips tokens that were pure punctuation and became empty."],
        test=r'''
from text_tools import $fn


def test_repeated_words_are_counted():
    assert $fn("a b a") == {"a": 2, "b": 1}


def test_case_and_punctuation_are_ignored():
    assert $fn("Hi, hi!") == {"hi": 2}


def test_empty_text_gives_empty_dict():
    assert $fn("") == {}
''',
        change=("make it skip common filler words like \"the\" and \"and\"", r'''
STOP_WORDS = {"the", "a", "an", "and", "of", "to", "in"}


def $fn($arg, stop_words=STOP_WORDS):
    counts = {}
    for word in $arg.lower().split():
        word = word.strip(".,!?;:")
        if word and word not in stop_words:
            counts[word] = counts.get(word, 0) + 1
    return counts
''', "Passing the stop words as a parameter keeps the default convenient while letting callers supply their "
            "own list. Using a set makes each membership check constant time."),
        cost="Each word is processed once and dictionary updates are O(1) on average, so the function runs "
             "in O(n) time for n words and uses memory proportional to the number of distinct words.",
    ),
    dict(
        key="find_max",
        what=["finds the largest number in a list without using the built-in max()",
              "returns the biggest value in a list, written by hand with a loop"],
        names={"fn": ["largest", "find_max", "biggest_value"], "arg": ["numbers", "values", "readings"]},
        code=r'''
def $fn($arg):
    if not $arg:
        raise ValueError("need at least one value")
    best = $arg[0]
    for value in $arg[1:]:
        if value > best:
            best = value
    return best
''',
        usage=r'''
print($fn([4, 17, 9, 2]))  # 17
''',
        notes=["It starts by assuming the first element is the largest.",
               "The loop compares every remaining element and replaces `best` "
               "whenever it finds something bigger.",
               "An empty list has no maximum, so the function raises `ValueError`, just like `max([])` does.",
               "Slicing with `[1:]` skips the element already used as the starting point."],
        test=r'''
import pytest

from stats_helpers import $fn


def test_finds_largest():
    assert $fn([3, 8, 1]) == 8


def test_all_negative_numbers():
    assert $fn([-5, -2, -9]) == -2


def test_empty_list_raises():
    with pytest.raises(ValueError):
        $fn([])
''',
        change=("return the position of the largest value as well", r'''
def $fn($arg):
    if not $arg:
        raise ValueError("need at least one value")
    best_index = 0
    for i in range(1, len($arg)):
        if $arg[i] > $arg[best_index]:
            best_index = i
    return best_index, $arg[best_index]
''', "Tracking the index instead of the value gives you both for free. When the maximum appears more than "
            "once, this returns the first occurrence because the comparison is strictly greater-than."),
        cost="It looks at each element exactly once, so it is O(n) time and O(1) extra memory (the slice in "
             "the first version does make a copy; looping over indices avoids that).",
    ),
    dict(
        key="fizzbuzz",
        what=["prints the numbers from 1 to a limit but replaces multiples of two chosen numbers with words",
              "does a FizzBuzz-style exercise with custom words"],
        names={"fn": ["fizzbuzz", "play_game", "number_game"], "ab": ["15", "14", "21"]},
        code=r'''
def $fn(limit):
    for n in range(1, limit + 1):
        if n % $ab == 0:
            print("FizzBuzz")
        elif n % $a == 0:
            print("Fizz")
        elif n % $b == 0:
            print("Buzz")
        else:
            print(n)
''',
        usage=r'''
$fn(16)
''',
        notes=["The combined case has to be checked first; otherwise a number divisible by both "
               "would print only the first word.",
               "`range(1, limit + 1)` includes the limit itself because the stop "
               "value of `range` is exclusive.",
               "The modulo operator `%` gives the remainder, so `n % k == 0` means n is a multiple of k."],
        test=r'''
from game import $fn


def test_output(capsys):
    $fn($ab)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1"
    assert lines[$a - 1] == "Fizz"
    assert lines[-1] == "FizzBuzz"
''',
        change=("return a list of strings instead of printing", r'''
def $fn(limit):
    out = []
    for n in range(1, limit + 1):
        word = ""
        if n % $a == 0:
            word += "Fizz"
        if n % $b == 0:
            word += "Buzz"
        out.append(word or str(n))
    return out
''', "Building the word piece by piece removes the special combined case, and returning a list makes the "
            "function much easier to test than one that prints."),
        cost="One pass over the numbers: O(n) time. The list version also needs O(n) memory for the result.",
    ),
    dict(
        key="filter_price",
        what=["filters a list of product dictionaries down to the ones under a maximum price, cheapest first",
              "selects the affordable products from a list of dicts and sorts them by price"],
        names={"fn": ["affordable", "under_budget", "filter_by_price"],
               "arg": ["products", "catalog", "items"]},
        code=r'''
def $fn($arg, max_price):
    result = []
    for product in $arg:
        if product["price"] <= max_price:
            result.append(product)
    return sorted(result, key=lambda p: p["price"])
''',
        usage=r'''
stock = [
    {"name": "kettle", "price": 35},
    {"name": "toaster", "price": 28},
    {"name": "blender", "price": 60},
]
print($fn(stock, 40))
# [{'name': 'toaster', 'price': 28}, {'name': 'kettle', 'price': 35}]
''',
        notes=["The loop keeps every product whose `price` is at most `max_price`.",
               "`sorted` with `key=lambda p: p[\"price\"]` orders the survivors by price "
               "without modifying the original list.",
               "If a product is missing the `price` key you will get a `KeyError`; use "
               "`product.get(\"price\")` if your data is messy."],
        test=r'''
from shop import $fn


def test_filters_and_sorts():
    data = [{"price": 5}, {"price": 50}, {"price": 1}]
    assert $fn(data, 10) == [{"price": 1}, {"price": 5}]


def test_nothing_affordable():
    assert $fn([{"price": 99}], 10) == []
''',
        change=("write it as a one-liner with a list comprehension", r'''
def $fn($arg, max_price):
    return sorted((p for p in $arg if p["price"] <= max_price), key=lambda p: p["price"])
''', "The generator expression does the filtering and `sorted` consumes it directly, so no intermediate list "
            "is built by hand. It behaves exactly like the loop version."),
        cost="Filtering is O(n) and sorting the k matching items is O(k log k), "
             "so the worst case is O(n log n).",
    ),
    dict(
        key="csv_sum",
        what=["reads a CSV file and adds up the values in one column",
              "totals a numeric column from a CSV file using the csv module"],
        names={"fn": ["column_total", "sum_column", "total_for"], "arg": ["path", "csv_path", "filename"]},
        code=r'''
import csv


def $fn($arg, column):
    total = 0.0
    with open($arg, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            value = row.get(column, "").strip()
            if value:
                total += float(value)
    return total
''',
        usage=r'''
print($fn("expenses.csv", "amount"))
''',
        notes=["`csv.DictReader` turns each row into a dictionary keyed by the header line.",
               "Opening with `newline=\"\"` is what the csv module documentation recommends, so quoted "
               "fields containing line breaks are read correctly.",
               "Blank cells are skipped instead of crashing `float()`.",
               "The `with` block closes the file even if an exception is raised halfway through."],
        test=r'''
from report import $fn


def test_sums_column(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("item,amount\ntea,2.5\ncake,4\n", encoding="utf-8")
    assert $fn(f, "amount") == 6.5


def test_blank_cells_are_ignored(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("item,amount\ntea,\ncake,4\n", encoding="utf-8")
    assert $fn(f, "amount") == 4
''',
        change=("skip rows where the value is not a valid number instead of crashing", r'''
import csv


def $fn($arg, column):
    total = 0.0
    skipped = 0
    with open($arg, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                total += float(row.get(column, ""))
            except ValueError:
                skipped += 1
    return total, skipped
''', "Returning the number of skipped rows alongside the total means bad data does not disappear silently."),
        cost="It streams the file row by row, so memory stays constant no matter how large the CSV is; time "
             "is linear in the number of rows.",
    ),
    dict(
        key="palindrome",
        what=["checks whether a string is a palindrome, ignoring spaces, punctuation and case",
              "tells me if a phrase reads the same backwards, ignoring "
              "anything that isn't a letter or digit"],
        names={"fn": ["is_palindrome", "reads_same_backwards", "palindrome"], "arg": ["text", "phrase", "s"]},
        code=r'''
def $fn($arg):
    cleaned = [ch.lower() for ch in $arg if ch.isalnum()]
    return cleaned == cleaned[::-1]
''',
        usage=r'''
print($fn("Never odd or even"))  # True
print($fn("Python"))  # False
''',
        notes=["The list comprehension keeps only letters and digits and lowercases them.",
               "`cleaned[::-1]` is the reversed list; comparing the two answers the question directly.",
               "An empty string counts as a palindrome, which is the usual convention."],
        test=r'''
from strings import $fn


def test_phrase_with_punctuation():
    assert $fn("Was it a car or a cat I saw?")


def test_not_a_palindrome():
    assert not $fn("hello")
''',
        change=("avoid building a second copy of the string", r'''
def $fn($arg):
    left, right = 0, len($arg) - 1
    while left < right:
        if not $arg[left].isalnum():
            left += 1
        elif not $arg[right].isalnum():
            right -= 1
        elif $arg[left].lower() != $arg[right].lower():
            return False
        else:
            left += 1
            right -= 1
    return True
''', "Two pointers walk inwards from both ends and skip non-alphanumeric characters, so the extra memory is "
            "constant. It can also stop early at the first mismatch."),
        cost="Both versions are O(n) time; the comprehension version uses O(n) extra memory "
             "and the two-pointer version O(1).",
    ),
    dict(
        key="flatten",
        what=["flattens an arbitrarily nested list",
              "turns a list of lists of lists (any depth) into one flat list"],
        names={"fn": ["flatten", "flat_list", "unnest"], "arg": ["items", "nested", "data"]},
        code=r'''
def $fn($arg):
    flat = []
    for item in $arg:
        if isinstance(item, list):
            flat.extend($fn(item))
        else:
            flat.append(item)
    return flat
''',
        usage=r'''
print($fn([1, [2, [3, 4]], 5]))  # [1, 2, 3, 4, 5]
''',
        notes=["The function calls itself whenever it meets a nested list, which handles any depth.",
               "`extend` adds all elements of the flattened sub-list, while `append` adds a single value.",
               "Strings are left alone because the check is specifically for `list`."],
        test=r'''
from lists import $fn


def test_deep_nesting():
    assert $fn([1, [2, [3, [4]]]]) == [1, 2, 3, 4]


def test_already_flat():
    assert $fn([1, 2]) == [1, 2]
''',
        change=("turn it into a generator so it works lazily", r'''
def $fn($arg):
    for item in $arg:
        if isinstance(item, list):
            yield from $fn(item)
        else:
            yield item
''', "`yield from` delegates to the recursive call, so values stream out one at a time. Wrap it in `list()` "
            "when you need the whole result."),
        cost="Every element is visited once, so it is O(n) in the total number of elements. Very deep "
             "nesting (around a thousand levels) would hit Python's recursion limit.",
    ),
    dict(
        key="merge_sorted",
        what=["merges two already-sorted lists into one sorted list",
              "combines two sorted lists in linear time without calling sort()"],
        names={"fn": ["merge_sorted", "merge_lists", "combine_sorted"], "arg": ["left", "first", "a"]},
        code=r'''
def $fn($arg, other):
    i = j = 0
    merged = []
    while i < len($arg) and j < len(other):
        if $arg[i] <= other[j]:
            merged.append($arg[i])
            i += 1
        else:
            merged.append(other[j])
            j += 1
    merged.extend($arg[i:])
    merged.extend(other[j:])
    return merged
''',
        usage=r'''
print($fn([1, 4, 9], [2, 3, 10, 12]))  # [1, 2, 3, 4, 9, 10, 12]
''',
        notes=["Two indexes walk through the lists, always taking the smaller front element.",
               "When one list runs out, whatever is left in the other is already "
               "sorted, so it is added in one go.",
               "Using `<=` keeps the merge stable: equal items from the first list come first."],
        test=r'''
from merging import $fn


def test_interleaves():
    assert $fn([1, 3], [2, 4]) == [1, 2, 3, 4]


def test_one_side_empty():
    assert $fn([], [5, 6]) == [5, 6]
''',
        change=("use the standard library instead", r'''
import heapq


def $fn($arg, other):
    return list(heapq.merge($arg, other))
''', "`heapq.merge` does the same linear merge and also accepts more than two sorted inputs."),
        cost="Each element is appended exactly once, so the merge is O(n + m), which is faster than "
             "concatenating and sorting in O((n + m) log(n + m)).",
    ),
    dict(
        key="binary_search",
        what=["does a binary search on a sorted list and returns the index of the target or -1",
              "implements binary search by hand"],
        names={"fn": ["binary_search", "find_index", "search_sorted"],
               "arg": ["values", "sorted_items", "arr"]},
        code=r'''
def $fn($arg, target):
    low, high = 0, len($arg) - 1
    while low <= high:
        mid = (low + high) // 2
        if $arg[mid] == target:
            return mid
        if $arg[mid] < target:
            low = mid + 1
        else:
            high = mid - 1
    return -1
''',
        usage=r'''
print($fn([2, 5, 8, 12, 16, 23], 12))  # 3
''',
        notes=["Each step looks at the middle element and discards the half that "
               "is known not to hold the target.",
               "The loop condition is `low <= high`; using `<` would miss the case where the target "
               "is the last remaining element.",
               "The list must already be sorted, otherwise the result is meaningless."],
        test=r'''
from searching import $fn


def test_found():
    assert $fn([1, 3, 5, 7], 7) == 3


def test_missing():
    assert $fn([1, 3, 5, 7], 4) == -1
''',
        change=("use the bisect module", r'''
from bisect import bisect_left


def $fn($arg, target):
    i = bisect_left($arg, target)
    if i < len($arg) and $arg[i] == target:
        return i
    return -1
''', "`bisect_left` returns the position where the target would be inserted; checking that position tells "
            "you whether the target is actually present."),
        cost="The search space halves on every iteration, so it takes O(log n) comparisons.",
    ),
    dict(
        key="moving_average",
        what=["computes a simple moving average over a list of numbers with a given window size",
              "returns the rolling mean of a series for a window of k values"],
        names={"fn": ["moving_average", "rolling_mean", "smooth"], "arg": ["values", "prices", "series"]},
        code=r'''
def $fn($arg, window):
    if window < 1:
        raise ValueError("window must be at least 1")
    averages = []
    running = 0.0
    for i, value in enumerate($arg):
        running += value
        if i >= window:
            running -= $arg[i - window]
        if i >= window - 1:
            averages.append(running / window)
    return averages
''',
        usage=r'''
print($fn([10, 20, 30, 40, 50], 3))  # [20.0, 30.0, 40.0]
''',
        notes=["Instead of summing each window from scratch, it keeps a running total.",
               "When the window slides forward, the value that falls out is subtracted.",
               "The first average appears once `window` values have been seen."],
        test=r'''
from series import $fn


def test_window_of_two():
    assert $fn([1, 3, 5], 2) == [2.0, 4.0]


def test_window_larger_than_data():
    assert $fn([1, 2], 5) == []
''',
        change=("do the same thing with pandas", r'''
import pandas as pd


def $fn($arg, window):
    return pd.Series($arg).rolling(window).mean().dropna().tolist()
''', "`rolling(window).mean()` produces NaN for the first incomplete windows, which `dropna()` removes."),
        cost="The running total makes it O(n) regardless of the window size; the "
             "naive version would be O(n·k).",
    ),
    dict(
        key="group_letter",
        what=["groups a list of words by their first letter",
              "builds a dictionary mapping each starting letter to the words that begin with it"],
        names={"fn": ["group_by_initial", "by_first_letter", "index_words"],
               "arg": ["words", "names", "terms"]},
        code=r'''
from collections import defaultdict


def $fn($arg):
    groups = defaultdict(list)
    for word in $arg:
        if word:
            groups[word[0].lower()].append(word)
    return dict(groups)
''',
        usage=r'''
print($fn(["apple", "Avocado", "banana"]))
# {'a': ['apple', 'Avocado'], 'b': ['banana']}
''',
        notes=["`defaultdict(list)` creates an empty list the first time a letter is used, so there is no "
               "need to check whether the key exists.",
               "Lowercasing the first letter puts \"Avocado\" and \"apple\" in the same group.",
               "Converting back to a plain `dict` at the end avoids surprising "
               "callers who index a missing key."],
        test=r'''
from words import $fn


def test_groups_case_insensitively():
    assert $fn(["Bee", "bat"]) == {"b": ["Bee", "bat"]}


def test_skips_empty_strings():
    assert $fn(["", "cat"]) == {"c": ["cat"]}
''',
        change=("sort the words inside each group", r'''
from collections import defaultdict


def $fn($arg):
    groups = defaultdict(list)
    for word in $arg:
        if word:
            groups[word[0].lower()].append(word)
    return {letter: sorted(group, key=str.lower) for letter, group in sorted(groups.items())}
''', "The dictionary comprehension sorts the letters and, within each group, sorts case-insensitively."),
        cost="Grouping is O(n); the sorted variant adds O(n log n) for the sorting.",
    ),
    dict(
        key="dedupe",
        what=["removes duplicates from a list while keeping the original order",
              "deduplicates a list without shuffling it the way set() does"],
        names={"fn": ["unique", "dedupe", "remove_duplicates"], "arg": ["items", "emails_seen", "values"]},
        code=r'''
def $fn($arg):
    seen = set()
    result = []
    for item in $arg:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result
''',
        usage=r'''
print($fn([3, 1, 3, 2, 1]))  # [3, 1, 2]
''',
        notes=["A set gives fast membership checks, and the list preserves the order of first appearance.",
               "Converting straight to `set()` would lose the order.",
               "The items must be hashable; lists of lists would need converting to tuples first."],
        test=r'''
from cleaning import $fn


def test_keeps_first_occurrence_order():
    assert $fn(["b", "a", "b"]) == ["b", "a"]


def test_no_duplicates():
    assert $fn([1, 2]) == [1, 2]
''',
        change=("make it a one-liner", r'''
def $fn($arg):
    return list(dict.fromkeys($arg))
''', "Dictionaries keep insertion order (guaranteed since Python 3.7), and `dict.fromkeys` drops repeated "
            "keys, so this is equivalent to the loop."),
        cost="O(n) time and O(n) extra memory for the set.",
    ),
    dict(
        key="password",
        what=["checks a password against a few strength rules and lists what is missing",
              "validates a password and returns the reasons it is too weak"],
        names={"fn": ["password_problems", "check_password", "weak_points"],
               "arg": ["password", "pw", "candidate"]},
        code=r'''
def $fn($arg, min_length=12):
    problems = []
    if len($arg) < min_length:
        problems.append(f"use at least {min_length} characters")
    if not any(ch.isdigit() for ch in $arg):
        problems.append("add a number")
    if not any(ch.isupper() for ch in $arg):
        problems.append("add an uppercase letter")
    if all(ch.isalnum() for ch in $arg):
        problems.append("add a symbol")
    return problems
''',
        usage=r'''
print($fn("sunflower"))
# ['use at least 12 characters', 'add a number', 'add an uppercase letter', 'add a symbol']
''',
        notes=["Returning a list of problems is friendlier than a single True or False, "
               "because the user learns what to fix.",
               "`any()` with a generator stops as soon as it finds a matching character.",
               "An empty list means the password passed every rule."],
        test=r'''
from auth import $fn


def test_strong_password_has_no_problems():
    assert $fn("Blue-Kettle-42-Rain") == []


def test_short_password_is_flagged():
    assert "use at least 12 characters" in $fn("Ab1!")
''',
        change=("also reject passwords from a list of common ones", r'''
COMMON = {"password", "123456", "qwerty", "letmein", "iloveyou"}


def $fn($arg, min_length=12):
    problems = []
    if $arg.lower() in COMMON:
        problems.append("choose a less common password")
    if len($arg) < min_length:
        problems.append(f"use at least {min_length} characters")
    if not any(ch.isdigit() for ch in $arg):
        problems.append("add a number")
    return problems
''', "In a real system you would load a much larger list of breached passwords from a file."),
        cost="Each rule scans the password once, so the cost is linear in its "
             "length, which is tiny in practice.",
    ),
    dict(
        key="temp_table",
        what=["prints a Celsius to Fahrenheit conversion table",
              "shows a table of temperatures in both Celsius and Fahrenheit using a for loop"],
        names={"fn": ["print_table", "conversion_table", "show_temperatures"],
               "arg": ["start", "low", "begin"]},
        code=r'''
def $fn($arg, stop, step=10):
    print(f"{'Celsius':>8} {'Fahrenheit':>11}")
    for c in range($arg, stop + 1, step):
        f = c * 9 / 5 + 32
        print(f"{c:>8} {f:>11.1f}")
''',
        usage=r'''
$fn(-10, 40)
''',
        notes=["The conversion formula is F = C × 9/5 + 32.",
               "The format spec `>8` right-aligns each value in a column eight characters wide.",
               "`.1f` rounds the Fahrenheit value to one decimal place.",
               "Adding 1 to `stop` makes the table include the upper bound."],
        test=r'''
from temps import $fn


def test_freezing_point(capsys):
    $fn(0, 0)
    assert "32.0" in capsys.readouterr().out
''',
        change=("return the rows as a list of tuples instead of printing", r'''
def $fn($arg, stop, step=10):
    rows = []
    for c in range($arg, stop + 1, step):
        rows.append((c, round(c * 9 / 5 + 32, 1)))
    return rows
''', "Separating the calculation from the printing lets you reuse the data, for example to write a CSV."),
        cost="One iteration per row, so O(k) for k rows.",
    ),
    dict(
        key="chunk",
        what=["splits a list into chunks of a fixed size",
              "breaks a long list into batches of n items (the last batch may be shorter)"],
        names={"fn": ["chunked", "batches", "split_into_chunks"], "arg": ["items", "records", "rows"]},
        code=r'''
def $fn($arg, size):
    if size < 1:
        raise ValueError("size must be positive")
    return [$arg[i:i + size] for i in range(0, len($arg), size)]
''',
        usage=r'''
print($fn(list(range(7)), 3))  # [[0, 1, 2], [3, 4, 5], [6]]
''',
        notes=["`range(0, len(items), size)` produces the starting index of every chunk.",
               "Slicing past the end of a list is safe in Python, so the final "
               "short chunk needs no special case.",
               "A size below 1 would loop forever or make no sense, so it raises `ValueError`."],
        test=r'''
from batching import $fn


def test_even_split():
    assert $fn([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_remainder_goes_last():
    assert $fn([1, 2, 3], 2) == [[1, 2], [3]]
''',
        change=("make it work on any iterable, not just lists", r'''
from itertools import islice


def $fn(iterable, size):
    it = iter(iterable)
    while True:
        batch = list(islice(it, size))
        if not batch:
            return
        yield batch
''', "`islice` pulls at most `size` items from the iterator each time, so this also works on generators and "
            "files, which do not support slicing. On Python 3.12 and newer, "
            "`itertools.batched` does this for you."),
        cost="Linear in the number of items; each item is copied into exactly one chunk.",
    ),
    dict(
        key="second_largest",
        what=["returns the second largest distinct number in a list",
              "finds the runner-up value in a list in a single pass"],
        names={"fn": ["second_largest", "runner_up", "second_max"], "arg": ["numbers", "scores", "nums"]},
        code=r'''
def $fn($arg):
    first = second = None
    for n in $arg:
        if first is None or n > first:
            first, second = n, first
        elif n != first and (second is None or n > second):
            second = n
    return second
''',
        usage=r'''
print($fn([7, 3, 9, 9, 4]))  # 7
''',
        notes=["It keeps the two largest distinct values seen so far.",
               "When a new maximum arrives, the old maximum moves down to second place.",
               "Duplicates of the maximum are ignored, so `[9, 9]` returns `None`."],
        test=r'''
from ranking import $fn


def test_ignores_duplicate_max():
    assert $fn([5, 5, 3]) == 3


def test_single_value():
    assert $fn([1]) is None
''',
        change=("handle it with sorting instead, for readability", r'''
def $fn($arg):
    distinct = sorted(set($arg), reverse=True)
    return distinct[1] if len(distinct) > 1 else None
''', "This is shorter and very clear, at the cost of sorting the whole list."),
        cost="The single-pass version is O(n); the sorting version is O(n log n).",
    ),
    dict(
        key="primes",
        what=["lists all prime numbers below a limit using the Sieve of Eratosthenes",
              "generates primes below n efficiently"],
        names={"fn": ["primes_below", "sieve", "list_primes"], "arg": ["limit", "n", "upper"]},
        code=r'''
def $fn($arg):
    if $arg < 2:
        return []
    is_prime = [True] * $arg
    is_prime[0] = is_prime[1] = False
    for n in range(2, int($arg ** 0.5) + 1):
        if is_prime[n]:
            for multiple in range(n * n, $arg, n):
                is_prime[multiple] = False
    return [n for n in range($arg) if is_prime[n]]
''',
        usage=r'''
print($fn(30))  # [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
''',
        notes=["It starts by assuming every number is prime and crosses out multiples.",
               "Crossing out can start at n × n, because smaller multiples were "
               "already removed by smaller primes.",
               "Only numbers up to the square root need to be checked as potential factors."],
        test=r'''
from number_theory import $fn


def test_small_primes():
    assert $fn(12) == [2, 3, 5, 7, 11]


def test_below_two():
    assert $fn(2) == []
''',
        change=("return a count instead of the list", r'''
def $fn($arg):
    if $arg < 2:
        return 0
    is_prime = bytearray([1]) * $arg
    is_prime[0] = is_prime[1] = 0
    for n in range(2, int($arg ** 0.5) + 1):
        if is_prime[n]:
            is_prime[n * n::n] = bytearray(len(range(n * n, $arg, n)))
    return sum(is_prime)
''', "A `bytearray` uses one byte per number instead of a full Python object, and slice assignment crosses "
            "out a whole run of multiples at once."),
        cost="The sieve runs in O(n log log n) time and O(n) memory.",
    ),
    dict(
        key="parse_config",
        what=["parses lines of key=value text into a dictionary, skipping comments and blank lines",
              "reads a simple config format where each line is key=value"],
        names={"fn": ["parse_config", "read_settings", "load_pairs"], "arg": ["text", "raw", "contents"]},
        code=r'''
def $fn($arg):
    config = {}
    for line_number, line in enumerate($arg.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"line {line_number}: expected key=value")
        key, value = line.split("=", 1)
        config[key.strip()] = value.strip()
    return config
''',
        usage=r'''
print($fn("# settings\nhost = localhost\nport=8080\n"))
# {'host': 'localhost', 'port': '8080'}
''',
        notes=["`enumerate(..., 1)` numbers lines from 1 so error messages match what you see in an editor.",
               "`split(\"=\", 1)` splits only on the first equals sign, so "
               "values may contain `=` themselves.",
               "Lines starting with `#` are treated as comments."],
        test=r'''
import pytest

from settings import $fn


def test_comments_and_blanks_are_skipped():
    assert $fn("# c\n\na=1") == {"a": "1"}


def test_bad_line_reports_number():
    with pytest.raises(ValueError, match="line 2"):
        $fn("a=1\nnonsense")
''',
        change=("convert numbers and true/false values automatically", r'''
def convert(value):
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return int(value)
    except ValueError:
        return value


def $fn($arg):
    config = {}
    for line in $arg.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            config[key.strip()] = convert(value.strip())
    return config
''', "A small `convert` helper keeps the parsing loop readable. For anything bigger, consider the built-in "
            "`configparser` or `tomllib` modules instead of a custom format."),
        cost="Linear in the size of the text.",
    ),
    dict(
        key="invert_dict",
        what=["inverts a dictionary so values become keys, keeping every original key",
              "swaps keys and values in a dict when several keys share the same value"],
        names={"fn": ["invert", "invert_mapping", "reverse_lookup"], "arg": ["mapping", "table", "lookup"]},
        code=r'''
def $fn($arg):
    inverted = {}
    for key, value in $arg.items():
        inverted.setdefault(value, []).append(key)
    return inverted
''',
        usage=r'''
print($fn({"ann": "admin", "bo": "editor", "cy": "admin"}))
# {'admin': ['ann', 'cy'], 'editor': ['bo']}
''',
        notes=["A plain `{v: k for k, v in d.items()}` would silently drop keys that share a value.",
               "`setdefault` returns the existing list or inserts a new empty "
               "one, then `append` adds the key.",
               "Values must be hashable to become keys."],
        test=r'''
from mappings import $fn


def test_shared_values_are_grouped():
    assert $fn({"a": 1, "b": 1}) == {1: ["a", "b"]}
''',
        change=("return sets instead of lists", r'''
from collections import defaultdict


def $fn($arg):
    inverted = defaultdict(set)
    for key, value in $arg.items():
        inverted[value].add(key)
    return dict(inverted)
''', "Sets make membership tests fast, but they do not keep the original order of the keys."),
        cost="One pass over the items: O(n).",
    ),
    dict(
        key="count_vowels",
        what=["counts the vowels in a string",
              "returns how many vowels a piece of text contains"],
        names={"fn": ["count_vowels", "vowel_count", "num_vowels"], "arg": ["text", "word", "line"]},
        code=r'''
def $fn($arg):
    vowels = set("aeiou")
    count = 0
    for ch in $arg.lower():
        if ch in vowels:
            count += 1
    return count
''',
        usage=r'''
print($fn("Programming in Python"))  # 5
''',
        notes=["Lowercasing once up front means uppercase vowels are counted too.",
               "A set makes each `in` check constant time, although for five "
               "letters a string would work as well.",
               "Accented vowels such as \"é\" are not counted; normalise the text first if you need them."],
        test=r'''
from letters import $fn


def test_mixed_case():
    assert $fn("AEiou") == 5


def test_no_vowels():
    assert $fn("rhythm") == 0
''',
        change=("count each vowel separately", r'''
from collections import Counter


def $fn($arg):
    return Counter(ch for ch in $arg.lower() if ch in "aeiou")
''', "`Counter` returns a dictionary-like object, so `result[\"a\"]` gives the count for one vowel and "
            "`sum(result.values())` gives the total."),
        cost="O(n) in the length of the text.",
    ),
    dict(
        key="running_total",
        what=["returns the running total of a list of numbers",
              "computes cumulative sums for a list of daily amounts"],
        names={"fn": ["running_total", "cumulative", "cumsum"], "arg": ["amounts", "values", "steps"]},
        code=r'''
def $fn($arg):
    totals = []
    current = 0
    for amount in $arg:
        current += amount
        totals.append(current)
    return totals
''',
        usage=r'''
print($fn([5, 10, -3, 8]))  # [5, 15, 12, 20]
''',
        notes=["`current` holds the sum so far, and each new total is appended after adding the next amount.",
               "Negative numbers work naturally, which is handy for deposits and withdrawals.",
               "The result always has the same length as the input."],
        test=r'''
from money import $fn


def test_running_total():
    assert $fn([1, 2, 3]) == [1, 3, 6]


def test_empty():
    assert $fn([]) == []
''',
        change=("use the standard library", r'''
from itertools import accumulate


def $fn($arg):
    return list(accumulate($arg))
''', "`itertools.accumulate` yields running sums by default and accepts another function, such "
            "as `max`, for running maximums."),
        cost="A single pass, so O(n).",
    ),
]

PY_ERRORS = [
    dict(
        key="keyerror",
        error="KeyError: 'price'",
        snippet=r'''
item = {"name": "lamp", "cost": 30}
print(item["price"])
''',
        cause="The dictionary has no key called \"price\" (it uses \"cost\"), and square-bracket lookup "
              "raises `KeyError` when a key is missing.",
        fix=r'''
print(item.get("price", "no price listed"))
''',
        tip="Print `item.keys()` when you are not sure what the data looks like, and use `.get()` with "
            "a default for optional fields.",
    ),
    dict(
        key="indexerror",
        error="IndexError: list index out of range",
        snippet=r'''
names = ["Ada", "Grace", "Linus"]
for i in range(len(names) + 1):
    print(names[i])
''',
        cause="Valid indexes for a three-item list are 0, 1 and 2, but "
              "`range(len(names) + 1)` also produces 3.",
        fix=r'''
for name in names:
    print(name)
''',
        tip="Looping over the items directly, or using `enumerate` when you need the index, removes this "
            "whole class of off-by-one errors.",
    ),
    dict(
        key="concat",
        error="TypeError: can only concatenate str (not \"int\") to str",
        snippet=r'''
age = 34
print("You are " + age + " years old")
''',
        cause="The `+` operator only joins strings with other strings; Python does not convert "
              "an integer to text implicitly.",
        fix=r'''
print(f"You are {age} years old")
''',
        tip="f-strings convert values to text for you and are easier to read than chains of `+`.",
    ),
    dict(
        key="zerodiv",
        error="ZeroDivisionError: division by zero",
        snippet=r'''
def average(values):
    return sum(values) / len(values)

average([])
''',
        cause="An empty list has length 0, so the function divides by zero.",
        fix=r'''
def average(values):
    if not values:
        return None
    return sum(values) / len(values)
''',
        tip="Decide explicitly what an empty input should mean (None, 0, or an "
            "exception with a clear message).",
    ),
    dict(
        key="nonetype_append",
        error="AttributeError: 'NoneType' object has no attribute 'append'",
        snippet=r'''
tasks = []
tasks = tasks.append("write report")
tasks.append("send invoice")
''',
        cause="`list.append` changes the list in place and returns `None`, so the assignment "
              "replaces your list with `None`.",
        fix=r'''
tasks = []
tasks.append("write report")
tasks.append("send invoice")
''',
        tip="Methods that modify an object in place (`append`, `sort`, `extend`, `update`) return `None` by "
            "convention, so do not assign their result.",
    ),
    dict(
        key="modulenotfound",
        error="ModuleNotFoundError: No module named 'requests'",
        snippet=r'''
import requests
''',
        cause="The package is not installed in the interpreter that is running your script. This often "
              "happens when it was installed into a different Python or a different virtual environment.",
        fix=r'''
# run these in a terminal, with your virtual environment activated
python -m pip install requests
python -c "import requests; print(requests.__version__)"
''',
        tip="Using `python -m pip` instead of plain `pip` guarantees the package goes into the same "
            "interpreter you run your code with.",
    ),
    dict(
        key="unbound",
        error="UnboundLocalError: local variable 'count' referenced before assignment",
        snippet=r'''
count = 0

def increment():
    count += 1
''',
        cause="Assigning to `count` inside the function makes it a local variable for the whole function, so "
              "`count += 1` tries to read the local before it has a value.",
        fix=r'''
def increment(count):
    return count + 1

count = increment(count)
''',
        tip="Passing values in and returning results is usually cleaner than the `global` keyword.",
    ),
    dict(
        key="recursion",
        error="RecursionError: maximum recursion depth exceeded",
        snippet=r'''
def countdown(n):
    print(n)
    countdown(n - 1)
''',
        cause="There is no base case, so the function keeps calling itself until Python's recursion limit "
              "(about 1000 frames) is reached.",
        fix=r'''
def countdown(n):
    if n < 0:
        return
    print(n)
    countdown(n - 1)
''',
        tip="Every recursive function needs a condition that stops it; for simple counting "
            "a `for` loop is clearer anyway.",
    ),
    dict(
        key="int_parse",
        error="ValueError: invalid literal for int() with base 10: '12.5'",
        snippet=r'''
quantity = int(input("How many? "))
''',
        cause="`int()` only accepts text that looks like a whole number; \"12.5\" contains a decimal point.",
        fix=r'''
raw = input("How many? ")
try:
    quantity = int(raw)
except ValueError:
    print(f"{raw!r} is not a whole number")
''',
        tip="Wrap conversions of user input in `try`/`except ValueError` and give a helpful message.",
    ),
    dict(
        key="sort_mixed",
        error="TypeError: '<' not supported between instances of 'str' and 'int'",
        snippet=r'''
sizes = [12, "8", 5]
sizes.sort()
''',
        cause="Sorting compares items with `<`, and Python 3 refuses to compare a string with an integer.",
        fix=r'''
sizes = [12, "8", 5]
sizes.sort(key=int)
''',
        tip="Clean the data so every element has the same type, or pass a `key` function that converts them.",
    ),
    dict(
        key="not_subscriptable",
        error="TypeError: 'NoneType' object is not subscriptable",
        snippet=r'''
def load_user(user_id):
    user = {"id": user_id, "name": "Sam"}

print(load_user(7)["name"])
''',
        cause="The function builds the dictionary but never returns it, so the call evaluates to `None`.",
        fix=r'''
def load_user(user_id):
    return {"id": user_id, "name": "Sam"}
''',
        tip="A function without a `return` statement returns `None`; type hints "
            "and a linter catch this early.",
    ),
    dict(
        key="filenotfound",
        error="FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'",
        snippet=r'''
with open("data.csv") as f:
    rows = f.readlines()
''',
        cause="Relative paths are resolved from the current working directory, which is where you launched "
              "Python, not necessarily the folder containing the script.",
        fix=r'''
from pathlib import Path

DATA = Path(__file__).parent / "data.csv"
with open(DATA, encoding="utf-8") as f:
    rows = f.readlines()
''',
        tip="Building paths from `Path(__file__).parent` makes the script work "
            "no matter where it is run from.",
    ),
]

PY_CONCEPTS = [
    dict(
        key="list_tuple",
        ask=["What's the difference between a list and a tuple in Python?",
             "When should I use a tuple instead of a list?"],
        body=[
            "Both are ordered sequences, but a list is mutable and a tuple is immutable: once a tuple is "
            "created its elements are fixed: no adding, removing or replacing.",
            "Use a list for a collection that grows or changes, such as items in a shopping cart. Use a "
            "tuple for a fixed group of values that belong together, such as a coordinate `(lat, lon)` or "
            "a row returned from a database.",
            "Because tuples are immutable (and hashable when their contents are), they can be used as "
            "dictionary keys or stored in sets, which is not possible with lists.",
        ],
        code=r'''
point = (52.37, 4.89)        # tuple: fixed pair
visited = {point: "Amsterdam"}

cart = ["tea", "bread"]      # list: changes over time
cart.append("milk")
''',
        short="Lists are mutable and tuples are immutable; use tuples for fixed records and "
              "lists for collections that change.",
        wrong="Tuples are just faster lists, so you should always use them.",
    ),
    dict(
        key="is_eq",
        ask=["Why does `is` sometimes give a different answer than `==`?",
             "What's the difference between is and == ?"],
        body=[
            "`==` asks whether two objects have equal values, while `is` asks whether they are "
            "the very same object in memory.",
            "Two separate lists with the same contents are equal but not identical. Small integers and some "
            "strings are cached by CPython, which is why `is` can appear to work for them by accident.",
            "The one place `is` is the right choice is comparing with singletons such as "
            "`None`: write `if value is None`.",
        ],
        code=r'''
a = [1, 2]
b = [1, 2]
print(a == b)  # True
print(a is b)  # False
''',
        short="`==` compares values and `is` compares identity; only use `is` for "
              "`None` and similar singletons.",
        wrong="They are the same thing, `is` is just the more readable spelling.",
    ),
    dict(
        key="mutable_default",
        ask=["Why does my function remember values between calls when I use a list as a default argument?",
             "Is it bad to write def f(items=[])?"],
        body=[
            "Default values are evaluated once, when the function is defined, not each time it is called. A "
            "mutable default such as a list is therefore shared by every call "
            "that does not pass its own list.",
            "The standard fix is to default to `None` and create a fresh list inside the function.",
        ],
        code=r'''
def add_tag(tag, tags=None):
    if tags is None:
        tags = []
    tags.append(tag)
    return tags
''',
        short="Defaults are evaluated once, so a list default is shared across "
              "calls; default to None instead.",
        wrong="It's a bug in Python that was fixed in version 3.",
    ),
    dict(
        key="copy",
        ask=["What's the difference between a shallow copy and a deep copy?",
             "I copied a list of lists but changing the copy also changed the original. Why?"],
        body=[
            "A shallow copy creates a new outer container but fills it with references to the same inner "
            "objects. A deep copy recursively copies the inner objects as well.",
            "With a list of lists, `list.copy()` or slicing gives you a new outer list whose rows are still "
            "the original row objects, so modifying a row shows up in both.",
        ],
        code=r'''
import copy

grid = [[0, 0], [0, 0]]
shallow = grid.copy()
deep = copy.deepcopy(grid)

shallow[0][0] = 1
print(grid[0][0])  # 1, the row is shared
deep[1][1] = 5
print(grid[1][1])  # 0, the deep copy is independent
''',
        short="A shallow copy shares the inner objects; use copy.deepcopy when "
              "you need independent nested data.",
        wrong="Copies in Python are always deep, so that never happens.",
    ),
    dict(
        key="args_kwargs",
        ask=["What do *args and **kwargs mean?", "How do I write a function that "
                                                 "accepts any number of arguments?"],
        body=[
            "`*args` collects extra positional arguments into a tuple, and `**kwargs` collects extra keyword "
            "arguments into a dictionary. The names are only a convention; the stars do the work.",
            "They are useful for wrappers that pass arguments through to another function, and for functions "
            "such as `print` that take a variable number of values.",
        ],
        code=r'''
def log_call(name, *args, **kwargs):
    print(name, args, kwargs)

log_call("resize", 800, 600, keep_ratio=True)
# resize (800, 600) {'keep_ratio': True}
''',
        short="*args gathers extra positional arguments into a tuple and **kwargs gathers "
              "keyword arguments into a dict.",
        wrong="They are pointers, like in C.",
    ),
    dict(
        key="generators",
        ask=["What is a generator in Python and why would I use one?", "How does yield work?"],
        body=[
            "A generator is a function that produces values lazily with `yield`. Each time you ask for the "
            "next value, the function resumes where it left off, so only one "
            "value exists in memory at a time.",
            "That makes generators ideal for large files, streams or infinite sequences, where building a "
            "full list would be slow or impossible.",
        ],
        code=r'''
def read_large_file(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield line.rstrip("\n")

for line in read_large_file("server.log"):
    if "ERROR" in line:
        print(line)
''',
        short="A generator yields values one at a time instead of building a list, which saves memory.",
        wrong="A generator is a function that generates random numbers.",
    ),
    dict(
        key="enumerate_zip",
        ask=["How do I loop over two lists at the same time?", "What are enumerate and zip for?"],
        body=[
            "`zip` pairs up items from several iterables, and `enumerate` adds a counter to one iterable. "
            "Both replace the error-prone pattern of `for i in range(len(...))`.",
            "`zip` stops at the shortest input; on Python 3.10 and newer, `zip(..., strict=True)` raises an "
            "error if the lengths differ, which catches data mistakes early.",
        ],
        code=r'''
names = ["Ada", "Grace", "Alan"]
scores = [91, 88, 95]

for rank, (name, score) in enumerate(zip(names, scores), start=1):
    print(rank, name, score)
''',
        short="Use zip to walk several lists in step and enumerate when you also need a counter.",
        wrong="Use nested for loops over both lists.",
    ),
    dict(
        key="venv",
        ask=["Why should I use a virtual environment?",
             "How do I set up a virtual environment for a project?"],
        body=[
            "A virtual environment is a private folder of installed packages for one project. It keeps "
            "projects from fighting over versions and makes it easy to record exactly what a project needs.",
            "Create it once per project, activate it whenever you work on that project, and install "
            "packages only while it is active.",
        ],
        code=r'''
python -m venv .venv
source .venv/bin/activate        # on Windows: .venv\Scripts\activate
python -m pip install requests
python -m pip freeze > requirements.txt
''',
        short="A virtual environment isolates a project's packages; create one with python "
              "-m venv .venv and activate it.",
        wrong="Virtual environments are only needed on servers.",
    ),
    dict(
        key="comprehension",
        ask=["Are list comprehensions better than for loops?", "When should I use a list comprehension?"],
        body=[
            "A list comprehension is a compact way to build a list by transforming and filtering another "
            "iterable. It is usually a little faster than an equivalent loop "
            "with `append`, and often clearer.",
            "Once a comprehension needs several conditions, nested loops or side effects, a regular `for` "
            "loop is easier to read and debug.",
        ],
        code=r'''
prices = [4.5, 12.0, 7.25, 30.0]

# comprehension
cheap = [p for p in prices if p < 10]

# equivalent loop
cheap = []
for p in prices:
    if p < 10:
        cheap.append(p)
''',
        short="Comprehensions are great for simple transform-and-filter steps; switch "
              "to a loop when the logic grows.",
        wrong="Comprehensions are always better and you should never write for loops.",
    ),
    dict(
        key="try_else",
        ask=["What are the else and finally parts of a try statement for?",
             "How does try/except/else/finally work?"],
        body=[
            "`try` holds the code that might fail and `except` handles specific errors. The `else` block "
            "runs only if no exception happened, which keeps the `try` block small. `finally` always runs, "
            "error or not, and is the place for cleanup.",
            "Catch the narrowest exception you can handle; a bare `except:` also swallows "
            "keyboard interrupts and typos.",
        ],
        code=r'''
try:
    value = int(text)
except ValueError:
    print("not a number")
else:
    print("parsed", value)
finally:
    print("done")
''',
        short="except handles errors, else runs when there was no error, and "
              "finally always runs for cleanup.",
        wrong="finally only runs when there is an exception.",
    ),
    dict(
        key="with",
        ask=["What does the with statement actually do?", "Why do people open files with `with`?"],
        body=[
            "`with` uses a context manager, an object that sets something up on entry and tears it down on "
            "exit, even if the block raises an exception.",
            "For files, that means the file is always closed. The same pattern is used for locks, database "
            "transactions and temporary directories.",
        ],
        code=r'''
with open("notes.txt", "w", encoding="utf-8") as f:
    f.write("first line\n")
# the file is closed here, even if write() had failed
''',
        short="with runs setup and guaranteed cleanup around a block; for files it ensures they get closed.",
        wrong="with is just an alias for a try block and does nothing special.",
    ),
    dict(
        key="sort_key",
        ask=["How do I sort a list of dictionaries by one field?",
             "How does the key argument to sorted work?"],
        body=[
            "`sorted` and `list.sort` accept a `key` function that is called once per element; the "
            "results are what gets compared.",
            "For dictionaries, pass a lambda or `operator.itemgetter`. Sorting is stable, so you can sort by "
            "a secondary field first and the primary field second, or return a tuple from the key.",
        ],
        code=r'''
from operator import itemgetter

people = [{"name": "Ines", "age": 31}, {"name": "Bo", "age": 25}, {"name": "Al", "age": 31}]
by_age_then_name = sorted(people, key=lambda p: (p["age"], p["name"]))
youngest_first = sorted(people, key=itemgetter("age"))
''',
        short="Pass key=lambda d: d[\"field\"] (or itemgetter) to sorted; return a "
              "tuple to sort by several fields.",
        wrong="You have to convert the dictionaries to lists first.",
    ),
    dict(
        key="main_guard",
        ask=["What does if __name__ == \"__main__\" do?", "Why do scripts end with a __main__ check?"],
        body=[
            "Every module has a `__name__`. When a file is run directly, it is set to `\"__main__\"`; when "
            "the file is imported, it is set to the module's name.",
            "Putting the script's entry point behind this check lets other code import your functions "
            "without accidentally running the whole program.",
        ],
        code=r'''
def main():
    print("running as a script")


if __name__ == "__main__":
    main()
''',
        short="It runs main() only when the file is executed directly, not when it is imported.",
        wrong="It is required for every Python file to run.",
    ),
    dict(
        key="pathlib",
        ask=["Should I use pathlib or os.path?", "How do I work with file paths in modern Python?"],
        body=[
            "`pathlib` represents paths as objects, so joining, reading and globbing read naturally and work "
            "the same on Windows and Unix. `os.path` still works but uses plain "
            "strings and separate functions.",
            "For new code, `pathlib` is the more readable default.",
        ],
        code=r'''
from pathlib import Path

reports = Path.home() / "reports"
reports.mkdir(exist_ok=True)
for csv_file in sorted(reports.glob("*.csv")):
    print(csv_file.name, csv_file.stat().st_size)
''',
        short="Prefer pathlib for new code: Path objects join with / and have "
              "methods for reading and globbing.",
        wrong="pathlib is deprecated, use os.path.",
    ),
]

PY_ASK_WRITE = [
    "Write a Python function that {what}.",
    "Can you show me a Python function that {what}?",
    "I need a small Python helper that {what}. Keep it readable.",
    "How would you write a function in Python that {what}?",
]
PY_ASK_EXPLAIN = [
    "Can you explain what this code does?",
    "What does this function do, line by line?",
    "I found this in our codebase. How does it work?",
    "Walk me through this snippet.",
]
PY_VAGUE = [
    "You can do this with a loop.",
    "Python has lots of ways to do this; search for an example online.",
    "Just use a library for it.",
    "It depends on your Python version.",
]


def bundle_python(rng):
    r = rng.random()
    if r < 0.62:
        t = pick(rng, PY_TASKS)
        names = {k: pick(rng, v) for k, v in t["names"].items()}
        if t["key"] == "fizzbuzz":
            a, b = {"15": (3, 5), "14": (2, 7), "21": (3, 7)}[names["ab"]]
            names.update(a=str(a), b=str(b))
        code = fill(t["code"], **names).strip()
        usage = fill(t["usage"], **names).strip()
        test = fill(t["test"], **names).strip()
        ch_ask, ch_code, ch_note = t["change"]
        ch_code = fill(ch_code, **names).strip()
        fn = names["fn"]
        what = pick(rng, t["what"])
        notes = list(t["notes"])
        rng.shuffle(notes)
        key = "py:" + t["key"]
        intro = pick(rng, ["Here's a straightforward version:", "Here is one way to write it:",
                           f"Here's `{fn}`:", "A clear, dependency-free version:"])
        write_resp = paras(intro, code_block(code), "Example:", code_block(usage),
                           pick(rng, ["How it works:", "A few notes:", "Key points:"]), bullets(notes[:3]))
        write = QA(key + ":write", pick(rng, PY_ASK_WRITE).format(what=what), write_resp,
                   f"Define `{fn}` so that it {what}, looping over the input once.",
                   worse(rng, paras("Something like this should work:", code_block(code)), PY_VAGUE),
                   followup=f"Now write a function that {what}.")
        explain_resp = paras(
            pick(rng, [f"`{fn}` {what}.", f"This function {what}.", f"In short, it {what}."]),
            bullets(notes), t["cost"])
        ask = pick(rng, PY_ASK_EXPLAIN)
        explain = QA(key + ":explain", paras(ask, code_block(code)), explain_resp,
                     f"It {what}.", worse(rng, f"It {what}.", PY_VAGUE, "It sorts the input and returns it."),
                     followup="Can you explain how that works line by line?", instruction=ask, input=code)
        test_resp = paras(pick(rng, ["Here are some pytest tests:", "A few focused pytest cases:",
                                     "These tests cover the normal case and an edge case:"]),
                          code_block(test),
                          pick(rng, ["Run them with `python -m pytest -q`.",
                                     "Each test checks one behaviour, so a "
                                     "failure tells you exactly what broke.",
                                     "Add a case for any bug you fix later so it stays fixed."]))
        test_ask = pick(rng, ["Write pytest tests for this function.", "How would I unit test this?",
                              "Can you add tests for this code?"])
        tests = QA(key + ":test", paras(test_ask, code_block(code)), test_resp,
                   "Call the function with a few small inputs and assert on the results.",
                   worse(rng, "Call the function with a few small inputs and assert on the results.",
                         PY_VAGUE),
                   followup=pick(rng, ["Can you write tests for it?", "How would I test that?"]),
                   instruction=test_ask, input=code)
        change = QA(key + ":change",
                    paras(f"How can I change this to {ch_ask}?", code_block(code)),
                    paras(pick(rng, ["Sure, here's the updated version:", "Here's a modified version:",
                                     "You can change it like this:"]), code_block(ch_code), ch_note),
                    ch_note, worse(rng, ch_note, PY_VAGUE),
                    followup=f"Could you {ch_ask}?", instruction=f"Update this function: {ch_ask}.",
                    input=code)
        cost = QA(key + ":cost", paras("What's the time complexity of this?", code_block(code)), t["cost"],
                  t["cost"].split(",")[0].rstrip(".") + ".",
                  worse(rng, "It's fast enough.", PY_VAGUE, "It is O(1)."),
                  followup="What's the time complexity?", instruction="State the time complexity of "
                  "this function and explain why.", input=code)
        return [write, explain, tests, change, cost]
    if r < 0.82:
        e = pick(rng, PY_ERRORS)
        snippet = e["snippet"].strip()
        ask = pick(rng, [f"I'm getting `{e['error']}`. What does it mean?",
                         f"Why does this raise {e['error'].split(':')[0]}?",
                         f"My script crashes with:\n\n```\n{e['error']}\n```\n\nHere's the code:",
                         f"Help me fix this error: {e['error']}"])
        prompt = paras(ask, code_block(snippet))
        resp = paras(e["cause"], pick(rng, ["Fix:", "A corrected version:", "Here's how to fix it:"]),
                     code_block(e["fix"].strip(), "bash" if e["key"] == "modulenotfound" else "python"),
                     e["tip"])
        qa = QA("py:err:" + e["key"], prompt, resp, e["cause"],
                worse(rng, e["cause"].split(",")[0].rstrip(".") + ".", PY_VAGUE,
                      "Restart your computer and run it again."),
                followup=f"Now I get {e['error']}. What's wrong?", instruction=paras(
                    f"Explain the following Python error and show how to fix it: {e['error']}"),
                input=snippet)
        other = pick(rng, PY_CONCEPTS)
        return [qa, concept_qa(rng, other)]
    c = pick(rng, PY_CONCEPTS)
    return [concept_qa(rng, c)] + [concept_qa(rng, x) for x in rng.sample(PY_CONCEPTS, 2) if x is not c]


def concept_qa(rng, c):
    body = list(c["body"])
    ask = pick(rng, c["ask"])
    lang = "bash" if c["key"] == "venv" else "python"
    resp = paras(body[0], code_block(c["code"].strip(), lang), *body[1:])
    return QA("py:concept:" + c["key"], ask, resp, c["short"], worse(rng, c["short"], PY_VAGUE, c["wrong"]),
              followup=ask)


# --------------------------------------------------------------------------------------------------------
# topic: personal finance
# --------------------------------------------------------------------------------------------------------

FIN_VAGUE = [
    "Everyone's situation is different, so just try to spend less than you earn.",
    "Money is personal. Do what feels right for you.",
    "Ask a friend who is good with money.",
    "It's hard to say without more information.",
    "Just save as much as you can and invest the rest.",
]
FIN_ADVICE = [
    "Automate the savings transfer for the day after payday so it happens before you can spend it.",
    "Review the numbers after two or three months and adjust; the first version "
    "of a budget is always a guess.",
    "Irregular costs such as car repairs, gifts and annual subscriptions are what usually break a budget, so "
    "set aside a little for them every month.",
    "If you have high-interest debt, extra money usually does more good there than in a savings account.",
    "Keep the emergency fund in a separate, easy-access savings account so it is "
    "not mixed with spending money.",
    "Tracking spending for a single month, even roughly, tends to reveal one or two easy wins.",
    "Take any employer retirement match first; it is effectively an instant return on that money.",
    "Raise your savings rate a little each time your income goes up, before the extra money gets absorbed.",
]


def fin_budget(rng):
    income = rng.randrange(2400, 9001, 100)
    ctx = pick(rng, ["", "I rent a flat with one roommate. ", "I just started my first full-time job. ",
                     "We're a couple with one kid. ", "I'm paying off a student loan. "])
    prompt = ctx + pick(rng, [
        f"I take home {money(income)} a month after tax. How should I split it "
        f"between bills, fun and savings?",
        f"What's a sensible monthly budget on {money(income)} take-home pay?",
        f"Can you help me build a simple budget? My net income is about {money(income)} per month.",
    ])
    needs, wants, save = income * 0.5, income * 0.3, income * 0.2
    adv = rng.sample(FIN_ADVICE, 2)
    resp = paras(
        pick(rng, ["A good starting point is the 50/30/20 rule:", "Try the 50/30/20 split as a first draft:",
                   "The simplest framework that works for most people is 50/30/20:"]),
        bullets([f"**Needs (50%): {money(needs)}** for rent, utilities, groceries, insurance and "
                 "minimum debt payments.",
                 f"**Wants (30%): {money(wants)}** for eating out, hobbies, streaming and travel.",
                 f"**Savings and extra debt payments (20%): {money(save)}**, "
                 f"starting with an emergency fund."]),
        f"If your rent alone is more than about {money(income * 0.35)}, the needs bucket will be tight; "
        "in that case trim wants first rather than savings.",
        " ".join(adv),
    )
    short = f"Roughly {money(needs)} for needs, {money(wants)} for wants and {money(save)} for savings."
    wrong = f"Put {money(income * 0.8)} into savings and live on the rest."
    main = QA(f"fin:budget:{income}", prompt, resp, short, worse(rng, short, FIN_VAGUE, wrong),
              instruction="Suggest a monthly budget for the following situation.",
              input=f"Monthly take-home pay: {money(income)}. {ctx}".strip())
    months = pick(rng, [3, 4, 6])
    essentials = round(income * rng.uniform(0.45, 0.6), -1)
    target = essentials * months
    per_month = target / 12
    ef = QA(
        f"fin:ef:{income}:{months}",
        f"How big should my emergency fund be if my essential costs are about {money(essentials)} a month?",
        paras(f"A common target is {months} months of essential expenses: {months} × "
              f"{money(essentials)} = **{money(target)}**.",
              f"Saving that over a year means putting aside about {money(per_month)} a month. "
              + pick(rng, ["Start with a first milestone of one month's costs; it "
                           "already covers most surprises.",
                           "Choose the higher end if your income is irregular or you support others.",
                           "Once it is full, redirect the same monthly amount to investing."])),
        f"About {money(target)}, which is {months} months of essentials.",
        f"About {money(essentials)} is plenty.",
        followup=f"And how much should I keep in an emergency fund if essentials "
                 f"are about {money(essentials)}?",
    )
    return [main, ef]


def fin_growth(rng):
    p = pick(rng, [0, 1000, 2500, 5000, 10000, 20000])
    c = pick(rng, [50, 100, 150, 200, 300, 400, 500, 750])
    rate = pick(rng, [4, 5, 6, 7, 8])
    years = pick(rng, [10, 15, 20, 25, 30])
    i = rate / 100 / 12

    def fv(y):
        n = 12 * y
        return p * (1 + i) ** n + c * ((1 + i) ** n - 1) / i

    rows = ["| Year | Contributed | Estimated value |", "| --- | --- | --- |"]
    for y in range(5, years + 1, 5):
        rows.append(f"| {y} | {money(p + c * 12 * y)} | {money(fv(y))} |")
    start = f"{money(p)} now and " if p else ""
    prompt = pick(rng, [
        f"If I invest {start}{money(c)} a month for {years} years at {rate}% a "
        f"year, what could I end up with?",
        f"How much would {start}{money(c)} a month grow to over {years} years, "
        f"assuming a {rate}% annual return?",
        f"Compound interest question: {start}{money(c)} monthly, {rate}% per "
        f"year, {years} years. Final amount?",
    ])
    total_in = p + c * 12 * years
    resp = paras(
        f"Assuming a steady {rate}% annual return, compounded monthly:",
        "\n".join(rows),
        f"Over {years} years you would contribute {money(total_in)} and the rest, about "
        f"{money(fv(years) - total_in)}, is growth.",
        pick(rng, ["Real returns are lumpy, so treat this as an illustration rather than a promise.",
                   "These figures ignore inflation and fees; a 1% annual fee "
                   "would noticeably lower the result.",
                   "Markets do not deliver a smooth return each year, but the long-run effect "
                   "of compounding is the same idea."]),
    )
    short = f"Roughly {money(fv(years))} after {years} years, of which {money(total_in)} is your own money."
    wrong = f"About {money(total_in * (1 + rate / 100))}, because you earn {rate}% on the total."
    return [QA(f"fin:growth:{p}:{c}:{rate}:{years}", prompt, resp, short, worse(rng, short, FIN_VAGUE, wrong),
               instruction="Estimate the future value of these regular investments "
                           "and show the growth over time.",
               input=f"Starting amount: {money(p)}\nMonthly contribution: {money(c)}\nAnnual "
                     f"return: {rate}%\nYears: {years}")]


DEBTS = [("credit card", 19, 27), ("store card", 24, 30), ("car loan", 5, 9), ("student loan", 4, 7),
         ("personal loan", 9, 14), ("buy-now-pay-later plan", 0, 0), ("overdraft", 15, 20)]


def fin_debt(rng):
    chosen = rng.sample(DEBTS, 3)
    debts = []
    for name, lo, hi in chosen:
        apr = rng.randrange(lo, hi + 1) if hi else 0
        bal = rng.randrange(400, 14001, 50)
        debts.append((name, bal, apr))
    listing_ = "; ".join(f"{n} {money(b)} at {a}%" for n, b, a in debts)
    prompt = pick(rng, [f"I have three debts: {listing_}. Which should I pay off first?",
                        f"Avalanche or snowball? My debts are {listing_}.",
                        f"Help me order my debt payoff: {listing_}."])
    aval = sorted(debts, key=lambda d: -d[2])
    snow = sorted(debts, key=lambda d: d[1])
    interest = [f"{n}: about {money(b * a / 100 / 12)} of interest a month" for n, b, a in debts]
    resp = paras(
        "Pay the minimum on everything, then put every extra dollar on one target at a time.",
        "**Avalanche (highest interest first)** saves the most money: "
        + " → ".join(f"{n} ({a}%)" for n, _, a in aval) + ".",
        "**Snowball (smallest balance first)** gives quicker wins, which helps some people stay motivated: "
        + " → ".join(f"{n} ({money(b)})" for n, b, _ in snow) + ".",
        "What each one costs you right now:\n" + bullets(x + "." for x in interest),
        pick(rng, ["If the two orders start with the same debt, the choice is easy.",
                   "Mathematically the avalanche wins, but the best plan is the one you will stick with.",
                   "When a debt is cleared, roll its payment into the next one so the amount "
                   "you throw at debt never shrinks."]),
    )
    short = f"Highest interest first: start with the {aval[0][0]}."
    wrong = f"Start with the {snow[-1][0]} because it is the biggest."
    return [QA(f"fin:debt:{listing_}", prompt, resp, short, worse(rng, short, FIN_VAGUE, wrong),
               instruction="Recommend a payoff order for these debts and explain the trade-off.",
               input="\n".join(f"- {n}: {money(b)} at {a}% APR" for n, b, a in debts))]


def fin_loan(rng):
    kind = pick(rng, ["car", "home", "personal"])
    if kind == "home":
        principal, rate = rng.randrange(180000, 460001, 5000), pick(rng, [5.5, 6, 6.5, 7])
        years = pick(rng, [15, 30])
    elif kind == "car":
        principal, rate = rng.randrange(12000, 38001, 500), pick(rng, [5, 6.5, 7.5, 9])
        years = pick(rng, [3, 4, 5, 6])
    else:
        principal, rate, years = rng.randrange(3000, 20001, 500), pick(rng, [9, 11, 13]), pick(rng, [2, 3, 5])
    i = rate / 100 / 12
    n = years * 12
    m = principal * i / (1 - (1 + i) ** -n)
    interest = m * n - principal
    prompt = pick(rng, [
        f"What would the monthly payment be on a {money(principal)} {kind} loan at "
        f"{num(rate)}% for {years} years?",
        f"I'm looking at a {years}-year {kind} loan of {money(principal)} at "
        f"{num(rate)}% APR. What will it cost me?",
    ])
    resp = paras(
        "The standard amortisation formula is M = P × r / (1 − (1 + r)^−n), where r is the monthly "
        "rate and n the number of payments.",
        bullets([f"P = {money(principal)}", f"r = {num(rate)}% ÷ 12 = {i:.5f}", f"n = {years} × 12 = {n}"]),
        f"That gives a payment of about **{money(m)} per month**, and total interest of roughly "
        f"{money(interest)} over the life of the loan.",
        pick(rng, ["Paying even a little extra each month towards principal shortens "
                   "the loan and cuts the interest.",
                   "Compare offers by APR, which includes most fees, rather than by the headline rate alone.",
                   f"A shorter term raises the monthly payment but reduces the {money(interest)} "
                   "interest bill considerably."]),
    )
    short = f"About {money(m)} a month, with roughly {money(interest)} of interest in total."
    wrong = f"About {money(principal / n)} a month."
    return [QA(f"fin:loan:{kind}:{principal}:{rate}:{years}", prompt, resp, short,
               worse(rng, short, FIN_VAGUE, wrong))]


FIN_CONCEPTS = [
    ("index_fund", ["What is an index fund?", "Why do people recommend index funds for beginners?"],
     ["An index fund is a fund that holds all (or a representative sample) of the securities in a market "
      "index, such as a broad stock market index, instead of trying to pick winners.",
      "Because nobody is paid to pick stocks, fees are usually very low, and low fees "
      "compound in your favour over decades.",
      "They also spread your money across hundreds or thousands of companies, so one "
      "company's bad year barely matters."],
     "A low-cost fund that tracks a whole market index instead of picking individual stocks.",
     "A fund that only buys the biggest tech companies."),
    ("expense_ratio", ["What is an expense ratio and does it really matter?",
                       "How much do fund fees matter?"],
     ["The expense ratio is the annual fee a fund charges, expressed as a percentage of your balance; 0.20% "
      "means two dollars a year for every thousand invested.",
      "It matters more than it looks, because it is charged every year on your whole balance, including past "
      "growth. Over thirty years the gap between a 0.05% and a 1% fund can be a "
      "sizeable share of the final amount.",
      "Given two funds that track the same index, the cheaper one is almost always the better choice."],
     "It's the yearly fee as a percentage of your balance, and small differences add up a lot over time.",
     "It's a one-time fee you pay when you buy, so it doesn't matter long term."),
    ("apr_apy", ["What's the difference between APR and APY?",
                 "Why do savings accounts show APY but loans show APR?"],
     ["APR is the simple yearly rate without compounding. APY includes the effect of compounding within the "
      "year, so it is the rate you actually earn or pay.",
      "A 5% APR compounded monthly works out to about 5.12% APY. Banks like to quote APY on savings because "
      "it is the bigger number, and APR on loans for the same reason in reverse.",
      "When comparing two products, compare APY with APY or APR with APR."],
     "APR ignores compounding and APY includes it, so APY is the effective annual rate.",
     "APR is for savings and APY is for loans; they are not comparable."),
    ("credit_score", ["What actually affects my credit score?", "How can I improve my credit score?"],
     ["The biggest factor is payment history: paying every bill on time, every month. Next is how much of "
      "your available credit you use, where keeping balances well under 30% of your limits helps.",
      "The age of your accounts, the mix of credit types and how many new applications you make matter less.",
      "Practical steps: set up autopay for at least the minimum, pay cards down before the statement date, "
      "and avoid closing your oldest card."],
     "Pay on time and keep your balances low relative to your limits; the other factors matter less.",
     "Checking your own score lowers it, so avoid looking."),
    ("dca", ["What is dollar-cost averaging?", "Should I invest a lump sum all at once or spread it out?"],
     ["Dollar-cost averaging means investing a fixed amount on a regular schedule, for example every payday, "
      "regardless of what the market is doing. You automatically buy more shares when prices are low.",
      "For a lump sum, investing it all at once has historically come out ahead more often than not, because "
      "markets rise more often than they fall. Spreading it over a few months mainly reduces regret if "
      "prices drop right after you invest.",
      "If you are investing from each paycheck, you are already dollar-cost averaging."],
     "Investing a fixed amount on a schedule; lump sums tend to do better on average but feel riskier.",
     "It guarantees you will never lose money."),
    ("diversification", ["Why is diversification important?",
                         "Is it risky to have all my savings in one stock?"],
     ["Diversification means spreading money across many investments so that no single failure can do "
      "serious damage. One company can go bankrupt; a whole market index almost never goes to zero.",
      "Holding your employer's stock adds a second layer of risk, because the same bad news could cost you "
      "your job and your savings at once.",
      "A broad, low-cost index fund is the simplest way to be diversified with a small amount of money."],
     "Spreading money across many holdings so one bad investment won't sink you.",
     "Diversification means owning a few different crypto coins."),
    ("sinking_fund", ["What's a sinking fund?", "How do I stop annual bills from wrecking my budget?"],
     ["A sinking fund is money you set aside each month for a known future expense, such as car insurance, "
      "holiday gifts or a new laptop.",
      "Divide the expected cost by the number of months until it is due. A 900 dollar insurance bill in six "
      "months needs 150 dollars a month.",
      "Keeping these pots separate from the emergency fund means the emergency fund "
      "is there for actual surprises."],
     "Saving a little every month for a predictable future expense, so it doesn't land all at once.",
     "It's a type of retirement account."),
    ("inflation", ["How does inflation affect my savings?",
                   "Is keeping cash in a bank account losing money?"],
     ["Inflation reduces what each dollar can buy. If prices rise 3% a year and your account pays 1%, your "
      "savings lose about 2% of their purchasing power annually.",
      "Cash is still the right place for an emergency fund and for money you need within a few years, "
      "because stability matters more than growth there.",
      "Money you will not touch for many years generally needs to be invested to keep ahead of inflation."],
     "Cash earning less than inflation slowly loses buying power, so long-term "
     "money usually needs investing.",
     "Inflation only affects people with loans, not savers."),
    ("net_worth", ["How do I calculate my net worth?", "What is net worth and why track it?"],
     ["Net worth is everything you own minus everything you owe. Add up cash, investments, retirement "
      "accounts and the realistic resale value of big items, then subtract every debt.",
      "The number itself matters less than its direction. Updating it every three or six months shows "
      "whether your overall plan is working, even when individual months are messy.",
      "A negative net worth is common early on, especially with student loans."],
     "Assets minus debts; track how it changes over time rather than the absolute figure.",
     "It's your salary multiplied by your age."),
    ("rebalancing", ["What does rebalancing a portfolio mean?", "How often should I rebalance?"],
     ["Over time your investments drift away from the mix you chose. If you wanted 70% stocks and 30% bonds, "
      "a good year for stocks might leave you at 78/22.",
      "Rebalancing means selling a little of what grew or directing new money to what lagged, to get back to "
      "the target. Once a year, or whenever an asset class is more than about five percentage points "
      "off, is plenty for most people.",
      "Using new contributions to rebalance avoids triggering taxes in taxable accounts."],
     "Bringing your mix back to its target allocation, about once a year is enough.",
     "Moving everything into whatever did best last year."),
    ("hysa", ["Is a high-yield savings account worth it?", "Where should I keep my emergency fund?"],
     ["A high-yield savings account is an ordinary savings account, usually from an online bank, that pays a "
      "noticeably higher interest rate than a typical high-street account.",
      "For an emergency fund it is a good fit: the money stays safe and accessible while still earning "
      "something. Check that the bank is covered by your country's deposit insurance scheme.",
      "Rates change, so it is worth comparing once a year."],
     "Yes for emergency money: it's safe, accessible and pays more than a standard account.",
     "No, keep it in stocks so it grows faster."),
    ("debt_vs_invest", ["Should I pay off debt or invest first?",
                        "Is it better to invest or clear my loans early?"],
     ["Compare the interest rate on the debt with a realistic long-run investment return. Paying off a 22% "
      "credit card is a guaranteed 22% return, which no investment reliably beats.",
      "For low-rate debt, such as a 3% or 4% loan, investing extra money often comes out ahead over long "
      "periods, although paying it off has psychological value too.",
      "Either way, build a small emergency fund first and take any employer match."],
     "Clear high-interest debt first; for low-rate debt, investing often wins over time.",
     "Always invest first, debt doesn't matter."),
    ("term_life", ["What's the difference between term and whole life insurance?",
                   "Do I need life insurance?"],
     ["Term life insurance covers you for a fixed period, such as 20 years, and pays out only if you die in "
      "that period. Whole life lasts for life and includes a savings component, "
      "which makes it far more expensive.",
      "Most people who need life insurance need it because someone depends on their income, such as children "
      "or a partner with a mortgage. Term cover matching those years is usually enough.",
      "If nobody relies on your income, you may not need life insurance at all."],
     "Term covers a set period cheaply; whole life is lifelong and much pricier. Most people only need term.",
     "Whole life is always better because it never expires."),
]

EXPENSES = [("Rent transfer", "Housing", 900, 1800), ("Grocery store", "Groceries", 35, 140),
            ("Farmers market", "Groceries", 15, 45), ("Electricity bill", "Utilities", 40, 120),
            ("Internet provider", "Utilities", 35, 70), ("Bus pass", "Transport", 40, 90),
            ("Fuel station", "Transport", 30, 80), ("Ride share", "Transport", 9, 28),
            ("Pizza delivery", "Eating out", 18, 40), ("Coffee shop", "Eating out", 4, 9),
            ("Sushi restaurant", "Eating out", 30, 75), ("Music streaming", "Subscriptions", 10, 12),
            ("Video streaming", "Subscriptions", 9, 18), ("Gym membership", "Health", 25, 60),
            ("Pharmacy", "Health", 8, 35), ("Bookshop", "Hobbies", 12, 40),
            ("Climbing gym day pass", "Hobbies", 15, 22),
            ("Clothing store", "Shopping", 25, 120), ("Hardware store", "Home", 10, 70),
            ("Phone plan", "Utilities", 20, 55), ("Cinema", "Entertainment", 12, 30)]


def fin_expenses(rng):
    items = rng.sample(EXPENSES, rng.randrange(6, 10))
    rows = [(n, c, rng.randrange(lo, hi + 1)) for n, c, lo, hi in items]
    cats: dict[str, list] = {}
    for n, c, a in rows:
        cats.setdefault(c, []).append((n, a))
    total = sum(a for _, _, a in rows)
    out = []
    for c, entries in sorted(cats.items(), key=lambda kv: -sum(a for _, a in kv[1])):
        items_text = ", ".join(f"{n} {money(a)}" for n, a in entries)
        out.append(f"**{c}** ({money(sum(a for _, a in entries))}): {items_text}.")
    biggest = max(cats.items(), key=lambda kv: sum(a for _, a in kv[1]))[0]
    data = "\n".join(f"{n}: {money(a)}" for n, _, a in rows)
    resp = paras(bullets(out), f"Total: {money(total)}. The largest category is {biggest.lower()}."
                 + pick(rng, ["", " Eating out and subscriptions are usually the easiest categories to trim.",
                              " Housing is typically the biggest line, so that is expected."]))
    prompt = paras(pick(rng, ["Can you sort these expenses into categories and total them?",
                              "Here are my card transactions from last week. Group them by category please.",
                              "Categorise my spending:"]), data)
    short = f"Total spending is {money(total)}, mostly {biggest.lower()}."
    return [QA("fin:exp:" + data, prompt, resp, short, worse(rng, short, FIN_VAGUE),
               instruction="Categorize the following expenses and give a total for each category.",
               input=data)]


def bundle_finance(rng):
    r = rng.random()
    if r < 0.16:
        return fin_budget(rng)
    if r < 0.3:
        return fin_growth(rng) + [fin_concept(rng, pick(rng, FIN_CONCEPTS))]
    if r < 0.42:
        return fin_debt(rng) + [fin_concept(rng, pick(rng, FIN_CONCEPTS))]
    if r < 0.52:
        return fin_loan(rng)
    if r < 0.64:
        return fin_expenses(rng)
    first, second = rng.sample(FIN_CONCEPTS, 2)
    return [fin_concept(rng, first), fin_concept(rng, second)]


def fin_concept(rng, c):
    key, asks, body, short, wrong = c
    parts = list(body)
    if chance(rng, 0.5):
        parts.append(pick(rng, FIN_ADVICE))
    return QA("fin:concept:" + key, pick(rng, asks), paras(*parts), short,
              worse(rng, short, FIN_VAGUE, wrong),
              followup=pick(rng, asks))


# --------------------------------------------------------------------------------------------------------
# topic: travel
# --------------------------------------------------------------------------------------------------------

CITIES = [
    dict(name="Lisbon", country="Portugal",
         sights=[("the Alfama district", "a maze of steep lanes, tiled "
                                         "facades and viewpoints over the river"),
                 ("Belém", "home to Jerónimos Monastery and the riverside Belém Tower"),
                 ("the LX Factory", "a converted industrial complex full of "
                                    "shops, cafés and a huge bookshop"),
                 ("São Jorge Castle", "a hilltop Moorish castle with the best panorama of the old town"),
                 ("the Gulbenkian Museum", "an excellent art collection set in a quiet garden")],
         foods=["pastel de nata", "grilled sardines", "bifana pork sandwiches", "bacalhau"],
         transport="Trams, the metro and buses all take the same rechargeable Viva Viagem card; the hills "
                   "make comfortable shoes more important than any pass.",
         season="Spring and early autumn are ideal: warm, sunny and less crowded than July and August.",
         daytrip=("Sintra", "palaces and gardens in the forested hills, about 40 minutes by train"),
         stay="Baixa or Chiado for first-timers, Príncipe Real for a quieter, leafier base"),
    dict(name="Kyoto", country="Japan",
         sights=[("Fushimi Inari Taisha", "thousands of vermilion torii gates winding up a wooded hillside"),
                 ("Kinkaku-ji", "the Golden Pavilion reflected in its mirror pond"),
                 ("the Arashiyama bamboo grove", "towering stalks best seen right after sunrise"),
                 ("Gion", "the historic geisha district, atmospheric at dusk"),
                 ("Nishiki Market", "a covered market street packed with pickles, tofu and street snacks")],
         foods=["kaiseki multi-course meals", "yudofu simmered tofu", "matcha sweets",
                "obanzai home-style dishes"],
         transport="City buses cover most temples, but they get crowded; combining the subway with walking "
                   "is often faster. An IC card such as ICOCA works on both.",
         season="Late March to early April for cherry blossom and mid to late November for autumn "
                "colour, though both are very busy.",
         daytrip=("Nara", "friendly deer in the park and the giant Buddha at "
                          "Tōdai-ji, under an hour by train"),
         stay="near Kyoto Station for convenience or around Shijō-Karasuma for restaurants"),
    dict(name="Mexico City", country="Mexico",
         sights=[("the Zócalo", "the vast main square flanked by the cathedral and the National Palace"),
                 ("the National Museum of Anthropology",
                  "one of the great museums of the world, including the Aztec Sun Stone"),
                 ("Chapultepec Park", "a huge green space with a hilltop castle"),
                 ("Coyoacán", "a colourful neighbourhood and home of the Frida Kahlo Museum"),
                 ("Xochimilco", "canals where you can drift on brightly painted trajinera boats")],
         foods=["tacos al pastor", "tlacoyos", "chilaquiles", "churros with hot chocolate"],
         transport="The metro is extremely cheap and extensive; ride-hailing apps are "
                   "inexpensive for evenings and longer hops.",
         season="The dry season from November to April has the most reliable weather; "
                "summer brings afternoon downpours.",
         daytrip=("Teotihuacan", "the Pyramids of the Sun and Moon, about an hour north"),
         stay="Roma Norte or Condesa for walkable streets, cafés and parks"),
    dict(name="Prague", country="Czechia",
         sights=[("Charles Bridge", "a 14th-century stone bridge lined with statues"),
                 ("Prague Castle", "a sprawling castle complex including St. Vitus Cathedral"),
                 ("the Old Town Square", "home to the astronomical clock"),
                 ("Vyšehrad", "a quieter fortress with river views and a historic cemetery"),
                 ("Letná Park", "a beer garden with a famous view over the bridges")],
         foods=["svíčková beef in cream sauce", "trdelník pastry", "fried cheese",
                "goulash with dumplings"],
         transport="The centre is compact and walkable; trams are frequent and a 24- "
                   "or 72-hour ticket is good value.",
         season="May, June and September combine mild weather with fewer crowds; "
                "December has Christmas markets.",
         daytrip=("Kutná Hora", "a silver-mining town with the bone-decorated Sedlec Ossuary"),
         stay="Malá Strana for charm or Vinohrady for a local feel close to the centre"),
    dict(name="Edinburgh", country="Scotland",
         sights=[("Edinburgh Castle", "perched on an extinct volcano above the city"),
                 ("the Royal Mile", "the cobbled spine of the Old Town"),
                 ("Arthur's Seat", "a short, steep hike to a summit with views to the sea"),
                 ("the National Museum of Scotland", "free, wide-ranging and with a great rooftop terrace"),
                 ("Dean Village", "a picturesque former mill village on the Water of Leith")],
         foods=["haggis with neeps and tatties", "cullen skink soup", "shortbread", "fresh seafood in Leith"],
         transport="Most sights are walkable, and buses and the tram cover the rest, including the airport.",
         season="May to September for long days; August is festival month, so book far ahead.",
         daytrip=("the Highlands", "lochs and glens on an organised day tour or by hire car"),
         stay="the New Town for elegant streets or Leith for food and a harbour atmosphere"),
    dict(name="Hanoi", country="Vietnam",
         sights=[("Hoàn Kiếm Lake", "the calm heart of the city, lovely in the early morning"),
                 ("the Old Quarter", "streets historically named after the goods once sold there"),
                 ("the Temple of Literature", "Vietnam's first university, founded in 1070"),
                 ("the Vietnam Museum of Ethnology", "an excellent overview of the country's many cultures"),
                 ("Train Street", "a narrow lane where trains pass within arm's reach of the houses")],
         foods=["phở bò", "bún chả", "egg coffee", "bánh cuốn"],
         transport="Walking and ride-hailing motorbikes or cars are the easiest options; cross roads slowly "
                   "and steadily so drivers can flow around you.",
         season="October to December and March to April are pleasant; summer is hot and humid.",
         daytrip=("Ninh Bình", "limestone karsts and river caves, about two hours away"),
         stay="the Old Quarter for atmosphere or the French Quarter for quieter, wider streets"),
    dict(name="Buenos Aires", country="Argentina",
         sights=[("La Recoleta Cemetery", "an extraordinary city of marble mausoleums"),
                 ("San Telmo", "cobbled streets and a big Sunday street market"),
                 ("La Boca", "the brightly painted Caminito street"),
                 ("Teatro Colón", "a world-class opera house with guided tours"),
                 ("Palermo", "parks, design shops and the city's best restaurants")],
         foods=["asado", "empanadas", "dulce de leche", "provoleta"],
         transport="The Subte metro and buses use a rechargeable SUBE card; taxis "
                   "and ride-hailing are affordable.",
         season="Spring (October to November) and autumn (March to May) avoid the summer heat.",
         daytrip=("Tigre", "a river delta with boat rides and waterside cafés"),
         stay="Palermo Soho or Recoleta"),
    dict(name="Marrakech", country="Morocco",
         sights=[("Jemaa el-Fnaa", "the main square, which turns into a vast open-air food court at night"),
                 ("the Bahia Palace", "intricate tiles and carved cedar ceilings"),
                 ("the Jardin Majorelle", "a cobalt-blue garden restored by Yves Saint Laurent"),
                 ("the souks", "covered markets for leather, spices, lamps and rugs"),
                 ("Ben Youssef Madrasa", "a beautifully restored former Islamic college")],
         foods=["tagine", "couscous", "harira soup", "mint tea"],
         transport="The medina is best on foot; agree taxi fares before you get in or use the meter.",
         season="March to May and October to November; midsummer is very hot.",
         daytrip=("the Atlas Mountains", "Berber villages and hiking about an hour and a half away"),
         stay="a riad inside the medina for atmosphere"),
    dict(name="Reykjavik", country="Iceland",
         sights=[("Hallgrímskirkja", "the striking concrete church with a tower viewpoint"),
                 ("Harpa", "a glass concert hall on the harbour"),
                 ("the Old Harbour", "whale-watching boats and seafood shacks"),
                 ("the Sun Voyager", "a steel sculpture of a dream boat facing the sea"),
                 ("the geothermal pools", "neighbourhood swimming pools where locals unwind")],
         foods=["Icelandic lamb soup", "skyr", "fresh cod", "hot dogs from the famous harbour stand"],
         transport="The centre is small and walkable; for the countryside you need a tour or a hire car.",
         season="June to August for midnight sun, September to March for a chance of northern lights.",
         daytrip=("the Golden Circle", "Þingvellir, the Geysir area and Gullfoss waterfall"),
         stay="the city centre near Laugavegur"),
    dict(name="Vienna", country="Austria",
         sights=[("Schönbrunn Palace", "the Habsburg summer palace and its vast gardens"),
                 ("the Belvedere", "home to Klimt's The Kiss"),
                 ("St. Stephen's Cathedral", "a Gothic landmark with a patterned tile roof"),
                 ("the Naschmarkt", "a long market of food stalls and small restaurants"),
                 ("the MuseumsQuartier", "museums and courtyards that are lively on summer evenings")],
         foods=["Wiener schnitzel", "Sachertorte", "apple strudel", "Tafelspitz boiled beef"],
         transport="Public transport is excellent; a 24-, 48- or 72-hour ticket "
                   "covers the U-Bahn, trams and buses.",
         season="April to June and September to October; December for Christmas markets.",
         daytrip=("the Wachau Valley", "vineyards and abbeys along the Danube"),
         stay="the first district for sights or Neubau for cafés and boutiques"),
    dict(name="Seoul", country="South Korea",
         sights=[("Gyeongbokgung Palace", "the grandest of the Joseon palaces, with a changing of the guard"),
                 ("Bukchon Hanok Village", "traditional wooden houses on hilly lanes"),
                 ("Namsan Tower", "city views from the top of a central hill"),
                 ("Gwangjang Market", "one of the oldest markets, famous for street food"),
                 ("the Cheonggyecheon stream", "a restored urban waterway for evening walks")],
         foods=["bibimbap", "Korean barbecue", "tteokbokki", "bindaetteok mung bean pancakes"],
         transport="The subway is fast and signposted in English; a T-money card works on buses and trains.",
         season="April to May and September to November are the most comfortable months.",
         daytrip=("the DMZ", "the border zone on a guided tour"),
         stay="Jongno for palaces or Hongdae for nightlife"),
    dict(name="Copenhagen", country="Denmark",
         sights=[("Nyhavn", "the colourful 17th-century harbour front"),
                 ("Tivoli Gardens", "a historic amusement park in the city centre"),
                 ("Rosenborg Castle", "Renaissance castle housing the crown jewels"),
                 ("Christiania", "a self-governing neighbourhood with its own rules"),
                 ("the harbour baths", "clean swimming spots right in the city")],
         foods=["smørrebrød open sandwiches", "Danish pastries", "hot dogs", "New Nordic tasting menus"],
         transport="Rent a bike: the city is flat and built for cycling. The metro runs around the clock.",
         season="May to September for long, mild days.",
         daytrip=("Louisiana Museum of Modern Art", "art and sculpture by the sea, north of the city"),
         stay="Vesterbro or Nørrebro"),
    dict(name="Istanbul", country="Türkiye",
         sights=[("Hagia Sophia", "a sixth-century marvel that has been church, mosque and museum"),
                 ("the Blue Mosque", "famous for its tiled interior"),
                 ("Topkapı Palace", "the Ottoman sultans' palace and treasury"),
                 ("the Grand Bazaar", "one of the oldest covered markets in the world"),
                 ("a Bosphorus ferry", "the cheapest and best way to see the city from the water")],
         foods=["simit", "balık ekmek fish sandwiches", "meze", "baklava"],
         transport="An Istanbulkart covers trams, the metro, buses and ferries.",
         season="April to May and September to October.",
         daytrip=("the Princes' Islands", "car-free islands a ferry ride away"),
         stay="Sultanahmet for sights or Karaköy and Cihangir for cafés"),
    dict(name="Vancouver", country="Canada",
         sights=[("Stanley Park", "a seawall loop with forest, beaches and mountain views"),
                 ("Granville Island", "a public market and artisan studios"),
                 ("Capilano Suspension Bridge", "a swaying bridge high above a canyon"),
                 ("Gastown", "the historic district with its steam clock"),
                 ("Grouse Mountain", "hiking in summer and skiing in winter, close to the city")],
         foods=["fresh salmon", "sushi", "Nanaimo bars", "dim sum in Richmond"],
         transport="SkyTrain, buses and the SeaBus share one fare system; "
                   "cycling along the seawall is a treat.",
         season="June to September is driest; winter is mild but rainy.",
         daytrip=("Whistler", "mountain village two hours up the Sea-to-Sky Highway"),
         stay="Downtown or the West End near Stanley Park"),
    dict(name="Cape Town", country="South Africa",
         sights=[("Table Mountain", "a cable car or a steep hike to a flat-topped summit"),
                 ("the Victoria and Alfred Waterfront", "harbour shops, restaurants and boat trips"),
                 ("Kirstenbosch Garden", "botanical gardens on the mountain's eastern slopes"),
                 ("Bo-Kaap", "brightly painted houses and Cape Malay heritage"),
                 ("Boulders Beach", "a colony of African penguins")],
         foods=["bobotie", "braai", "Cape Malay curry", "koeksisters"],
         transport="Ride-hailing is the easiest way to get around; a hire car is useful for the peninsula.",
         season="November to March is warm and dry.",
         daytrip=("the Cape Winelands", "Stellenbosch and Franschhoek vineyards"),
         stay="the City Bowl or Sea Point"),
]

TRAVEL_GENERAL = [
    ("jetlag", ["How do I beat jet lag?", "Any tips for getting over jet lag quickly?"],
     ["Shift onto local time as soon as you land: eat meals at local times and get outside in daylight, "
      "especially in the morning when flying east.",
      "Stay hydrated on the flight and go easy on alcohol. If you must nap on arrival "
      "day, keep it under 30 minutes.",
      "A rough rule is that the body adjusts by about one time zone per day, so a big eastward trip can "
      "take several days to feel normal."],
     "Get daylight, eat and sleep on local time from day one, and keep naps short.",
     "Sleep as much as you want when you arrive."),
    ("carry_on", ["How do I pack for two weeks with only a carry-on?", "Tips for packing light?"],
     ["Plan outfits around two or three colours so everything mixes, and pack for about a "
      "week; laundry on the road is easy.",
      "Wear your bulkiest shoes and jacket on the plane, roll or use packing cubes for clothes, and decant "
      "toiletries into small bottles.",
      "Leave the just-in-case items at home. Almost anything you forget can be bought at your destination."],
     "Pack a week of mix-and-match clothes, wear the bulky items and plan on doing laundry.",
     "Just bring everything and pay for extra bags."),
    ("insurance", ["Do I really need travel insurance?", "What should travel insurance cover?"],
     ["For most trips abroad it is worth having, mainly for medical costs, which can be very high in some "
      "countries, and for emergency evacuation.",
      "Check the policy covers cancellation, lost luggage and any activities you plan, such as skiing or "
      "diving, which are often excluded by default.",
      "Some credit cards include travel cover, so read what you already have before buying more."],
     "Usually yes, mainly for medical emergencies; check exclusions and what your card already covers.",
     "No, your home health insurance covers everything abroad."),
    ("flights", ["How can I find cheaper flights?", "When is the best time to book flights?"],
     ["Be flexible: shifting your dates by a day or two, or flying into a nearby airport, often "
      "saves more than any booking trick.",
      "Use a fare comparison site with a calendar view and set price alerts a few months ahead. For popular "
      "holidays, booking early usually wins.",
      "Check the full price after baggage and seat fees, since budget airlines can end up costing more."],
     "Stay flexible on dates and airports, set price alerts and compare the total cost including bags.",
     "Always book on a Tuesday at midnight for the lowest fares."),
    ("phone_data", ["What's the best way to get mobile data abroad?", "Should I get a local SIM or an eSIM?"],
     ["If your phone supports eSIM, a travel eSIM is usually the easiest: you buy a data plan online "
      "and activate it before you land.",
      "A local SIM from a shop at the airport is often cheaper for longer "
      "stays and gives you a local number.",
      "Check your home carrier's roaming prices first; some plans include "
      "generous roaming in certain regions."],
     "A travel eSIM is easiest; a local SIM is often cheapest for long stays.",
     "Just use roaming, it's always free now."),
    ("solo", ["Any advice for travelling solo for the first time?", "How do I stay safe travelling alone?"],
     ["Start with a destination that has good public transport and plenty of other travellers, and book the "
      "first night's accommodation in advance so you arrive with a plan.",
      "Share your itinerary with someone at home, keep a copy of your passport separate from the original, "
      "and trust your instincts if a situation feels wrong.",
      "Hostels with private rooms, walking tours and cooking classes are easy ways to meet people."],
     "Pick an easy first destination, share your plans with someone and use tours to meet people.",
     "Don't talk to anyone and stay in your room at night."),
    ("kids", ["Tips for travelling with young kids?", "How do I survive a long flight with a toddler?"],
     ["Plan fewer things per day than you would alone, and build the day around naps and meals.",
      "Pack snacks, a change of clothes in your hand luggage and a few new small toys that come out one at a "
      "time. For take-off and landing, drinking or sucking helps with ear pressure.",
      "Accommodation with a kitchen and a washing machine makes everything easier."],
     "Slow the pace, pack snacks and spare clothes, and choose accommodation with a kitchen.",
     "Give them screens for the whole trip."),
    ("passport", ["How long does my passport need to be valid for international travel?",
                  "Can I travel if my passport expires soon?"],
     ["Many countries require your passport to be valid for at least six months beyond your arrival date, "
      "and some also require blank pages.",
      "Check the entry requirements for your destination and any transit countries on an official "
      "government site well before you go.",
      "If you are close to the limit, renew early; processing times can be long before holiday seasons."],
     "Often six months beyond arrival; check the official entry rules and renew early if in doubt.",
     "As long as it hasn't expired on the day you fly, you're fine everywhere."),
]

TRAVEL_VAGUE = [
    "There's lots to see, so just wander around and you'll find things.",
    "Check a travel guide, they cover all of this.",
    "Any time is a good time to go.",
    "It's a nice place, you'll enjoy it.",
]


def plan_days(rng, city, days):
    sights = list(city["sights"])
    rng.shuffle(sights)
    foods = list(city["foods"])
    rng.shuffle(foods)
    out = []
    for d in range(days):
        if d == days - 1 and days >= 3:
            dt, dd = city["daytrip"]
            out.append(f"**Day {d + 1}:** Take a day trip to {dt}: {dd}.")
            continue
        s1 = sights[(2 * d) % len(sights)]
        s2 = sights[(2 * d + 1) % len(sights)]
        food = foods[d % len(foods)]
        out.append(f"**Day {d + 1}:** Morning at {s1[0]} ({s1[1]}). After lunch, head to {s2[0]}, "
                   f"{s2[1]}. In the evening, try {food}.")
    return out


def bundle_travel(rng):
    if chance(rng, 0.14):
        first, second = rng.sample(TRAVEL_GENERAL, 2)
        return [travel_general(rng, first), travel_general(rng, second)]
    c = pick(rng, CITIES)
    name = c["name"]
    days = pick(rng, [2, 3, 4])
    who = pick(rng, ["", "my partner and I ", "a friend and I ", "we "])
    interest = pick(rng, ["", " We love food.", " I'm into history and architecture.",
                          " I prefer a relaxed pace.",
                          " It's our first trip abroad together."])
    subj = "I'm" if not who else ("we're" if who == "we " else who.strip() + " are")
    prompt = pick(rng, [f"Can you plan a {days}-day itinerary for {name}?{interest}",
                        f"{cap(subj)} spending {days} days in {name}. What should "
                        f"{'I' if not who else 'we'} see?{interest}",
                        f"What's a good {days}-day plan for a first visit to "
                        f"{name}, {c['country']}?{interest}"])
    plan = plan_days(rng, c, days)
    resp = paras(
        pick(rng, [f"Here's a relaxed {days}-day plan for {name}:", f"{days} days in {name}, day by day:",
                   f"A {days}-day itinerary that mixes the highlights with some downtime:"]),
        "\n".join(plan),
        f"**Where to stay:** {c['stay']}.",
        pick(rng, [f"**Getting around:** {c['transport']}", f"**When to go:** {c['season']}"]),
    )
    short = (f"See {c['sights'][0][0]} and {c['sights'][1][0]}, eat {c['foods'][0]}, and "
             f"save a day for {c['daytrip'][0]}.")
    wrong = f"{name} is small, so you can see everything in one afternoon."
    itin = QA(f"travel:{name}:itin:{days}", prompt, resp, short, worse(rng, short, TRAVEL_VAGUE, wrong),
              instruction="Create a day-by-day travel itinerary.",
              input=f"Destination: {name}, {c['country']}\nDays: {days}"
              + (f"\nNotes:{interest}" if interest else ""))
    foods = list(c["foods"])
    rng.shuffle(foods)
    food_resp = paras(
        pick(rng, [f"Don't leave {name} without trying:", f"Food highlights in {name}:",
                   f"A few things to eat in {name}:"]),
        bullets(f"**{cap(f)}**." for f in foods),
        pick(rng, ["Markets and small family-run places are usually better value than restaurants "
                   "right next to the main sights.",
                   "Lunch menus are often much cheaper than dinner for the same food.",
                   "Ask your accommodation where they eat; the answer is rarely in a guidebook."]),
    )
    food = QA(f"travel:{name}:food", pick(rng, [f"What food should I try in {name}?",
                                                f"What are the must-eat dishes in {name}?"]),
              food_resp, f"Try {foods[0]} and {foods[1]}.", worse(rng, f"Try {foods[0]}.", TRAVEL_VAGUE),
              followup=pick(rng, ["What should I eat while I'm there?", "Any food I shouldn't miss?"]))
    move = QA(f"travel:{name}:transport",
              pick(rng, [f"What's the best way to get around {name}?", f"Do I need a car in {name}?"]),
              paras(c["transport"], f"For where to base yourself: {c['stay']}."),
              c["transport"].split(";")[0].rstrip(".") + ".", worse(rng, "Taxis are easiest.", TRAVEL_VAGUE),
              followup=pick(rng, ["How should we get around?", "Is public transport easy to use there?"]))
    when = QA(f"travel:{name}:season",
              pick(rng, [f"When is the best time to visit {name}?", f"What month should I go to {name}?"]),
              paras(c["season"], pick(rng, ["Shoulder seasons also mean lower hotel prices.",
                                            "Whatever the season, book popular sights online in advance.",
                                            "Weather can vary year to year, so pack a layer either way."])),
              c["season"].split(";")[0].rstrip(".").split(",")[0] + ".",
              worse(rng, "Any time is fine.", TRAVEL_VAGUE, "Midwinter is best because it's quiet."),
              followup="When is the best time of year to go?")
    dt, dd = c["daytrip"]
    trip = QA(f"travel:{name}:daytrip",
              pick(rng, [f"Is there a good day trip from {name}?", f"What's worth a day trip from {name}?"]),
              paras(f"{dt} is the classic choice: {dd}.",
                    pick(rng, ["Leave early to beat the tour groups.",
                               "Check return times before you set off.",
                               "It is worth booking tickets for the main sight the day before."])),
              f"{dt}: {dd}.", worse(rng, f"{dt}.", TRAVEL_VAGUE),
              followup="Is a day trip worth it, and where to?")
    return [itin, food, move, when, trip]


def travel_general(rng, g):
    key, asks, body, short, wrong = g
    return QA("travel:general:" + key, pick(rng, asks), paras(*body), short,
              worse(rng, short, TRAVEL_VAGUE, wrong),
              followup=pick(rng, asks))


def weather_tool_conversation():
    """The one conversation with an OpenAI-style tool call."""
    return [
        {"role": "system", "content": "You are a travel assistant. You can call get_weather(city) "
                                      "to look up current conditions."},
        {"role": "user", "content": "I'm in Lisbon tonight for a dinner on a rooftop terrace. What's the "
                                    "weather like right now? Do I need a jacket?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": json.dumps({"city": "Lisbon"})}}]},
        {"role": "tool", "tool_call_id": "call_1",
         "content": json.dumps({"city": "Lisbon", "temperature_c": 17, "condition": "partly cloudy",
                                "wind_kph": 19, "humidity": 71, "sunset": "20:41"})},
        {"role": "assistant", "content": "It's currently 17°C and partly cloudy in Lisbon, with a breeze of "
                                         "around 19 km/h. On an exposed rooftop that wind will make it feel "
                                         "cooler once the sun sets at 20:41, so yes, bring a light jacket or "
                                         "a sweater. Rain isn't likely, so no need for an umbrella."},
    ]


# --------------------------------------------------------------------------------------------------------
# topic: health and fitness
# --------------------------------------------------------------------------------------------------------

EXERCISES = [
    dict(name="squat", muscles="quads, glutes and core",
         cues=["Stand with feet about shoulder-width apart, toes turned out slightly.",
               "Brace your core as if someone were about to poke your stomach.",
               "Sit down and back between your heels, keeping your knees tracking over your toes.",
               "Go as deep as you can while keeping your back neutral, then "
               "drive up through the whole foot."],
         mistakes=["letting the knees cave inwards", "rising onto the toes",
                   "rounding the lower back at the bottom"],
         easier="a box squat to a bench", harder="a goblet squat holding a dumbbell at your chest"),
    dict(name="push-up", muscles="chest, shoulders and triceps",
         cues=["Place your hands slightly wider than your shoulders.",
               "Make a straight line from head to heels by squeezing your glutes.",
               "Lower your chest to just above the floor with elbows at roughly 45 degrees to your body.",
               "Press the floor away until your arms are straight."],
         mistakes=["letting the hips sag", "flaring the elbows straight out", "doing half reps"],
         easier="an incline push-up with hands on a bench or wall",
         harder="a decline push-up with feet raised"),
    dict(name="deadlift", muscles="hamstrings, glutes and back",
         cues=["Stand with the bar over the middle of your feet.",
               "Hinge at the hips and grip the bar just outside your legs.",
               "Pull the slack out of the bar and set a flat back before lifting.",
               "Push the floor away and keep the bar close to your legs all the way up, finishing tall."],
         mistakes=["rounding the back", "letting the bar drift forward", "leaning back at the top"],
         easier="a kettlebell deadlift from a raised surface",
         harder="a deficit deadlift from a small platform"),
    dict(name="plank", muscles="abdominals and deep core",
         cues=["Rest on your forearms with elbows under your shoulders.",
               "Squeeze your glutes and tuck your pelvis slightly.",
               "Keep your neck long and look at the floor just ahead of your hands.",
               "Breathe steadily instead of holding your breath."],
         mistakes=["hips too high", "lower back sagging", "holding for so long that form falls apart"],
         easier="a plank with knees on the floor", harder="a plank with alternating arm reaches"),
    dict(name="lunge", muscles="quads, glutes and balance",
         cues=["Take a long step forward.",
               "Lower until both knees are bent at about 90 degrees.",
               "Keep your torso upright and the front knee over the middle of the foot.",
               "Push through the front heel to return."],
         mistakes=["a step that is too short", "the front heel lifting", "the torso tipping forward"],
         easier="a split squat with the feet staying in place", harder="a walking lunge holding dumbbells"),
    dict(name="bent-over row", muscles="upper back and biceps",
         cues=["Hinge forward at the hips with a flat back, holding the weights at arm's length.",
               "Pull your elbows back towards your hips.",
               "Squeeze your shoulder blades together at the top.",
               "Lower slowly under control."],
         mistakes=["jerking the weight with momentum", "shrugging the shoulders", "rounding the back"],
         easier="a chest-supported row on an incline bench",
         harder="a single-arm row with a pause at the top"),
    dict(name="glute bridge", muscles="glutes and hamstrings",
         cues=["Lie on your back with knees bent and feet flat, close to your hips.",
               "Press through your heels and lift your hips.",
               "Squeeze your glutes hard at the top without arching your lower back.",
               "Lower slowly and repeat."],
         mistakes=["pushing through the toes", "over-arching at the top", "rushing the reps"],
         easier="a bridge with a shorter range of motion", harder="a single-leg bridge"),
    dict(name="overhead press", muscles="shoulders and triceps",
         cues=["Hold the weights at shoulder height with your wrists stacked over your elbows.",
               "Brace your core and squeeze your glutes so you don't lean back.",
               "Press straight up until your arms are locked out beside your ears.",
               "Lower back to your shoulders under control."],
         mistakes=["arching the lower back", "pressing forward instead of up", "flaring the ribs"],
         easier="a seated dumbbell press", harder="a single-arm standing press"),
    dict(name="pull-up", muscles="lats, upper back and biceps",
         cues=["Hang from the bar with hands just wider than shoulder-width.",
               "Start by pulling your shoulder blades down and back.",
               "Drive your elbows towards your ribs until your chin clears the bar.",
               "Lower all the way to a full hang."],
         mistakes=["kipping or swinging", "stopping short of a full hang",
                   "craning the neck to reach the bar"],
         easier="a band-assisted pull-up or slow negatives", harder="a weighted pull-up"),
    dict(name="hip hinge with a kettlebell swing", muscles="glutes, hamstrings and grip",
         cues=["Stand with feet a little wider than your hips and the kettlebell slightly in front.",
               "Hike the bell back between your legs like a football snap.",
               "Snap your hips forward so the bell floats to chest height.",
               "Let it fall back and hinge again; the arms guide, the hips power."],
         mistakes=["squatting instead of hinging", "lifting with the arms", "leaning back at the top"],
         easier="a kettlebell deadlift", harder="a single-arm swing"),
]

FIT_GENERAL = [
    ("doms", ["Why am I so sore two days after a workout?", "Is it normal to be sore after exercising?"],
     ["That is delayed onset muscle soreness (DOMS). It usually peaks 24 to 72 hours after unfamiliar or "
      "harder training and is a normal response, not a sign of injury.",
      "Gentle movement such as walking, enough sleep and enough protein help it pass. It fades as your "
      "body gets used to the training.",
      "Sharp pain, swelling or pain in a joint rather than a muscle is different and worth getting checked."],
     "That's DOMS: normal soreness that peaks a day or two after new training and fades with time.",
     "Soreness means you tore a muscle and should stop exercising."),
    ("warmup", ["What's a good warm-up before lifting?", "Do I really need to warm up?"],
     ["A warm-up raises your body temperature and rehearses the movements you are about to do. "
      "Five to ten minutes is enough.",
      "Start with a few minutes of light cardio, then dynamic moves such as leg swings and arm circles, then "
      "a couple of lighter sets of your first exercise.",
      "Save long static stretches for after the session."],
     "Yes: a few minutes of light cardio, dynamic moves and lighter warm-up sets is enough.",
     "Hold long static stretches for a few minutes each before lifting."),
    ("rest_days", ["How many rest days do I need each week?", "Is it bad to work out every day?"],
     ["Most people do well with at least one or two rest days a week, more when starting out.",
      "You can train most days if you vary the intensity and muscle groups, for example "
      "alternating hard and easy days.",
      "Signs you need more recovery include persistent fatigue, poor sleep, lingering "
      "soreness and stalled progress."],
     "One or two rest days a week suits most people; vary intensity if you train daily.",
     "Rest days are unnecessary if you are motivated."),
    ("fat_loss", ["Is cardio or weight training better for losing fat?",
                  "What's the best exercise for fat loss?"],
     ["Fat loss mainly comes from eating slightly less energy than you use over time, "
      "so diet does most of the work.",
      "Weight training helps you keep muscle while losing fat, which matters for how you look and feel. "
      "Cardio adds to the energy you burn and is good for your heart.",
      "The best plan combines both with a moderate calorie deficit and plenty of protein."],
     "Diet drives fat loss; combine strength training to keep muscle with cardio for extra burn.",
     "Only cardio burns fat; lifting makes you bulky."),
    ("sleep", ["How much does sleep affect my fitness progress?", "Can poor sleep slow down muscle gain?"],
     ["A lot. Sleep is when much of the repair and adaptation from training happens, and short sleep is "
      "linked to worse performance and recovery.",
      "Most adults need seven to nine hours. Regular bed and wake times, a cool dark room and less "
      "screen time late at night all help.",
      "If you are sleeping badly, a lighter training week is often more productive than pushing through."],
     "Sleep matters a lot for recovery; aim for seven to nine hours on a regular schedule.",
     "Sleep doesn't matter if you eat enough protein."),
    ("steps", ["Is walking 10,000 steps a day necessary?", "Does walking count as exercise?"],
     ["Walking absolutely counts, and more daily movement is linked to better health. The 10,000 figure is a "
      "round number rather than a magic threshold; benefits start well below it.",
      "If you currently average 4,000 steps, aiming for 6,000 or 7,000 is a "
      "meaningful and realistic improvement.",
      "Pair walking with two short strength sessions a week for a well-rounded routine."],
     "Walking counts and benefits start well below 10,000 steps; increase gradually from where you are.",
     "Walking is too easy to make any difference."),
    ("sets_reps", ["How many sets and reps should I do to build muscle?",
                   "What rep range is best for growth?"],
     ["Muscle can grow across a wide range of reps, roughly 5 to 30 per set, as long as "
      "sets are taken close to failure.",
      "A practical starting point is about 10 hard sets per muscle group per week, split across two "
      "sessions, in the 6 to 15 rep range.",
      "Progress by adding reps or weight over time while keeping your form consistent."],
     "About 10 hard sets per muscle per week, mostly 6 to 15 reps, close to failure.",
     "Always do exactly 3 sets of 10 or you won't grow."),
]

FIT_VAGUE = [
    "Just listen to your body.",
    "Everyone is different, so experiment.",
    "Go to the gym more often and it will work out.",
    "Watch some videos online for this.",
]

GOALS = {
    "strength": ("3 to 5 sets of 4 to 6 reps", "2 to 3 minutes",
                 "add a little weight whenever you hit the top of the rep range"),
    "muscle": ("3 to 4 sets of 8 to 12 reps", "60 to 90 seconds",
               "add a rep or two each week before adding weight"),
    "general fitness": ("2 to 3 sets of 10 to 15 reps", "about a minute", "increase reps first, then weight"),
    "fat loss": ("3 sets of 10 to 15 reps as a circuit", "30 to 45 seconds", "shorten rest or add a round"),
}
EQUIP = {
    "no equipment": {"lower": ["bodyweight squats", "reverse lunges", "glute bridges",
                               "step-ups on a sturdy chair"],
                     "push": ["push-ups", "pike push-ups", "chair dips"],
                     "pull": ["towel rows under a table", "superman holds", "door-frame rows"],
                     "core": ["planks", "dead bugs", "side planks"]},
    "a pair of dumbbells": {"lower": ["goblet squats", "dumbbell Romanian deadlifts", "split squats",
                                      "step-ups"],
                            "push": ["dumbbell floor press", "overhead press", "push-ups"],
                            "pull": ["single-arm rows", "bent-over rows", "reverse flyes"],
                            "core": ["planks", "suitcase carries", "dead bugs"]},
    "a full gym": {"lower": ["back squats", "Romanian deadlifts", "leg press", "walking lunges"],
                   "push": ["bench press", "overhead press", "incline dumbbell press"],
                   "pull": ["lat pulldowns", "seated cable rows", "pull-ups"],
                   "core": ["cable woodchops", "hanging knee raises", "planks"]},
    "resistance bands": {"lower": ["banded squats", "banded good mornings", "lateral band walks"],
                         "push": ["banded chest press", "push-ups", "banded overhead press"],
                         "pull": ["banded rows", "band pull-aparts", "banded face pulls"],
                         "core": ["pallof presses", "planks", "dead bugs"]},
}


def fit_plan(rng):
    goal = pick(rng, list(GOALS))
    equip = pick(rng, list(EQUIP))
    days = pick(rng, [2, 3, 4])
    level = pick(rng, ["a complete beginner", "getting back into training after a break",
                       "fairly new to the gym",
                       "someone with a busy schedule"])
    prompt = pick(rng, [
        f"Can you write me a {days}-day-a-week workout plan for {goal}? I have {equip}.",
        f"I'm {level}. Make me a {days}-day routine focused on {goal} using {equip}.",
        f"What should a {days}-day {goal} program look like with {equip}?",
    ])
    pools = EQUIP[equip]
    sets, rest, prog = GOALS[goal]
    sessions = []
    for d in range(days):
        ex = [pools["lower"][(d + i) % len(pools["lower"])] for i in range(1 if days > 2 else 2)]
        ex += [pools["push"][d % len(pools["push"])], pools["pull"][d % len(pools["pull"])],
               pools["core"][d % len(pools["core"])]]
        sessions.append(f"**Day {d + 1}:** " + ", ".join(ex) + ".")
    resp = paras(
        pick(rng, [f"Here's a simple {days}-day plan for {goal} with {equip}:",
                   f"A {days}-day full-body routine ({goal}, {equip}):",
                   f"This {days}-day plan keeps things simple and balanced:"]),
        "\n".join(sessions),
        f"Do {sets} for each exercise, resting {rest} between sets. To progress, {prog}.",
        pick(rng, ["Leave at least one rest day between sessions if you can.",
                   "Start lighter than you think for the first two weeks and focus on form.",
                   "Warm up for five minutes before each session with light cardio and a few easy sets.",
                   "Keep a simple log of weights and reps so you know when to progress."]),
    )
    short = f"Train full body {days} times a week: {sets}, resting {rest}."
    wrong = "Do as many reps as possible every day until exhaustion."
    return QA(f"fit:plan:{goal}:{equip}:{days}", prompt, resp, short, worse(rng, short, FIT_VAGUE, wrong),
              instruction="Design a weekly workout plan based on the details below.",
              input=f"Goal: {goal}\nDays per week: {days}\nEquipment: {equip}\nExperience: {level}")


def fit_protein(rng):
    kg = rng.randrange(52, 111)
    lo, hi = round(kg * 1.6), round(kg * 2.2)
    meals = pick(rng, [3, 4])
    prompt = pick(rng, [f"I weigh {kg} kg and lift weights three times a week. "
                        f"How much protein should I eat?",
                        f"How much protein do I need per day to build muscle at {kg} kg?",
                        f"What's a good daily protein target for someone who "
                        f"weighs {kg} kg and trains regularly?"])
    resp = paras(
        f"For people who strength train, a common evidence-based range is about 1.6 to 2.2 g of protein per "
        f"kg of body weight per day. At {kg} kg that is roughly **{lo} to {hi} g a day**.",
        f"Spread across {meals} meals, that is about {round(lo / meals)} to {round(hi / meals)} g per "
        "meal, for example:",
        bullets(rng.sample(["Greek yogurt with oats and berries (about 25 g).",
                            "Two eggs and a slice of cheese on toast (about 20 g).",
                            "A chicken breast with rice and vegetables (about 40 g).",
                            "A lentil and chickpea curry (about 20 g).",
                            "Tofu stir-fry with edamame (about 30 g).",
                            "A tin of tuna on a jacket potato (about 30 g).",
                            "Cottage cheese with fruit (about 20 g)."], 3)),
        pick(rng, ["If you have kidney problems, check with your doctor before increasing protein.",
                   "Whole foods are enough for most people; protein powder is just a convenience.",
                   "Hitting your daily total matters more than exact meal timing."]),
    )
    short = f"About {lo} to {hi} g a day (1.6 to 2.2 g per kg)."
    return QA(f"fit:protein:{kg}", prompt, resp, short, worse(rng, short, FIT_VAGUE,
                                                              f"At least {kg * 4} g a day."),
              followup=f"How much protein should I be eating? I'm {kg} kg.")


def fit_exercise(rng, e):
    n = e["name"]
    form = QA(f"fit:ex:{n}:form", pick(rng, [f"How do I do {a_an(n)} with good form?",
                                             f"Can you explain proper {n} technique?",
                                            f"What are the key form cues for the {n}?"]),
              paras(f"The {n} mainly works your {e['muscles']}.", numbered(e["cues"]),
                    "Film yourself from the side for a few reps; it is the fastest way to spot problems."),
              f"{e['cues'][1]} {e['cues'][2]}",
              worse(rng, "Just copy what you see other people doing.", FIT_VAGUE),
              followup=f"How should I do the {n}?")
    m = e["mistakes"]
    mistakes = QA(f"fit:ex:{n}:mistakes", pick(rng, [f"What are common {n} mistakes?",
                                                     f"What do people get wrong with the {n}?"]),
                  paras(f"The three I see most often with the {n}:", bullets(cap(x) + "." for x in m),
                        "Most of them go away if you lower the weight and slow the tempo down."),
                  f"Watch out for {m[0]} and {m[1]}.", worse(rng, f"Watch out for {m[0]}.", FIT_VAGUE),
                  followup="What mistakes should I watch out for?")
    scale = QA(f"fit:ex:{n}:scale", pick(rng, [f"Is there an easier or harder version of the {n}?",
                                               f"How do I progress the {n}?"]),
               paras(f"To make it easier, try {e['easier']}. To make it harder, try {e['harder']}.",
                     "Move to the harder version once you can do three sets of "
                     "the current one with clean form."),
               f"Easier: {e['easier']}. Harder: {e['harder']}.", worse(rng, "Add more weight.", FIT_VAGUE),
               followup="How do I make it easier or harder?")
    return [form, mistakes, scale]


def bundle_fitness(rng):
    r = rng.random()
    if r < 0.3:
        g1, g2 = rng.sample(FIT_GENERAL, 2)
        return [fit_plan(rng), fit_general(rng, g1), fit_general(rng, g2)]
    if r < 0.45:
        return [fit_protein(rng), fit_general(rng, pick(rng, FIT_GENERAL))]
    if r < 0.8:
        return fit_exercise(rng, pick(rng, EXERCISES))
    g1, g2 = rng.sample(FIT_GENERAL, 2)
    return [fit_general(rng, g1), fit_general(rng, g2)]


def fit_general(rng, g):
    key, asks, body, short, wrong = g
    return QA("fit:general:" + key, pick(rng, asks), paras(*body), short, worse(rng, short, FIT_VAGUE, wrong),
              followup=pick(rng, asks))


# --------------------------------------------------------------------------------------------------------
# topic: cooking
# --------------------------------------------------------------------------------------------------------

RECIPES = [
    dict(name="shakshuka", serves=4, time="30 minutes",
         ing=["2 tbsp olive oil", "1 onion, diced", "1 red bell pepper, sliced", "3 garlic cloves, minced",
              "1 tsp ground cumin", "1 tsp smoked paprika", "1 can (400 g) crushed tomatoes", "6 eggs",
              "Salt and pepper", "Fresh parsley or cilantro"],
         steps=["Soften the onion and pepper in the oil over medium heat for about 6 minutes.",
                "Stir in the garlic and spices and cook for one minute until fragrant.",
                "Add the tomatoes, season, and simmer for 10 minutes until the sauce thickens.",
                "Make six wells in the sauce and crack an egg into each.",
                "Cover and cook on low for 5 to 8 minutes, until the whites "
                "are set and the yolks still soft.",
                "Scatter over the herbs and serve from the pan with crusty bread."],
         problem=("the eggs overcook before the whites set",
                  "Turn the heat down and cover the pan so steam cooks the tops of the eggs. Take it off the "
                  "heat while the yolks still jiggle, because the hot sauce keeps cooking them."),
         swap=("bell pepper", "a few handfuls of spinach or a diced zucchini",
               "Add spinach just before the eggs so it only wilts."),
         store="The sauce keeps for 4 days in the fridge; reheat it and cook fresh eggs in it "
               "rather than storing cooked eggs.",
         about="Shakshuka is a North African and Middle Eastern dish of eggs gently poached in a "
               "spiced tomato and pepper sauce."),
    dict(name="mushroom risotto", serves=4, time="40 minutes",
         ing=["300 g arborio rice", "400 g mixed mushrooms, sliced", "1 litre hot vegetable stock",
              "1 onion, finely chopped", "2 garlic cloves", "120 ml dry white wine", "40 g butter",
              "50 g grated Parmesan", "2 tbsp olive oil", "Fresh thyme"],
         steps=["Fry the mushrooms in half the oil over high heat until golden, then set aside.",
                "Soften the onion and garlic in the remaining oil and half the butter.",
                "Add the rice and stir for two minutes until the edges look translucent.",
                "Pour in the wine and let it bubble away.",
                "Add the hot stock a ladle at a time, stirring, for about 18 minutes until the rice is "
                "creamy but still has a slight bite.",
                "Stir in the mushrooms, the rest of the butter, the Parmesan and "
                "thyme, then rest for two minutes."],
         problem=("the risotto turns out gluey",
                  "Gluey risotto is overcooked or was stirred too long after it was ready. Start tasting at "
                  "15 minutes, and finish it slightly loose, since it thickens as it stands."),
         swap=("white wine", "an extra ladle of stock with a squeeze of lemon",
               "The lemon gives the acidity the wine would have added."),
         store="Leftover risotto keeps for 2 days in the fridge. It reheats poorly, but it "
               "makes excellent fried rice cakes.",
         about="Risotto is a northern Italian rice dish cooked slowly in stock, where the starch from "
               "the rice creates a creamy sauce."),
    dict(name="red lentil soup", serves=6, time="35 minutes",
         ing=["250 g red lentils, rinsed", "1 onion, chopped", "2 carrots, diced", "2 garlic cloves",
              "1 tsp cumin", "1 tsp turmeric", "1.5 litres stock", "1 can chopped tomatoes",
              "Juice of 1 lemon",
              "2 tbsp olive oil"],
         steps=["Cook the onion and carrots in the oil for 8 minutes until soft.",
                "Add the garlic and spices and cook for a minute.",
                "Add the lentils, stock and tomatoes and simmer for 20 minutes.",
                "Blend partly or fully, depending on the texture you like.",
                "Finish with lemon juice and season to taste."],
         problem=("the soup tastes flat",
                  "Flat soup usually needs salt and acid. Add salt a pinch at a time, then more lemon; a "
                  "spoon of yogurt or a drizzle of chilli oil on top also lifts it."),
         swap=("carrots", "sweet potato or butternut squash",
               "Both make the soup slightly sweeter and thicker."),
         store="It keeps for 5 days in the fridge and freezes well for 3 months; add a splash of water when "
               "reheating because it thickens.",
         about="Red lentil soup is a cheap, filling staple across the Middle East and South Asia; red "
               "lentils break down quickly and need no soaking."),
    dict(name="banana bread", serves=10, time="1 hour 10 minutes",
         ing=["3 very ripe bananas", "75 g melted butter", "150 g brown sugar", "1 egg", "1 tsp vanilla",
              "1 tsp baking soda", "Pinch of salt", "190 g plain flour", "Optional: 75 g chopped walnuts"],
         steps=["Heat the oven to 175°C and line a loaf tin.",
                "Mash the bananas and mix in the melted butter.",
                "Stir in the sugar, egg and vanilla.",
                "Sprinkle over the baking soda and salt, then fold in the flour until just combined.",
                "Pour into the tin and bake for 55 to 65 minutes, until a skewer comes out clean.",
                "Cool in the tin for 10 minutes before turning out."],
         problem=("the middle stays raw while the top burns",
                  "Cover the top loosely with foil after 40 minutes and keep baking. An oven thermometer is "
                  "also worth checking, since many ovens run hot."),
         swap=("egg", "3 tablespoons of plain yogurt or a flax egg", "The bread will be slightly denser."),
         store="Wrapped well, it keeps for 3 days at room temperature or 3 months frozen in slices.",
         about="Banana bread is a quick bread, leavened with baking soda rather than yeast, and the best use "
               "for bananas that have gone brown and spotty."),
    dict(name="chicken stir-fry", art="a chicken stir-fry", serves=2, time="20 minutes",
         ing=["2 chicken thighs, thinly sliced", "1 tbsp cornstarch", "2 tbsp soy sauce",
              "1 tbsp oyster sauce",
              "1 tsp sesame oil", "1 broccoli head, in small florets", "1 red pepper, sliced",
              "2 garlic cloves", "A thumb of ginger", "2 tbsp neutral oil"],
         steps=["Toss the chicken with the cornstarch and half the soy sauce.",
                "Mix the remaining soy, oyster sauce, sesame oil and 3 tbsp water for the sauce.",
                "Stir-fry the chicken in a very hot pan with the oil until browned, then remove.",
                "Stir-fry the broccoli and pepper for 3 minutes, adding the garlic and ginger at the end.",
                "Return the chicken, add the sauce and toss until glossy.",
                "Serve immediately over rice or noodles."],
         problem=("the vegetables go soggy",
                  "The pan is not hot enough or too crowded. Heat it until it just smokes, cook in batches, "
                  "and make sure the vegetables are dry before they go in."),
         swap=("chicken", "firm tofu, pressed and cubed",
               "Toss the tofu in cornstarch and fry until crisp first."),
         store="Leftovers keep for 3 days in the fridge; reheat in a hot pan rather than the "
               "microwave to keep some crunch.",
         about="A stir-fry cooks small pieces quickly over very high heat, so everything "
               "should be chopped before you start."),
    dict(name="guacamole", serves=4, time="10 minutes",
         ing=["3 ripe avocados", "1 lime", "1/2 small red onion, finely diced", "1 jalapeño, finely chopped",
              "1 tomato, seeded and diced", "A handful of cilantro", "Salt"],
         steps=["Halve the avocados, remove the stones and scoop the flesh into a bowl.",
                "Mash with a fork, leaving it a little chunky.",
                "Mix in the lime juice, onion, jalapeño, tomato and cilantro.",
                "Season with salt and taste; add more lime if it needs brightness."],
         problem=("it turns brown quickly",
                  "Press plastic wrap directly onto the surface so no air touches it, and add the lime juice "
                  "early. A little browning on top is harmless and can be stirred in."),
         swap=("cilantro", "flat-leaf parsley or simply more lime",
               "It will taste different but still fresh."),
         store="It is best eaten the same day but keeps for about a day in the fridge with "
               "wrap pressed onto the surface.",
         about="Guacamole is a Mexican avocado dip; the best versions are simple and "
               "depend on perfectly ripe avocados."),
    dict(name="fluffy pancakes", plural=True, serves=4, time="25 minutes",
         ing=["200 g plain flour", "2 tsp baking powder", "1 tbsp sugar", "Pinch of salt", "250 ml milk",
              "1 egg", "30 g melted butter", "Butter for the pan"],
         steps=["Whisk the flour, baking powder, sugar and salt in a bowl.",
                "In a jug, beat the milk, egg and melted butter.",
                "Pour the wet mix into the dry and stir briefly; a few lumps are fine.",
                "Rest the batter for 5 minutes.",
                "Cook ladlefuls in a lightly buttered pan over medium heat until bubbles appear, then flip."],
         problem=("the pancakes come out flat and rubbery",
                  "That usually means the batter was overmixed or the baking powder is old. Stir only until "
                  "the flour disappears, and test the baking powder by dropping a spoonful "
                  "into hot water; it should fizz."),
         swap=("milk", "buttermilk, using 1 tsp baking soda in place of 1 tsp of the baking powder",
               "Buttermilk pancakes are especially tender."),
         store="Cooked pancakes freeze well with baking paper between them; reheat them in the toaster.",
         about="American-style pancakes are thick and soft because of the baking "
               "powder, unlike thin French crêpes."),
    dict(name="tomato pasta sauce", serves=4, time="45 minutes",
         ing=["2 cans whole peeled tomatoes", "4 tbsp olive oil", "4 garlic cloves, sliced",
              "Pinch of chilli flakes", "A few basil leaves", "Salt",
              "1 tsp sugar if the tomatoes are sharp"],
         steps=["Gently cook the garlic in the oil until pale golden.",
                "Add the chilli flakes, then the tomatoes, crushing them with a spoon.",
                "Simmer uncovered for 30 minutes, stirring now and then.",
                "Season with salt, and a little sugar only if it tastes sharp.",
                "Stir in torn basil just before serving."],
         problem=("the sauce tastes too acidic",
                  "Cook it longer to mellow it, add a knob of butter at the end, or a small pinch of sugar. "
                  "Baking soda neutralises acid too, but a tiny pinch is plenty."),
         swap=("canned tomatoes", "1 kg very ripe fresh tomatoes, peeled and chopped",
               "Fresh tomatoes need a little longer to cook down."),
         store="The sauce keeps for 5 days in the fridge or 6 months in the freezer.",
         about="A simple tomato sauce is the base for countless pasta dishes, pizzas and braises."),
    dict(name="roast chicken", serves=4, time="1 hour 40 minutes",
         ing=["1 whole chicken, about 1.6 kg", "1 lemon", "1 head of garlic", "A few sprigs of thyme",
              "2 tbsp soft butter", "Salt and pepper", "1 kg potatoes, in chunks"],
         steps=["Take the chicken out of the fridge 30 minutes before cooking and heat the oven to 200°C.",
                "Pat the skin dry and rub it with butter, salt and pepper.",
                "Put the halved lemon, garlic and thyme inside the cavity.",
                "Roast on top of the potatoes for about 1 hour 20 minutes, until the juices run clear and "
                "the thickest part of the thigh reaches 75°C.",
                "Rest for 15 minutes before carving."],
         problem=("the breast meat is dry",
                  "Dry breast usually means overcooking. Use a thermometer and take it out when the thigh "
                  "reaches temperature, and always rest the bird. Dry-brining with "
                  "salt the night before helps too."),
         swap=("butter", "olive oil", "The skin will still crisp, though it browns slightly less."),
         store="Cooked chicken keeps for 3 to 4 days in the fridge; use the carcass for stock.",
         about="A roast chicken is one of the most useful things to learn: one bird gives "
               "a dinner, leftovers and stock."),
    dict(name="vegetable curry", serves=4, time="40 minutes",
         ing=["1 onion, chopped", "3 garlic cloves", "A thumb of ginger", "2 tbsp curry paste",
              "1 can coconut milk", "1 can chickpeas, drained", "1 sweet potato, cubed", "2 handfuls spinach",
              "1 tbsp oil", "Lime juice"],
         steps=["Soften the onion in the oil, then add the garlic and ginger.",
                "Fry the curry paste for a minute until it smells toasty.",
                "Add the sweet potato, coconut milk and a splash of water, and simmer for 15 minutes.",
                "Add the chickpeas and cook for 5 minutes more.",
                "Stir in the spinach until wilted and finish with lime juice."],
         problem=("the curry is too spicy",
                  "Stir in more coconut milk or a spoon of yogurt, and serve it with plenty of rice. A "
                  "little sugar or lime also balances the heat."),
         swap=("sweet potato", "cauliflower or butternut squash", "Cauliflower needs about 10 minutes."),
         store="It tastes even better the next day and keeps for 4 days in the fridge.",
         about="This is a quick weeknight curry that relies on a good paste and coconut milk for depth."),
    dict(name="focaccia", serves=8, time="3 hours, mostly rising",
         ing=["500 g strong white flour", "7 g instant yeast", "10 g salt", "400 ml lukewarm water",
              "6 tbsp olive oil", "Flaky sea salt", "Fresh rosemary"],
         steps=["Mix the flour, yeast, salt and water into a sticky dough.",
                "Cover and leave for 30 minutes, then do a few folds with wet hands.",
                "Let it rise until doubled, about 1 to 2 hours.",
                "Pour half the oil into a baking tray, add the dough and stretch it to the corners.",
                "Let it rise for 30 minutes more, then dimple with your fingers, drizzle with oil "
                "and sprinkle salt and rosemary.",
                "Bake at 220°C for 20 to 25 minutes until deep golden."],
         problem=("the focaccia is dense",
                  "It probably needed a longer rise. The dough should be bubbly and jiggly before baking. "
                  "Cold kitchens slow yeast down, so go by how it looks rather than the clock."),
         swap=("rosemary", "cherry tomatoes, olives or thinly sliced red onion",
               "Press toppings in after dimpling."),
         store="It is best on the day; keep leftovers wrapped for a day, or "
               "freeze and refresh in a hot oven.",
         about="Focaccia is an Italian flatbread made with a wet, olive-oil-rich dough that "
               "is very forgiving for beginners."),
    dict(name="French omelette", art="a French omelette", serves=1, time="5 minutes",
         ing=["3 eggs", "1 tbsp butter", "Pinch of salt", "Chopped chives"],
         steps=["Beat the eggs with the salt until completely uniform.",
                "Melt the butter in a non-stick pan over medium-low heat until foaming.",
                "Add the eggs and stir constantly with a spatula while shaking the pan.",
                "When they are softly set but still slightly wet on top, stop stirring and let the base set.",
                "Roll the omelette onto a plate, seam side down, and sprinkle with chives."],
         problem=("the omelette browns",
                  "The heat is too high. A French omelette should stay pale yellow; lower the "
                  "heat and keep the eggs moving."),
         swap=("chives", "a little grated Gruyère", "Add the cheese just before rolling."),
         store="It is best eaten straight away; a leftover omelette keeps for a day in the fridge and is "
               "nicer cold in a sandwich than reheated.",
         about="The classic French omelette is pale, smooth and creamy inside, rolled rather than folded."),
    dict(name="hummus", serves=6, time="15 minutes",
         ing=["1 can chickpeas (keep the liquid)", "3 tbsp tahini", "Juice of 1 lemon",
              "1 small garlic clove",
              "2 tbsp olive oil", "1/2 tsp cumin", "Salt", "Ice-cold water"],
         steps=["Blend the tahini and lemon juice first until thick and pale.",
                "Add the garlic, cumin and salt and blend again.",
                "Add the chickpeas and blend for a full two minutes.",
                "With the motor running, add cold water a spoonful at a time until smooth and light.",
                "Serve with olive oil and a sprinkle of paprika."],
         problem=("the hummus is grainy",
                  "Blend for longer than feels necessary, and add a little ice water. Peeling the chickpeas, "
                  "or simmering them with a pinch of baking soda first, makes it even smoother."),
         swap=("tahini", "a spoon of Greek yogurt and a drop of sesame oil", "It will be tangier."),
         store="It keeps for 4 to 5 days in a covered container in the fridge.",
         about="Hummus is a Levantine dip of chickpeas, tahini, lemon and garlic."),
    dict(name="overnight oats", plural=True, serves=1, time="5 minutes plus overnight",
         ing=["50 g rolled oats", "120 ml milk or plant milk", "3 tbsp yogurt", "1 tsp chia seeds",
              "1 tsp honey or maple syrup", "A handful of berries"],
         steps=["Mix the oats, milk, yogurt, chia and sweetener in a jar.",
                "Cover and refrigerate overnight.",
                "In the morning, stir, loosen with a splash of milk if needed, and top with berries."],
         problem=("they turn out too thick",
                  "Oats keep absorbing liquid. Add a splash more milk in the morning, or "
                  "use a little more to begin with."),
         swap=("yogurt", "extra milk or a mashed banana", "The banana also sweetens it."),
         store="Made in jars, they keep for 3 days in the fridge, which makes them ideal for meal prep.",
         about="Overnight oats soak instead of cooking, so breakfast is ready the moment you wake up."),
]

COOK_TECH = [
    ("baking_soda", ["What's the difference between baking soda and baking powder?",
                     "Can I use baking powder instead of baking soda?"],
     ["Baking soda is pure sodium bicarbonate and needs an acid in the recipe, such as buttermilk, yogurt or "
      "brown sugar, to produce gas. Baking powder already contains both the soda and a dry acid.",
      "You can usually swap baking soda for about three times as much baking powder, although the flavour "
      "and browning change slightly. Going the other way is harder, because you must add an acid as well.",
      "Both lose strength over time, so check the date if your bakes stop rising."],
     "Baking soda needs an acid in the recipe; baking powder includes its own.",
     "They're the same thing with different names."),
    ("rest_meat", ["Why should I rest meat after cooking?", "How long should a steak rest?"],
     ["Resting lets the temperature even out and the juices settle, so less liquid ends "
      "up on the board when you slice.",
      "Steaks need about 5 minutes, a roast chicken 15, and a large joint 20 or more. The meat keeps cooking "
      "slightly while it rests, so take it off the heat a few degrees early."],
     "Resting evens out the temperature and keeps juices in; about 5 minutes for a steak.",
     "Resting is a myth; slice it straight away."),
    ("pasta_water", ["How much salt should I put in pasta water?", "Do I need to salt the water for pasta?"],
     ["Yes. Pasta absorbs the water it cooks in, so salting is the only chance to season it from the inside.",
      "A good guide is about 10 g of salt per litre of water. The water should taste "
      "pleasantly seasoned, not like the sea.",
      "Save a mug of the starchy water before draining; a splash helps sauces cling."],
     "Yes, about 10 g per litre, and keep some starchy water for the sauce.",
     "Add oil to the water instead of salt so it doesn't stick."),
    ("cast_iron", ["How do I look after a cast iron pan?", "Can I wash cast iron with soap?"],
     ["A little mild soap is fine on a well-seasoned pan; the seasoning is polymerised oil, not a "
      "layer of grease that soap strips.",
      "What damages cast iron is soaking and leaving it wet. Wash it, dry it on the hob for a minute, and "
      "wipe on a very thin layer of oil while warm.",
      "Cooking fatty foods in it regularly builds the seasoning up."],
     "Wash it briefly, dry it on the heat and oil it thinly; avoid soaking.",
     "Never wash it, just wipe it out and put it away."),
    ("onions", ["How do I caramelise onions properly?", "Why do my caramelised onions burn?"],
     ["Real caramelised onions take 40 minutes or more over medium-low heat. Recipes that say 10 minutes "
      "are describing browned onions.",
      "Slice them evenly, use a wide pan with enough fat, add a pinch of salt, and stir every few minutes. "
      "If the pan starts to catch, add a splash of water and scrape up the brown bits.",
      "They keep in the fridge for a week, so make a big batch."],
     "Cook them low and slow for 40 minutes or more, deglazing with water when the pan catches.",
     "Turn the heat to high and they will be done in 5 minutes."),
    ("searing", ["How do I get a good sear on meat?", "Why doesn't my steak brown?"],
     ["Browning needs a dry surface and high heat. Pat the meat dry, season it, and let the pan get very "
      "hot before adding oil and meat.",
      "Do not crowd the pan, and do not move the meat until it releases on its own; if it "
      "sticks, it is not ready to turn.",
      "Wet, crowded meat steams instead of searing."],
     "Dry the meat, use a very hot pan, don't crowd it and don't move it too early.",
     "Add the meat to a cold pan and heat them up together."),
    ("knives", ["How often should I sharpen my kitchen knives?",
                "What's the difference between honing and sharpening?"],
     ["Honing with a steel realigns the edge and can be done every few uses. Sharpening removes metal to "
      "create a new edge and is needed only a few times a year for home cooks.",
      "A sharp knife is safer than a dull one, because it does not slip. If it struggles to slice a "
      "tomato skin, it is time to sharpen."],
     "Hone often and sharpen a few times a year; a knife that won't cut tomato skin needs sharpening.",
     "Sharpen before every use."),
    ("rice", ["How do I cook perfect rice on the stove?", "Why is my rice always mushy?"],
     ["Rinse the rice until the water runs mostly clear. For long-grain white rice, use about 1.25 to 1.5 "
      "cups of water per cup of rice.",
      "Bring it to a boil, cover, turn the heat to the lowest setting and cook for 15 minutes without "
      "lifting the lid. Then rest it off the heat, still covered, for 10 minutes.",
      "Mushy rice usually means too much water or too much stirring."],
     "Rinse it, use less water than you think, cook covered on low and let it rest.",
     "Boil it in lots of water and stir constantly."),
    ("yeast", ["How do I know if my yeast is still active?", "Why didn't my bread rise?"],
     ["Dissolve a teaspoon of sugar in warm water, around body temperature, and stir in the yeast. Within "
      "ten minutes it should be foamy; if not, the yeast is dead.",
      "Other common reasons for a poor rise are water that was too hot, a cold kitchen, or too much "
      "salt touching the yeast directly."],
     "Proof it in warm sugary water; it should foam within ten minutes.",
     "Yeast never expires, so it's probably the flour."),
    ("blanch", ["What does blanching vegetables mean?", "Why blanch vegetables before freezing them?"],
     ["Blanching is a brief boil followed by a plunge into ice water. It sets the colour, softens the "
      "texture slightly and stops enzymes that would otherwise spoil flavour in the freezer.",
      "Green beans need about 3 minutes, broccoli florets 2 to 3. Dry them well "
      "before freezing in a single layer."],
     "A quick boil then ice bath; it keeps colour and texture, especially before freezing.",
     "Blanching means frying vegetables until crisp."),
]

COOK_VAGUE = [
    "Cook it until it looks done and season to taste.",
    "Follow any recipe online, they're all pretty similar.",
    "Just use your instincts in the kitchen.",
    "It depends on your stove.",
]


def bundle_cooking(rng):
    if chance(rng, 0.25):
        a, b = rng.sample(COOK_TECH, 2)
        return [cook_tech(rng, a), cook_tech(rng, b)]
    r = pick(rng, RECIPES)
    n = r["name"]
    ctx = pick(rng, ["", "I'm hosting friends on Saturday. ", "I've never made it before. ",
                     "Looking for a weeknight dinner idea. ", "My kids are picky eaters. "])
    art = r.get("art", n)
    does, them = ("do", "them") if r.get("plural") else ("does", "it")
    prompt = ctx + pick(rng, [f"How do I make {art}?", f"Can you give me a recipe for {art}?",
                              f"What's a good, simple {n} recipe?", f"Walk me through making {art} at home."])
    steps = numbered(r["steps"])
    resp = paras(
        f"**{cap(n)}** (serves {r['serves']}, about {r['time']})",
        "**Ingredients**\n" + bullets(r["ing"]),
        "**Method**\n" + steps,
        pick(rng, ["Read the whole method before you start and get everything chopped first.",
                   "Taste and adjust the seasoning at the end; that step "
                   "matters more than any exact quantity.",
                   r["store"], r["problem"][1].split(". ")[0].rstrip(".") + "."]),
    )
    short = r["about"]
    recipe = QA(f"cook:{n}:recipe", prompt, resp, short,
                worse(rng, f"Combine the ingredients for {art}, cook until done and season to taste.",
                      COOK_VAGUE),
                followup=f"Great. How do I make {art}?", instruction=f"Write a recipe for {art}.")
    sym, fix = r["problem"]
    trouble = QA(f"cook:{n}:fix", pick(rng, [f"When I make {art}, {sym}. What am I doing wrong?",
                                            f"Why {does} my {n} keep failing? Every time {sym}."]),
                 paras(fix, pick(rng, ["Change one thing at a time so you know what made the difference.",
                                       "Making a half batch is a cheap way to practise.", ""])),
                 fix.split(". ")[0].rstrip(".") + ".",
                 worse(rng, "Try again and be more careful.", COOK_VAGUE),
                 followup=f"What if {sym}?")
    old, new, note = r["swap"]
    swap = QA(f"cook:{n}:swap", pick(rng, [f"Can I make {art} without {old}?",
                                           f"What can I use instead of {old} in {art}?"]),
              paras(f"Yes. Use {new} instead of the {old}. {note}",
                    pick(rng, ["Substitutions change the result a little, so taste as you go.",
                               "Write down what you changed so you can repeat it if it works.", ""])),
              f"Use {new} instead.", worse(rng, f"Just leave out the {old}.", COOK_VAGUE),
              followup=f"I'm out of {old}. What can I use?")
    store = QA(f"cook:{n}:store", pick(rng, [f"How long {does} {art} keep?",
                                             f"Can I make {art} ahead and store {them}?"]),
               paras(r["store"], pick(rng, ["Cool leftovers quickly and "
                                            "refrigerate within two hours of cooking.",
                                            "Label containers with the date so nothing gets forgotten.",
                                            "Shallow containers help leftovers cool down faster."])),
               r["store"].split(";")[0].split(",")[0].rstrip(".") + ".", worse(rng, "A few days, probably.",
                                                                               COOK_VAGUE),
               followup="How long will the leftovers keep?")
    return [recipe, trouble, swap, store]


def cook_tech(rng, t):
    key, asks, body, short, wrong = t
    return QA("cook:tech:" + key, pick(rng, asks), paras(*body), short, worse(rng, short, COOK_VAGUE, wrong),
              followup=pick(rng, asks))


# --------------------------------------------------------------------------------------------------------
# topic: astronomy
# --------------------------------------------------------------------------------------------------------

SKY = [
    dict(name="Mars", kind="planet",
         facts=["Mars is the fourth planet from the Sun and about half the diameter of Earth.",
                "Its red colour comes from iron oxide, essentially rust, in the dust covering its surface.",
                "It has the tallest known volcano in the solar system, Olympus Mons, about 22 km high.",
                "A day on Mars lasts about 24 hours and 37 minutes, very close to an Earth day.",
                "It has two small, irregular moons, Phobos and Deimos."],
         observe="Mars looks like a bright orange-red star. It is best around opposition, roughly every 26 "
                 "months, when it is closest and visible all night; a small "
                 "telescope then shows the polar caps.",
         kid="Mars is a cold, dusty, red planet. It is red because its dirt is a bit rusty, and it has a "
             "volcano almost three times taller than Mount Everest."),
    dict(name="Jupiter", kind="planet",
         facts=["Jupiter is the largest planet, more than 300 times as massive as Earth.",
                "It is a gas giant made mostly of hydrogen and helium, with no solid surface to stand on.",
                "The Great Red Spot is a storm larger than Earth that has been observed for centuries.",
                "It has dozens of moons; the four largest, the Galilean moons, were "
                "discovered by Galileo in 1610.",
                "Jupiter rotates in under 10 hours, the shortest day of any planet."],
         observe="Jupiter is one of the brightest objects in the night sky. Even binoculars held steady show "
                 "its four largest moons as tiny points of light in a line.",
         kid="Jupiter is the biggest planet. It's a giant ball of gas with a storm bigger than the whole "
             "Earth that has been spinning for hundreds of years."),
    dict(name="Saturn", kind="planet",
         facts=["Saturn is the sixth planet and the second largest.",
                "Its rings are made of countless pieces of ice and rock, from grains of "
                "dust to chunks as big as houses.",
                "The rings are enormously wide but in most places only tens of metres thick.",
                "Saturn's average density is lower than that of water.",
                "Its largest moon, Titan, has a thick atmosphere and lakes of liquid methane."],
         observe="A small telescope at 30 times magnification or more shows the rings clearly, one of the "
                 "most memorable first views in astronomy.",
         kid="Saturn is the planet with the beautiful rings. The rings are made of billions of pieces of "
             "ice, some tiny like sand and some as big as a house."),
    dict(name="Venus", kind="planet",
         facts=["Venus is the second planet from the Sun and nearly the same size as Earth.",
                "Its thick carbon dioxide atmosphere traps heat, making it the "
                "hottest planet, at around 465°C.",
                "Venus spins backwards compared with most planets, and very slowly.",
                "A day on Venus is longer than its year.",
                "It is covered in clouds of sulfuric acid that reflect sunlight brilliantly."],
         observe="Venus is the brightest point of light after the Moon, seen low in the west after sunset or "
                 "in the east before dawn. Through a telescope it shows phases like the Moon.",
         kid="Venus is the hottest planet, even hotter than Mercury, because its thick air traps heat like a "
             "blanket. It shines so brightly that people call it the evening star."),
    dict(name="the Moon", kind="moon",
         facts=["The Moon is about a quarter of Earth's diameter and orbits at an average of 384,400 km.",
                "It always shows the same face to Earth because its rotation is synchronised with its orbit.",
                "The leading theory is that it formed from debris after a Mars-sized body "
                "collided with the young Earth.",
                "Twelve astronauts walked on its surface between 1969 and 1972.",
                "Its gravity is the main driver of Earth's ocean tides."],
         observe="The best time to look at the Moon through binoculars is not at full moon but near the "
                 "quarter phases, when shadows along the terminator make craters stand out.",
         kid="The Moon is Earth's rocky neighbour. We always see the same side of it, and people have walked "
             "on it and left footprints that are still there."),
    dict(name="the Andromeda Galaxy", kind="galaxy",
         facts=["The Andromeda Galaxy is the nearest large spiral galaxy to the Milky Way, "
                "about 2.5 million light-years away.",
                "It contains roughly a trillion stars.",
                "It is the most distant object most people can see with the naked eye.",
                "Andromeda and the Milky Way are moving towards each other and are expected to "
                "merge in several billion years."],
         observe="From a dark site in autumn, look for a faint, elongated smudge near the constellation "
                 "Cassiopeia. Binoculars show it better than most small telescopes because it is so large.",
         kid="The Andromeda Galaxy is a giant spinning city of stars, like our own Milky Way. Its light has "
             "travelled for about two and a half million years to reach your eyes."),
    dict(name="the Orion Nebula", kind="nebula",
         facts=["The Orion Nebula is a vast cloud of gas and dust about 1,300 light-years "
                "away where new stars are forming.",
                "It sits in Orion's sword, just below the three belt stars.",
                "At its centre is the Trapezium, a tight group of young, hot stars that light up the gas.",
                "It is one of the most photographed objects in the night sky."],
         observe="In winter in the northern hemisphere, find Orion's belt and look just below it. The nebula "
                 "is a fuzzy patch to the naked eye and shows wispy structure in binoculars.",
         kid="The Orion Nebula is a star nursery: a giant glowing cloud where "
             "brand-new stars are being born."),
    dict(name="the Pleiades", kind="star cluster",
         facts=["The Pleiades, also called the Seven Sisters, is an open cluster of young hot "
                "stars about 440 light-years away.",
                "Most people can see six or seven stars with the naked eye, but the "
                "cluster contains over a thousand.",
                "The stars are only around 100 million years old, young by stellar standards.",
                "The cluster appears in the myths of many cultures around the world."],
         observe="In autumn and winter evenings, look for a tiny, dipper-shaped group of bright stars in "
                 "Taurus. Binoculars are the perfect instrument for it.",
         kid="The Pleiades is a little family of young stars travelling through space together. You can spot "
             "a handful of them without a telescope."),
    dict(name="Betelgeuse", kind="star",
         facts=["Betelgeuse is a red supergiant star marking Orion's shoulder.",
                "If it replaced the Sun, it would extend beyond the orbit of Mars.",
                "It is near the end of its life and will one day explode as a supernova, although that could "
                "be up to around 100,000 years away.",
                "In 2019 and 2020 it dimmed noticeably, likely because of a cloud of dust it had ejected."],
         observe="Betelgeuse is easy to find as the orange-red star at the upper left of Orion, as seen from "
                 "the northern hemisphere. Compare its colour with blue-white Rigel at the opposite corner.",
         kid="Betelgeuse is an enormous old red star. It is so big that if it sat where our Sun is, it would "
             "swallow Mercury, Venus, Earth and Mars."),
    dict(name="Polaris", kind="star",
         facts=["Polaris, the North Star, lies almost exactly above Earth's north pole, "
                "so it barely moves in the sky.",
                "It is not the brightest star in the sky; it ranks around 48th.",
                "Its height above the horizon is roughly equal to your latitude.",
                "Because Earth's axis slowly wobbles, other stars will take its place as "
                "pole star over thousands of years."],
         observe="Follow the two stars at the end of the Big Dipper's bowl upwards about five times their "
                 "separation and you arrive at Polaris.",
         kid="Polaris is the North Star. It stays in nearly the same place all night, so travellers have "
             "used it for thousands of years to find north."),
    dict(name="Halley's Comet", kind="comet",
         facts=["Halley's Comet returns to the inner solar system roughly every 76 years.",
                "It was last seen from Earth in 1986 and will next be visible around 2061.",
                "Edmond Halley predicted its return, which confirmed that comets can orbit the Sun.",
                "Debris from Halley causes two annual meteor showers, the Eta Aquariids and the Orionids."],
         observe="You will have to wait until about 2061, but you can see its dust every year during the "
                 "Orionid meteor shower in October.",
         kid="Halley's Comet is a giant dirty snowball that swings past the Sun about every 76 years, so "
             "most people only get one chance to see it."),
    dict(name="the Perseid meteor shower", kind="meteor shower",
         facts=["The Perseids peak around 12 to 13 August every year.",
                "They are caused by Earth passing through dust left by Comet Swift-Tuttle.",
                "The meteors are grains of dust burning up in the atmosphere at about 59 km per second.",
                "Under dark skies at the peak you can see dozens of meteors an hour."],
         observe="Find a dark spot away from city lights, lie back, and let your eyes adjust for 20 minutes. "
                 "No telescope is needed; the best rates are after midnight.",
         kid="The Perseids are shooting stars that happen every August when Earth drives through a trail of "
             "comet dust, and each streak is a speck of dust burning up."),
    dict(name="the International Space Station", kind="spacecraft",
         facts=["The ISS orbits about 400 km above Earth and circles the planet roughly every 90 minutes.",
                "It has been continuously crewed since November 2000.",
                "It is about the size of a football field including its solar arrays.",
                "Astronauts on board see around 16 sunrises and sunsets each day."],
         observe="The ISS looks like a very bright, steady star moving across the sky in a few minutes, "
                 "without blinking lights. Space agencies publish pass times for your location.",
         kid="The space station is a home in space where astronauts live and do experiments. It zooms around "
             "the whole Earth in about an hour and a half."),
    dict(name="Mercury", kind="planet",
         facts=["Mercury is the smallest planet and the closest to the Sun.",
                "It has almost no atmosphere, so temperatures swing from about "
                "430°C by day to −180°C at night.",
                "A year on Mercury lasts just 88 Earth days.",
                "Its surface is heavily cratered and looks similar to our Moon."],
         observe="Mercury never strays far from the Sun, so look low on the horizon shortly after sunset or "
                 "before sunrise around its greatest elongation. Never point binoculars near the Sun.",
         kid="Mercury is the smallest planet and races around the Sun faster than any other, so "
             "its year is only 88 days long."),
]

SKY_CONCEPTS = [
    ("light_year", ["What is a light-year?", "Is a light-year a unit of time?"],
     ["A light-year is a distance, not a time: how far light travels in one year, about 9.46 trillion km.",
      "It is useful because distances between stars are so large. The nearest star beyond the Sun, Proxima "
      "Centauri, is about 4.2 light-years away, so we see it as it was 4.2 years ago."],
     "A distance: how far light travels in a year, about 9.46 trillion km.",
     "It's the time it takes to travel to a star."),
    ("blue_sky", ["Why is the sky blue?", "Why are sunsets red if the sky is blue?"],
     ["Sunlight contains all colours. Air molecules scatter short wavelengths, blue and violet, much more "
      "than long red wavelengths, an effect called Rayleigh scattering, so blue light reaches "
      "your eyes from every direction.",
      "At sunset the light travels through much more atmosphere, so most of the blue is scattered away "
      "before it reaches you, leaving the oranges and reds."],
     "Air scatters blue light more than red (Rayleigh scattering); at sunset the blue is scattered away.",
     "Because it reflects the colour of the oceans."),
    ("seasons", ["What causes the seasons?", "Is summer hotter because Earth is closer to the Sun?"],
     ["The seasons are caused by the tilt of Earth's axis, about 23.4 degrees, "
      "not by our distance from the Sun.",
      "When your hemisphere is tilted towards the Sun, sunlight arrives more directly and days are longer, "
      "so it is summer. In fact Earth is closest to the Sun in early January, during the northern winter."],
     "Earth's 23.4-degree axial tilt, not its distance from the Sun.",
     "Earth is closer to the Sun in summer and farther away in winter."),
    ("phases", ["Why does the Moon have phases?", "What causes the phases of the Moon?"],
     ["Half of the Moon is always lit by the Sun. As the Moon orbits Earth over about 29.5 days, we see "
      "different portions of that lit half.",
      "At new moon the lit side faces away from us; at full moon it faces us completely. Earth's shadow has "
      "nothing to do with the phases; that only happens during a lunar eclipse."],
     "We see different amounts of the Moon's sunlit half as it orbits us every 29.5 days.",
     "Earth's shadow covers part of the Moon."),
    ("eclipses", ["What's the difference between a solar and a lunar eclipse?",
                  "Why don't we have an eclipse every month?"],
     ["A solar eclipse happens when the Moon passes between the Sun and Earth, casting its shadow on us. A "
      "lunar eclipse happens when Earth passes between the Sun and the Moon, and "
      "Earth's shadow darkens the Moon.",
      "We do not get eclipses every month because the Moon's orbit is tilted about 5 degrees relative to "
      "Earth's, so the three bodies usually miss lining up exactly.",
      "Never look at a solar eclipse without certified eclipse glasses; lunar eclipses are safe to watch."],
     "Solar: the Moon blocks the Sun. Lunar: Earth's shadow falls on the Moon. The tilted "
     "orbit prevents monthly eclipses.",
     "They're the same thing seen from different countries."),
    ("exoplanets", ["How do astronomers find planets around other stars?", "What is the transit method?"],
     ["Most known exoplanets were found by the transit method: a planet passing in front of its star blocks "
      "a tiny fraction of the light, producing a regular dip in brightness.",
      "Another technique, the radial velocity method, detects the star wobbling slightly as the planet's "
      "gravity tugs on it, which shifts the star's light back and forth in wavelength.",
      "Thousands of exoplanets have been confirmed this way."],
     "Mainly by the dips in starlight when a planet transits, and by the star's wobble.",
     "By taking close-up photos of them with big telescopes."),
    ("black_holes", ["What is a black hole?", "How do black holes form?"],
     ["A black hole is a region where gravity is so strong that nothing, not even light, can escape once it "
      "crosses the boundary called the event horizon.",
      "Stellar black holes form when very massive stars collapse at the end of their lives. Supermassive "
      "black holes, millions to billions of times the Sun's mass, sit at the centres of most "
      "large galaxies, including ours.",
      "In 2019 the Event Horizon Telescope released the first image of a black hole's shadow."],
     "A region where gravity traps even light; many form when massive stars collapse.",
     "A hole in space that sucks up everything in the universe."),
    ("tides", ["How does the Moon cause tides?", "Why are there two high tides a day?"],
     ["The Moon's gravity pulls slightly harder on the side of Earth facing it than on Earth's centre, and "
      "slightly less on the far side. That difference stretches the oceans into two bulges.",
      "As Earth rotates through both bulges, most coasts get two high tides roughly every 24 hours and 50 "
      "minutes. When the Sun and Moon line up, at new and full moon, the tides are larger."],
     "The Moon's uneven pull creates two ocean bulges that Earth rotates through.",
     "Wind blows the water towards the shore twice a day."),
]

SKY_VAGUE = [
    "Space is really big and there's a lot we don't know.",
    "You can look it up in any astronomy book.",
    "It's one of the many interesting things in the sky.",
    "Scientists are still working on that.",
]


def bundle_astronomy(rng):
    if chance(rng, 0.3):
        a, b = rng.sample(SKY_CONCEPTS, 2)
        return [sky_concept(rng, a), sky_concept(rng, b)]
    o = pick(rng, SKY)
    n = o["name"]
    facts = list(o["facts"])
    k = rng.randrange(3, len(facts) + 1)
    chosen = facts[:1] + rng.sample(facts[1:], k - 1)
    if chance(rng, 0.5):
        body = paras(*[" ".join(chosen[i:i + 2]) for i in range(0, len(chosen), 2)])
    else:
        body = paras(pick(rng, [f"A few highlights about {n}:", f"Key facts about {n}:",
                                f"Here's a quick overview of {n}:"]), bullets(chosen))
    overview = QA(f"sky:{n}:overview", pick(rng, [f"Tell me about {n}.", f"What should I know about {n}?",
                                                   f"Give me some interesting facts about {n}."]),
                  body, facts[0], worse(rng, facts[0], SKY_VAGUE),
                  followup=f"What about {n}?")
    observe = QA(f"sky:{n}:observe", pick(rng, [f"How can I see {n} myself?",
                                                f"What's the best way to observe {n}?"]),
                 paras(o["observe"], pick(rng, ["A free planetarium app helps "
                                                "you find your way around the sky.",
                                                "Give your eyes 20 minutes away "
                                                "from screens to adapt to the dark.",
                                                "Clear, moonless nights away from "
                                                "street lights make a big difference."])),
                 o["observe"].split(". ")[0].rstrip(".") + ".",
                 worse(rng, "Just look up at night.", SKY_VAGUE),
                 followup="How can I see it myself?")
    kid = QA(f"sky:{n}:kid", pick(rng, [f"How would you explain {n} to a seven-year-old?",
                                         f"My daughter asked me what {n} is. How do I explain it simply?"]),
             o["kid"], o["kid"].split(". ")[0].rstrip(".") + ".", worse(rng, facts[-1], SKY_VAGUE),
             followup="How would I explain that to a child?")
    return [overview, observe, kid]


def sky_concept(rng, c):
    key, asks, body, short, wrong = c
    return QA("sky:concept:" + key, pick(rng, asks), paras(*body), short, worse(rng, short, SKY_VAGUE, wrong),
              followup=pick(rng, asks))


# --------------------------------------------------------------------------------------------------------
# topic: history
# --------------------------------------------------------------------------------------------------------

EVENTS = [
    dict(name="the fall of the Berlin Wall", when="9 November 1989",
         summary="On the night of 9 November 1989, East German authorities unexpectedly announced that "
                 "citizens could cross the border, and crowds poured through the "
                 "checkpoints of the Berlin Wall.",
         causes=["economic stagnation and shortages in East Germany",
                 "mass emigration through Hungary and Czechoslovakia in 1989",
                 "peaceful protests such as the Monday demonstrations in Leipzig",
                 "Gorbachev's reforms and the Soviet Union's reluctance to intervene"],
         effects=["German reunification on 3 October 1990",
                  "the rapid end of communist governments across Central and Eastern Europe",
                  "a powerful symbol of the end of the Cold War"],
         timeline=[("1961", "construction of the Wall begins"), ("1987",
                                                                 "Reagan's \"tear down this wall\" speech"),
                   ("9 November 1989", "the border opens"), ("3 October 1990", "Germany is reunified")]),
    dict(name="the invention of the printing press", when="around 1440",
         summary="Around 1440 in Mainz, Johannes Gutenberg developed a printing press using movable metal "
                 "type, oil-based ink and a press adapted from those used for wine and paper.",
         causes=["growing demand for books from universities and a rising merchant class",
                 "cheaper paper becoming widely available in Europe",
                 "Gutenberg's skills as a goldsmith and metalworker"],
         effects=["a dramatic fall in the cost of books",
                  "the rapid spread of ideas during the Reformation and the Scientific Revolution",
                  "rising literacy and more standardised languages"],
         timeline=[("c. 1440", "Gutenberg develops movable type"), ("c. 1455",
                                                                    "the Gutenberg Bible is printed"),
                   ("1500", "presses operate in over 200 European towns"),
                   ("1517", "Luther's theses spread rapidly in print")]),
    dict(name="the Magna Carta", when="1215",
         summary="In June 1215, King John of England sealed the Magna Carta at Runnymede after a revolt by "
                 "barons angry at heavy taxation and arbitrary rule.",
         causes=["heavy taxes to pay for failed wars in France",
                 "the king's arbitrary punishments and seizures",
                 "a rebellion by powerful barons who captured London"],
         effects=["the principle that the king was subject to the law",
                  "clauses on due process that influenced later constitutions",
                  "a lasting symbol of liberty, even though the original was annulled within months"],
         timeline=[("1214", "John's defeat at the Battle of Bouvines"), ("June 1215",
                                                                         "the charter is sealed"),
                   ("August 1215", "the Pope annuls it"), ("1225", "a revised version is reissued")]),
    dict(name="the French Revolution", when="1789 to 1799",
         summary="Beginning in 1789, the French Revolution overthrew the absolute monarchy, proclaimed the "
                 "rights of man and transformed French society, passing through radical and violent phases "
                 "before Napoleon took power in 1799.",
         causes=["a severe financial crisis after costly wars", "bread shortages and rising food prices",
                 "resentment of the privileges of the nobility and clergy",
                 "Enlightenment ideas about rights and representation"],
         effects=["the end of absolute monarchy and feudal privileges in France",
                  "the Declaration of the Rights of Man and of the Citizen",
                  "the rise of Napoleon and wars that spread revolutionary ideas across Europe"],
         timeline=[("May 1789", "the Estates-General meets"), ("14 July 1789",
                                                               "the storming of the Bastille"),
                   ("1793", "Louis XVI is executed and the Terror begins"), ("1799", "Napoleon's coup")]),
    dict(name="the Apollo 11 Moon landing", when="20 July 1969",
         summary="On 20 July 1969, Neil Armstrong and Buzz Aldrin landed the lunar module Eagle on the Moon "
                 "while Michael Collins orbited above in the command module.",
         causes=["the space race between the United States and the Soviet Union",
                 "Kennedy's 1961 goal of landing a man on the Moon within the decade",
                 "enormous investment in NASA and the Saturn V rocket"],
         effects=["a decisive symbolic victory for the United States in the space race",
                  "lunar samples that transformed our understanding of the Moon's origin",
                  "technological advances in computing and materials"],
         timeline=[("1957", "Sputnik launches"), ("1961", "Kennedy sets the Moon goal"),
                   ("16 July 1969", "Apollo 11 launches"), ("20 July 1969", "the landing")]),
    dict(name="the Black Death", when="1347 to 1351",
         summary="The Black Death was a plague pandemic that swept through Europe between 1347 and 1351, "
                 "killing an estimated third or more of the population.",
         causes=["the bacterium Yersinia pestis, spread by fleas on rats and between people",
                 "trade routes that carried the disease from Central Asia to the Mediterranean",
                 "crowded, unsanitary towns"],
         effects=["severe labour shortages that raised wages for surviving workers",
                  "the weakening of the feudal system in Western Europe",
                  "deep religious and social upheaval"],
         timeline=[("1347", "plague reaches Sicily by ship"), ("1348",
                                                               "it spreads through France and England"),
                   ("1349", "it reaches Scandinavia"), ("1351", "the first wave subsides")]),
    dict(name="the fall of Constantinople", when="29 May 1453",
         summary="On 29 May 1453, the Ottoman army of Sultan Mehmed II captured Constantinople after a siege "
                 "of about seven weeks, ending the Byzantine Empire.",
         causes=["centuries of Byzantine decline and territorial losses",
                 "the Ottomans' powerful artillery, including massive cannons",
                 "limited help from Western Europe"],
         effects=["the end of the Byzantine Empire", "Constantinople becoming the Ottoman capital",
                  "Greek scholars moving west, which fed the Italian Renaissance"],
         timeline=[("April 1453", "the siege begins"), ("22 April 1453",
                                                        "ships are hauled overland into the Golden Horn"),
                   ("29 May 1453", "the city falls")]),
    dict(name="the Meiji Restoration", when="1868",
         summary="The Meiji Restoration of 1868 restored practical imperial rule in Japan, ended the "
                 "Tokugawa shogunate, and launched a rapid programme of modernisation.",
         causes=["the arrival of Commodore Perry's American ships in 1853 and unequal treaties",
                 "discontent with the shogunate among powerful domains such as Satsuma and Chōshū",
                 "fear of colonisation by Western powers"],
         effects=["the abolition of the samurai class's privileges",
                  "rapid industrialisation and a modern army and navy",
                  "a new constitution in 1889"],
         timeline=[("1853", "Perry arrives"), ("1868", "imperial rule is restored"),
                   ("1871", "domains are replaced by prefectures"), ("1889", "the Meiji Constitution")]),
    dict(name="the discovery of the Rosetta Stone", when="1799",
         summary="The Rosetta Stone was found in 1799 by French soldiers in Egypt. It carries the same "
                 "decree in hieroglyphic, Demotic and ancient Greek scripts.",
         causes=["Napoleon's military expedition to Egypt, which included scholars",
                 "construction work on a fort near the town of Rashid (Rosetta)"],
         effects=["Jean-François Champollion's decipherment of hieroglyphs in 1822",
                  "the birth of modern Egyptology",
                  "the stone's move to the British Museum after the British defeated the French"],
         timeline=[("196 BC", "the decree is issued"), ("1799", "the stone is found"),
                   ("1802", "it goes on display in London"), ("1822",
                                                              "Champollion announces his breakthrough")]),
    dict(name="the opening of the Suez Canal", when="1869",
         summary="The Suez Canal opened in November 1869, linking the Mediterranean and Red Seas and cutting "
                 "the sea journey between Europe and Asia by thousands of kilometres.",
         causes=["demand for a faster route between Europe and Asia",
                 "French engineering and investment led by Ferdinand de Lesseps",
                 "the Egyptian government's concession and large forced labour force"],
         effects=["a transformation of global shipping and trade",
                  "Britain's strategic interest in Egypt, leading to occupation in 1882",
                  "the 1956 Suez Crisis after Egypt nationalised the canal"],
         timeline=[("1859", "construction begins"), ("1869", "the canal opens"),
                   ("1875", "Britain buys Egypt's shares"), ("1956", "nationalisation and the Suez Crisis")]),
    dict(name="the Industrial Revolution", when="roughly 1760 to 1840",
         summary="The Industrial Revolution began in Britain in the late 18th century, shifting production "
                 "from hand tools and home workshops to machines, factories and steam power.",
         causes=["plentiful coal and iron ore", "capital from trade and a growing banking system",
                 "inventions such as the spinning jenny and Watt's improved steam engine",
                 "an agricultural revolution that freed up labour"],
         effects=["rapid urbanisation and new working classes",
                  "enormous growth in productivity and, eventually, living standards",
                  "harsh factory conditions that led to labour laws and trade unions"],
         timeline=[("1764", "the spinning jenny"), ("1776", "Watt's steam engine goes into commercial use"),
                   ("1825", "the Stockton and Darlington Railway opens"),
                   ("1833", "the Factory Act limits child labour")]),
    dict(name="the Silk Road", when="from about the 2nd century BC",
         summary="The Silk Road was a network of overland and sea trade routes connecting China with Central "
                 "Asia, the Middle East and Europe for well over a thousand years.",
         causes=["Han dynasty expansion and diplomacy in Central Asia",
                 "demand in the West for Chinese silk, and in China for horses and precious goods"],
         effects=["the exchange of goods such as silk, spices, paper and glass",
                  "the spread of religions including Buddhism and Islam",
                  "the transmission of technologies and, unfortunately, diseases"],
         timeline=[("c. 130 BC", "Han envoys open routes west"), ("7th century",
                                                                  "Tang dynasty trade flourishes"),
                   ("13th century", "the Mongol Empire makes travel safer"), ("1271",
                                                                              "Marco Polo sets out")]),
]

HIST_VAGUE = [
    "It was a very important moment in history that changed a lot of things.",
    "Historians have written many books about this.",
    "It happened a long time ago for complicated reasons.",
    "Lots of factors were involved.",
]


def bundle_history(rng):
    e = pick(rng, EVENTS)
    n = e["name"]
    ov = QA(f"hist:{n}:overview", pick(rng, [f"What was {n}?", f"Give me a short summary of {n}.",
                                              f"Can you explain {n} in a paragraph?"]),
            paras(e["summary"], f"Its most important consequence was {e['effects'][0]}."
                  + pick(rng, ["", f" It is usually dated to {e['when']}."])),
            f"{cap(n)} dates to {e['when']}; its key consequence was {e['effects'][0]}.",
            worse(rng, f"It happened {e['when']}.", HIST_VAGUE),
            followup=f"And what about {n}?", instruction=f"Summarize {n} for a general reader.")
    causes = list(e["causes"])
    rng.shuffle(causes)
    ca = QA(f"hist:{n}:causes", pick(rng, [f"What caused {n}?", f"Why did {n} happen?",
                                            f"What were the main causes of {n}?"]),
            paras(pick(rng, ["Historians usually point to several causes:", "There were a few main factors:",
                             "No single cause explains it, but the key ones were:"]),
                  bullets(cap(c) + "." for c in causes),
                  pick(rng, ["These pressures reinforced each other.", "The relative "
                             "weight of each is still debated.", ""])),
            f"Mainly {causes[0]}.", worse(rng, f"Mainly {causes[0]}.", HIST_VAGUE),
            followup="What caused it?")
    ef = QA(f"hist:{n}:effects", pick(rng, [f"What were the consequences of {n}?",
                                            f"Why does {n} matter today?"]),
            paras(f"The effects of {n} were far-reaching:", numbered(cap(x) + "." for x in e["effects"])),
            f"Above all, {e['effects'][0]}.", worse(rng, "It changed the world forever.", HIST_VAGUE),
            followup="What were the consequences?")
    tl = QA(f"hist:{n}:timeline", pick(rng, [f"Give me a timeline of {n}.",
                                             f"What are the key dates for {n}?"]),
            paras(pick(rng, ["Key dates:", "A short timeline:", "Here's the sequence of events:"]),
                  bullets(f"**{d}:** {cap(w)}." for d, w in e["timeline"])),
            f"The central date is {e['when']}.",
            worse(rng, f"The central date is {e['when']}.", HIST_VAGUE),
            followup="Can you give me a timeline?", instruction=f"List the key dates of {n} as a timeline.")
    quiz_items = [f"**When did {n} take place?** {cap(e['when'])}.",
                  f"**Name one cause.** {cap(causes[0])}.",
                  f"**Name one consequence.** {cap(e['effects'][-1])}."]
    qz = QA(f"hist:{n}:quiz", pick(rng, [f"Make three quick quiz questions about {n}, with answers.",
                                         f"Can you write a short quiz on {n} for my class?"]),
            paras("Here are three questions with answers:", numbered(quiz_items)),
            "Ask when it happened, one cause and one consequence.",
            worse(rng, f"1. What was {n}? 2. When was it? 3. Why was it important?", HIST_VAGUE),
            followup="Could you turn that into a short quiz?")
    return [ov, ca, ef, tl, qz]


# --------------------------------------------------------------------------------------------------------
# topic: gardening
# --------------------------------------------------------------------------------------------------------

PLANTS = [
    dict(name="tomatoes", sun="at least 6 to 8 hours of direct sun",
         water="deeply and regularly at the base, keeping the soil evenly moist",
         soil="rich, well-drained soil with plenty of compost",
         plant="after the last frost, "
         "once nights stay above about 10°C", space="45 to 60 cm apart", pot="at least 20 litres per plant",
         problem=("the bottoms of the fruit turn black and leathery", "blossom end rot",
                  "It is caused by uneven watering, which stops the plant moving calcium into the fruit. "
                  "Water deeply and consistently and mulch to keep moisture steady; remove affected fruit."),
         harvest="Pick when the fruit is fully coloured and gives slightly when squeezed; "
                 "ripening on the windowsill works too.",
         friend="basil and marigolds"),
    dict(name="basil", sun="6 or more hours of sun and warmth",
         water="when the top centimetre of soil feels dry, avoiding the leaves",
         soil="light, fertile, well-drained soil", plant="in late spring when it is properly warm",
         space="20 to 25 cm apart", pot="a 15 to 20 cm pot on a sunny windowsill",
         problem=("it keeps flowering and the leaves taste bitter", "bolting",
                  "Basil flowers when it is stressed or mature. Pinch out flower buds as soon as they "
                  "appear, and harvest from the top regularly so it branches instead."),
         harvest="Snip stems just above a pair of leaves; the plant will branch from that point.",
         friend="tomatoes and peppers"),
    dict(name="lavender", sun="full sun", water="sparingly once established; it hates wet roots",
         soil="poor, gritty, very well-drained soil", plant="in spring", space="45 to 90 cm apart",
         pot="a terracotta pot at least 30 cm across with extra grit in the compost",
         problem=("it has gone woody and bare in the middle", "old, unpruned growth",
                  "Lavender does not regrow from old wood. Prune lightly every year after flowering, cutting "
                  "back to just above where the leafy growth starts. Very leggy "
                  "plants are usually best replaced."),
         harvest="Cut stems when the first flowers open for the strongest scent, "
                 "and hang them upside down to dry.",
         friend="rosemary and thyme"),
    dict(name="potatoes", sun="full sun", water="regularly once the plants flower, when tubers are forming",
         soil="loose, slightly acidic soil", plant="in early to mid spring as seed potatoes",
         space="30 cm apart in rows 60 cm apart", pot="a 40-litre grow bag for three seed potatoes",
         problem=("the leaves develop brown patches and collapse in wet weather", "blight",
                  "Blight spreads in warm, humid spells. Remove affected foliage promptly, water the soil "
                  "not the leaves, and choose blight-resistant varieties next year."),
         harvest="Early varieties are ready when the plants flower; maincrop when the foliage dies back.",
         friend="beans and marigolds"),
    dict(name="strawberries", sun="full sun for the sweetest fruit",
         water="regularly, especially while fruiting, watering at the base",
         soil="rich, well-drained soil", plant="in spring or late summer",
         space="35 to 45 cm apart", pot="a hanging basket or a 30 cm pot for three plants",
         problem=("the berries rot or get nibbled before they ripen", "grey mould and slugs",
                  "Tuck straw under the fruit to keep it off the soil, improve airflow by removing "
                  "old leaves, and pick promptly."),
         harvest="Pick when the berries are fully red, ideally in the morning while cool.",
         friend="borage and chives"),
    dict(name="garlic", sun="full sun", water="only in dry spells; stop watering as the leaves yellow",
         soil="well-drained soil", plant="in autumn, so the cloves get a cold period", space="15 cm apart",
         pot="a deep pot at least 20 cm across",
         problem=("the bulbs stay small with no separate cloves", "planting too late",
                  "Garlic needs several weeks of cold to split into cloves. Plant in autumn rather than "
                  "spring, and set cloves pointed end up about 5 cm deep."),
         harvest="Lift the bulbs when the lower leaves turn yellow, then dry "
                 "them somewhere airy for two weeks.",
         friend="carrots and beetroot"),
    dict(name="zucchini", sun="full sun", water="generously at the base, about once or twice a week",
         soil="very rich soil with plenty of compost", plant="after the last frost",
         space="90 cm apart", pot="a 45-litre container per plant",
         problem=("the leaves are covered in white powder", "powdery mildew",
                  "Powdery mildew is worst when roots are dry and air is still. Water consistently, remove "
                  "the worst leaves and give the plants space."),
         harvest="Pick at around 15 to 20 cm long; left too long they become watery marrows.",
         friend="nasturtiums and beans"),
    dict(name="mint", sun="sun or partial shade", water="often; it likes moist soil",
         soil="almost any moist soil", plant="in spring", space="one plant is plenty",
         pot="its own pot, because it spreads aggressively",
         problem=("it is taking over the whole bed", "spreading roots",
                  "Mint spreads by underground runners. Dig it up and replant it in a container, or sink a "
                  "bottomless bucket into the bed to contain the roots."),
         harvest="Pick the tips regularly to keep it bushy.",
         friend="cabbages, where its smell may deter some pests"),
    dict(name="blueberries", sun="full sun to light shade", water="with rainwater where possible",
         soil="acidic soil with a pH between about 4.5 and 5.5", plant="in autumn or early spring",
         space="1.5 m apart", pot="a large pot of ericaceous compost",
         problem=("the leaves turn yellow between green veins", "soil that is not acidic enough",
                  "Blueberries struggle to take up iron in alkaline soil. Grow them in ericaceous compost, "
                  "water with rainwater rather than hard tap water, and mulch with pine needles."),
         harvest="Pick when the berries are fully blue and come away easily; they ripen over several weeks.",
         friend="other acid-loving plants such as rhododendrons"),
    dict(name="lettuce", sun="sun or light shade", water="little and often",
         soil="moist, fertile soil", plant="from early spring, sowing small batches every two weeks",
         space="20 to 30 cm apart", pot="a wide, shallow trough",
         problem=("it shoots up and tastes bitter", "bolting",
                  "Heat and long days make lettuce bolt. Sow in light shade during summer, keep it watered, "
                  "and choose slow-bolting varieties."),
         harvest="Pick outer leaves as needed or cut whole heads; cutting early in the day keeps them crisp.",
         friend="carrots and radishes"),
    dict(name="a snake plant", sun="bright indirect light, though it tolerates low light",
         water="only when the soil is completely dry, every two to four weeks",
         soil="free-draining cactus compost", plant="any time indoors", space="one per pot",
         pot="a heavy pot only slightly larger than the root ball",
         problem=("the leaves are going soft and mushy at the base", "overwatering and root rot",
                  "Stop watering, remove it from the pot and cut away any brown, mushy roots. Repot in fresh "
                  "cactus compost and water much less often."),
         harvest="There is nothing to harvest, but you can propagate it by dividing the "
                 "plant or rooting leaf cuttings.",
         friend="other low-maintenance houseplants"),
    dict(name="a monstera", sun="bright, indirect light",
         water="when the top few centimetres of soil are dry",
         soil="chunky, airy compost with bark and perlite", plant="any time indoors", space="plenty of room",
         pot="a pot with drainage holes and a moss pole for support",
         problem=("the new leaves have no splits", "not enough light",
                  "Monsteras produce their characteristic holes as they mature and get more light. Move it "
                  "closer to a bright window without harsh direct sun, and give it a pole to climb."),
         harvest="Propagate by cutting below a node with an aerial root and rooting it in water.",
         friend="other tropical houseplants that like humidity"),
    dict(name="roses", sun="at least 6 hours of sun", water="deeply once a week in dry weather",
         soil="rich, moisture-retentive soil", plant="in late autumn to early spring",
         space="60 to 90 cm apart",
         pot="a deep pot at least 40 cm tall",
         problem=("the leaves get black spots and drop", "black spot fungus",
                  "Remove and bin affected leaves, water at the base in the morning, and mulch to stop "
                  "spores splashing up. Resistant varieties make life much easier."),
         harvest="Deadhead spent flowers to encourage more blooms, and prune in late winter.",
         friend="lavender and catmint"),
    dict(name="peppers", sun="full sun and warmth", water="evenly, letting the top of the soil dry slightly",
         soil="fertile, well-drained soil", plant="indoors in late winter, outside after the last frost",
         space="45 cm apart", pot="a 10 to 15 litre pot",
         problem=("the flowers drop off without setting fruit", "temperature stress",
                  "Peppers drop flowers when nights are cold or days very hot. Keep them warm and sheltered, "
                  "and water evenly; fruit usually sets once conditions settle."),
         harvest="Pick green for a milder taste or wait until they colour fully for sweetness.",
         friend="basil and onions"),
]

GARDEN_GENERAL = [
    ("compost", ["How do I start composting at home?", "What can I put in a compost bin?"],
     ["Aim for a mix of greens, such as vegetable scraps, coffee grounds and grass clippings, and browns, "
      "such as cardboard, dry leaves and paper, roughly one part green to two or three parts brown.",
      "Keep the heap as damp as a wrung-out sponge and turn it every few weeks to add air.",
      "Leave out meat, dairy and cooked food, which attract pests. Finished compost is dark and "
      "crumbly and smells like earth."],
     "Mix greens and browns, keep it damp, turn it occasionally, and avoid meat and dairy.",
     "Put everything in, including meat and bones, and never turn it."),
    ("mulch", ["What is mulch and why should I use it?", "Is mulching worth it?"],
     ["Mulch is a layer of material spread over the soil surface, such as bark "
      "chips, compost, straw or leaf mould.",
      "It keeps moisture in, suppresses weeds, evens out soil temperature and, if organic, "
      "feeds the soil as it breaks down.",
      "Apply 5 to 7 cm on moist soil in spring or autumn, keeping it a few centimetres away from stems."],
     "A layer on top of the soil that keeps moisture in and weeds down; 5 to 7 cm on moist soil.",
     "Mulch is a chemical fertiliser."),
    ("watering_time", ["What's the best time of day to water plants?", "Should I water in the evening?"],
     ["Early morning is best: less water evaporates, and leaves dry quickly during the "
      "day, which reduces fungal disease.",
      "Evening is the next best option, but water the soil rather than the leaves.",
      "Deep, less frequent watering encourages deeper roots than a daily sprinkle."],
     "Early morning, at the base of the plants, deeply rather than little and often.",
     "Midday, so the plants are cool in the heat."),
    ("raised_beds", ["Are raised beds worth building?", "How deep should a raised vegetable bed be?"],
     ["Raised beds warm up faster in spring, drain well and are easier on your back. They also let you fill "
      "them with good soil if your ground is heavy clay.",
      "Around 30 cm deep is enough for most vegetables; deeper helps root crops. Keep them no wider than "
      "about 1.2 m so you can reach the middle without stepping on the soil."],
     "Yes for drainage and comfort; about 30 cm deep and no wider than 1.2 m.",
     "They need to be at least 2 m deep to work."),
    ("soil_test", ["How do I know what type of soil I have?", "How can I test my soil pH?"],
     ["Squeeze a handful of moist soil: clay forms a sticky ball, sandy soil falls apart, and loam holds "
      "together but crumbles when poked.",
      "A cheap pH kit from a garden centre tells you whether it is acidic or alkaline. Most vegetables "
      "prefer slightly acidic soil, around pH 6 to 7.",
      "Whatever you have, adding organic matter every year improves it."],
     "Use the squeeze test for texture and a cheap kit for pH; most vegetables like pH 6 to 7.",
     "All garden soil is the same."),
    ("seedlings", ["Why are my seedlings tall and floppy?", "How do I stop seedlings from getting leggy?"],
     ["Leggy seedlings are stretching towards light. A windowsill is rarely bright enough in early spring.",
      "Move them to the brightest spot possible, turn them daily, or use a simple LED grow light about 10 cm "
      "above them. Slightly cooler temperatures also slow stretching.",
      "Brushing your hand across the tops every day encourages sturdier stems."],
     "They need more light; use a grow light or the brightest window and keep them a little cooler.",
     "They need more fertiliser."),
]

GARDEN_VAGUE = [
    "Plants are living things, so just give them some love.",
    "Water it and hope for the best.",
    "Ask at your local garden centre.",
    "Every garden is different.",
]


def bundle_gardening(rng):
    if chance(rng, 0.25):
        a, b = rng.sample(GARDEN_GENERAL, 2)
        return [garden_general(rng, a), garden_general(rng, b)]
    p = pick(rng, PLANTS)
    n = p["name"]
    bare = re.sub(r"^an? ", "", n)
    do = "do" if n.endswith("s") else "does"
    where = pick(rng, ["", "I have a small balcony. ", "We just moved into a house with a garden. ",
                       "I'm a complete beginner. "])
    grow = QA(f"garden:{n}:grow", where + pick(rng, [f"How do I grow {n}?", f"Any tips for growing {n}?",
                                                    f"What {do} {n} need to thrive?"]),
              paras(pick(rng, [f"{cap(n)} are rewarding if you get the basics right:" if n.endswith("s") else
                               f"{cap(n)} is easy once you get the basics right:",
                               "The essentials:", "Here's what matters most:"]),
                    bullets([f"**Light:** {p['sun']}.", f"**Soil:** {p['soil']}.",
                             f"**Water:** {p['water']}.",
                             f"**When and spacing:** plant {p['plant']}, {p['space']}."]),
                    p["harvest"]),
              f"Give them {p['sun']} and {p['soil']}, and water {p['water'].split(',')[0]}.",
              worse(rng, "Plant it somewhere sunny and water it.", GARDEN_VAGUE),
              followup=f"How about {n}?", instruction=f"Give concise growing instructions for {n}.")
    sym, name, fix = p["problem"]
    prob = QA(f"garden:{n}:problem", pick(rng, [f"My {bare}: {sym}. What's wrong?",
                                               f"Help! With my {bare}, {sym}. Why?"]),
              paras(f"That sounds like {name}.", fix),
              f"Probably {name}.", worse(rng, f"Probably {name}.", GARDEN_VAGUE, "It needs more fertiliser."),
              followup=f"Also, {sym}. Any idea why?")
    pot = QA(f"garden:{n}:pot", pick(rng, [f"Can I grow {n} in a container?", f"Will {n} grow in pots?"]),
             paras(f"Yes. Use {p['pot']}, with drainage holes, and put it somewhere with {p['sun']}.",
                   pick(rng, ["Containers dry out much faster than beds, so check them daily in summer.",
                              "Feed container plants every couple of weeks in the growing "
                              "season, because nutrients wash out.",
                              "Raise pots on feet so water can drain freely."])),
             f"Yes, in {p['pot']}.", worse(rng, "Any pot will do.", GARDEN_VAGUE),
             followup="Could I grow it in a pot instead?")
    buddy = QA(f"garden:{n}:friends", pick(rng, [f"What grows well next to {n}?",
                                                 f"Companion plants for {n}?"]),
               paras(f"Good companions for {n} include {p['friend']}.",
                     pick(rng, ["Companion planting effects are often modest, but mixing plants does "
                                "attract more beneficial insects.",
                                "Mainly, group plants that like the same light and water.",
                                "Mixing flowers in with vegetables helps pollinators find your crops."])),
               f"Try {p['friend']}.", worse(rng, "Anything is fine.", GARDEN_VAGUE),
               followup="What should I plant next to it?")
    return [grow, prob, pot, buddy]


def garden_general(rng, g):
    key, asks, body, short, wrong = g
    return QA("garden:general:" + key, pick(rng, asks), paras(*body), short,
              worse(rng, short, GARDEN_VAGUE, wrong),
              followup=pick(rng, asks))


# --------------------------------------------------------------------------------------------------------
# topic: customer support emails
# --------------------------------------------------------------------------------------------------------

COMPANIES = [("Brightline Internet", "router", "broadband plan"),
             ("Northwind Outdoor", "tent", "Northwind Plus membership"),
             ("Tandem Cycles", "e-bike battery", "bike servicing plan"),
             ("Pocketful Books", "e-reader", "monthly book subscription"),
             ("Lumen Home", "smart bulb kit", "Lumen Cloud subscription"),
             ("Kestrel Fitness", "fitness tracker", "gym membership"),
             ("Harbor Coffee Roasters", "coffee grinder", "coffee subscription"),
             ("Orbit Mobile", "phone", "phone plan"),
             ("Fernway Furniture", "bookcase", "furniture protection plan"),
             ("Quill Stationery", "fountain pen set", "notebook subscription")]
AGENTS = ["Sam", "Priya", "Jonas", "Leila", "Marco", "Aisha", "Tom", "Mei", "Rafael", "Noor", "Eva", "Kwame"]

ISSUES = {
    "late_delivery": dict(
        alt=["Order #{order} has been sitting at our regional depot after a sorting backlog; I have asked "
             "the courier to move it to priority handling.",
             "It should reach you within the next two to three working days, and I've "
             "sent you an updated tracking link.",
             "As it is late, the {amount} you paid for delivery has been refunded."],
        curt2="The courier has the parcel. Give it a few more days.",
        why="the order is overdue but still recoverable, so it needs action within a day or two",
        cat="Shipping", prio="Medium",
        says=["my order #{order} was due on {day} and it still hasn't arrived",
              "the tracking for order #{order} hasn't updated since {day}",
              "I was promised delivery by {day} for order #{order} and nothing has turned up"],
        want="to know where the order is",
        fix=["I checked order #{order}: it is held at the regional depot because of a sorting backlog, and "
             "it has now been moved to priority handling.",
             "You should receive it within two working days, and a fresh tracking link is on its way.",
             "Because it arrived later than promised, I have refunded the {amount} delivery charge."],
        curt="Deliveries are handled by the courier. Please wait a few more days."),
    "damaged": dict(
        alt=["I've sent a new {product} by express delivery today, free of charge.",
             "You don't need to send the broken one back; please recycle it.",
             "Our packing team has your photos so they can work out what went wrong."],
        curt2="Damaged items need photos before we can do anything.",
        why="the customer has paid for a broken product and needs a replacement quickly",
        cat="Returns", prio="High",
        says=["the {product} in order #{order} arrived broken",
              "the box for order #{order} was crushed and the {product} inside is damaged",
              "order #{order} came with a cracked {product}"],
        want="a replacement",
        fix=["A replacement {product} has been sent today by express delivery, at no cost to you.",
             "There is no need to return the damaged one; please recycle it or keep any usable parts.",
             "I have also passed your photos on to our packing team so we can prevent this happening again."],
        curt="Send us photos and we'll look into it when we can."),
    "double_charge": dict(
        alt=["I can see the problem: order #{order} was charged twice, {amount} each "
             "time, because of a payment glitch.",
             "The extra {amount} has been refunded today and should be back in your account within three to "
             "five working days, depending on your bank.",
             "Nothing else about your order has changed."],
        curt2="We only charged you once. Talk to your bank.",
        why="money has been taken twice, so it should be fixed today",
        cat="Billing", prio="High",
        says=["I've been charged twice for order #{order}",
              "my card statement shows two payments of {amount} for the same order, #{order}",
              "you took {amount} from my account twice this month"],
        want="the duplicate payment refunded",
        fix=["You are right: a payment error created a duplicate charge of {amount} on order #{order}.",
             "I have refunded the duplicate today. Depending on your bank, it takes three to five working "
             "days to show on your statement.",
             "Your order itself is unaffected."],
        curt="Our system doesn't double charge. Check with your bank."),
    "cancel": dict(
        alt=["I've cancelled your subscription; it stays active until the end of the "
             "current billing period on {day}.",
             "There will be no further charges, and everything remains available to you until then.",
             "You can restart it from your account page whenever you like."],
        curt2="Cancellations are done in the app, not by email.",
        why="it is a routine request with no immediate financial impact",
        cat="Account", prio="Low",
        says=["I'd like to cancel my {plan}",
              "please cancel my {plan} before the next billing date on {day}",
              "I want to stop my {plan} and need to know whether I'll be charged again"],
        want="to cancel the subscription",
        fix=["Your subscription has been cancelled, effective from the end of your "
             "current billing period on {day}.",
             "You will not be charged again, and you keep full access until that date.",
             "If you change your mind, you can restart from your account page at any time."],
        curt="You can cancel in the app. Support doesn't handle cancellations."),
    "login": dict(
        alt=["Your account is unlocked, and a fresh password reset link is on its way; it works for an hour.",
             "If the email hasn't arrived in a few minutes, the spam or promotions "
             "folder is the first place to look.",
             "After you sign in, I'd recommend switching on two-step verification for extra protection."],
        curt2="Try resetting your password again later.",
        why="the customer is locked out of the service until it is fixed, but no money is at risk",
        cat="Technical", prio="Medium",
        says=["my account won't let me log in and the password reset link never arrives",
              "the app keeps saying my password is wrong even after I reset it",
              "my account got locked after too many login attempts"],
        want="to get back into the account",
        fix=["I've cleared the lock on your account and sent a new password reset link, valid for one hour.",
             "If it doesn't show up within a few minutes, please check your spam or promotions folder.",
             "Once you're in, turning on two-step verification will keep the account safer."],
        curt="Reset your password. If that doesn't work, try again later."),
    "wrong_item": dict(
        alt=["The {product} you actually ordered left our warehouse today and should be with "
             "you within three working days.",
             "I've attached a free return label for the item you received; you have 30 days to send it back.",
             "Your replacement is shipping now, so you don't need to wait for the return to arrive."],
        curt2="Send it back and place a new order.",
        why="the customer needs the right item, but nothing is lost or broken",
        cat="Returns", prio="Medium",
        says=["order #{order} arrived with the wrong {product}",
              "I ordered a {product} but order #{order} contained something completely different",
              "the size of the {product} in order #{order} isn't what I ordered"],
        want="the correct item",
        fix=["The correct {product} has been dispatched today and should arrive within three working days.",
             "A prepaid return label is attached; please send the wrong item back within 30 days at no cost.",
             "There is no need to wait for the return to be processed before your replacement ships."],
        curt="Return it and reorder the right one."),
    "refund_status": dict(
        alt=["We did receive your return for order #{order}; the refund had been held for a manual review.",
             "I've approved it, so {amount} is heading back to your original payment method and should "
             "show within five working days.",
             "Future returns on your account will now be refunded automatically."],
        curt2="Refunds are slow. Wait a bit longer.",
        why="a refund is late, which erodes trust, but the amount is already approved",
        cat="Billing", prio="Medium",
        says=["I returned order #{order} three weeks ago and still haven't seen the refund",
              "where is my refund of {amount} for order #{order}?",
              "you confirmed my return on {day} but the money hasn't come back"],
        want="the refund",
        fix=["Your return for order #{order} was received, but the refund was "
             "stuck waiting for a manual check.",
             "I have approved it now: {amount} is on its way to your original payment method and should "
             "appear within five working days.",
             "I've added a note to your account so any future returns are processed automatically."],
        curt="Refunds take time. Please be patient."),
    "warranty": dict(
        alt=["Good news: your {product} is covered by its two-year warranty, so there is nothing to pay.",
             "A prepaid shipping label is in your inbox; our service centre usually completes repairs within "
             "five to seven working days of receiving the item.",
             "If it turns out to be beyond repair, we'll send you a brand-new one instead."],
        curt2="That is a manufacturer problem, not ours.",
        why="the product is covered and the fix follows a standard process",
        cat="Warranty", prio="Medium",
        says=["my {product} stopped working after eight months",
              "the {product} from order #{order} has developed a fault and won't switch on",
              "the {product} I bought last year is making a grinding noise"],
        want="a repair or replacement under warranty",
        fix=["Your {product} is still within its two-year warranty, so the repair is free.",
             "I've emailed a prepaid shipping label; once it reaches our service centre, repairs usually "
             "take five to seven working days.",
             "If a repair isn't possible, we will replace it with a new unit."],
        curt="Warranty claims must go through the manufacturer."),
    "address": dict(
        alt=["Order #{order} was still in the warehouse, so I've changed the delivery address for you.",
             "Your delivery date stays the same, and a new confirmation email is on its way.",
             "To save time next order, you can set the new address as your default in account settings."],
        curt2="The address on the order is the one we ship to.",
        why="the order may ship to the wrong place unless it is changed before dispatch",
        cat="Shipping", prio="High",
        says=["I entered the wrong delivery address for order #{order}",
              "can I change the shipping address on order #{order}? I've just moved",
              "order #{order} is going to my old flat by mistake"],
        want="the delivery address updated",
        fix=["I caught order #{order} before it left the warehouse and have updated the delivery address.",
             "The delivery date is unchanged, and you'll receive an updated confirmation shortly.",
             "For future orders, you can save your new address as the default in your account settings."],
        curt="Addresses are final once an order is placed."),
}

CS_VAGUE = [
    "Thanks for your message. We will look into it.",
    "Please contact support for help with this.",
    "We have received your request.",
]


def cs_context(rng):
    company, item, plan = pick(rng, COMPANIES)
    issue_key = pick(rng, sorted(ISSUES))
    issue = ISSUES[issue_key]
    first, last = pick(rng, NAMES), pick(rng, SURNAMES)
    values = dict(order=str(rng.randrange(10000, 99999)), product=item, plan=plan,
                  day=pick(rng, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the 3rd",
                                 "the 12th",
                                 "the 21st", "the 28th"]),
                  amount=money(rng.randrange(5, 240) + pick(rng, [0, 0.49, 0.99])))
    return company, item, issue_key, issue, first, last, pick(rng, AGENTS), values


def customer_email(rng, company, issue, first, last, values):
    says = pick(rng, issue["says"]).format(**values)
    mood = pick(rng, ["This is really frustrating.", "I've already waited long enough.", "",
                      "I'd appreciate a quick reply.", "It's the second time this has happened."])
    greet = pick(rng, ["Hi,", "Hello,", f"Dear {company} team,", "Hi there,"])
    close = pick(rng, ["Thanks,", "Regards,", "Best,", "Cheers,"])
    ask = f"Could you help? I would like {issue['want']}."
    body = " ".join(x for x in [sentence(cap(says)), mood, ask] if x)
    return f"{greet}\n\n{body}\n\n{close}\n{first} {last}"


def reply_email(rng, company, fixes, first, agent):
    fix = " ".join(fixes)
    opener = pick(rng, ["Thank you for getting in touch, and for your patience.",
                        "Thanks for letting us know, and I understand how frustrating this is.",
                        "Thank you for reaching out about this.",
                        "I appreciate you taking the time to write to us."])
    closing = pick(rng, ["If there's anything else I can do, just reply to this email.",
                         "Please let me know if anything else comes up.",
                         "I'll keep an eye on this until it's fully resolved."])
    ps = pick(rng, [f"P.S. You can check the status of any order from your {company} account at any time.",
                    "P.S. Your reference for this conversation is in the subject "
                    "line if you need to follow up.",
                    f"P.S. Thank you for being a {company} customer."])
    return (f"Hi {first},\n\n{opener}\n\n{fix}\n\n{closing}\n\nBest "
            f"regards,\n{agent}\n{company} Customer Support\n\n{ps}")


def bundle_support(rng):
    company, product, issue_key, issue, first, last, agent, values = cs_context(rng)
    email = customer_email(rng, company, issue, first, last, values)
    fixes = [pick(rng, pair).format(**values) for pair in zip(issue["fix"], issue["alt"], strict=True)]
    curt = pick(rng, [issue["curt"], issue["curt2"]])
    reply = reply_email(rng, company, fixes, first, agent)
    key = f"cs:{company}:{issue_key}:{values['order']}"
    ask = pick(rng, ["Can you draft a reply to this customer email?",
                     "Write a friendly, professional reply to this email:",
                     f"I work in support at {company}. Please answer this customer:",
                     "Help me respond to this complaint:"])
    rep = QA(key + ":reply", paras(ask, email), reply,
             f"Confirm the fix for {first}: {fixes[0][0].lower()}{fixes[0][1:]}",
             worse(rng, curt, CS_VAGUE),
             followup=paras("Now draft a reply to this one:", email),
             instruction=pick(rng, ["Write a reply to the following customer email.",
                                    "Respond to this customer support email politely and resolve the issue.",
                                    f"You are a support agent at {company}. Reply to the customer."]),
             input=email)
    rew = QA(key + ":rewrite",
             paras(pick(rng, ["Can you rewrite this reply so it sounds more helpful?",
                              "My colleague wrote this. Make it more polite:",
                              "Rewrite this support response in a warmer tone:"]), curt),
             paras(pick(rng, ["Here's a warmer version:", "Try this instead:", "A friendlier rewrite:"]),
                   pick(rng, ["Thanks for your patience.", "Thanks for flagging this.", "Thank you for "
                              "letting us know."]) + f" {fixes[0]} {fixes[1]}"
                   + pick(rng, [" Thanks for bearing with us.", " I hope that helps.", ""])),
             "Acknowledge the problem, explain what you have done and give a clear next step.",
             worse(rng, curt + " Thanks.", CS_VAGUE),
             followup="Can you make this one sound friendlier? " + curt,
             instruction="Rewrite the following customer support reply so that it is polite and helpful.",
             input=curt)
    summary = bullets([f"**Customer:** {first} {last}.", f"**Company:** {company}.",
                       f"**Issue:** {sentence(pick(rng, issue['says']).format(**values))}",
                       f"**Wants:** {issue['want']}.",
                       f"**Category / priority:** {issue['cat']}, {issue['prio']}.",
                       f"**Suggested next step:** {fixes[0][0].lower()}{fixes[0][1:]}"])
    summ = QA(key + ":summary", paras(pick(rng, ["Summarise this support ticket in a few bullet points.",
                                                 "Give me a quick summary of "
                                                 "this email for the ticket system:"]), email),
              summary, f"{first} {last} wants {issue['want']} ({issue['cat']}, {issue['prio']} priority).",
              worse(rng, "Customer has a problem with their order.", CS_VAGUE),
              followup="Summarise that email for the ticket system.",
              instruction="Summarize the support ticket below as bullet points.", input=email)
    cls = QA(key + ":classify", paras("Classify this ticket by category and priority.", email),
             f"**Category:** {issue['cat']}\n**Priority:** {issue['prio']}\n\nReason: {issue['why']}. This "
             f"is {first} {last}'s request about "
             f"{'their ' + values['plan'] if issue_key == 'cancel' else 'order #' + values['order']}.",
             f"{issue['cat']}, {issue['prio']} priority.",
             worse(rng, f"{issue['cat']}.", CS_VAGUE, f"{issue['cat']}, Low priority."),
             followup="What category and priority should that ticket get?",
             instruction="Classify the customer email into a category (Shipping, Billing, Returns, Account, "
                         "Technical, Warranty) and a priority (Low, Medium, High).", input=email)
    return [rep, rew, summ, cls]


# --------------------------------------------------------------------------------------------------------
# topic: home maintenance
# --------------------------------------------------------------------------------------------------------

JOBS = [
    dict(name="unclog a slow bathroom sink", tools=["a plunger", "a drain snake or plastic drain stick",
                                                   "a bucket", "rubber gloves"],
         steps=["Remove the pop-up stopper and clean off any hair and gunk.",
                "Block the overflow hole with a damp cloth and plunge firmly for 20 to 30 seconds.",
                "Feed a drain stick into the pipe, twist and pull out the clog.",
                "Flush with hot water for a minute to check it drains freely."],
         pro="If water backs up in other fixtures at the same time, the blockage is further down the main "
             "line and a plumber should look at it.",
         often="Cleaning the stopper monthly stops most clogs from forming.",
         avoid="Avoid pouring harsh chemical drain cleaners in if you plan to plunge; they can splash back."),
    dict(name="fix a running toilet", tools=["a replacement flapper", "a sponge", "an adjustable wrench"],
         steps=["Take the tank lid off and watch what happens after a flush.",
                "If water keeps trickling into the overflow tube, lower the float so "
                "the fill valve shuts off earlier.",
                "If the tank slowly empties, the flapper is worn; turn off the water, flush to drain the "
                "tank, and swap in a new flapper.",
                "Turn the water back on and check that the tank fills and stops."],
         pro="If the fill valve itself is cracked or the tank leaks onto the "
             "floor, it may be time for a plumber.",
         often="Flappers usually last three to five years.",
         avoid="Take a photo of the tank parts before you start so you know how they go back together."),
    dict(name="patch a small hole in drywall", tools=["a self-adhesive mesh patch", "lightweight filler",
                                                     "a filling knife", "fine sandpaper", "paint"],
         steps=["Trim any loose paper around the hole with a utility knife.",
                "Stick the mesh patch over the hole.",
                "Spread a thin layer of filler over it, feathering the edges wider than the patch.",
                "Let it dry, sand lightly, and apply a second thin coat if needed.",
                "Prime and paint to match the wall."],
         pro="Holes larger than your hand, or damage near wiring or plumbing, are "
             "better handled by a professional.",
         often="It is a one-off repair, but keep the leftover paint labelled for future touch-ups.",
         avoid="Several thin coats sand much more smoothly than one thick one."),
    dict(name="bleed a radiator", tools=["a radiator key", "an old towel", "a small container"],
         steps=["Turn the heating off and let the radiators cool.",
                "Hold the towel under the bleed valve at the top corner of the radiator.",
                "Turn the key a quarter turn anticlockwise; you will hear air hiss out.",
                "Close the valve as soon as water starts to dribble out.",
                "Check the boiler pressure and top it up if it has dropped."],
         pro="If radiators need bleeding every few weeks, there may be a leak or a problem with the system "
             "that a heating engineer should diagnose.",
         often="Once a year at the start of the heating season is usually enough.",
         avoid="Never bleed radiators while the heating is on; the water can be scalding."),
    dict(name="clean the gutters", tools=["a sturdy ladder with a stabiliser", "gloves", "a gutter scoop",
                                         "a bucket", "a hose"],
         steps=["Set up the ladder on firm, level ground and have someone hold it.",
                "Scoop out leaves and debris into the bucket, working away from the downpipe.",
                "Flush the gutter with a hose to check water flows to the downpipe.",
                "Clear any blockage in the downpipe from the bottom with the hose or a plumber's snake."],
         pro="Gutters on second-floor roofs or higher are safer left to "
             "professionals with the right equipment.",
         often="Twice a year, in late spring and after the leaves fall, more often under trees.",
         avoid="Never lean the ladder against the gutter itself; it can bend or snap."),
    dict(name="re-caulk a bathtub", tools=["a caulk remover tool", "rubbing alcohol", "painter's tape",
                                          "bathroom silicone sealant", "a caulking gun"],
         steps=["Scrape out all the old sealant completely.",
                "Clean the joint with rubbing alcohol and let it dry fully.",
                "Fill the tub with water so it settles to its loaded position.",
                "Run tape along both sides of the joint, apply a steady bead, "
                "and smooth it with a wet finger.",
                "Peel off the tape while the sealant is wet and leave it to cure for 24 hours."],
         pro="If the tiles around the tub are loose or the wall behind feels soft, there may be water damage "
             "that needs professional repair.",
         often="Replace sealant when it cracks, peels or shows mould that won't clean "
               "off, typically every few years.",
         avoid="Silicone will not stick to old silicone, so removing every "
               "trace is the most important step."),
    dict(name="reset a tripped circuit breaker", tools=["a torch"],
         steps=["Unplug or switch off the appliances on the affected circuit.",
                "Open the consumer unit and find the switch that is in the off or middle position.",
                "Push it fully off, then firmly back on.",
                "Plug appliances back in one at a time to find the one that trips it."],
         pro="If a breaker trips repeatedly with nothing plugged in, or you smell "
             "burning, call a qualified electrician.",
         often="A breaker that trips once after a kettle and heater ran together is "
               "normal; frequent trips are not.",
         avoid="Never tape or hold a breaker in the on position."),
    dict(name="fix a squeaky door hinge", tools=["a hammer", "a nail or thin punch", "light "
                                                "machine oil or silicone spray", "a rag"],
         steps=["Close the door and tap the hinge pin upwards with the nail and "
                "hammer until you can pull it out.",
                "Clean the pin with the rag.",
                "Coat it lightly with oil or silicone spray.",
                "Push the pin back in and swing the door a few times to spread the lubricant."],
         pro="If the door also sticks or drags, the hinges may need tightening or the door may need planing.",
         often="Lubricating hinges once a year keeps them quiet.",
         avoid="Do one hinge at a time so the door stays supported."),
    dict(name="replace a furnace filter", tools=["the correct size replacement filter"],
         steps=["Turn the system off at the thermostat.",
                "Slide out the old filter and note the size printed on its edge.",
                "Insert the new filter with the airflow arrow pointing towards the furnace.",
                "Turn the system back on."],
         pro="If the furnace makes unusual noises or cycles on and off constantly, book a service.",
         often="Every one to three months, more often with pets or allergies.",
         avoid="Write the replacement date on the filter edge so you remember when it was changed."),
    dict(name="stop a dripping tap", tools=["an adjustable spanner", "a screwdriver",
                                            "replacement washers or a cartridge", "a cloth"],
         steps=["Turn off the water supply under the sink and open the tap to drain it.",
                "Put the plug in so small parts don't fall down the drain.",
                "Remove the handle and unscrew the valve or cartridge.",
                "Replace the worn washer or cartridge with a matching one.",
                "Reassemble and turn the water back on slowly."],
         pro="If the tap body is corroded, replacing the whole tap may be easier than repairing it.",
         often="Washers wear gradually; a slow drip is the sign it's time.",
         avoid="Take the old part to the shop so you get an exact match."),
    dict(name="clean a dryer vent", tools=["a vent brush kit", "a screwdriver", "a vacuum cleaner"],
         steps=["Unplug the dryer and pull it away from the wall.",
                "Disconnect the duct from the back of the dryer.",
                "Brush and vacuum out the lint from the duct and the dryer outlet.",
                "Clean the outside vent flap and check that it opens freely.",
                "Reconnect everything and run the dryer on air-only for a few minutes."],
         pro="Long or hidden duct runs through walls or roofs are best cleaned by a professional.",
         often="Once a year, plus cleaning the lint screen after every load.",
         avoid="Lint build-up is a real fire risk, so do not skip this if drying times are getting longer."),
    dict(name="test and maintain smoke alarms", tools=["a step ladder", "replacement batteries",
                                                      "a vacuum with a brush attachment"],
         steps=["Press and hold the test button until the alarm sounds.",
                "Replace the battery if it chirps or the test is weak.",
                "Vacuum the vents gently to remove dust.",
                "Check the manufacture date on the back; most alarms should be replaced after 10 years."],
         pro="For hard-wired, interlinked systems that fault, ask an electrician.",
         often="Test monthly and replace batteries yearly unless they are sealed 10-year units.",
         avoid="Never remove the battery to silence cooking false alarms; use the hush button instead."),
]

HOME_VAGUE = [
    "It's usually pretty simple, just have a go.",
    "Look up a video for your specific model.",
    "Call a handyman if you're unsure.",
    "It depends on your house.",
]


def bundle_home(rng):
    j = pick(rng, JOBS)
    n = j["name"]
    how = QA(f"home:{n}:how", pick(rng, [f"How do I {n}?", f"What's the easiest way to {n}?",
                                          f"Can you walk me through how to {n} myself?"]),
             paras(pick(rng, ["Here's how to do it:", "Step by step:",
                              "You can usually do "
                              "this yourself in under an hour:"]), numbered(j["steps"]), j["avoid"]),
             j["steps"][0] + " " + j["steps"][-1], worse(rng, j["steps"][-1], HOME_VAGUE),
             followup=f"How do I {n}?", instruction=f"Explain how to {n}.")
    tools = QA(f"home:{n}:tools", pick(rng, [f"What tools do I need to {n}?",
                                             f"What should I buy before I {n}?"]),
               paras(f"To {n} you'll need:", bullets(cap(t) + "." for t in j["tools"]),
                     pick(rng, ["Most of it is inexpensive at any hardware store.",
                                "Borrowing from a neighbour or a tool library is worth considering.",
                                "Lay everything out before you start."])),
               f"Mainly {listing(j['tools'])}.", worse(rng, "Just the usual tools.", HOME_VAGUE),
               followup="What tools will I need for that?")
    pro = QA(f"home:{n}:pro", pick(rng, [f"When should I call a professional "
                                         f"instead of trying to {n} myself?",
                                          f"Is it safe to {n} on my own?"]),
             paras(f"For most people it is a safe DIY job. {j['pro']}", j["avoid"]),
             j["pro"], worse(rng, "It's always fine to do it yourself.", HOME_VAGUE),
             followup="When should I call a professional?")
    freq = QA(f"home:{n}:often", pick(rng, [f"How often should I {n}?",
                                            f"Is there a schedule for when to {n}?"]),
              paras(j["often"], pick(rng, ["Adding it to a seasonal home-maintenance "
                                           "checklist makes it easy to remember.",
                                           "A reminder on your phone's calendar is the simplest system.",
                                           "Keeping a simple log of home jobs "
                                           "also helps if you sell the house."])),
              j["often"], worse(rng, "Whenever you remember.", HOME_VAGUE),
              followup="How often should I do that?")
    return [how, tools, pro, freq]


# --------------------------------------------------------------------------------------------------------
# more items for the fact-table topics (kept separate so the tables above stay readable)
# --------------------------------------------------------------------------------------------------------

EXERCISES.extend([
    dict(name="Romanian deadlift", muscles="hamstrings and glutes",
         cues=["Hold the weights in front of your thighs with soft knees.",
               "Push your hips straight back, letting the weights slide down your legs.",
               "Stop when you feel a strong stretch in the hamstrings, usually around mid-shin.",
               "Drive your hips forward to stand tall, squeezing your glutes."],
         mistakes=["bending the knees too much so it becomes a squat", "rounding the upper back",
                   "letting the weights swing away from the legs"],
         easier="a hip hinge with a broomstick along your spine", harder="a single-leg Romanian deadlift"),
    dict(name="step-up", muscles="quads, glutes and balance",
         cues=["Use a sturdy box or step about knee height.",
               "Plant your whole foot on the box.",
               "Drive through that foot to stand up, without pushing off the back leg.",
               "Lower yourself slowly and with control."],
         mistakes=["pushing off with the trailing leg", "letting the knee collapse inwards",
                   "dropping down quickly"],
         easier="a lower step", harder="holding dumbbells or using a higher box"),
    dict(name="dead bug", muscles="deep core and coordination",
         cues=["Lie on your back with arms pointing at the ceiling and knees bent at 90 degrees.",
               "Press your lower back gently into the floor.",
               "Slowly extend the opposite arm and leg towards the floor.",
               "Return and switch sides, keeping your back flat throughout."],
         mistakes=["the lower back arching off the floor", "moving too fast", "holding the breath"],
         easier="moving only the legs", harder="holding a light weight in each hand"),
    dict(name="side plank", muscles="obliques and hip stabilisers",
         cues=["Lie on your side with your elbow directly under your shoulder.",
               "Stack your feet, or stagger them for more stability.",
               "Lift your hips so your body forms a straight line.",
               "Hold while breathing steadily, then switch sides."],
         mistakes=["hips sagging towards the floor", "rolling the chest forward",
                   "shrugging the shoulder up to the ear"],
         easier="a side plank from the knees", harder="a side plank with the top leg raised"),
    dict(name="bench press", muscles="chest, front shoulders and triceps",
         cues=["Lie with your eyes under the bar and feet flat on the floor.",
               "Pull your shoulder blades together and down.",
               "Lower the bar to your lower chest with control.",
               "Press up and slightly back towards your face until your arms are straight."],
         mistakes=["bouncing the bar off the chest", "flaring the elbows to 90 degrees",
                   "lifting the hips off the bench"],
         easier="a dumbbell floor press", harder="a paused bench press"),
    dict(name="farmer's carry", muscles="grip, traps and core",
         cues=["Pick up a heavy weight in each hand with a neutral spine.",
               "Stand tall with shoulders down and back.",
               "Walk with short, controlled steps.",
               "Set the weights down carefully by hinging at the hips."],
         mistakes=["leaning to one side", "shrugging the shoulders", "taking long, rushed strides"],
         easier="lighter weights for a shorter distance", harder="a single-arm suitcase carry"),
])

FIT_GENERAL.extend([
    ("results", ["How long does it take to see results from working out?",
                 "When will I notice progress at the gym?"],
     ["Most beginners feel stronger within two to four weeks, mostly because the nervous system gets better "
      "at using the muscles they already have.",
      "Visible changes in muscle or body fat usually take eight to twelve weeks of "
      "consistent training and sensible eating.",
      "Track performance, such as the weight you lift or the time you run, because it improves long "
      "before the mirror shows anything."],
     "Strength improves in a few weeks; visible change typically takes two to three months.",
     "You should see big changes after one week if you train hard enough."),
    ("stretching", ["Should I stretch before or after exercise?", "Does stretching prevent injury?"],
     ["Before exercise, dynamic movements such as leg swings and walking lunges are the better warm-up. Long "
      "static holds right before lifting can slightly reduce power.",
      "Static stretching after a session, or at any other time, is a good way to improve "
      "flexibility if you do it regularly.",
      "The evidence that stretching alone prevents injuries is mixed; a proper warm-up and "
      "sensible progression matter more."],
     "Dynamic moves before, static stretching after or separately; a good warm-up matters most.",
     "Always hold each stretch for five minutes before any workout."),
    ("running_start", ["How do I start running if I've never run before?", "Tips for a beginner runner?"],
     ["Start with run-walk intervals, for example one minute of easy running and two minutes of walking, "
      "repeated for 20 minutes, three times a week.",
      "Run at a pace where you could still hold a conversation. Most new runners go too fast and burn out.",
      "Increase the running portions gradually over eight to ten weeks, and get "
      "comfortable shoes fitted if you can."],
     "Begin with run-walk intervals three times a week at a conversational pace, building up gradually.",
     "Run as fast as you can every day until it gets easier."),
    ("hydration", ["How much water should I drink when I exercise?", "Do I need sports drinks?"],
     ["Drink regularly through the day and let thirst guide you during most workouts. Pale yellow urine is a "
      "simple sign you are drinking enough.",
      "For sessions longer than about an hour, or in hot weather, a drink with some "
      "sodium and carbohydrate can help.",
      "For a typical 45-minute gym session, water is all you need."],
     "Drink to thirst; water is enough for most sessions, sports drinks only for long or hot ones.",
     "Drink at least five litres during every workout."),
    ("desk", ["I sit at a desk all day. What exercises help?", "How do I counter sitting all day?"],
     ["Break up long sitting periods: stand up and move for a couple of minutes every half hour.",
      "Strengthen the back of the body with rows, glute bridges and hip hinges, and "
      "stretch the hip flexors and chest.",
      "A short walk at lunch adds a surprising amount of movement to the day."],
     "Move every half hour and strengthen your back and glutes with rows and bridges.",
     "Nothing helps; sitting damage is permanent."),
])

JOBS.extend([
    dict(name="fix a wobbly table", tools=["a screwdriver or Allen key", "wood glue", "felt pads or shims",
                                          "clamps"],
         steps=["Turn the table upside down and tighten every screw and bolt on the legs and frame.",
                "If a joint is loose even when tight, separate it, add wood glue and clamp it overnight.",
                "Turn the table back over and check whether the floor or a short leg causes the rocking.",
                "Stick a felt pad or a thin shim under the short leg until it sits flat."],
         pro="Antique furniture with cracked joints is worth taking to a furniture restorer.",
         often="Check the bolts on flat-pack tables every six months; they loosen with use.",
         avoid="Do not overtighten screws in particleboard, or the threads will strip."),
    dict(name="descale a showerhead", tools=["white vinegar", "a plastic bag", "a rubber band",
                                            "an old toothbrush"],
         steps=["Fill a plastic bag with white vinegar.",
                "Slip it over the showerhead so the nozzles are submerged and secure it with a rubber band.",
                "Leave it for a few hours or overnight.",
                "Remove the bag, scrub the nozzles with the toothbrush, and run hot water for a minute."],
         pro="If water pressure is still poor after cleaning, the problem may be in the pipes or valve.",
         often="Every few months in hard-water areas.",
         avoid="Check the manufacturer's advice first for brass or coated finishes, which vinegar can dull."),
    dict(name="weatherstrip a drafty door", tools=["self-adhesive foam or rubber weatherstripping",
                                                  "a door sweep", "a tape measure", "scissors",
                                                  "a screwdriver"],
         steps=["On a windy day, hold your hand around the door to find where air comes in.",
                "Clean and dry the door frame where the strip will go.",
                "Cut the weatherstripping to length and press it onto the stop, along the top and sides.",
                "Screw a door sweep to the bottom of the door so it just brushes the threshold."],
         pro="If the door is warped or the frame is out of square, a carpenter may need to adjust it.",
         often="Replace foam strips every year or two, when they flatten or crack.",
         avoid="Make sure the door still closes and latches easily after fitting the strip."),
    dict(name="regrout bathroom tiles", tools=["a grout rake", "grout", "a rubber float", "a sponge",
                                              "a bucket", "grout sealer"],
         steps=["Rake out the old, cracked grout to a depth of a few millimetres.",
                "Vacuum the joints clean.",
                "Mix the grout and press it diagonally into the joints with the rubber float.",
                "Wipe off the excess with a barely damp sponge before it hardens.",
                "After it cures, apply a sealer to help keep out water and stains."],
         pro="Loose or hollow-sounding tiles may mean water has got behind them, which needs a professional.",
         often="Reseal grout yearly in busy bathrooms; regrout only when it cracks or crumbles.",
         avoid="Work in small sections so the grout does not dry before you wipe it."),
    dict(name="prevent frozen pipes in winter", tools=["foam pipe insulation", "duct tape",
                                                      "a hair dryer for thawing"],
         steps=["Insulate pipes in unheated spaces such as lofts, garages and crawlspaces with foam sleeves.",
                "Disconnect garden hoses and shut off and drain outdoor taps.",
                "Keep the heating on low, even when you are away.",
                "During a hard freeze, open cupboard doors under sinks on outside walls to let warm air in."],
         pro="If a pipe has burst or the frozen section is hard to locate, shut off the "
             "main water and call a plumber.",
         often="Check insulation every autumn before the first frost.",
         avoid="Never thaw a pipe with an open flame; use a hair dryer and work from the "
               "tap towards the frozen section."),
    dict(name="fix a sticking drawer", tools=["a candle or paraffin wax", "fine sandpaper", "a screwdriver"],
         steps=["Pull the drawer out completely and look for shiny, worn spots on the runners.",
                "Tighten any loose screws on metal runners.",
                "For wooden runners, sand the rubbing spots lightly.",
                "Rub wax along the runners and slide the drawer in and out a few times."],
         pro="Broken metal slides are easy to replace, but bring the old one to the shop to match the size.",
         often="Waxing wooden runners once a year keeps them gliding.",
         avoid="Avoid oil on wooden runners; it attracts dust and can make the wood swell."),
])

SKY.extend([
    dict(name="Neptune", kind="planet",
         facts=["Neptune is the eighth and farthest known planet from the Sun.",
                "It was the first planet found by mathematical prediction, in 1846, from "
                "irregularities in Uranus's orbit.",
                "It has the fastest winds measured in the solar system, over 2,000 km per hour.",
                "Its largest moon, Triton, orbits backwards and is probably a "
                "captured object from the Kuiper belt."],
         observe="Neptune is too faint for the naked eye. With binoculars or a small telescope and a finder "
                 "chart, it appears as a tiny blue-grey dot that slowly shifts against the stars.",
         kid="Neptune is a faraway, deep blue planet where the winds blow faster than any storm on Earth."),
    dict(name="Uranus", kind="planet",
         facts=["Uranus is the seventh planet and an ice giant made mostly of "
                "water, ammonia and methane ices.",
                "It is tipped on its side, with an axis tilted about 98 degrees, "
                "probably after a giant impact.",
                "Because of that tilt, each pole gets about 42 years of continuous sunlight "
                "and then 42 years of darkness.",
                "It was discovered by William Herschel in 1781, the first planet found with a telescope."],
         observe="Under very dark skies it is just at the limit of naked-eye visibility; binoculars and a "
                 "chart show it as a pale green-blue star.",
         kid="Uranus is the planet that rolls around the Sun on its side, like a "
             "ball instead of a spinning top."),
    dict(name="Sirius", kind="star",
         facts=["Sirius is the brightest star in the night sky, in the constellation Canis Major.",
                "It is about 8.6 light-years away, one of the Sun's nearest neighbours.",
                "It is actually a binary: a bright main star and a faint white dwarf companion, Sirius B.",
                "Ancient Egyptians linked its dawn rising to the annual flooding of the Nile."],
         observe="In winter evenings in the northern hemisphere, follow Orion's belt down and to the left to "
                 "the dazzling star that often twinkles in many colours near the horizon.",
         kid="Sirius is the brightest star you can see at night. It is called the Dog Star because it "
             "is in the Big Dog constellation."),
    dict(name="the Milky Way", kind="galaxy",
         facts=["The Milky Way is our home galaxy, a barred spiral roughly 100,000 light-years across.",
                "It contains somewhere between 100 and 400 billion stars.",
                "The Sun sits about 26,000 light-years from the centre, in a minor spiral arm.",
                "At its centre is a supermassive black hole called Sagittarius A*, about four "
                "million times the mass of the Sun."],
         observe="From a truly dark site on a moonless summer night, the band of the Milky Way is visible to "
                 "the naked eye, brightest towards Sagittarius and Scorpius.",
         kid="The Milky Way is our galaxy, a giant spinning disc of billions of stars, "
             "and our Sun is just one of them."),
    dict(name="the Geminid meteor shower", kind="meteor shower",
         facts=["The Geminids peak around 13 to 14 December and are often the strongest shower of the year.",
                "Unusually, their parent body is an asteroid, 3200 Phaethon, rather than a comet.",
                "Geminid meteors are relatively slow and often bright.",
                "The shower is active in the evening as well as after midnight."],
         observe="Dress warmly, find a dark spot and look anywhere in the sky; the radiant is near the "
                 "bright star Castor in Gemini, but meteors appear all over.",
         kid="The Geminids are a December shower of shooting stars made by bits of a rocky asteroid."),
    dict(name="Europa", kind="moon",
         facts=["Europa is one of Jupiter's four large moons, slightly smaller than our Moon.",
                "Its icy surface is criss-crossed by cracks and ridges and has "
                "very few craters, so it is young.",
                "Scientists think a salty liquid water ocean lies beneath the ice.",
                "That ocean makes Europa one of the most promising places to look for life beyond Earth."],
         observe="Any small telescope, or steady binoculars, shows Europa as one of the star-like points "
                 "lined up beside Jupiter; its position changes from night to night.",
         kid="Europa is an icy moon of Jupiter that probably hides a huge ocean under its frozen shell."),
])

SKY_CONCEPTS.extend([
    ("twinkle", ["Why do stars twinkle but planets don't?", "What makes stars twinkle?"],
     ["Twinkling is caused by turbulence in Earth's atmosphere bending starlight slightly in different "
      "directions from moment to moment.",
      "Stars are so far away that they are effectively points of light, so these shifts make them flicker. "
      "Planets show a tiny disc, and the flickering from different parts of the disc averages "
      "out, so they shine more steadily."],
     "Atmospheric turbulence; stars are points so they flicker, planets are tiny discs so they don't.",
     "Stars twinkle because they are burning unevenly."),
    ("supernova", ["What is a supernova?", "Will the Sun become a supernova?"],
     ["A supernova is the explosive death of a star, briefly outshining an entire galaxy.",
      "It happens either when a massive star, at least about eight times the Sun's mass, runs out of fuel "
      "and its core collapses, or when a white dwarf in a binary system gains too much mass.",
      "The Sun is not massive enough. In about five billion years it will swell into a red giant "
      "and then become a white dwarf."],
     "The explosive death of a massive star (or an overloaded white dwarf); the Sun is too small for one.",
     "A supernova is a very bright new planet."),
    ("parsec", ["What is a parsec?", "How do astronomers measure the distance to nearby stars?"],
     ["A parsec is about 3.26 light-years. The name comes from parallax arcsecond.",
      "As Earth orbits the Sun, nearby stars appear to shift slightly against more distant ones. Measuring "
      "that tiny angle, the parallax, gives the distance by simple geometry. A star with a parallax of "
      "one arcsecond is one parsec away."],
     "About 3.26 light-years, defined by a parallax shift of one arcsecond.",
     "A parsec is a unit of time used in space travel."),
    ("telescope", ["What should I look for when buying a first telescope?",
                   "Is magnification important in a telescope?"],
     ["The most important number is aperture, the diameter of the main lens or mirror, because it decides "
      "how much light the telescope collects and how much detail it can show.",
      "Magnification is the least important figure; boxes that advertise huge "
      "magnification are usually a bad sign.",
      "A 6- or 8-inch Dobsonian reflector is often recommended as a great first telescope, and good "
      "binoculars are an excellent cheaper start."],
     "Aperture matters most, not magnification; a small Dobsonian or binoculars are great starts.",
     "Buy the one with the highest magnification you can afford."),
])

RECIPES.extend([
    dict(name="chocolate chip cookies", plural=True, serves=18, time="35 minutes plus chilling",
         ing=["115 g soft butter", "100 g brown sugar", "50 g white sugar", "1 egg", "1 tsp vanilla",
              "180 g plain flour", "1/2 tsp baking soda", "1/2 tsp salt", "150 g chocolate chips"],
         steps=["Beat the butter and both sugars until creamy.",
                "Beat in the egg and vanilla.",
                "Stir in the flour, baking soda and salt until just combined, then fold in the chocolate.",
                "Chill the dough for at least 30 minutes.",
                "Bake spoonfuls at 180°C for 10 to 12 minutes, until golden at "
                "the edges but soft in the middle."],
         problem=("the cookies spread into thin puddles",
                  "The butter was probably too warm, or the dough went in unchilled. Chill the dough, make "
                  "sure the oven is fully preheated, and weigh the flour rather than using cups."),
         swap=("chocolate chips", "chopped nuts, dried cherries or a chopped chocolate bar",
               "Chopped chocolate gives melty pools instead of chips."),
         store="They keep for 5 days in an airtight tin; the unbaked dough freezes for 3 months.",
         about="Chocolate chip cookies are a classic American drop cookie, crisp at the "
               "edges and chewy in the middle."),
    dict(name="chili con carne", serves=6, time="1 hour 30 minutes",
         ing=["500 g minced beef", "1 onion, chopped", "1 red pepper, diced", "3 garlic cloves",
              "2 tsp ground cumin", "2 tsp chilli powder", "1 tsp dried oregano", "2 cans chopped tomatoes",
              "2 cans kidney beans, drained", "1 tbsp tomato paste", "1 tbsp oil"],
         steps=["Brown the beef in the oil in batches and set aside.",
                "Soften the onion and pepper, then add the garlic and spices for a minute.",
                "Stir in the tomato paste, tomatoes and beef.",
                "Simmer gently for an hour, stirring occasionally.",
                "Add the beans for the last 15 minutes and season to taste."],
         problem=("the chili tastes thin and one-dimensional",
                  "Give it more time, and brown the meat properly at the start. A square of dark chocolate, "
                  "a splash of vinegar or a spoon of cocoa at the end adds depth."),
         swap=("minced beef", "lentils and diced mushrooms",
               "Cook the lentils for about 30 minutes in the sauce."),
         store="Chili improves overnight and keeps for 4 days in the fridge or 3 months in the freezer.",
         about="Chili con carne is a spiced stew of meat, chillies and "
               "usually beans, associated with Texas."),
    dict(name="Greek salad", serves=4, time="15 minutes",
         ing=["4 ripe tomatoes, in wedges", "1 cucumber, in thick slices", "1 small red onion, thinly sliced",
              "1 green pepper, sliced", "A handful of Kalamata olives", "200 g block of feta",
              "Dried oregano", "4 tbsp extra virgin olive oil", "1 tbsp red wine vinegar"],
         steps=["Combine the tomatoes, cucumber, onion, pepper and olives in a wide bowl.",
                "Season with salt and toss with the vinegar.",
                "Lay the block of feta on top.",
                "Sprinkle with oregano and pour over the olive oil just before serving."],
         problem=("the salad goes watery",
                  "Salt draws water from the tomatoes and cucumber. Dress it just before serving, and use "
                  "firm cucumbers; scooping out the seeds helps."),
         swap=("feta", "a firm, salty sheep's cheese or marinated tofu", "Keep the texture chunky."),
         store="It is best fresh; undressed vegetables keep for a day in the fridge.",
         about="A proper Greek village salad has no lettuce, just ripe "
               "vegetables, olives and a slab of feta."),
    dict(name="miso soup", serves=4, time="15 minutes",
         ing=["1 litre dashi stock", "3 tbsp miso paste", "150 g silken tofu, cubed",
              "1 tbsp dried wakame seaweed", "2 spring onions, sliced"],
         steps=["Soak the wakame in water for 5 minutes and drain.",
                "Heat the dashi until just below a simmer.",
                "Whisk the miso with a ladle of the warm stock in a bowl until smooth.",
                "Add the tofu and wakame to the pot, then stir in the miso mixture off the heat.",
                "Serve topped with spring onions."],
         problem=("the soup tastes flat or grainy",
                  "Miso should not boil, which dulls its flavour and makes it grainy. Dissolve it "
                  "separately and add it at the very end."),
         swap=("dashi", "vegetable stock with a strip of kombu", "Remove the kombu before it boils."),
         store="Reheat leftovers gently without boiling; it keeps for 2 days.",
         about="Miso soup is a Japanese staple of dashi broth and fermented soybean paste."),
])

COOK_TECH.extend([
    ("deglaze", ["What does deglazing a pan mean?", "How do I make a pan sauce?"],
     ["Deglazing means pouring liquid, such as wine, stock or even water, into a hot pan after searing, and "
      "scraping up the browned bits stuck to the bottom.",
      "Those bits are concentrated flavour. Reduce the liquid by half, then whisk in a knob of cold butter "
      "off the heat for a glossy pan sauce in about five minutes."],
     "Adding liquid to a hot pan to lift the browned bits, then reducing it into a sauce.",
     "It means washing the pan before cooking."),
    ("eggs_boil", ["How long should I boil an egg?", "How do I get soft-boiled eggs right?"],
     ["Lower fridge-cold eggs into water that is already at a rolling boil, then time them: about 6 minutes "
      "for runny yolks, 8 for jammy and 11 for fully hard.",
      "Move them straight into cold water to stop the cooking. Starting in boiling water "
      "also makes them easier to peel."],
     "Into boiling water: 6 minutes runny, 8 jammy, 11 hard, then into cold water.",
     "Boil them for 20 minutes to be safe."),
    ("freeze_herbs", ["How do I keep fresh herbs from wilting?", "How should I store fresh herbs?"],
     ["Treat soft herbs such as parsley, cilantro and basil like flowers: trim the stems and stand them in a "
      "jar of water. Keep basil at room temperature and the others loosely covered in the fridge.",
      "Wrap hardy herbs such as thyme and rosemary in a damp paper towel in a container in the fridge.",
      "To keep them longer, chop them into ice cube trays with a little olive oil and freeze."],
     "Soft herbs in water like flowers, hardy herbs in a damp towel, or freeze them in oil.",
     "Keep all herbs in a sealed bag in the freezer door."),
    ("knife_skills", ["How do I chop an onion without it falling apart?",
                      "What's the best way to dice an onion?"],
     ["Halve the onion through the root and peel it, leaving the root end on; it holds the layers together.",
      "Make vertical cuts towards the root without cutting through it, then a couple of horizontal cuts, and "
      "finally slice across to produce even dice.",
      "A sharp knife crushes fewer cells, which also means fewer tears."],
     "Keep the root on, cut towards it, then slice across for neat dice.",
     "Cut off both ends first so it's easier."),
])

PLANTS.extend([
    dict(name="carrots", sun="full sun", water="evenly, so the roots don't crack",
         soil="deep, loose, stone-free soil", plant="direct-sown from spring to midsummer",
         space="5 cm apart in rows 20 cm apart after thinning", pot="a container at least 30 cm deep",
         problem=("the roots are forked and twisted", "stony or compacted soil",
                  "Carrots fork when the root tip hits stones or hard soil. Loosen the bed deeply, avoid "
                  "fresh manure, or grow short round varieties in containers."),
         harvest="Pull when the shoulders at the soil surface are the width you want; loosen the soil first.",
         friend="onions and chives, which may confuse carrot fly"),
    dict(name="cucumbers", sun="full sun and warmth", water="consistently; dry spells make them bitter",
         soil="rich, moisture-retentive soil", plant="after the last frost in warm soil",
         space="45 cm apart with a trellis", pot="a 20-litre pot with a support",
         problem=("the fruit tastes bitter", "water or heat stress",
                  "Irregular watering and very hot spells concentrate the bitter compounds. Water deeply and "
                  "regularly and mulch the roots; modern varieties are also less prone to it."),
         harvest="Pick while still firm and before the seeds harden; regular "
                 "picking keeps the plant producing.",
         friend="dill and sweetcorn"),
    dict(name="rosemary", sun="full sun", water="sparingly; let it dry out between waterings",
         soil="free-draining, gritty soil", plant="in spring", space="60 to 90 cm apart",
         pot="a terracotta pot with gritty compost",
         problem=("the needles are turning brown from the base", "wet roots",
                  "Rosemary hates sitting in water, especially in winter. Improve drainage, raise pots onto "
                  "feet and water only when the compost has dried out."),
         harvest="Snip sprigs any time, taking no more than a third of the plant at once.",
         friend="sage and lavender"),
    dict(name="an orchid", sun="bright, indirect light, such as an east-facing window",
         water="about once a week by soaking the pot, then letting it drain fully",
         soil="chunky orchid bark, never ordinary compost", plant="any time indoors", space="one per pot",
         pot="a clear plastic orchid pot with plenty of holes",
         problem=("it hasn't flowered again since I got it", "not enough light or temperature contrast",
                  "Moth orchids often need a few weeks of slightly cooler nights, around 15°C, to trigger a "
                  "new flower spike. Give it bright indirect light and a monthly weak orchid feed."),
         harvest="After flowering, cut the spike just above a node to encourage a side shoot.",
         friend="other humidity-loving houseplants"),
])

GARDEN_GENERAL.extend([
    ("aphids", ["How do I get rid of aphids without chemicals?",
                "My plants are covered in greenfly. What do I do?"],
     ["Start by squashing small colonies with your fingers or blasting them off with a strong jet of water.",
      "Encourage ladybirds, lacewings and hoverflies, which eat aphids, by growing flowers nearby and "
      "avoiding broad-spectrum sprays.",
      "Lush, over-fertilised growth attracts aphids, so go easy on high-nitrogen feeds."],
     "Squash or hose them off and encourage predators such as ladybirds.",
     "Spray everything with bleach."),
    ("pruning", ["When should I prune my shrubs?", "Is there a right time to prune?"],
     ["A good rule is to prune spring-flowering shrubs straight after they bloom, because "
      "they flower on last year's growth.",
      "Shrubs that flower in late summer on new growth can be pruned in late winter or early spring.",
      "Dead, damaged or diseased wood can be removed at any time of year."],
     "Spring bloomers right after flowering, summer bloomers in late winter, dead wood any time.",
     "Prune everything hard in autumn."),
    ("overwinter", ["How do I protect plants over winter?", "How do I keep potted plants alive in frost?"],
     ["Move tender pots against a house wall or into a shed or greenhouse, and raise them on "
      "feet so they don't sit in water.",
      "Wrap pots in bubble wrap or hessian to protect the roots, which are more vulnerable than the foliage.",
      "Cover borderline plants with horticultural fleece on frosty nights, and "
      "water less while growth is slow."],
     "Shelter pots, insulate the roots, fleece on frosty nights and water less.",
     "Water them heavily every day so they don't freeze."),
])

EVENTS.extend([
    dict(name="the Reformation", when="from 1517",
         summary="The Protestant Reformation began in 1517 when Martin Luther published his 95 Theses "
                 "criticising the sale of indulgences, splitting Western Christianity.",
         causes=["anger at corruption and the sale of indulgences",
                 "the printing press, which spread reformers' writings quickly",
                 "rulers who wanted more independence from the papacy"],
         effects=["the emergence of Lutheran, Reformed and Anglican churches",
                  "the Catholic Counter-Reformation, including the Council of Trent",
                  "a century of religious wars in Europe"],
         timeline=[("1517", "Luther's 95 Theses"), ("1521", "the Diet of Worms"),
                   ("1534", "the Act of Supremacy in England"), ("1545", "the Council of Trent opens")]),
    dict(name="the Wright brothers' first flight", when="17 December 1903",
         summary="On 17 December 1903 at Kitty Hawk, North Carolina, Orville and Wilbur Wright made the "
                 "first controlled, sustained flights in a powered, heavier-than-air aircraft.",
         causes=["years of glider experiments on wing shape and control",
                 "their own wind tunnel measurements",
                 "a lightweight engine built in their bicycle shop"],
         effects=["the birth of practical aviation",
                  "rapid military use of aircraft within a decade",
                  "the foundations of modern air travel"],
         timeline=[("1900", "first glider tests at Kitty Hawk"), ("1901", "wind tunnel experiments"),
                   ("17 December 1903", "the first powered flight, 12 seconds long"),
                   ("1908", "public demonstrations in France")]),
    dict(name="the Cuban Missile Crisis", when="October 1962",
         summary="In October 1962, the United States discovered Soviet nuclear missiles in Cuba, leading to "
                 "a 13-day standoff that brought the world closer to nuclear war than ever before.",
         causes=["the failed Bay of Pigs invasion of 1961",
                 "American missiles based in Turkey and Italy",
                 "the Soviet wish to protect Cuba and balance the nuclear threat"],
         effects=["the removal of Soviet missiles from Cuba and, quietly, US missiles from Turkey",
                  "a direct hotline between Washington and Moscow",
                  "the 1963 Partial Test Ban Treaty"],
         timeline=[("14 October 1962", "spy planes photograph the missile sites"),
                   ("22 October 1962", "Kennedy announces a naval quarantine"),
                   ("28 October 1962", "Khrushchev agrees to withdraw the missiles")]),
    dict(name="the Renaissance in Florence", when="the 15th century",
         summary="In 15th-century Florence, wealth from banking and trade, and patrons such as the Medici "
                 "family, fuelled a flowering of art, architecture and learning "
                 "inspired by classical antiquity.",
         causes=["wealth from banking and the wool and silk trades",
                 "rediscovered classical texts and Greek scholars arriving from the East",
                 "competition between wealthy patrons and guilds"],
         effects=["new techniques such as linear perspective",
                  "works by Brunelleschi, Donatello, Botticelli and others",
                  "the spread of humanist ideas across Europe"],
         timeline=[("1436", "Brunelleschi's dome is completed"), ("1469", "Lorenzo de' Medici takes power"),
                   ("c. 1485", "Botticelli paints The Birth of Venus"),
                   ("1504", "Michelangelo's David is unveiled")]),
])


# --------------------------------------------------------------------------------------------------------
# assembling rows
# --------------------------------------------------------------------------------------------------------

TOPICS = {
    # name: (relative weight, bundle function)
    "math_word_problems": (1.6, bundle_math),
    "customer_support": (1.45, bundle_support),
    "personal_finance": (1.4, bundle_finance),
    "python_programming": (1.15, bundle_python),
    "travel": (1.0, bundle_travel),
    "cooking": (0.8, bundle_cooking),
    "gardening": (0.75, bundle_gardening),
    "history": (0.75, bundle_history),
    "health_fitness": (0.65, bundle_fitness),
    "astronomy": (0.7, bundle_astronomy),
    "home_maintenance": (0.65, bundle_home),
}

GENERIC_SYSTEM = [
    "You are a helpful assistant.",
    "You are a helpful, concise assistant. Answer clearly and accurately.",
    "You are a friendly assistant. Keep answers practical and easy to follow.",
    "You are a knowledgeable assistant. Prefer short paragraphs and use lists where they help.",
    "You are an assistant that explains things step by step without unnecessary jargon.",
]
TOPIC_SYSTEM = {
    "math_word_problems": "You are a patient math tutor. Show your working and explain each step.",
    "python_programming": "You are a senior Python developer who writes clean, idiomatic, well-tested code.",
    "customer_support": "You help customer support agents write clear, warm and accurate replies.",
    "personal_finance": "You explain personal finance in plain language. You are not a licensed adviser, so "
                        "you give general education rather than individual recommendations.",
    "travel": "You are a well-travelled trip planner who gives specific, practical suggestions.",
    "health_fitness": "You are a certified personal trainer. Give safe, evidence-based guidance.",
    "cooking": "You are an experienced home cook who gives reliable, tested kitchen advice.",
    "gardening": "You are a friendly gardening expert for home growers.",
    "home_maintenance": "You are a practical handyperson who helps homeowners with simple repairs safely.",
    "astronomy": "You are an enthusiastic astronomy educator.",
    "history": "You are a history teacher who explains events clearly and accurately.",
}
OPENERS = ["Sure!", "Good question.", "Happy to help.", "Great question.", "Absolutely.", "Of course.",
           "Here's a practical answer.", "Let's break it down."]
CLOSERS = ["Let me know if you'd like me to adjust anything.", "Hope that helps!",
           "If you share a bit more about your situation, I can tailor this further.",
           "Happy to go into more detail on any part of this.", "Good luck with it!",
           "Want me to turn this into a checklist?"]
SUMMARY_ASKS = ["Can you sum that up in one sentence?", "Give me the short version.", "TL;DR?",
                "So what's the one thing I should remember?"]
THANKS = [("Thanks, that's really helpful!", "You're welcome! Have fun with it."),
          ("Perfect, thank you.", "Glad it helped. Feel free to come back with more questions."),
          ("Great, that answers my question.", "Great! Good luck."),
          ("Thanks a lot!", "Any time. Enjoy!")]


def dress(rng, body: str, p_open=0.3, p_close=0.25) -> str:
    parts = []
    lead_in = body.split("\n", 1)[0].rstrip().endswith(":") or body.startswith(("Sure", "Yes", "Not quite"))
    if chance(rng, p_open) and not lead_in:
        parts.append(pick(rng, OPENERS))
    parts.append(body)
    if chance(rng, p_close):
        parts.append(pick(rng, CLOSERS))
    return "\n\n".join(parts)


MAX_KEY_USES = 2
MAX_DRAWS = 5000  # candidate rows drawn per slot before giving up (the worst slot needs a few hundred)


class Builder:
    """Draws candidate rows for one topic at a time and keeps only those unlike everything accepted so far."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.key_uses: dict[str, int] = {}
        self.index = SimIndex()  # lowercase word 3-grams
        self.index_ws = SimIndex()  # whitespace-token 3-grams (case and punctuation kept)
        self.prompts: set = set()  # (file, prompt): no two rows of a file open with the same prompt
        self.index_resp = SimIndex()  # main responses on their own
        self.index_resp_ws = SimIndex()
        self.index_pair = SimIndex()  # opening prompt + main response (what a prompt/response view shows)

    def fresh(self, qas):
        return [q for q in qas if q.standalone and self.key_uses.get(q.key, 0) == 0]

    def usable(self, qas):
        return [q for q in qas if q.standalone and self.key_uses.get(q.key, 0) < MAX_KEY_USES]

    def choose_one(self, qas):
        pool = self.fresh(qas) or self.usable(qas)
        return pick(self.rng, pool) if pool else None

    def chat_row(self, topic):
        rng = self.rng
        qas = TOPICS[topic][1](rng)
        msgs = []
        if chance(rng, 0.35):
            sys_text = TOPIC_SYSTEM[topic] if chance(rng, 0.5) else pick(rng, GENERIC_SYSTEM)
            msgs.append({"role": "system", "content": sys_text})
        turns = 1 if chance(rng, 0.55) else pick(rng, [2, 2, 2, 3, 3, 4])
        used = []
        if turns == 1:
            qa = self.choose_one(qas)
            if qa is None:
                return None, []
            msgs += [{"role": "user", "content": qa.prompt},
                     {"role": "assistant", "content": dress(rng, qa.response)}]
            return {"messages": msgs}, [qa]
        first = qas[0]
        if self.key_uses.get(first.key, 0) >= MAX_KEY_USES:
            return None, []
        rest = [q for q in qas[1:] if self.key_uses.get(q.key, 0) < MAX_KEY_USES]
        k = min(len(rest), turns - 1)
        idx = sorted(rng.sample(range(len(rest)), k))
        chain = [first] + [rest[i] for i in idx]
        msgs += [{"role": "user", "content": first.prompt},
                 {"role": "assistant", "content": dress(rng, first.response)}]
        used.append(first)
        last = first
        for q in chain[1:]:
            msgs += [{"role": "user", "content": q.followup or q.prompt},
                     {"role": "assistant", "content": dress(rng, q.response, 0.15, 0.15)}]
            used.append(q)
            last = q
        n_user = sum(1 for m in msgs if m["role"] == "user")
        while n_user < turns:
            if chance(rng, 0.5):
                msgs += [{"role": "user", "content": pick(rng, SUMMARY_ASKS)},
                         {"role": "assistant", "content": last.short}]
            else:
                u, a = pick(rng, THANKS)
                msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
                n_user = turns  # thanks ends the conversation
                break
            n_user += 1
        return {"messages": msgs}, used

    def preference_row(self, topic):
        rng = self.rng
        qa = self.choose_one(TOPICS[topic][1](rng))
        if qa is None or qa.rejected.strip() == qa.response.strip():
            return None, []
        row = {"prompt": qa.prompt, "chosen": dress(rng, qa.response, 0.2, 0.15), "rejected": qa.rejected}
        return row, [qa]

    def sft_row(self, topic):
        rng = self.rng
        qa = self.choose_one(TOPICS[topic][1](rng))
        if qa is None:
            return None, []
        if qa.instruction and chance(rng, 0.65):
            instruction, inp = qa.instruction, qa.input
        else:
            instruction, inp = qa.prompt, ""
        return {"instruction": instruction, "input": inp, "output": dress(rng, qa.response, 0.08, 0.08)}, [qa]

    def accept(self, file, row, qas) -> bool:
        if (file, prompt_of(file, row)) in self.prompts:
            return False
        text = row_text(file, row)
        sh, sh_ws = shingles(text), shingles(text, False)
        if self.index.max_sim(sh) >= REJECT_AT or self.index_ws.max_sim(sh_ws) >= REJECT_AT:
            return False
        if not self.add_response(main_response(file, row), prompt_of(file, row), check=True):
            return False
        self.add(text)
        self.prompts.add((file, prompt_of(file, row)))
        for q in qas:
            self.key_uses[q.key] = self.key_uses.get(q.key, 0) + 1
        return True

    def add(self, text: str):
        self.index.add(shingles(text))
        self.index_ws.add(shingles(text, False))

    def add_response(self, response: str, prompt: str, check: bool = False) -> bool:
        resp, resp_ws = shingles(response), shingles(response, False)
        pair = shingles(prompt + "\n" + response)
        if check and (self.index_resp.max_sim(resp) >= RESPONSE_REJECT_AT
                      or self.index_resp_ws.max_sim(resp_ws) >= RESPONSE_REJECT_AT
                      or self.index_pair.max_sim(pair) >= REJECT_AT):
            return False
        self.index_resp.add(resp)
        self.index_resp_ws.add(resp_ws)
        self.index_pair.add(pair)
        return True


def schedule(rng, n: int) -> list[str]:
    """n topic names in proportion to the weights (largest remainder), shuffled."""
    names = list(TOPICS)
    total = sum(w for w, _ in TOPICS.values())
    exact = [n * TOPICS[t][0] / total for t in names]
    counts = [int(x) for x in exact]
    order = sorted(range(len(names)), key=lambda i: -(exact[i] - counts[i]))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    out = [t for t, c in zip(names, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------------------------------------
# similarity
# --------------------------------------------------------------------------------------------------------

WORD = re.compile(r"\w+")


def row_text(file: str, row: dict) -> str:
    if file == "chat.jsonl":
        return "\n".join(m["content"] for m in row["messages"] if isinstance(m.get("content"), str))
    if file == "preference.jsonl":
        return "\n".join([row["prompt"], row["chosen"], row["rejected"]])
    return "\n".join([row["instruction"], row["input"], row["output"]])


def prompt_of(file: str, row: dict) -> str:
    """The opening request of a row: first user turn, preference prompt, or instruction plus input."""
    if file == "chat.jsonl":
        return next(m["content"] for m in row["messages"] if m["role"] == "user")
    if file == "preference.jsonl":
        return row["prompt"]
    return row["instruction"] + "\n" + row["input"]


def similarity_views(file: str, row: dict) -> list[tuple[str, bool]]:
    """(text, lowercase words?) pairs that must all be free of unplanted near duplicates."""
    text, resp = row_text(file, row), main_response(file, row)
    pair = prompt_of(file, row) + "\n" + resp
    return [(text, True), (text, False), (resp, True), (resp, False), (pair, True)]


def shingles(text: str, lowercase_words: bool = True) -> frozenset:
    toks = WORD.findall(text.lower()) if lowercase_words else text.split()
    return frozenset(zip(toks, toks[1:], toks[2:], strict=False))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class SimIndex:
    """Inverted index from shingle to row ids, for max-Jaccard queries."""

    def __init__(self):
        self.post: dict = {}
        self.sizes: list[int] = []

    def add(self, sh) -> int:
        rid = len(self.sizes)
        self.sizes.append(len(sh))
        for s in sh:
            self.post.setdefault(s, []).append(rid)
        return rid

    def overlaps(self, sh) -> dict[int, int]:
        counts: dict[int, int] = {}
        for s in sh:
            for rid in self.post.get(s, ()):
                counts[rid] = counts.get(rid, 0) + 1
        return counts

    def max_sim(self, sh) -> float:
        best = 0.0
        for rid, c in self.overlaps(sh).items():
            best = max(best, c / (len(sh) + self.sizes[rid] - c))
        return best


# --------------------------------------------------------------------------------------------------------
# planted defects
# --------------------------------------------------------------------------------------------------------

DEFECTS = {
    # key: (label for the README, {file: count})
    "exact_duplicate": ("Exact duplicate (byte-identical copy of an earlier row in the same file)",
                        {"chat.jsonl": 4, "preference.jsonl": 2, "sft.jsonl": 6}),
    "near_duplicate": ("Near duplicate (a few words, punctuation or a sentence "
                       "changed; word 3-gram Jaccard >= 0.7)",
                       {"chat.jsonl": 4, "sft.jsonl": 6}),
    "template_placeholder": ("Unfilled template placeholder such as `{{customer_name}}` in a response",
                             {"chat.jsonl": 2, "sft.jsonl": 1}),
    "email_address": ("Personal email address in a user turn or input", {"chat.jsonl": 1, "sft.jsonl": 1}),
    "api_key": ("Secret-looking API key (`sk-proj-...`, `AKIA...`)", {"chat.jsonl": 1, "sft.jsonl": 1}),
    "html_residue": ("HTML residue in a response (`<p>`, `<br>`, `<div>`, `&nbsp;`)",
                     {"chat.jsonl": 1, "preference.jsonl": 1, "sft.jsonl": 2}),
    "truncated_response": ("Response cut off mid-word, without final punctuation",
                           {"chat.jsonl": 1, "sft.jsonl": 2}),
    "refusal": ("Unwarranted refusal / AI boilerplate (\"as an AI language model...\")",
                {"chat.jsonl": 1, "preference.jsonl": 1, "sft.jsonl": 1}),
    "empty_assistant_turn": ("Assistant turn with empty content (one final, one mid-conversation)",
                             {"chat.jsonl": 2}),
    "chosen_equals_rejected": ("Preference pair whose chosen and rejected texts are identical",
                               {"preference.jsonl": 3}),
    "repeated_answer": ("Chat whose final assistant turn repeats an earlier assistant turn word for word "
                        "(a \"sum it up\" follow-up answered with a copy)", {"chat.jsonl": 5}),
}

SYNONYMS = {
    "about": "roughly", "usually": "typically", "often": "frequently", "start": "begin", "help": "assist",
    "small": "little", "big": "large", "quickly": "rapidly", "also": "additionally", "enough": "sufficient",
    "keep": "retain", "show": "display", "good": "great", "very": "really", "want": "wish", "use": "utilise",
    "check": "verify", "then": "next", "best": "ideal", "simple": "basic", "each": "every",
    "after": "following",
    "before": "prior to", "around": "approximately",
}
EXTRA_SENTENCES = ["Hope this helps!", "Let me know if anything is unclear.",
                   "Feel free to ask a follow-up question.",
                   "That should cover the basics."]

REFUSALS = [
    "I'm sorry, but as an AI language model I cannot provide advice on this topic. Please "
    "consult a qualified professional.",
    "As an AI language model, I don't have personal experience with this, so I can't help with that request.",
    "I'm sorry, but I cannot assist with that request.",
]
RESPONSE_END = re.compile(r"(?:[.!?]|```)\s*$")


def responses(file: str, row: dict):
    """(field path, text) for every response-like string in a row."""
    if file == "chat.jsonl":
        for i, m in enumerate(row["messages"]):
            if m["role"] == "assistant" and isinstance(m.get("content"), str):
                yield f"messages[{i}].content", m["content"]
    elif file == "preference.jsonl":
        yield "chosen", row["chosen"]
        yield "rejected", row["rejected"]
    else:
        yield "output", row["output"]


def last_assistant(row: dict) -> int:
    return max(i for i, m in enumerate(row["messages"]) if m["role"] == "assistant" and m.get("content"))


def main_response(file: str, row: dict) -> str:
    """The final assistant turn with content (chat), chosen (preference) or output (sft)."""
    if file == "chat.jsonl":
        texts = [m["content"] for m in row["messages"] if m["role"] == "assistant" and m.get("content")]
        return texts[-1] if texts else ""
    c, k, _ = main_field(file, row)
    return c[k]


def main_field(file: str, row: dict):
    """(container, key) of the response that defects are planted into."""
    if file == "chat.jsonl":
        return row["messages"][last_assistant(row)], "content", f"messages[{last_assistant(row)}].content"
    if file == "preference.jsonl":
        return row, "chosen", "chosen"
    return row, "output", "output"


def truncate_mid_word(rng, text: str) -> str:
    lo, hi = int(len(text) * 0.5), int(len(text) * 0.8)
    spots = [i for i in range(lo, hi) if text[i - 1].isalpha() and text[i].isalpha() and text[i + 1].isalpha()
             and text[i - 2].isalpha()]
    return text[: pick(rng, spots)]


def near_copy(rng, text: str) -> str | None:
    """Change 2-3 words via SYNONYMS, plus casing/punctuation or an extra sentence."""
    words = list(re.finditer(r"\b[a-z]+\b", text))
    spots = [m for m in words if m.group(0) in SYNONYMS]
    if len(spots) < 3:
        return None
    chosen = sorted(rng.sample(spots, pick(rng, [2, 3])), key=lambda m: m.start())
    out, pos = [], 0
    for m in chosen:
        out += [text[pos:m.start()], SYNONYMS[m.group(0)]]
        pos = m.end()
    out.append(text[pos:])
    new = "".join(out)
    r = rng.random()
    if r < 0.4:
        sep = "\n\n" if new.rstrip().endswith("```") else " "
        new = new.rstrip() + sep + pick(rng, EXTRA_SENTENCES)
    elif r < 0.7:
        new = new.replace(", ", " ", 1)
    else:
        new = new[:1].swapcase() + new[1:]
    return new


def fake_openai_key(rng) -> str:
    alphabet = string.ascii_letters + string.digits
    return "sk-proj-" + "".join(rng.choice(alphabet) for _ in range(40))


def fake_aws_key(rng) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "AKIA" + "".join(rng.choice(alphabet) for _ in range(16))


def has_code(text: str) -> bool:
    return "```" in text


def word_count(text: str) -> int:
    return len(WORD.findall(text))


SIGNATURE = re.compile(r"\n([A-Z][a-z]+) ([A-Z][a-z]+)$")
GREETING = re.compile(r"(?m)^Hi ([A-Z][a-z]+),$")


def plant_defects(rng, base):
    """Plant the content defects, each in its own row; returns the set of (file, line) carriers.

    Every mutation is tried on a copy first and kept only if the changed row is still unlike every other
    row (shrinking a row, e.g. by emptying a turn, could otherwise turn it into an accidental near duplicate).
    """
    taken: set = set()
    limits = [REJECT_AT + 0.05] * 2 + [RESPONSE_REJECT_AT + 0.05] * 2 + [REJECT_AT + 0.05]

    def both(file, data):
        return [shingles(text, lw) for text, lw in similarity_views(file, data)]

    cache = {(f, i): both(f, r["data"]) for f in FILES for i, r in enumerate(base[f])}

    def distinct(file, i, data) -> bool:
        mine = both(file, data)
        return all(jaccard(a, b) < limit for key, theirs in cache.items() if key != (file, i)
                   for a, b, limit in zip(mine, theirs, limits, strict=True))

    def plant(file, k, kind, pred, mutate):
        cands = [i for i, r in enumerate(base[file])
                 if (file, i) not in taken and not r.get("tool") and pred(r["data"], r["topic"])]
        rng.shuffle(cands)
        for i in cands:
            if k == 0:
                break
            trial = json.loads(json.dumps(base[file][i]["data"]))
            field = mutate(trial)
            if not distinct(file, i, trial):
                continue
            base[file][i]["data"] = trial
            base[file][i]["defect"] = (kind, field)
            cache[(file, i)] = both(file, trial)
            taken.add((file, i))
            k -= 1
        if k:
            raise SystemExit(f"not enough candidate rows in {file} for {kind}")

    def main_text(file, d):
        c, k, _ = main_field(file, d)
        return c[k]

    def plain(file, d):
        t = main_text(file, d)
        return not has_code(t) and word_count(t) >= 25 and "\n\n" in t.strip()

    def first_user(d):
        return next(i for i, m in enumerate(d["messages"]) if m["role"] == "user")

    def short_chat(d):
        return len(d["messages"]) <= 3

    # template placeholders -------------------------------------------------------------------------------
    def customer_name(d):
        c, k, field = main_field("chat.jsonl", d)
        c[k] = GREETING.sub("Hi {{customer_name}},", c[k], count=1)
        return field

    def assistant_name(d):
        c, k, field = main_field("chat.jsonl", d)
        c[k] = "Hi! I'm {{assistant_name}}, your assistant from {{company_name}}.\n\n" + c[k]
        return field

    def agent_name(d):
        d["output"] = GREETING.sub("Hi {{first_name}},", d["output"], count=1)
        d["output"] = re.sub(r"Best regards,\n\w+\n", "Best regards,\n{{agent_name}}\n", d["output"])
        return "output"

    plant("chat.jsonl", 1, "template_placeholder",
          lambda d, t: t == "customer_support" and GREETING.search(main_text("chat.jsonl", d)), customer_name)
    plant("chat.jsonl", 1, "template_placeholder",
          lambda d, t: t != "customer_support" and short_chat(d) and plain("chat.jsonl", d), assistant_name)
    plant("sft.jsonl", 1, "template_placeholder",
          lambda d, t: t == "customer_support" and bool(GREETING.search(d["output"]))
          and "Best regards,\n" in d["output"], agent_name)

    # personal email addresses ----------------------------------------------------------------------------
    def email_in_chat(d):
        j = first_user(d)
        first, last = SIGNATURE.search(d["messages"][j]["content"]).groups()
        d["messages"][j]["content"] += f"\n{first.lower()}.{last.lower()}@gmail.com"
        return f"messages[{j}].content"

    def email_in_input(d):
        first, last = SIGNATURE.search(d["input"]).groups()
        d["input"] += f"\n{first.lower()}{last.lower()[0]}{rng.randrange(70, 99)}@outlook.com"
        return "input"

    plant("chat.jsonl", 1, "email_address",
          lambda d, t: t == "customer_support" and SIGNATURE.search(d["messages"][first_user(d)]["content"]),
          email_in_chat)
    plant("sft.jsonl", 1, "email_address",
          lambda d, t: t == "customer_support" and SIGNATURE.search(d["input"]), email_in_input)

    # API keys --------------------------------------------------------------------------------------------
    def openai_key(d):
        j = first_user(d)
        d["messages"][j]["content"] += ("\n\nIn case it matters, the script starts like this:\n\n```python\n"
                                        "from openai import OpenAI\n\n"
                                        f"client = OpenAI(api_key=\"{fake_openai_key(rng)}\")\n```")
        return f"messages[{j}].content"

    def aws_key(d):
        d["input"] = f"AWS_ACCESS_KEY_ID = \"{fake_aws_key(rng)}\"  # TODO: read from env\n\n" + d["input"]
        return "input"

    plant("chat.jsonl", 1, "api_key",
          lambda d, t: t == "python_programming" and "```python" in d["messages"][first_user(d)]["content"],
          openai_key)
    plant("sft.jsonl", 1, "api_key",
          lambda d, t: t == "python_programming" and d["input"].startswith(("def ", "import ")), aws_key)

    # HTML residue ----------------------------------------------------------------------------------------
    def p_tags(t):
        head, rest = t.split("\n\n", 1)
        return f"<p>{head}</p>\n\n{rest}"

    def br_tags(t):
        return "<br><br>\n".join(t.split("\n\n"))

    def div_tags(t):
        head, rest = t.split("\n\n", 1)
        return f"<div class=\"answer\">{head}</div>\n\n{rest}"

    def nbsp(t):
        return t.replace(" ", "&nbsp;", 3)

    forms = [p_tags, br_tags, div_tags, nbsp]
    rng.shuffle(forms)
    for file, k in [("chat.jsonl", 1), ("preference.jsonl", 1), ("sft.jsonl", 2)]:
        for _ in range(k):
            form = forms.pop()

            def html(d, file=file, form=form):
                c, key, field = main_field(file, d)
                c[key] = form(c[key])
                return field

            plant(file, 1, "html_residue",
                  lambda d, t, f=file: plain(f, d) and (f != "chat.jsonl" or short_chat(d)), html)

    # truncated responses ---------------------------------------------------------------------------------
    for file, k in [("chat.jsonl", 1), ("sft.jsonl", 2)]:
        def truncate(d, file=file):
            c, key, field = main_field(file, d)
            c[key] = truncate_mid_word(rng, c[key])
            return field

        plant(file, k, "truncated_response", lambda d, t, f=file: plain(f, d), truncate)

    # refusals --------------------------------------------------------------------------------------------
    harmless = ("cooking", "gardening", "math_word_problems", "home_maintenance", "astronomy", "travel")
    refusals = list(REFUSALS)
    rng.shuffle(refusals)
    for file in FILES:
        text = refusals.pop()

        def refuse(d, file=file, text=text):
            c, key, field = main_field(file, d)
            c[key] = text
            return field

        plant(file, 1, "refusal",
              lambda d, t, f=file: t in harmless and (f != "chat.jsonl" or short_chat(d)), refuse)

    # empty assistant turns -------------------------------------------------------------------------------
    def empty_last(d):
        d["messages"][-1]["content"] = ""
        return f"messages[{len(d['messages']) - 1}].content"

    def empty_middle(d):
        j = next(k for k, m in enumerate(d["messages"]) if m["role"] == "assistant")
        d["messages"][j]["content"] = ""
        return f"messages[{j}].content"

    plant("chat.jsonl", 1, "empty_assistant_turn", lambda d, t: d["messages"][-1]["role"] == "assistant",
          empty_last)
    plant("chat.jsonl", 1, "empty_assistant_turn",
          lambda d, t: sum(m["role"] == "assistant" for m in d["messages"]) >= 2, empty_middle)

    # chosen == rejected ----------------------------------------------------------------------------------
    def same(d):
        d["rejected"] = d["chosen"]
        return "rejected"

    plant("preference.jsonl", 3, "chosen_equals_rejected", lambda d, t: True, same)
    return taken


def plant_duplicates(rng, base, taken):
    """Insert exact and near copies of clean rows, far from their originals."""
    for file in FILES:
        rows = base[file]
        final_n = TARGET_ROWS[file]
        early = int(len(rows) * 0.45)
        clean = [i for i in range(early) if (file, i) not in taken and not rows[i].get("tool")]
        rng.shuffle(clean)
        copies = []
        for _ in range(DEFECTS["exact_duplicate"][1].get(file, 0)):
            i = clean.pop()
            copies.append({"data": rows[i]["data"], "topic": rows[i]["topic"],
                           "defect": ("exact_duplicate", None), "orig": rows[i]})
        need = DEFECTS["near_duplicate"][1].get(file, 0)
        while need:
            i = clean.pop()
            d = rows[i]["data"]
            c, key, _ = main_field(file, d)
            if has_code(c[key]) or word_count(row_text(file, d)) < 60:
                continue
            new_text = near_copy(rng, c[key])
            if new_text is None:
                continue
            copy = json.loads(json.dumps(d))
            c2, key2, field = main_field(file, copy)
            c2[key2] = new_text
            a, b = row_text(file, d), row_text(file, copy)
            sim = min(jaccard(shingles(a), shingles(b)), jaccard(shingles(a, False), shingles(b, False)))
            if sim < NEAR_MIN + 0.05:
                continue
            copies.append({"data": copy, "topic": rows[i]["topic"], "defect": ("near_duplicate", field),
                           "orig": rows[i]})
            need -= 1
        gap = final_n // 3
        for cp in copies:
            pos = next(k for k, r in enumerate(rows) if r is cp["orig"])
            rows.insert(rng.randrange(pos + gap, len(rows) + 1), cp)


def build(seed: int):
    rng = random.Random(seed)
    builder = Builder(rng)
    makers = {"chat.jsonl": builder.chat_row, "preference.jsonl": builder.preference_row,
              "sft.jsonl": builder.sft_row}
    jobs = []
    for file in FILES:
        n = TARGET_ROWS[file] - sum(DEFECTS[k][1].get(file, 0) for k in ("exact_duplicate", "near_duplicate"))
        if file == "chat.jsonl":
            n -= 1  # the tool-call conversation
        jobs += [(file, t) for t in schedule(rng, n)]
    rng.shuffle(jobs)
    base = {f: [] for f in FILES}
    tool = {"messages": weather_tool_conversation()}
    builder.add(row_text("chat.jsonl", tool))
    builder.add_response(main_response("chat.jsonl", tool), prompt_of("chat.jsonl", tool))
    for file, topic in jobs:
        for _ in range(MAX_DRAWS):
            data, qas = makers[file](topic)
            if data is not None and builder.accept(file, data, qas):
                break
        else:
            raise SystemExit(f"could not draw a distinct {topic} row for {file}; add more content")
        base[file].append({"data": data, "topic": topic, "defect": None})
    base["chat.jsonl"].insert(rng.randrange(len(base["chat.jsonl"]) // 4, len(base["chat.jsonl"])),
                              {"data": tool, "topic": "travel", "defect": None, "tool": True})
    taken = plant_defects(rng, base)
    plant_duplicates(rng, base, taken)
    for r in base["chat.jsonl"]:  # follow-ups the templates answer with a copy: real defects, so declared
        if r["defect"] is None and repeats_answer(r["data"]):
            r["defect"] = ("repeated_answer", "messages")
    return base


def repeats_answer(row: dict) -> bool:
    """The final assistant turn equals an earlier assistant turn."""
    answers = [m.get("content") for m in row.get("messages", []) if m["role"] == "assistant"]
    return len(answers) > 1 and bool(answers[-1]) and answers[-1] in answers[:-1]


# --------------------------------------------------------------------------------------------------------
# output, manifest and verification
# --------------------------------------------------------------------------------------------------------


def serialise(base):
    files, topics, defects = {}, {}, {k: [] for k in DEFECTS}
    row_ids = {}
    rid = 0
    for file in FILES:
        for line, r in enumerate(base[file]):
            row_ids[id(r)] = (file, line, rid)
            rid += 1
    for file in FILES:
        files[file] = "".join(json.dumps(r["data"], ensure_ascii=False) + "\n" for r in base[file])
        for line, r in enumerate(base[file]):
            topics[f"{file}:{line}"] = r["topic"]
            if r["defect"]:
                kind, field = r["defect"]
                loc = {"file": file, "line": line, "row_id": row_ids[id(r)][2]}
                if "orig" in r:
                    loc["of"] = row_ids[id(r["orig"])][2]
                if field:
                    loc["field"] = field
                defects[kind].append(loc)
    return files, topics, defects


PLACEHOLDER = re.compile(r"\{\{\s*\w+\s*\}\}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
API_KEY = re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}|\bAKIA[0-9A-Z]{16}\b")
HTML = re.compile(r"</?(?:p|div|br|span|a|b|i|u|ul|ol|li|table|tr|td|th|h[1-6]|strong|em|img|font)\b[^<>]*>"
                  r"|&(?:nbsp|amp|lt|gt|quot|apos|#\d+);", re.I)
REFUSAL = re.compile(r"\bas an ai\b|\blanguage model\b|\bsorry\b|\bi (?:cannot|can't|can not|am unable to)\b"
                     r"|\bi'm unable to\b|\bi apologi[sz]e\b", re.I)


def all_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from all_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_strings(v)


def detect(file: str, row: dict) -> set[str]:
    """Regex detectors used to verify the planted counts; every row is checked with all of them."""
    text = "\n".join(all_strings(row))
    found = set()
    if PLACEHOLDER.search(text) or "{{" in text or "}}" in text:
        found.add("template_placeholder")
    if EMAIL.search(text) or "@" in text:
        found.add("email_address")
    if API_KEY.search(text):
        found.add("api_key")
    if HTML.search(text):
        found.add("html_residue")
    if REFUSAL.search(text):
        found.add("refusal")
    for _, resp in responses(file, row):
        if resp == "":
            found.add("empty_assistant_turn")
        elif not RESPONSE_END.search(resp):
            found.add("truncated_response")
    if file == "chat.jsonl":
        for m in row["messages"]:
            if m["role"] != "assistant" and not (m.get("content") or "").strip():
                found.add("empty_non_assistant_turn")
    if file == "preference.jsonl" and row["chosen"] == row["rejected"]:
        found.add("chosen_equals_rejected")
    if file == "chat.jsonl" and repeats_answer(row):
        found.add("repeated_answer")
    return found


def verify(files: dict[str, str], topics: dict, defects: dict) -> list[str]:
    errors = []
    rows = {}
    for file in FILES:
        text = files[file]
        if not text.endswith("\n"):
            errors.append(f"{file}: not newline-terminated")
        rows[file] = [json.loads(line) for line in text.splitlines()]
        if len(rows[file]) != TARGET_ROWS[file]:
            errors.append(f"{file}: {len(rows[file])} rows, expected {TARGET_ROWS[file]}")
    total = sum(len(v) for v in rows.values())
    if total < 1000:
        errors.append(f"only {total} rows")
    if len(topics) != total or len(set(topics.values())) < 10:
        errors.append("topics.json does not cover every row with at least 10 topics")

    planted = {}
    for kind, locs in defects.items():
        expected = DEFECTS[kind][1]
        for file in FILES:
            n = sum(1 for loc in locs if loc["file"] == file)
            if n != expected.get(file, 0):
                errors.append(f"{kind}: {n} planted in {file}, expected {expected.get(file, 0)}")
        for loc in locs:
            planted.setdefault((loc["file"], loc["line"]), set()).add(kind)

    # regex detectors must fire on exactly the planted rows
    content_kinds = set(DEFECTS) - {"exact_duplicate", "near_duplicate"}
    for file in FILES:
        for line, row in enumerate(rows[file]):
            found = detect(file, row)
            want = planted.get((file, line), set()) & content_kinds
            if found != want:
                errors.append(f"{file}:{line}: detectors found {sorted(found)}, planted {sorted(want)}")
        chat_tools = sum(1 for r in rows[file] if file == "chat.jsonl"
                         and any(m.get("tool_calls") for m in r["messages"]))
        if file == "chat.jsonl" and chat_tools != 1:
            errors.append(f"{chat_tools} tool-call conversations, expected 1")

    # duplicates: exact copies and similarity
    pairs = set()
    for kind in ("exact_duplicate", "near_duplicate"):
        for loc in defects[kind]:
            pairs.add((loc["of"], loc["row_id"]))
    offsets, rid = {}, 0
    for file in FILES:
        offsets[file] = rid
        rid += len(rows[file])
    for file in FILES:
        seen, seen_prompt = {}, {}
        for line, row in enumerate(rows[file]):
            r = offsets[file] + line
            p = prompt_of(file, row)
            if p in seen_prompt and (seen_prompt[p], r) not in pairs:
                errors.append(f"{file}:{line}: unplanted repeat of the prompt of row {seen_prompt[p]}")
            seen_prompt.setdefault(p, r)
            key = json.dumps(row, ensure_ascii=False, sort_keys=True)
            if key in seen and (seen[key], r) not in pairs:
                errors.append(f"{file}:{line}: unplanted exact duplicate of row {seen[key]}")
            seen.setdefault(key, r)
        for loc in defects["exact_duplicate"]:
            if loc["file"] == file:
                a, b = rows[file][loc["line"]], rows[file][loc["of"] - offsets[file]]
                if a != b or abs(loc["row_id"] - loc["of"]) < TARGET_ROWS[file] // 4:
                    errors.append(f"{file}:{loc['line']}: exact duplicate not identical or too close")

    all_rows = [(file, row) for file in FILES for row in rows[file]]
    for view in range(5):  # whole row, main response alone, prompt + response (see similarity_views)
        index = SimIndex()
        for r, (file, row) in enumerate(all_rows):
            text, lowercase = similarity_views(file, row)[view]
            sh = shingles(text, lowercase)
            for other, c in index.overlaps(sh).items():
                j = c / (len(sh) + index.sizes[other] - c)
                if (other, r) in pairs:
                    if view < 2 and j < NEAR_MIN:
                        errors.append(f"planted pair {other}-{r} has Jaccard {j:.2f} < {NEAR_MIN}")
                elif j >= CLEAN_MAX:
                    errors.append(f"view {view}: unplanted pair {other}-{r} has Jaccard {j:.2f}")
            index.add(sh)
    return errors


def readme(files, topics, defects) -> str:
    counts = {f: files[f].count("\n") for f in FILES}
    by_topic: dict[str, dict[str, int]] = {}
    for loc, topic in topics.items():
        f = loc.split(":")[0]
        by_topic.setdefault(topic, {x: 0 for x in FILES})[f] += 1
    topic_rows = "\n".join(
        f"| {t} | {c['chat.jsonl']} | {c['preference.jsonl']} | {c['sft.jsonl']} | {sum(c.values())} |"
        for t, c in sorted(by_topic.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
    defect_rows = "\n".join(
        f"| `{k}` | {label} | {len(defects[k])} | "
        + ", ".join(f"{f} ({n})" for f, n in per_file.items()) + " |"
        for k, (label, per_file) in DEFECTS.items())
    total = sum(counts.values())
    return f"""# Sample dataset

Synthetic assistant-training data that Sift opens by default. Every row is written by
[`generate.py`](generate.py) from templates and small hand-written fact tables (no public dataset,
no network, no model), and a known number of data-quality problems is planted on purpose so the
dashboard has something to find.

This README is generated too; edit the template in `generate.py`, not this file.

## Regenerating

```bash
python sample_data/generate.py            # rewrites the files in this folder
python sample_data/generate.py --out DIR  # writes them somewhere else
```

Output is deterministic (seed {SEED}, standard library only): running it again produces
byte-identical files, which `tests/analysis/test_sample_data.py` checks. Before writing, the script
verifies its own output and exits non-zero if a check fails: the regex detectors below must fire on
exactly the planted rows, and no two rows (in the same file or across files) may reach a word
3-gram Jaccard similarity of {CLEAN_MAX} unless that pair is a planted duplicate.

## Files

All files are UTF-8 JSONL, one JSON object per line, newline-terminated.

| File | Format | Rows |
| --- | --- | --- |
| `chat.jsonl` | OpenAI chat: `{{"messages": [{{"role": ..., "content": ...}}]}}` | {counts['chat.jsonl']} |
| `preference.jsonl` | Preference pairs: `{{"prompt", "chosen", "rejected"}}` | {counts['preference.jsonl']} |
| `sft.jsonl` | Alpaca: `{{"instruction", "input", "output"}}` (`input` often empty) | {counts['sft.jsonl']} |
| **total** | | **{total}** |

`chat.jsonl` mixes single-turn and multi-turn (2 to 4 user turns) conversations, some with a system
message. Exactly one conversation contains an OpenAI-style tool call (`get_weather` for Lisbon,
followed by a `tool` message and the final answer); its intermediate assistant message has
`"content": null`.

Side files:

- `topics.json`: `"<file>:<0-based line>"` → topic, for every row.
- `defects.json`: for each defect type, the planted locations as
  `{{"file", "line", "row_id", "of", "field"}}`. `row_id` is a global 0-based index over the files
  in sorted order (`chat.jsonl`, `preference.jsonl`, `sft.jsonl`); `of` is the `row_id` of the
  original for duplicates; `field` says where the defect sits when it is not the whole row.

## Topics

| Topic | chat | preference | sft | total |
| --- | --- | --- | --- | --- |
{topic_rows}

## Planted defects

Each defect is planted exactly this many times, each in a different row, and occurs nowhere else.

| Key | Defect | Count | Files |
| --- | --- | --- | --- |
{defect_rows}

Notes:

- Duplicate copies are placed at least a third of the file away from their original.
- Near duplicates change two or three words and then either add a sentence, drop a comma or flip the
  case of the first letter, so their normalised text differs from the original as well.
- Clean rows contain no `@`, no `{{{{`, no HTML tags or entities, no refusal phrases, no empty turns,
  and every response ends with `.`, `!`, `?` or a closing code fence.
- The tool-call conversation's `tool` message holds a JSON string and the assistant message that makes
  the call has `"content": null`; neither counts as a response for the checks above.
- Preference `rejected` answers are usually worse by design (shorter, vaguer or wrong); that is the
  signal, not a defect.
- Text is written as UTF-8, not escaped, and includes non-ASCII characters such as `é`, `°`, `×` and `−`.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: this folder)")
    ap.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    base = build(args.seed)
    files, topics, defects = serialise(base)
    errors = verify(files, topics, defects)
    if errors:
        for e in errors[:50]:
            print("FAIL:", e, file=sys.stderr)
        print(f"{len(errors)} verification errors; nothing written", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
    (args.out / "topics.json").write_text(json.dumps(topics, indent=1, ensure_ascii=False) + "\n",
                                          encoding="utf-8", newline="\n")
    (args.out / "defects.json").write_text(json.dumps(defects, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8", newline="\n")
    (args.out / "README.md").write_text(readme(files, topics, defects), encoding="utf-8", newline="\n")
    print(f"wrote {sum(t.count(chr(10)) for t in files.values())} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
