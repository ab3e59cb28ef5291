"""Never compute on empty text: is there text in a scope, and which column of an unmapped table holds it?

A file with no known schema loads as kind `table`: every row's prompt, response and turns are empty. Embedding,
a map, topics, coverage or a text check over such rows is not an analysis of the data: 817 empty strings embed to
one point, make one topic, and every reference row is "equally near" it. So before any of these, callers ask
`text_coverage(rows, scope)` and stop with `no_text_message(...)` (which names the mapping to make) when fewer
than `MIN_TEXT_SHARE` of the rows have text.

Why 0.5: empty rows all embed to the same vector. While they are a minority they form one small, visible cluster
(the `length` check flags them); once they are the majority they are the largest topic, the map collapses around
them and every share (coverage, topic sizes) describes the missing mapping, not the data. A folder where a few
files lack a mapping stays usable; a table nobody mapped does not.

`suggest_text_column(records)` is how an unmapped table is mapped automatically: a column whose name says it holds
the request (`question`, `prompt`, `instruction`, `turns`, ...) or the text (`text`, `content`, ...), else the
longest string column when it is clearly the longest. Callers show the choice (CLI stderr line, app `st.info`)
and let the user override it (`--text COL`, a choice on the Data page).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.io.normalize import detect
from analysis.io.readers import BadRecord, iter_records, sniff_format

MIN_TEXT_SHARE = 0.5  # a scope where fewer rows than this have text is not analysed (module docstring)
PEEK_RECORDS = 200  # records per file read to suggest a text column (only names and value shapes are used)
# Column names that say what they hold, most telling first; the role each maps to.
PROMPT_NAMES = ("question", "prompt", "instruction", "query", "turns", "request", "problem", "input", "user")
TEXT_NAMES = ("text", "content", "document", "body", "passage", "sentence", "article")
MIN_LONGEST_CHARS = 20  # the longest-column fallback only for real text, not labels or ids
LONGEST_MARGIN = 1.5  # ... and only when it is clearly longer than the next string column


@dataclass(frozen=True)
class TextCoverage:
    """How many rows have non-blank text in a scope."""

    scope: str
    with_text: int
    rows: int

    @property
    def share(self) -> float:
        return self.with_text / self.rows if self.rows else 0.0

    @property
    def ok(self) -> bool:
        return self.with_text > 0 and self.share >= MIN_TEXT_SHARE


@dataclass(frozen=True)
class Suggestion:
    """An automatic mapping for an unmapped table: `role=column`, and why that column."""

    role: str
    column: str
    why: str

    @property
    def mapping(self) -> dict[str, str]:
        return {self.role: self.column}


class NoTextError(ValueError):
    """The scope has (almost) no text: computing on it would describe the missing mapping, not the data."""


def _has_text(values: Iterable[Any]) -> np.ndarray:
    return np.fromiter((isinstance(v, str) and bool(v.strip()) for v in values), dtype=bool)


def _turns_have_text(turns: Any) -> bool:
    if turns is None or isinstance(turns, str | bytes):
        return False
    try:
        return any(str((t or {}).get("content") or "").strip() for t in turns)
    except (TypeError, AttributeError):
        return False


def text_coverage(rows: pd.DataFrame, scope: str) -> TextCoverage:
    """Rows with non-blank text under `scope`: prompt, response, or both (any turn of the conversation)."""
    if scope == "prompt":
        has = _has_text(rows["prompt"].tolist())
    elif scope == "response":
        has = _has_text(rows["response"].tolist())
    else:
        has = np.fromiter((_turns_have_text(m) for m in rows["messages"]), dtype=bool, count=len(rows))
    return TextCoverage(scope, int(has.sum()), len(rows))


def role_for(column: str) -> str:
    """The role a text column maps to by its name: `text` for text-like names, else `prompt` (a request)."""
    low = column.strip().lower()
    return "text" if any(low == n or low.startswith(n) or low.endswith(n) for n in TEXT_NAMES) else "prompt"


def _is_texty(v: Any) -> bool:
    if isinstance(v, str):
        return bool(v.strip())
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v) and any(x.strip() for x in v)


def _length(v: Any) -> int:
    return len(v) if isinstance(v, str) else sum(len(x) for x in v)


def suggest_text_column(records: Sequence[dict[str, Any]]) -> Suggestion | None:
    """The column of an unmapped table that clearly holds its text, or None (module docstring)."""
    stats: dict[str, list[int]] = {}
    for rec in records:
        for k, v in rec.items():
            if _is_texty(v):
                stats.setdefault(str(k), []).append(_length(v))
    n = max(len(records), 1)
    texty = {k: float(np.mean(v)) for k, v in stats.items() if len(v) >= 0.9 * n}
    if not texty:
        return None
    lower = {k.lower(): k for k in texty}
    for names, why in ((PROMPT_NAMES, "a question-like name"), (TEXT_NAMES, "a text-like name")):
        for name in names:
            if name in lower:
                col = lower[name]
                return Suggestion(role_for(col), col, f"{why}, text in {len(stats[col]):,} of {n:,} records read")
    for names, why in ((PROMPT_NAMES, "a question-like name"), (TEXT_NAMES, "a text-like name")):
        hits = [k for k in texty if any(n in k.lower() for n in names)]
        if len(hits) == 1:
            return Suggestion(role_for(hits[0]), hits[0], f"{why}, the only such column")
    ranked = sorted(texty.items(), key=lambda kv: -kv[1])
    best, mean = ranked[0]
    if mean >= MIN_LONGEST_CHARS and (len(ranked) == 1 or mean >= LONGEST_MARGIN * ranked[1][1]):
        return Suggestion("text", best, f"the longest string column, {mean:,.0f} characters on average")
    return None


def peek_records(path: str | Path, files: Sequence[Path], *, header: bool | None = None,
                 fmt: str | None = None, limit: int = PEEK_RECORDS) -> list[list[dict[str, Any]]]:
    """Up to `limit` parseable records of each file (bad ones skipped: the real load reports them)."""
    del path
    out = []
    for f in files:
        recs: list[dict[str, Any]] = []
        for rec in iter_records(f, fmt or sniff_format(f), header=header):
            if not isinstance(rec, BadRecord):
                recs.append(rec.data)
            if len(recs) >= limit or rec.index >= 4 * limit:
                break
        out.append(recs)
    return out


def suggest_for_files(per_file: Sequence[Sequence[dict[str, Any]]]) -> Suggestion | None:
    """A mapping to apply to every file, when each one is an unmapped table and the same column holds the text."""
    if not per_file or any(not recs for recs in per_file):
        return None
    for recs in per_file:
        try:
            if detect(recs).kind != "table":
                return None
        except ValueError:
            return None
    picks = [suggest_text_column(recs) for recs in per_file]
    first = picks[0]
    if first is None or any(p is None or p.column != first.column for p in picks):
        return None
    return first


def records_of(rows: pd.DataFrame, limit: int = 1000) -> list[dict[str, Any]]:
    """The source records of (up to `limit`) loaded rows, to suggest a mapping from a loaded table."""
    out = []
    for src in rows["source"].head(limit).tolist():
        try:
            rec = json.loads(src) if isinstance(src, str) else None
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            out.append(rec)
    return out


def no_text_message(cov: TextCoverage, *, name: str, kind: str, fields: Iterable[str], what: str,
                    suggestion: Suggestion | None, fix: str) -> str:
    """One message: what has no text, why (the kind, the columns), and the mapping to make.

    `fix` is how to apply a mapping in this interface, with `{mapping}` for `role=column` (CLI: "--map {mapping}";
    app: "map it on the Data page ({mapping})")."""
    cols = ", ".join(sorted(map(str, fields))) or "none"
    why = (f"the file was read as '{kind}' (no known schema; columns: {cols})" if kind == "table"
           else f"read as '{kind}'; columns: {cols}")
    example = ",".join(f"{r}={c}" for r, c in suggestion.mapping.items()) if suggestion else "prompt=COLUMN"
    hint = fix.format(mapping=example)
    if suggestion is None:
        hint += "; roles are prompt, response, text, messages, chosen, rejected"
    scope = {"both": "any text", "prompt": "prompt text", "response": "response text"}.get(cov.scope, "text")
    return (f"{name}: {cov.with_text:,} of {cov.rows:,} rows have {scope}, so {what} would describe "
            f"empty strings, not the data; {why}. Map the column that holds the text: {hint}")
