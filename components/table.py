"""The Browse table: previews of one page of rows plus their curation status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.explore.filters import CurationView, preview_column


def status_labels(row_ids: pd.Series, cur: CurationView) -> pd.Series:
    """`dropped`, `flagged`, `#tag`, `note` badges as one short text per row."""
    page_ids = set(row_ids.astype(int))
    tags_by_row: dict[int, list[str]] = {}
    for tag, ids in cur.tagged.items():  # only the page's rows: a tag may cover all 100k
        for rid in page_ids.intersection(ids):
            tags_by_row.setdefault(int(rid), []).append(tag)
    out = []
    for rid in row_ids.astype(int):
        parts = []
        if rid in cur.dropped:
            parts.append("dropped")
        if rid in cur.flagged:
            parts.append("flagged")
        parts += [f"#{t}" for t in sorted(tags_by_row.get(rid, []))]
        if rid in cur.noted:
            parts.append("note")
        out.append(" ".join(parts))
    return pd.Series(out, index=row_ids.index, dtype="str")


def _question(frame: pd.DataFrame) -> pd.Series:
    """The last user turn where there is one (a shared system prompt would make every preview alike)."""
    if "last_user" not in frame:
        return frame["prompt"]
    last = frame["last_user"].fillna("")
    return last.where(last.str.strip() != "", frame["prompt"])


def table_page(frame: pd.DataFrame, cur: CurationView, *, preview_chars: int = 140) -> pd.DataFrame:
    """Display columns for one page of already-filtered rows (never the whole 100k)."""
    return pd.DataFrame({
        "row_id": frame["row_id"].astype(int),
        "kind": frame["kind"],
        "status": status_labels(frame["row_id"], cur),
        "prompt": preview_column(_question(frame), preview_chars),
        "response": preview_column(frame["response"], preview_chars),
        "turns": frame["turns"].astype(int),
        "response_chars": frame["response_chars"].astype(int),
        "file": frame["source_file"].astype(str).str.rsplit("/", n=1).str[-1],
    }).reset_index(drop=True)


def selected_row_ids(event: Any, page: pd.DataFrame) -> list[int]:
    """Row ids of the rows ticked in `st.dataframe(on_select=...)` (selection gives positions)."""
    if not event:
        return []
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    if not selection:
        return []
    rows = selection.get("rows") if isinstance(selection, Mapping) else getattr(selection, "rows", None)
    return [int(page["row_id"].iloc[i]) for i in (rows or []) if 0 <= i < len(page)]
