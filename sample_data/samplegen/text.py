"""Text helpers and the small template engine that turns ``templates/*.toml`` into question/answer pairs.

Why templates are data: the wording is most of the generator, and reads (and diffs) better as text than as
thousands of lines of string literals.

A template is an f-string body kept as data: ``"{n} hours is {hours_text(n)}."`` renders exactly as the f-string
``f"{n} hours is {hours_text(n)}."`` would. A field is a Python expression (with an optional ``:format-spec``)
over the variables passed in, the topic file's top-level values and the names in `HELPERS`; ``pick(seq)`` and
``sample(seq, k)`` make a random draw at that point. Templates are evaluated as Python, so they are trusted files
of this repository; the values they insert (fact-table text, code snippets) are never rendered themselves.

A ``[qa.NAME]`` table describes one `QA`. Its keys are rendered top to bottom and each result becomes a variable
for the keys below it (so ``short`` can be reused as ``{short}``). A list means "choose one item here" (a chosen
string is rendered, anything else used as it is); ``response`` is the exception: a list of paragraphs, joined by
blank lines with empty ones dropped, in which a nested list is a choice. ``rejected.weak`` and ``rejected.wrong``
build the rejected answer with `worse`. The order of the keys is the order of the random draws: reordering them
changes the generated data, which ``tests/analysis/test_sample_data.py`` would catch.
"""

from __future__ import annotations

import functools
import math
import random
import re
import string
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from types import CodeType
from typing import Any

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """One data file, ``templates/NAME.toml`` (found next to the script, wherever it is run from)."""
    with open(TEMPLATES / f"{name}.toml", "rb") as f:
        return tomllib.load(f)


# --- formatting --------------------------------------------------------------------------------------------


def pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    """Uniform choice via ``randrange`` (not ``rng.choice``): the draw the dataset was generated with."""
    return seq[rng.randrange(len(seq))]


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def fill(template: str, **kw: str) -> str:
    """``$name`` substitution; used for code so that literal braces stay literal."""
    return string.Template(template).substitute(**kw)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {x}" for x in items)


def numbered(items: Iterable[str]) -> str:
    return "\n".join(f"{i}. {x}" for i, x in enumerate(items, 1))


def sentences(items: Iterable[str]) -> list[str]:
    """Fact-table fragments as sentences: ``["rounding the back"]`` -> ``["Rounding the back."]``."""
    return [cap(x) + "." for x in items]


def labelled(pairs: Iterable[Sequence[str]]) -> list[str]:
    """``[["1989", "the wall falls"]]`` -> ``["**1989:** The wall falls."]``."""
    return [f"**{label}:** {cap(text)}." for label, text in pairs]


def spaced(*parts: str) -> str:
    """Sentences joined by spaces, the empty ones left out."""
    return " ".join(p for p in parts if p)


def shuffled(rng: random.Random, items: Sequence[Any]) -> list[Any]:
    out = list(items)
    rng.shuffle(out)
    return out


def paras(*blocks: str) -> str:
    return "\n\n".join(b for b in blocks if b)


