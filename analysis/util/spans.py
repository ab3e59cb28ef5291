"""Find a check's evidence span inside a row and cut a plain-text snippet around it.

Checks report the offending span as it appears in the row's text (`CheckResult.evidence`); the Findings page shows
where it sits. Highlighting is done with plain-text markers (never HTML): dataset text is untrusted and is only
ever rendered as text, so the span is wrapped in `MARK_OPEN`/`MARK_CLOSE` and underlined with carets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MARK_OPEN, MARK_CLOSE = "⟦", "⟧"
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class SpanHit:
    """One occurrence of the evidence: which turn (index into messages, -1 for the raw source) and where."""

    turn: int
    role: str
    start: int
    end: int
    snippet: str


def _find(text: str, span: str) -> tuple[int, int] | None:
    """Exact match first, then case-insensitive, then whitespace-insensitive (checks may collapse whitespace)."""
    at = text.find(span)
    if at >= 0:
        return at, at + len(span)
    same_length = len(text.casefold()) == len(text) and len(span.casefold()) == len(span)  # else offsets shift
    at = text.casefold().find(span.casefold()) if same_length else -1
    if at >= 0:
        return at, at + len(span)
    words = [re.escape(w) for w in span.split()]
    if not words:
        return None
    m = re.search(r"\s+".join(words), text, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def snippet(text: str, start: int, end: int, context: int = 80) -> str:
    """The span wrapped in markers with up to `context` characters either side, newlines shown as ⏎."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    before = ("…" if left > 0 else "") + text[left:start]
    after = text[end:right] + ("…" if right < len(text) else "")

    def flat(s: str) -> str:
        return _WS.sub(lambda m: " ⏎ " if "\n" in m.group() else " ", s)

    return f"{flat(before)}{MARK_OPEN}{flat(text[start:end])}{MARK_CLOSE}{flat(after)}"


def locate(messages: list[dict[str, Any]] | None, span: str, *, source: str | None = None,
           limit: int = 3, context: int = 80) -> list[SpanHit]:
    """Up to `limit` occurrences of `span` in the row's turns (then its source record when no turn has it)."""
    if not span:
        return []
    hits: list[SpanHit] = []
    for i, turn in enumerate(messages or []):
        text = str(turn.get("content") or "")
        pos = 0
        while len(hits) < limit:
            found = _find(text[pos:], span)
            if found is None:
                break
            start, end = found[0] + pos, found[1] + pos
            hits.append(SpanHit(i, str(turn.get("role") or ""), start, end, snippet(text, start, end, context)))
            pos = max(end, start + 1)
    if not hits and source:
        found = _find(source, span)
        if found is not None:
            hits.append(SpanHit(-1, "source", found[0], found[1], snippet(source, *found, context)))
    return hits
