"""Word-level diff for preference pairs and near-duplicates, rendered as plain text.

The app must never pass dataset text through HTML, so the diff is expressed git-style in text
(`[-removed-]{+added+}`) and as op lists a renderer can colour safely.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class DiffOp:
    op: str  # "equal" | "delete" | "insert"
    text: str


def word_diff(a: str, b: str) -> list[DiffOp]:
    """Token diff of `a` -> `b` keeping whitespace tokens so the text reassembles exactly."""
    ta, tb = _TOKEN.findall(a or ""), _TOKEN.findall(b or "")
    sm = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            ops.append(DiffOp("equal", "".join(ta[i1:i2])))
        else:
            if i2 > i1:
                ops.append(DiffOp("delete", "".join(ta[i1:i2])))
            if j2 > j1:
                ops.append(DiffOp("insert", "".join(tb[j1:j2])))
    return ops


def similarity(a: str, b: str) -> float:
    """Share of matching word tokens, 0..1 (difflib ratio over tokens)."""
    ta, tb = _TOKEN.findall(a or ""), _TOKEN.findall(b or "")
    if not ta and not tb:
        return 1.0
    return difflib.SequenceMatcher(a=ta, b=tb, autojunk=False).ratio()


def render_word_diff(ops: list[DiffOp]) -> str:
    """git --word-diff=plain style: `[-old-]{+new+}`; plain text, safe to show anywhere."""
    out = []
    for o in ops:
        if o.op == "equal":
            out.append(o.text)
        elif o.op == "delete":
            out.append(f"[-{o.text}-]")
        else:
            out.append(f"{{+{o.text}+}}")
    return "".join(out)
