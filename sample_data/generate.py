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
    item = pick(rng, ["jacket", "pair of hiking boots", "desk lamp", "backpack", "set of pans", "coffee grinder",
                      "bookshelf", "tennis racket", "rice cooker", "wool sweater"])
    v = rng.randrange(3)
    sale = price * (100 - pct) / 100
    if v == 0:
        text = f"A {item} costs {money(price)}. It is on sale for {pct}% off. What is the sale price?"
        steps = [
            f"The discount is {pct}% of {money(price)}: {pct / 100:g} × {num(price)} = {money(price * pct / 100)}.",
            f"Subtract it from the original price: {money(price)} − {money(price * pct / 100)} = {money(sale)}.",
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
            f"The second discount applies to the new price: {money(sale)} × {(100 - second) / 100:g} = "
            f"{money(final)}.",
            f"Note this is not the same as {pct + second}% off the original price.",
        ]
        return Problem("discount", text, steps, money(final), money(price * (100 - pct - second) / 100),
                       f"adding the two discounts together as if it were {pct + second}% off")
    text = (f"After a {pct}% discount, a {item} sells for {money(sale)}. "
            "What was the price before the discount?")
    steps = [
        f"The sale price is {100 - pct}% of the original, so original × {(100 - pct) / 100:g} = {money(sale)}.",
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
        f"{n1} gets {a} × {money(unit)} = {money(a * unit)} and {n2} gets {b} × {money(unit)} = "
        f"{money(b * unit)}.",
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
        text = (f"A rectangular garden is {length} m long and {width} m wide. Fencing costs {money(cost)} per "
                "metre. How much will it cost to fence the whole garden?")
        steps = [
            f"Perimeter = 2 × ({length} + {width}) = {per} m.",
            f"Cost = {per} × {money(cost)} = {money(per * cost)}.",
        ]
        return Problem("fence", text, steps, money(per * cost), money(length * width * cost),
                       "using the area instead of the perimeter")
    text = (f"A lawn measures {length} m by {width} m. Turf costs {money(cost / 2)} per square metre, and you "
            "should buy 10% extra for trimming. What is the cost of the turf?")
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
    text = (f"{name}'s {subj} test scores so far are {listing(str(s) for s in scores)}. What score is needed on "
            f"the next test to bring the average up to exactly {target}?")
    steps = [
        f"For an average of {target} over {n + 1} tests, the total must be {target} × {n + 1} = "
        f"{target * (n + 1)}.",
        f"The current total is {' + '.join(str(s) for s in scores)} = {sum(scores)}.",
        f"Needed score = {target * (n + 1)} − {sum(scores)} = {need}.",
    ]
    return Problem("average", text, steps, str(need), str(target), "assuming the next score just equals the target")


def mp_interest(rng):
    p = pick(rng, [1200, 2500, 4000, 5000, 7500, 10000, 15000])
    r = pick(rng, [2, 3, 3.5, 4, 4.5, 5, 6])
    t = pick(rng, [2, 3, 4, 5, 6, 8])
    i = p * r * t / 100
    name = pick(rng, NAMES)
    text = (f"{name} deposits {money(p)} in an account that pays {num(r)}% simple interest per year. "
            f"How much interest is earned after {t} years, and what is the balance then?")
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
    text = (f"{parent} is {times[k]} as old as {child}. In {n} years {subj} will be {times[m]} as old as "
            f"{obj}. How old are they now?")
    steps = [
        f"Let the younger age be y, so the older age is {k}y.",
        f"In {n} years: {k}y + {n} = {m}(y + {n}).",
        f"Expand: {k}y + {n} = {m}y + {m * n}, so {k - m}y = {m * n - n} and y = {y}.",
        f"The older person is {k} × {y} = {x}. Check: in {n} years they are {x + n} and {y + n}, and "
        f"{x + n} = {m} × {y + n}.",
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
    dish = pick(rng, ["pancakes", "a pot of soup", "muffins", "a tray of flapjacks", "a curry", "banana bread"])
    scaled = qty * want / base
    text = (f"A recipe for {dish} serves {base} and uses {num(qty)} {ing}. How much is needed to serve "
            f"{want} people?")
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
        f"Add the hours: {h:02d}:{m:02d} + {dur // 60} h = {(h + dur // 60):02d}:{m:02d}.",
        f"Add the minutes: the {ev} ends at {eh % 24:02d}:{em:02d}.",
    ]
    return Problem("clock", text, steps, f"{eh % 24:02d}:{em:02d}", f"{(h + dur // 100) % 24:02d}:{(m + dur % 100) % 60:02d}",
                   "treating the minutes as if an hour had 100 of them")


def mp_probability(rng):
    r, b, g = rng.randrange(2, 9), rng.randrange(2, 9), rng.randrange(1, 7)
    total = r + b + g
    holder = pick(rng, ["bag", "jar", "box", "tin"])
    things = pick(rng, [("marbles", "red", "blue", "green"), ("sweets", "lemon", "cherry", "lime"),
                        ("counters", "yellow", "black", "white")])
    if chance(rng, 0.5):
        text = (f"A {holder} holds {r} {things[1]}, {b} {things[2]} and {g} {things[3]} {things[0]}. One is picked "
                f"at random. What is the probability that it is {things[1]}?")
        steps = [
            f"There are {r} + {b} + {g} = {total} {things[0]} in total.",
            f"{cap(things[1])} ones: {r}, so P = {r}/{total}.",
            f"As a decimal that is about {r / total:.3f}, or {100 * r / total:.1f}%.",
        ]
        return Problem("probability", text, steps, f"{r}/{total}", f"{r}/{b + g}",
                       "dividing by the number of other colours instead of the total")
    p = r * (r - 1) / (total * (total - 1))
    text = (f"A {holder} contains {r} {things[1]}, {b} {things[2]} and {g} {things[3]} {things[0]}. Two are drawn "
            f"without replacement. What is the probability that both are {things[1]}?")
    steps = [
        f"First draw: {r}/{total}.",
        f"Second draw, with one {things[1]} gone: {r - 1}/{total - 1}.",
        f"Multiply: {r}/{total} × {r - 1}/{total - 1} = {r * (r - 1)}/{total * (total - 1)} ≈ {p:.3f}.",
    ]
    return Problem("probability", text, steps, f"{r * (r - 1)}/{total * (total - 1)}",
                   f"{r * r}/{total * total}", "putting the first item back before the second draw")


def mp_savings(rng):
    goal = pick(rng, [450, 600, 800, 1200, 1500, 2000, 2400])
    have = pick(rng, [0, 50, 120, 200, 300])
    weekly = pick(rng, [25, 35, 40, 45, 60, 75])
    weeks = -(-(goal - have) // weekly)
    name = pick(rng, NAMES)
    thing = pick(rng, ["a used bike", "a new laptop", "a weekend trip", "a camera", "concert tickets",
                       "a sofa", "driving lessons"])
    text = (f"{name} is saving for {thing} that costs {money(goal)}, already has {money(have)}, and puts away "
            f"{money(weekly)} every week. How many weeks until there is enough?")
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
    text = (f"A {room} floor measures {num(length)} m by {num(width)} m. It will be covered with square tiles "
            f"{int(side * 100)} cm on each side, plus 10% extra for cuts. How many tiles should be bought?")
    steps = [
        f"Floor area: {num(length)} × {num(width)} = {num(area)} m².",
        f"One tile covers {side} × {side} = {side * side:g} m², so {num(area)} ÷ {side * side:g} = {num(tiles)} tiles.",
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
                   f"{abs(round(100 * (b - a) / b))}% {direction}", "dividing by the new value instead of the old one")


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
            + pick(rng, ["Checking the answer against the original question is the quickest way to catch this.",
                         "Writing each quantity with its unit makes that mistake easier to spot.",
                         "It helps to estimate roughly first, so an answer that is far off stands out."]),
        ),
        f"The mistake is {pr.slip}; the right answer is {pr.answer}.",
        f"Yes, {pr.wrong} is correct.",
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
        names={"fn": ["word_counts", "count_words", "word_frequencies"], "arg": ["text", "sentence", "document"]},
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
''', "Passing the stop words as a parameter keeps the default convenient while letting callers supply "
            "their own list. Using a set makes each membership check constant time."),
        cost="Each word is processed once and dictionary updates are O(1) on average, so the function runs in "
             "O(n) time for n words and uses memory proportional to the number of distinct words.",
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
               "The loop compares every remaining element and replaces `best` whenever it finds something bigger.",
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
        cost="It looks at each element exactly once, so it is O(n) time and O(1) extra memory (the slice in the "
             "first version does make a copy; looping over indices avoids that).",
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
        notes=["The combined case has to be checked first; otherwise a number divisible by both would print only "
               "the first word.",
               "`range(1, limit + 1)` includes the limit itself because the stop value of `range` is exclusive.",
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
        names={"fn": ["affordable", "under_budget", "filter_by_price"], "arg": ["products", "catalog", "items"]},
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
               "`sorted` with `key=lambda p: p[\"price\"]` orders the survivors by price without modifying the "
               "original list.",
               "If a product is missing the `price` key you will get a `KeyError`; use `product.get(\"price\")` "
               "if your data is messy."],
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
        cost="Filtering is O(n) and sorting the k matching items is O(k log k), so the worst case is O(n log n).",
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
               "Opening with `newline=\"\"` is what the csv module documentation recommends, so quoted fields "
               "containing line breaks are read correctly.",
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
        cost="It streams the file row by row, so memory stays constant no matter how large the CSV is; time is "
             "linear in the number of rows.",
    ),
    dict(
        key="palindrome",
        what=["checks whether a string is a palindrome, ignoring spaces, punctuation and case",
              "tells me if a phrase reads the same backwards, ignoring anything that isn't a letter or digit"],
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
        cost="Both versions are O(n) time; the comprehension version uses O(n) extra memory and the two-pointer "
             "version O(1).",
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
        cost="Every element is visited once, so it is O(n) in the total number of elements. Very deep nesting "
             "(around a thousand levels) would hit Python's recursion limit.",
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
               "When one list runs out, whatever is left in the other is already sorted, so it is added in one go.",
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
        cost="Each element is appended exactly once, so the merge is O(n + m), which is faster than concatenating "
             "and sorting in O((n + m) log(n + m)).",
    ),
    dict(
        key="binary_search",
        what=["does a binary search on a sorted list and returns the index of the target or -1",
              "implements binary search by hand"],
        names={"fn": ["binary_search", "find_index", "search_sorted"], "arg": ["values", "sorted_items", "arr"]},
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
        notes=["Each step looks at the middle element and throws away the half that cannot contain the target.",
               "The loop condition is `low <= high`; using `<` would miss the case where the target is the last "
               "remaining element.",
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
        cost="The running total makes it O(n) regardless of the window size; the naive version would be O(n·k).",
    ),
    dict(
        key="group_letter",
        what=["groups a list of words by their first letter",
              "builds a dictionary mapping each starting letter to the words that begin with it"],
        names={"fn": ["group_by_initial", "by_first_letter", "index_words"], "arg": ["words", "names", "terms"]},
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
        notes=["`defaultdict(list)` creates an empty list the first time a letter is used, so there is no need "
               "to check whether the key exists.",
               "Lowercasing the first letter puts \"Avocado\" and \"apple\" in the same group.",
               "Converting back to a plain `dict` at the end avoids surprising callers who index a missing key."],
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
        names={"fn": ["password_problems", "check_password", "weak_points"], "arg": ["password", "pw", "candidate"]},
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
        notes=["Returning a list of problems is friendlier than a single True or False, because the user learns "
               "what to fix.",
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
        cost="Each rule scans the password once, so the cost is linear in its length, which is tiny in practice.",
    ),
    dict(
        key="temp_table",
        what=["prints a Celsius to Fahrenheit conversion table",
              "shows a table of temperatures in both Celsius and Fahrenheit using a for loop"],
        names={"fn": ["print_table", "conversion_table", "show_temperatures"], "arg": ["start", "low", "begin"]},
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
               "Slicing past the end of a list is safe in Python, so the final short chunk needs no special case.",
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
            "files that cannot be sliced. On Python 3.12 and newer, `itertools.batched` does this for you."),
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
               "Crossing out can start at n × n, because smaller multiples were already removed by smaller primes.",
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
               "`split(\"=\", 1)` splits only on the first equals sign, so values may contain `=` themselves.",
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
               "`setdefault` returns the existing list or inserts a new empty one, then `append` adds the key.",
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
               "A set makes each `in` check constant time, although for five letters a string would work as well.",
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
''', "`itertools.accumulate` yields running sums by default and accepts another function, such as `max`, "
            "for running maximums."),
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
        cause="The dictionary has no key called \"price\" (it uses \"cost\"), and square-bracket lookup raises "
              "`KeyError` when a key is missing.",
        fix=r'''
print(item.get("price", "no price listed"))
''',
        tip="Print `item.keys()` when you are not sure what the data looks like, and use `.get()` with a default "
            "for optional fields.",
    ),
    dict(
        key="indexerror",
        error="IndexError: list index out of range",
        snippet=r'''
names = ["Ada", "Grace", "Linus"]
for i in range(len(names) + 1):
    print(names[i])
''',
        cause="Valid indexes for a three-item list are 0, 1 and 2, but `range(len(names) + 1)` also produces 3.",
        fix=r'''
for name in names:
    print(name)
''',
        tip="Looping over the items directly, or using `enumerate` when you need the index, removes this whole "
            "class of off-by-one errors.",
    ),
    dict(
        key="concat",
        error="TypeError: can only concatenate str (not \"int\") to str",
        snippet=r'''
age = 34
print("You are " + age + " years old")
''',
        cause="The `+` operator cannot join a string and an integer; Python does not convert types implicitly.",
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
        tip="Decide explicitly what an empty input should mean (None, 0, or an exception with a clear message).",
    ),
    dict(
        key="nonetype_append",
        error="AttributeError: 'NoneType' object has no attribute 'append'",
        snippet=r'''
tasks = []
tasks = tasks.append("write report")
tasks.append("send invoice")
''',
        cause="`list.append` changes the list in place and returns `None`, so the assignment replaces your list "
              "with `None`.",
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
        cause="The package is not installed in the interpreter that is running your script. This often happens "
              "when it was installed into a different Python or a different virtual environment.",
        fix=r'''
# run these in a terminal, with your virtual environment activated
python -m pip install requests
python -c "import requests; print(requests.__version__)"
''',
        tip="Using `python -m pip` instead of plain `pip` guarantees the package goes into the same interpreter "
            "you run your code with.",
    ),
    dict(
        key="unbound",
        error="UnboundLocalError: cannot access local variable 'count' where it is not associated with a value",
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
        tip="Every recursive function needs a condition that stops it; for simple counting a `for` loop is "
            "clearer anyway.",
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
        tip="A function without a `return` statement returns `None`; type hints and a linter catch this early.",
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
        tip="Building paths from `Path(__file__).parent` makes the script work no matter where it is run from.",
    ),
]