def code_block(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code.strip()}\n```"


def money(x: float) -> str:
    return f"${x:,.0f}" if abs(x - round(x)) < 0.005 else f"${x:,.2f}"


def num(x: float) -> str:
    """A number without a trailing .0 and with at most two decimals."""
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def hours_text(h: float) -> str:
    whole, minutes = int(h), int(round((h - int(h)) * 60))
    if minutes == 60:
        whole, minutes = whole + 1, 0
    parts = [f"{whole} hour{'s' if whole != 1 else ''}"] if whole else []
    if minutes:
        parts.append(f"{minutes} minutes")
    return " and ".join(parts) or "0 minutes"


def listing(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    """Add a full stop unless the text already ends a sentence."""
    return text if text.endswith((".", "?", "!")) else text + "."


def lead(text: str, *seps: str) -> str:
    """The text up to the first of each separator in turn, as a sentence: a short answer cut from a long one."""
    for sep in seps:
        text = text.split(sep)[0]
    return text.rstrip(".") + "."


def a_an(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def frac(a: int, b: int, short: bool = False) -> str:
    """a/b, followed by its lowest terms when those differ (or only the lowest terms if short)."""
    g = math.gcd(a, b)
    if g == 1:
        return f"{a}/{b}"
    return f"{a // g}/{b // g}" if short else f"{a}/{b} = {a // g}/{b // g}"


def worse(rng: random.Random, weak: str, vague: Sequence[str], wrong: str | None = None) -> str:
    """A rejected answer: the wrong one (if any) 35% of the time, else the weak one, else a vague brush-off."""
    r = rng.random()
    if wrong and r < 0.35:
        return wrong
    return weak if r < 0.7 else pick(rng, vague)


# --- templates ---------------------------------------------------------------------------------------------

HELPERS: dict[str, Any] = {f.__name__: f for f in (  # all a template can call, besides pick() and sample()
    cap, bullets, numbered, sentences, labelled, spaced, paras, code_block, money, num, hours_text, listing,
    sentence, lead, a_an, frac, abs, int, len, max, min, round, str, sum,
)}
FIELD = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


@functools.cache
def _field(source: str) -> tuple[CodeType, str]:
    """Compile ``expr`` or ``expr:spec`` (``{x[1:]}`` is an expression; ``{x:.2f}`` has a format spec)."""
    try:
        return compile(source, "<template>", "eval"), ""
    except SyntaxError:
        expr, spec = source.rsplit(":", 1)
        return compile(expr, "<template>", "eval"), spec


def render(template: str, ns: dict[str, Any]) -> str:
    """Evaluate the template's fields left to right, as an f-string would."""
    env = ns if "__builtins__" in ns else {"__builtins__": HELPERS, **ns}

    def field(m: re.Match[str]) -> str:
        if m.group(1) is None:  # {{ or }}
            return m.group(0)[0]
        code, spec = _field(m.group(1))
        return format(eval(code, env), spec)

    return FIELD.sub(field, template)


def choose(rng: random.Random, value: Any, ns: dict[str, Any]) -> Any:
    """A template value: a list is a choice; a chosen string is rendered."""
    if isinstance(value, list):
        value = pick(rng, value)
    return render(value, ns) if isinstance(value, str) else value


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


QA_FIELDS = {f.name for f in fields(QA)}


class Topic:
    """A topic's data file; renders its template tables with the topic's ``vague`` answers and random draws."""

    def __init__(self, name: str):
        self.data = load(name)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def fill(self, rng: random.Random, table: dict[str, Any], /, **ns: Any) -> dict[str, Any]:
        """Render a table's keys top to bottom; each result becomes a variable for the keys after it."""
        env = {"__builtins__": HELPERS, **self.data, "pick": lambda seq: pick(rng, seq), "sample": rng.sample, **ns}
        for name, value in table.items():
            if name == "response" and isinstance(value, list):
                env[name] = paras(*(choose(rng, p, env) for p in value))
            elif name == "rejected" and isinstance(value, dict):
                weak = render(value["weak"], env)
                wrong = choose(rng, value["wrong"], env) if "wrong" in value else None
                env[name] = worse(rng, weak, self.data["vague"], wrong)
            else:
                env[name] = choose(rng, value, env)
        return env

    def text(self, rng: random.Random, table: str, /, **ns: Any) -> str:
        """The ``text`` key of a template table (an email, say) after its other keys have been drawn."""
        return self.fill(rng, self.data[table], **ns)["text"]

    def qa(self, rng: random.Random, spec: str, /, **ns: Any) -> QA:
        table = self.data["qa"][spec]
        env = self.fill(rng, table, **ns)
        return QA(**{k: env[k] for k in table if k in QA_FIELDS})

    def qas(self, rng: random.Random, specs: Iterable[str], /, **ns: Any) -> list[QA]:
        return [self.qa(rng, s, **ns) for s in specs]

    def faq(self, rng: random.Random, prefix: str, item: dict[str, Any], body: Sequence[str] | None = None,
            same_followup: bool = False) -> QA:
        """A question from the topic's ``[[faq]]`` table: a fixed answer, asked in one of its phrasings."""
        ask = pick(rng, item["ask"])
        rejected = worse(rng, item["short"], self.data["vague"], item["wrong"])
        return QA(f"{prefix}:{item['id']}", ask, paras(*(body or item["body"])), item["short"], rejected,
                  followup=ask if same_followup else pick(rng, item["ask"]))

    def faqs(self, rng: random.Random, prefix: str) -> list[QA]:
        """Two different FAQ questions: a conversation that moves from one to the other."""
        return [self.faq(rng, prefix, item) for item in rng.sample(self.data["faq"], 2)]
