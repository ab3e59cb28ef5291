"""The eleven topics: each ``bundle_*`` draws one item and returns the related questions about it.

The wording lives in ``templates/<topic>.toml``; what stays here is what the wording cannot say: the numbers
(and the arithmetic on them) and the order of the random draws. A bundle's QAs can become one multi-turn chat
or separate rows, so they are related ("now summarise that") but each usable on its own unless marked
``standalone = false``. Every random draw must happen in the order it always has, or the data changes.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .text import (
    QA,
    Topic,
    bullets,
    chance,
    choose,
    code_block,
    fill,
    load,
    money,
    num,
    paras,
    pick,
    render,
    shuffled,
)

COMMON = load("common")
NAMES, SURNAMES = COMMON["names"], COMMON["surnames"]
Bundle = Callable[[random.Random], list[QA]]


def tool_call_conversation() -> list[dict[str, Any]]:
    """The one conversation with an OpenAI-style tool call, kept as JSON (it has a null content)."""
    return json.loads(load("travel")["tool_call_chat"])


# --- math word problems ------------------------------------------------------------------------------------

MATH = Topic("math")


@dataclass
class Problem:
    text: str
    steps: list[str]
    answer: str
    wrong: str  # a plausible wrong final answer
    slip: str  # the mistake that produces it


def problem(kind: str, variant: int = 0, **ns: Any) -> Problem:
    """Render one variant of a problem kind (``[[kinds.KIND.variants]]``) with the numbers drawn for it."""
    v = MATH["kinds"][kind]["variants"][variant]
    return Problem(render(v["text"], ns), [render(x, ns) for x in v["steps"]], render(v["answer"], ns),
                   render(v["wrong"], ns), render(v["slip"], ns))


def words(kind: str, name: str) -> list[Any]:
    return MATH["kinds"][kind][name]


def mp_speed(rng: random.Random) -> Problem:
    name = pick(rng, NAMES)
    speed = pick(rng, [40, 45, 48, 50, 55, 60, 64, 70, 72, 75, 80, 90])
    hours = pick(rng, [1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6])
    how = pick(rng, words("speed", "how"))
    return problem("speed", rng.randrange(3), name=name, speed=speed, hours=hours, dist=speed * hours, how=how)


def mp_discount(rng: random.Random) -> Problem:
    price = pick(rng, [24, 36, 48, 60, 75, 80, 96, 120, 150, 180, 240, 320])
    pct = pick(rng, [10, 15, 20, 25, 30, 40])
    item = pick(rng, words("discount", "items"))
    v = rng.randrange(3)
    second = pick(rng, [10, 20, 25]) if v == 1 else 0  # a further markdown at checkout
    sale = price * (100 - pct) / 100
    return problem("discount", v, price=price, pct=pct, item=item, sale=sale, second=second,
                   final=sale * (100 - second) / 100)


def mp_bill(rng: random.Random) -> Problem:
    bill = pick(rng, [84, 96, 120, 138, 150, 172, 186, 210, 264])
    tip, people = pick(rng, [15, 18, 20]), pick(rng, [3, 4, 5, 6])
    return problem("bill", bill=bill, tip=tip, people=people, total=bill * (1 + tip / 100),
                   place=pick(rng, words("bill", "places")))


def mp_ratio(rng: random.Random) -> Problem:
    a, b = pick(rng, [(2, 3), (3, 5), (1, 4), (3, 4), (2, 5), (5, 7), (4, 5)])
    unit = pick(rng, [20, 25, 30, 40, 50, 60, 75])
    n1, n2 = rng.sample(NAMES, 2)
    return problem("ratio", a=a, b=b, unit=unit, total=(a + b) * unit, n1=n1, n2=n2,
                   what=pick(rng, words("ratio", "shares")))


def mp_work(rng: random.Random) -> Problem:
    a, b = pick(rng, [(3, 6), (4, 12), (6, 12), (2, 3), (10, 15), (5, 20), (12, 24), (6, 3), (4, 6), (8, 24)])
    job = pick(rng, words("work", "jobs"))
    n1, n2 = rng.sample(NAMES, 2)
    ns = dict(a=a, b=b, together=a * b / (a + b), job=job, n1=n1, n2=n2)
    lead = render(words("work", "people" if job[0] == "volunteer" else "machines"), ns)
    return problem("work", lead=lead, **ns)


def mp_fence(rng: random.Random) -> Problem:
    length, width = pick(rng, [8, 10, 12, 14, 15, 18, 20, 24]), pick(rng, [5, 6, 7, 9, 10, 11])
    cost = pick(rng, [12, 15, 18, 22, 25, 30])
    return problem("fence", 0 if chance(rng, 0.5) else 1, length=length, width=width, cost=cost,
                   perimeter=2 * (length + width), area=length * width)


def mp_average(rng: random.Random) -> Problem:
    n = pick(rng, [3, 4])
    target = pick(rng, [75, 80, 85, 88, 90])
    scores = [rng.randrange(target - 12, target + 8) for _ in range(n)]
    need = target * (n + 1) - sum(scores)
    while need > 100 or need < 40:
        scores = [rng.randrange(target - 12, target + 8) for _ in range(n)]
        need = target * (n + 1) - sum(scores)
    return problem("average", n=n, target=target, scores=scores, need=need, name=pick(rng, NAMES),
                   subject=pick(rng, words("average", "subjects")))


def mp_interest(rng: random.Random) -> Problem:
    p, r = pick(rng, [1200, 2500, 4000, 5000, 7500, 10000, 15000]), pick(rng, [2, 3, 3.5, 4, 4.5, 5, 6])
    t = pick(rng, [2, 3, 4, 5, 6, 8])
    return problem("interest", p=p, r=r, t=t, i=p * r * t / 100, name=pick(rng, NAMES))


def mp_ages(rng: random.Random) -> Problem:
    while True:  # older = k × younger now and m × younger in n years, at a whole-number age
        k = pick(rng, [3, 4, 5])
        m = rng.randrange(2, k)
        n = pick(rng, [4, 5, 6, 8, 10, 12, 15])
        if n * (m - 1) % (k - m) == 0:
            y = n * (m - 1) // (k - m)
            if 3 <= y <= 20:
                break
    older, younger, they, them = pick(rng, words("ages", "pairs"))
    return problem("ages", k=k, m=m, n=n, y=y, x=k * y, older=older, younger=younger, they=they, them=them,
                   times=words("ages", "times"))


def mp_unit_price(rng: random.Random) -> Problem:
    item = pick(rng, words("unit_price", "items"))
    n1, n2 = pick(rng, [(6, 8), (12, 20), (4, 10), (24, 36), (30, 50), (40, 100)])
    u1 = pick(rng, [0.45, 0.5, 0.55, 0.6, 0.75, 0.8])
    u2 = u1 + pick(rng, [-0.1, -0.05, 0.05, 0.1])
    return problem("unit_price", item=item, n1=n1, n2=n2, u1=u1, u2=u2)


def mp_mixture(rng: random.Random) -> Problem:
    v1, v2 = pick(rng, [(2, 3), (4, 6), (1, 3), (5, 5), (3, 2), (6, 4)])
    c1, c2 = pick(rng, [(10, 30), (20, 50), (15, 40), (5, 25), (30, 60)])
    return problem("mixture", v1=v1, v2=v2, c1=c1, c2=c2, conc=(v1 * c1 + v2 * c2) / (v1 + v2),
                   what=pick(rng, words("mixture", "solutions")))


def mp_consecutive(rng: random.Random) -> Problem:
    start = rng.randrange(11, 160)
    gap = 2 if chance(rng, 0.5) else 1  # consecutive even numbers, or consecutive whole numbers
    start += start % gap
    return problem("consecutive", gap=gap, nums=[start, start + gap, start + 2 * gap])


def mp_recipe(rng: random.Random) -> Problem:
    base, want = pick(rng, [(4, 6), (6, 9), (4, 10), (8, 12), (6, 4), (12, 18), (4, 3)])
    qty = pick(rng, [1.5, 2, 2.5, 3, 0.75, 1.25])
    ing, dish = pick(rng, words("recipe", "ingredients")), pick(rng, words("recipe", "dishes"))
    return problem("recipe", base=base, want=want, qty=qty, ing=ing, dish=dish)


def mp_clock(rng: random.Random) -> Problem:
    h = rng.randrange(6, 21)
    m = pick(rng, [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55])
    dur = pick(rng, [95, 110, 135, 150, 165, 200, 245, 80])
    end_h, end_m = divmod(h * 60 + m + dur, 60)
    return problem("clock", h=h, m=m, dur=dur, end_h=end_h, end_m=end_m, event=pick(rng, words("clock", "events")))


def mp_probability(rng: random.Random) -> Problem:
    r, b, g = rng.randrange(2, 9), rng.randrange(2, 9), rng.randrange(1, 7)
    holder, things = pick(rng, words("probability", "holders")), pick(rng, words("probability", "things"))
    return problem("probability", 0 if chance(rng, 0.5) else 1, r=r, b=b, g=g, total=r + b + g, holder=holder,
                   things=things)


def mp_savings(rng: random.Random) -> Problem:
    goal = pick(rng, [450, 600, 800, 1200, 1500, 2000, 2400])
    have = pick(rng, [0, 50, 120, 200, 300])
    weekly = pick(rng, [25, 35, 40, 45, 60, 75])
    return problem("savings", goal=goal, have=have, weekly=weekly, weeks=-(-(goal - have) // weekly),
                   name=pick(rng, NAMES), thing=pick(rng, words("savings", "goals")))


def mp_tiles(rng: random.Random) -> Problem:
    length, width = pick(rng, [(3, 4), (2.5, 4), (3, 3.5), (4, 5), (2, 3), (3.5, 4)])
    side = pick(rng, [0.5, 0.25])
    tiles = length * width / (side * side)
    return problem("tiles", length=length, width=width, side=side, area=length * width, tiles=tiles,
                   total=-(-int(tiles * 1.1 * 100) // 100), room=pick(rng, words("tiles", "rooms")))


def mp_percent_change(rng: random.Random) -> Problem:
    a = pick(rng, [40, 50, 60, 80, 120, 150, 200, 250, 400])
    pct = pick(rng, [-25, -20, -15, -10, 5, 10, 15, 20, 30, 35])
    b = a * (100 + pct) / 100
    what = pick(rng, words("percent_change", "quantities"))
    show = money if what[1] else num
    return problem("percent_change", a=a, b=b, pct=pct, what=what, before=show(a), after=show(b))


MATH_KINDS = [mp_speed, mp_discount, mp_bill, mp_ratio, mp_work, mp_fence, mp_average, mp_interest, mp_ages,
              mp_unit_price, mp_mixture, mp_consecutive, mp_recipe, mp_clock, mp_probability, mp_savings,
              mp_tiles, mp_percent_change]


def bundle_math(rng: random.Random) -> list[QA]:
    kind = pick(rng, MATH_KINDS)
    pr = kind(rng)
    while pr.wrong == pr.answer:
        pr = kind(rng)
    solve = MATH.qa(rng, "solve", pr=pr)
    if chance(rng, 0.5):
        solve.instruction, solve.input = pick(rng, MATH["instructions"]), pr.text
    else:
        solve.instruction = pr.text
    check = MATH.qa(rng, "check", pr=pr)
    return [solve, check, MATH.qa(rng, "practice", pr=pr, practice=kind(rng))]


# --- python programming ------------------------------------------------------------------------------------

PYTHON = Topic("python")


def py_concept(rng: random.Random, c: dict[str, Any]) -> QA:
    body = [c["body"][0], code_block(c["code"], c.get("lang", "python")), *c["body"][1:]]
    return PYTHON.faq(rng, "py:concept", c, body=body, same_followup=True)


def bundle_python(rng: random.Random) -> list[QA]:
    r = rng.random()
    if r < 0.62:
        t = pick(rng, PYTHON["tasks"])
        names = {k: pick(rng, v) for k, v in t["names"].items()}
        if "factors" in t:  # fizzbuzz: the two divisors behind the combined one
            names["a"], names["b"] = (str(x) for x in t["factors"][names["ab"]])
        what = pick(rng, t["what"])
        notes = shuffled(rng, t["notes"])
        code = {k: fill(t[k], **names).strip() for k in ("code", "usage", "test")}
        return PYTHON.qas(rng, ["write", "explain", "test", "change", "cost"], **code, task=t["id"], fn=names["fn"],
                          what=what, notes=notes, cost=t["cost"], change=t["change"],
                          changed=fill(t["change"]["code"], **names).strip())
    if r < 0.82:
        e = pick(rng, PYTHON["errors"])
        error = PYTHON.qa(rng, "error", **{"lang": "python", **e, "snippet": e["snippet"].strip()})
        return [error, py_concept(rng, pick(rng, PYTHON["concepts"]))]
    c = pick(rng, PYTHON["concepts"])
    return [py_concept(rng, c)] + [py_concept(rng, x) for x in rng.sample(PYTHON["concepts"], 2) if x is not c]


# --- personal finance --------------------------------------------------------------------------------------

FINANCE = Topic("finance")


def fin_budget(rng: random.Random) -> list[QA]:
    income = rng.randrange(2400, 9001, 100)
    budget = FINANCE.qa(rng, "budget", income=income)
    months = pick(rng, [3, 4, 6])
    essentials = round(income * rng.uniform(0.45, 0.6), -1)
    return [budget, FINANCE.qa(rng, "emergency_fund", income=income, months=months, essentials=essentials)]


def fin_growth(rng: random.Random) -> list[QA]:
    p, c = pick(rng, [0, 1000, 2500, 5000, 10000, 20000]), pick(rng, [50, 100, 150, 200, 300, 400, 500, 750])
    rate, years = pick(rng, [4, 5, 6, 7, 8]), pick(rng, [10, 15, 20, 25, 30])
    i = rate / 100 / 12

    def fv(y: int) -> float:
        n = 12 * y
        return p * (1 + i) ** n + c * ((1 + i) ** n - 1) / i

    rows = [f"| {y} | {money(p + c * 12 * y)} | {money(fv(y))} |" for y in range(5, years + 1, 5)]
    table = "\n".join(["| Year | Contributed | Estimated value |", "| --- | --- | --- |", *rows])
    return [FINANCE.qa(rng, "growth", p=p, c=c, rate=rate, years=years, table=table, paid=p + c * 12 * years,
                       final=fv(years))]


def fin_debt(rng: random.Random) -> list[QA]:
    debts = []  # (name, balance, APR)
    for name, lo, hi in rng.sample(FINANCE["debts"], 3):
        apr = rng.randrange(lo, hi + 1) if hi else 0
        debts.append((name, rng.randrange(400, 14001, 50), apr))
    avalanche, snowball = sorted(debts, key=lambda d: -d[2]), sorted(debts, key=lambda d: d[1])
    return [FINANCE.qa(
        rng, "debt", listed="; ".join(f"{n} {money(b)} at {a}%" for n, b, a in debts),
        avalanche=" → ".join(f"{n} ({a}%)" for n, _, a in avalanche),
        snowball=" → ".join(f"{n} ({money(b)})" for n, b, _ in snowball),
        interest=bullets(f"{n}: about {money(b * a / 100 / 12)} of interest a month." for n, b, a in debts),
        first=avalanche[0][0], biggest=snowball[-1][0],
        table="\n".join(f"- {n}: {money(b)} at {a}% APR" for n, b, a in debts))]


def fin_loan(rng: random.Random) -> list[QA]:
    kind = pick(rng, ["car", "home", "personal"])
    if kind == "home":
        principal, rate = rng.randrange(180000, 460001, 5000), pick(rng, [5.5, 6, 6.5, 7])
        years = pick(rng, [15, 30])
    elif kind == "car":
        principal, rate = rng.randrange(12000, 38001, 500), pick(rng, [5, 6.5, 7.5, 9])
        years = pick(rng, [3, 4, 5, 6])
    else:
        principal, rate, years = rng.randrange(3000, 20001, 500), pick(rng, [9, 11, 13]), pick(rng, [2, 3, 5])
    i, n = rate / 100 / 12, years * 12
    m = principal * i / (1 - (1 + i) ** -n)  # the amortised monthly payment
    return [FINANCE.qa(rng, "loan", kind=kind, principal=principal, rate=rate, years=years, i=i, n=n, m=m,
                       interest=m * n - principal)]


def fin_expenses(rng: random.Random) -> list[QA]:
    items = rng.sample(FINANCE["expenses"], rng.randrange(6, 10))
    rows = [(n, c, rng.randrange(lo, hi + 1)) for n, c, lo, hi in items]
    cats: dict[str, list[tuple[str, int]]] = {}
    for n, c, a in rows:
        cats.setdefault(c, []).append((n, a))
    totals = {c: sum(a for _, a in entries) for c, entries in cats.items()}
    lines = [f"**{c}** ({money(totals[c])}): " + ", ".join(f"{n} {money(a)}" for n, a in cats[c]) + "."
             for c in sorted(cats, key=lambda c: -totals[c])]
    return [FINANCE.qa(rng, "expenses", data="\n".join(f"{n}: {money(a)}" for n, _, a in rows), lines=bullets(lines),
                       total=sum(a for _, _, a in rows), biggest=max(totals, key=totals.__getitem__))]


def fin_concept(rng: random.Random, c: dict[str, Any]) -> QA:
    body = list(c["body"])
    if chance(rng, 0.5):
        body.append(pick(rng, FINANCE["advice"]))
    return FINANCE.faq(rng, "fin:concept", c, body=body)


def bundle_finance(rng: random.Random) -> list[QA]:
    r = rng.random()
    if r < 0.16:
        return fin_budget(rng)
    if r < 0.3:
        return fin_growth(rng) + [fin_concept(rng, pick(rng, FINANCE["faq"]))]
    if r < 0.42:
        return fin_debt(rng) + [fin_concept(rng, pick(rng, FINANCE["faq"]))]
    if r < 0.52:
        return fin_loan(rng)
    if r < 0.64:
        return fin_expenses(rng)
    first, second = rng.sample(FINANCE["faq"], 2)
    return [fin_concept(rng, first), fin_concept(rng, second)]


# --- travel ------------------------------------------------------------------------------------------------

TRAVEL = Topic("travel")


def itinerary(rng: random.Random, city: dict[str, Any], days: int) -> str:
    """Two sights a day and a local dish each evening, ending with a day trip when there are three days or more."""
    sights, foods = shuffled(rng, city["sights"]), shuffled(rng, city["foods"])
    out = []
    for d in range(days):
        if d == days - 1 and days >= 3:
            out.append(render(TRAVEL["daytrip_day"], {"day": d + 1, "daytrip": city["daytrip"]}))
        else:
            out.append(render(TRAVEL["sights_day"], {"day": d + 1, "morning": sights[(2 * d) % len(sights)],
                                                     "afternoon": sights[(2 * d + 1) % len(sights)],
                                                     "food": foods[d % len(foods)]}))
    return "\n".join(out)


def bundle_travel(rng: random.Random) -> list[QA]:
    if chance(rng, 0.14):
        return TRAVEL.faqs(rng, "travel:general")
    c = pick(rng, TRAVEL["cities"])
    days, who, interest = pick(rng, TRAVEL["trip_days"]), pick(rng, TRAVEL["who"]), pick(rng, TRAVEL["interests"])
    ns = {**c, "days": days, "interest": interest, "notes": f"\nNotes:{interest}" if interest else "",
          "subject": "I'm" if not who else ("we're" if who == "we " else who.strip() + " are"),
          "we": "we" if who else "I", "plan": lambda: itinerary(rng, c, days)}  # drawn after the prompt
    itin = TRAVEL.qa(rng, "itinerary", **ns)
    ns["foods"] = shuffled(rng, c["foods"])
    return [itin, *TRAVEL.qas(rng, ["food", "transport", "season", "daytrip"], **ns)]


# --- health and fitness ------------------------------------------------------------------------------------

FITNESS = Topic("fitness")


def fit_plan(rng: random.Random) -> QA:
    goal, equip = pick(rng, list(FITNESS["goals"])), pick(rng, list(FITNESS["equipment"]))
    days = pick(rng, FITNESS["plan_days"])
    pools = FITNESS["equipment"][equip]
    sessions = []  # full body each day, rotating through the exercises
    for d in range(days):
        ex = [pools["lower"][(d + i) % len(pools["lower"])] for i in range(1 if days > 2 else 2)]
        ex += [pools[part][d % len(pools[part])] for part in ("push", "pull", "core")]
        sessions.append(render(FITNESS["session"], {"day": d + 1, "exercises": ex}))
    sets, rest, progress = FITNESS["goals"][goal]
    return FITNESS.qa(rng, "plan", goal=goal, equip=equip, days=days, sessions="\n".join(sessions), sets=sets,
                      rest=rest, progress=progress)


def bundle_fitness(rng: random.Random) -> list[QA]:
    r = rng.random()
    if r < 0.3:
        g1, g2 = rng.sample(FITNESS["faq"], 2)
        return [fit_plan(rng), FITNESS.faq(rng, "fit:general", g1), FITNESS.faq(rng, "fit:general", g2)]
    if r < 0.45:
        kg = rng.randrange(52, 111)
        protein = FITNESS.qa(rng, "protein", kg=kg, lo=round(kg * 1.6), hi=round(kg * 2.2))
        return [protein, FITNESS.faq(rng, "fit:general", pick(rng, FITNESS["faq"]))]
    if r < 0.8:
        return FITNESS.qas(rng, ["form", "mistakes", "scale"], **pick(rng, FITNESS["exercises"]))
    return FITNESS.faqs(rng, "fit:general")


# --- the fact-table topics ---------------------------------------------------------------------------------

COOKING, ASTRONOMY, HISTORY = Topic("cooking"), Topic("astronomy"), Topic("history")
GARDENING, SUPPORT, HOME = Topic("gardening"), Topic("support"), Topic("home")


def bundle_cooking(rng: random.Random) -> list[QA]:
    if chance(rng, 0.25):
        return COOKING.faqs(rng, "cook:tech")
    r = pick(rng, COOKING["recipes"])
    plural = r.get("plural", False)  # "pancakes keep", "a stir-fry keeps"
    ns = {"art": r["name"], **r, "does": "do" if plural else "does", "them": "them" if plural else "it"}
    return COOKING.qas(rng, ["recipe", "fix", "swap", "store"], **ns)


def bundle_astronomy(rng: random.Random) -> list[QA]:
    if chance(rng, 0.3):
        return ASTRONOMY.faqs(rng, "sky:concept")
    o = pick(rng, ASTRONOMY["objects"])
    facts = o["facts"]
    k = rng.randrange(3, len(facts) + 1)
    chosen = facts[:1] + rng.sample(facts[1:], k - 1)
    if chance(rng, 0.5):
        body = paras(*[" ".join(chosen[i:i + 2]) for i in range(0, len(chosen), 2)])
    else:
        body = paras(choose(rng, ASTRONOMY["overview_intros"], o), bullets(chosen))
    return ASTRONOMY.qas(rng, ["overview", "observe", "kid"], **o, body=body)


def bundle_history(rng: random.Random) -> list[QA]:
    e = pick(rng, HISTORY["events"])
    overview = HISTORY.qa(rng, "overview", **e)
    causes = shuffled(rng, e["causes"])
    return [overview, *HISTORY.qas(rng, ["causes", "effects", "timeline", "quiz"], **(e | {"causes": causes}))]


def bundle_gardening(rng: random.Random) -> list[QA]:
    if chance(rng, 0.25):
        return GARDENING.faqs(rng, "garden:general")
    p = pick(rng, GARDENING["plants"])
    symptom, cause, fix = p["problem"]
    return GARDENING.qas(rng, ["grow", "problem", "pot", "friends"], **p, bare=re.sub(r"^an? ", "", p["name"]),
                         plural=p["name"].endswith("s"), symptom=symptom, cause=cause, fix=fix)


def bundle_support(rng: random.Random) -> list[QA]:
    company, product, plan = pick(rng, SUPPORT["companies"])
    issue = pick(rng, sorted(SUPPORT["issues"]))
    first, last = pick(rng, NAMES), pick(rng, SURNAMES)
    values = dict(order=str(rng.randrange(10000, 99999)), product=product, plan=plan,
                  day=pick(rng, SUPPORT["due_days"]), amount=money(rng.randrange(5, 240) + pick(rng, [0, 0.49, 0.99])))
    ns = {**SUPPORT["issues"][issue], **values, "issue": issue, "company": company, "first": first, "last": last,
          "agent": pick(rng, SUPPORT["agents"]), "ticket": f"cs:{company}:{issue}:{values['order']}"}
    for k in ("says", "fix", "alt"):  # the issue's sentences name the order, product, amount...
        ns[k] = [x.format(**values) for x in ns[k]]
    ns["email"] = SUPPORT.text(rng, "email", **ns)
    ns["fixes"] = [pick(rng, pair) for pair in zip(ns["fix"], ns["alt"], strict=True)]
    ns["curt"] = pick(rng, [ns["curt"], ns["curt2"]])
    ns["reply"] = SUPPORT.text(rng, "reply", **ns)
    return SUPPORT.qas(rng, ["reply", "rewrite", "summary", "classify"], **ns)


def bundle_home(rng: random.Random) -> list[QA]:
    return HOME.qas(rng, ["how", "tools", "pro", "often"], **pick(rng, HOME["jobs"]))


BUNDLES: dict[str, Bundle] = {
    "math_word_problems": bundle_math, "customer_support": bundle_support, "personal_finance": bundle_finance,
    "python_programming": bundle_python, "travel": bundle_travel, "cooking": bundle_cooking,
    "gardening": bundle_gardening, "history": bundle_history, "health_fitness": bundle_fitness,
    "astronomy": bundle_astronomy, "home_maintenance": bundle_home,
}