PY_CONCEPTS = [
    dict(
        key="list_tuple",
        ask=["What's the difference between a list and a tuple in Python?",
             "When should I use a tuple instead of a list?"],
        body=[
            "Both are ordered sequences, but a list is mutable and a tuple is immutable: once a tuple is created "
            "you cannot add, remove or replace its elements.",
            "Use a list for a collection that grows or changes, such as items in a shopping cart. Use a tuple for "
            "a fixed group of values that belong together, such as a coordinate `(lat, lon)` or a row returned "
            "from a database.",
            "Because tuples are immutable (and hashable when their contents are), they can be used as dictionary "
            "keys or stored in sets, which lists cannot.",
        ],
        code=r'''
point = (52.37, 4.89)        # tuple: fixed pair
visited = {point: "Amsterdam"}

cart = ["tea", "bread"]      # list: changes over time
cart.append("milk")
''',
        short="Lists are mutable and tuples are immutable; use tuples for fixed records and lists for collections "
              "that change.",
        wrong="Tuples are just faster lists, so you should always use them.",
    ),
    dict(
        key="is_eq",
        ask=["Why does `is` sometimes give a different answer than `==`?", "What's the difference between is and == ?"],
        body=[
            "`==` asks whether two objects have equal values, while `is` asks whether they are the very same "
            "object in memory.",
            "Two separate lists with the same contents are equal but not identical. Small integers and some "
            "strings are cached by CPython, which is why `is` can appear to work for them by accident.",
            "The one place `is` is the right choice is comparing with singletons such as `None`: write "
            "`if value is None`.",
        ],
        code=r'''
a = [1, 2]
b = [1, 2]
print(a == b)  # True
print(a is b)  # False
''',
        short="`==` compares values and `is` compares identity; only use `is` for `None` and similar singletons.",
        wrong="They are the same thing, `is` is just the more readable spelling.",
    ),
    dict(
        key="mutable_default",
        ask=["Why does my function remember values between calls when I use a list as a default argument?",
             "Is it bad to write def f(items=[])?"],
        body=[
            "Default values are evaluated once, when the function is defined, not each time it is called. A "
            "mutable default such as a list is therefore shared by every call that does not pass its own list.",
            "The standard fix is to default to `None` and create a fresh list inside the function.",
        ],
        code=r'''
def add_tag(tag, tags=None):
    if tags is None:
        tags = []
    tags.append(tag)
    return tags
''',
        short="Defaults are evaluated once, so a list default is shared across calls; default to None instead.",
        wrong="It's a bug in Python that was fixed in version 3.",
    ),
    dict(
        key="copy",
        ask=["What's the difference between a shallow copy and a deep copy?",
             "I copied a list of lists but changing the copy also changed the original. Why?"],
        body=[
            "A shallow copy creates a new outer container but fills it with references to the same inner "
            "objects. A deep copy recursively copies the inner objects as well.",
            "With a list of lists, `list.copy()` or slicing gives you a new outer list whose rows are still the "
            "original row objects, so modifying a row shows up in both.",
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
        short="A shallow copy shares the inner objects; use copy.deepcopy when you need independent nested data.",
        wrong="Copies in Python are always deep, so that can't happen.",
    ),
    dict(
        key="args_kwargs",
        ask=["What do *args and **kwargs mean?", "How do I write a function that accepts any number of arguments?"],
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
        short="*args gathers extra positional arguments into a tuple and **kwargs gathers keyword arguments into a "
              "dict.",
        wrong="They are pointers, like in C.",
    ),
    dict(
        key="generators",
        ask=["What is a generator in Python and why would I use one?", "How does yield work?"],
        body=[
            "A generator is a function that produces values lazily with `yield`. Each time you ask for the next "
            "value, the function resumes where it left off, so only one value exists in memory at a time.",
            "That makes generators ideal for large files, streams or infinite sequences, where building a full "
            "list would be slow or impossible.",
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
            "`zip` pairs up items from several iterables, and `enumerate` adds a counter to one iterable. Both "
            "replace the error-prone pattern of `for i in range(len(...))`.",
            "`zip` stops at the shortest input; on Python 3.10 and newer, `zip(..., strict=True)` raises an error "
            "if the lengths differ, which catches data mistakes early.",
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
        ask=["Why should I use a virtual environment?", "How do I set up a virtual environment for a project?"],
        body=[
            "A virtual environment is a private folder of installed packages for one project. It keeps projects "
            "from fighting over versions and makes it easy to record exactly what a project needs.",
            "Create it once per project, activate it whenever you work on that project, and install packages "
            "only while it is active.",
        ],
        code=r'''
python -m venv .venv
source .venv/bin/activate        # on Windows: .venv\Scripts\activate
python -m pip install requests
python -m pip freeze > requirements.txt
''',
        short="A virtual environment isolates a project's packages; create one with python -m venv .venv and "
              "activate it.",
        wrong="Virtual environments are only needed on servers.",
    ),
    dict(
        key="comprehension",
        ask=["Are list comprehensions better than for loops?", "When should I use a list comprehension?"],
        body=[
            "A list comprehension is a compact way to build a list by transforming and filtering another "
            "iterable. It is usually a little faster than an equivalent loop with `append`, and often clearer.",
            "Once a comprehension needs several conditions, nested loops or side effects, a regular `for` loop "
            "is easier to read and debug.",
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
        short="Comprehensions are great for simple transform-and-filter steps; switch to a loop when the logic grows.",
        wrong="Comprehensions are always better and you should never write for loops.",
    ),
    dict(
        key="try_else",
        ask=["What are the else and finally parts of a try statement for?",
             "How does try/except/else/finally work?"],
        body=[
            "`try` holds the code that might fail and `except` handles specific errors. The `else` block runs "
            "only if no exception happened, which keeps the `try` block small. `finally` always runs, error or "
            "not, and is the place for cleanup.",
            "Catch the narrowest exception you can handle; a bare `except:` also swallows keyboard interrupts "
            "and typos.",
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
        short="except handles errors, else runs when there was no error, and finally always runs for cleanup.",
        wrong="finally only runs when there is an exception.",
    ),
    dict(
        key="with",
        ask=["What does the with statement actually do?", "Why do people open files with `with`?"],
        body=[
            "`with` uses a context manager, an object that sets something up on entry and tears it down on exit, "
            "even if the block raises an exception.",
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
        ask=["How do I sort a list of dictionaries by one field?", "How does the key argument to sorted work?"],
        body=[
            "`sorted` and `list.sort` accept a `key` function that is called once per element; the results are "
            "what gets compared.",
            "For dictionaries, pass a lambda or `operator.itemgetter`. Sorting is stable, so you can sort by a "
            "secondary field first and the primary field second, or return a tuple from the key.",
        ],
        code=r'''
from operator import itemgetter

people = [{"name": "Ines", "age": 31}, {"name": "Bo", "age": 25}, {"name": "Al", "age": 31}]
by_age_then_name = sorted(people, key=lambda p: (p["age"], p["name"]))
youngest_first = sorted(people, key=itemgetter("age"))
''',
        short="Pass key=lambda d: d[\"field\"] (or itemgetter) to sorted; return a tuple to sort by several fields.",
        wrong="You have to convert the dictionaries to lists first.",
    ),
    dict(
        key="main_guard",
        ask=["What does if __name__ == \"__main__\" do?", "Why do scripts end with a __main__ check?"],
        body=[
            "Every module has a `__name__`. When a file is run directly, it is set to `\"__main__\"`; when the file "
            "is imported, it is set to the module's name.",
            "Putting the script's entry point behind this check lets other code import your functions without "
            "accidentally running the whole program.",
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
            "`pathlib` represents paths as objects, so joining, reading and globbing read naturally and work the "
            "same on Windows and Unix. `os.path` still works but uses plain strings and separate functions.",
            "For new code, `pathlib` is the more readable default.",
        ],
        code=r'''
from pathlib import Path

reports = Path.home() / "reports"
reports.mkdir(exist_ok=True)
for csv_file in sorted(reports.glob("*.csv")):
    print(csv_file.name, csv_file.stat().st_size)
''',
        short="Prefer pathlib for new code: Path objects join with / and have methods for reading and globbing.",
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
                                     "Each test checks one behaviour, so a failure tells you exactly what broke.",
                                     "Add a case for any bug you fix later so it cannot come back."]))
        test_ask = pick(rng, ["Write pytest tests for this function.", "How would I unit test this?",
                              "Can you add tests for this code?"])
        tests = QA(key + ":test", paras(test_ask, code_block(code)), test_resp,
                   "Call the function with a few small inputs and assert on the results.",
                   worse(rng, "Call the function with a few small inputs and assert on the results.", PY_VAGUE),
                   followup=pick(rng, ["Can you write tests for it?", "How would I test that?"]),
                   instruction=test_ask, input=code)
        change = QA(key + ":change",
                    paras(f"How can I change this to {ch_ask}?", code_block(code)),
                    paras(pick(rng, ["Sure, here's the updated version:", "Here's a modified version:",
                                     "You can change it like this:"]), code_block(ch_code), ch_note),
                    ch_note, worse(rng, ch_note, PY_VAGUE),
                    followup=f"Could you {ch_ask}?", instruction=f"Rewrite this function to {ch_ask}.", input=code)
        cost = QA(key + ":cost", paras("What's the time complexity of this?", code_block(code)), t["cost"],
                  t["cost"].split(",")[0].rstrip(".") + ".", worse(rng, "It's fast enough.", PY_VAGUE, "It is O(1)."),
                  followup="What's the time complexity?", instruction="State the time complexity of this "
                  "function and explain why.", input=code)
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
                     code_block(e["fix"].strip(), "bash" if e["key"] == "modulenotfound" else "python"), e["tip"])
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
    resp = paras(body[0], code_block(c["code"].strip(), "bash" if c["key"] == "venv" else "python"), *body[1:])
    return QA("py:concept:" + c["key"], ask, resp, c["short"], worse(rng, c["short"], PY_VAGUE, c["wrong"]),
              followup=ask)
