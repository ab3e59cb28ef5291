"""How kept rows become files: the formats, the record shapes and the writers shared by `export` and `recipe`.

Kept apart from both so that `export` (which writes a recipe beside the data) and `recipe` (whose `apply` writes
data the way an export does) depend on this module instead of on each other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.io import Dataset, LoadError, render_turns, resolve_paths

EXPORT_FORMATS = ("jsonl", "parquet", "csv")
EXPORT_AS = ("source", "messages")
# OWASP CSV injection: a spreadsheet evaluates a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

def format_from_suffix(out: Path) -> str:
    suffix = out.suffix.lower()
    return {".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".csv": "csv"}.get(suffix, "jsonl")


def chosen_turns(turns: list[dict[str, Any]], chosen: str) -> int:
    """How many final turns make up `chosen` (rendered the way the loader rendered it); usually 1."""
    for k in range(1, len(turns)):
        if render_turns(turns[-k:]) == chosen:
            return k
    return 1


def messages_record(row: Any) -> dict[str, Any]:
    turns = [{"role": t["role"], "content": t["content"], "tool_call": bool(t["tool_call"])} for t in row.messages]
    rec: dict[str, Any] = {"row_id": int(row.row_id), "kind": row.kind, "messages": turns}
    if row.kind == "preference":
        # The context, then the two answers (LLaMA-Factory / TRL layout): with the chosen turn left inside
        # `messages` too, reading the file back would put the chosen answer into the conversation twice.
        rec["messages"] = turns[:len(turns) - chosen_turns(turns, row.chosen)]
        rec["chosen"] = row.chosen
        rec["rejected"] = row.rejected
    if isinstance(row.score, float) and not math.isnan(row.score):
        rec["score"] = row.score
    return rec


def write_jsonl(tmp: Path, lines: Iterable[str]) -> None:
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")


def _flat(value: Any) -> Any:
    """CSV cells are text: nested values become JSON."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def neutralise_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Prefix `'` to every text cell (and header) a spreadsheet would run as a formula; how many there were.

    OWASP's CSV-injection advice: `=HYPERLINK(...)`, `=cmd|' /C calc'!A0` or `@SUM(...)` in a training record must
    reach a spreadsheet user as text. Numbers stay numbers (a negative score is not a formula).
    """
    count = 0
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        hit = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(dtype=bool)
        if hit.any():
            count += int(hit.sum())
            out[col] = [("'" + v) if h else v for v, h in zip(values.tolist(), hit, strict=True)]
    names = {c: "'" + c for c in out.columns if isinstance(c, str) and c.startswith(FORMULA_START)}
    count += len(names)
    return out.rename(columns=names), count


def write_rows(subset: pd.DataFrame, tmp: Path, fmt: str, as_: str, *, csv_raw: bool = False) -> int:
    """Write `subset` to `tmp` as `fmt`, either its source records (`as_="source"`) or normalised messages.

    Returns how many CSV cells were neutralised as formulas (0 for JSONL / Parquet, or with `csv_raw`)."""
    if as_ == "source" and fmt == "jsonl":
        # JSONL sources keep their exact line text; other sources are re-serialised compactly.
        write_jsonl(tmp, (s if "\n" not in s else json.dumps(json.loads(s), ensure_ascii=False)
                           for s in subset["source"]))
        return 0
    if as_ == "source":
        records = [json.loads(s) for s in subset["source"]]
    else:
        records = [messages_record(r) for r in subset.itertuples(index=False)]
    if fmt == "jsonl":
        write_jsonl(tmp, (json.dumps(r, ensure_ascii=False) for r in records))
    elif fmt == "parquet":
        try:
            table = pa.Table.from_pylist(records)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise LoadError(f"these records cannot share one Parquet schema ({exc}); export as JSONL instead") from exc
        pq.write_table(table, tmp)
    elif fmt == "csv":
        # object dtype: an int column with a null would otherwise become float and write 2 as "2.0"
        frame = pd.DataFrame([{k: _flat(v) for k, v in r.items()} for r in records], dtype=object)
        count = 0
        if not csv_raw:
            frame, count = neutralise_formulas(frame)
        # CRLF rows (RFC 4180): the writer then quotes every cell holding a CR or LF, so a bare CR in a record can
        # no longer end a row early in the reader
        frame.to_csv(tmp, index=False, lineterminator="\r\n")
        return count
    else:
        raise LoadError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    return 0


def source_paths(dataset: Dataset) -> set[Path]:
    """The resolved files a dataset was read from, so no writer ever replaces one of them."""
    try:
        return {p.resolve() for p in resolve_paths(dataset.info.path)}
    except LoadError:
        return set()
