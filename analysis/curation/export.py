"""Write the cleaned subset with a record of what was removed and why.

Export = all rows minus drops (optionally only / except given tags), as JSONL, Parquet or CSV,
either in the source format (the original records; JSONL lines byte-for-byte) or as normalised
chat `messages`. Beside the data go `manifest.json` (source fingerprint, counts, filters, time and the
whole action log), `dropped.jsonl` (row id, reason, who, when) and `recipe.json` (the row decisions as
replayable data, ARCHITECTURE.md §5). Every file is written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.curation.recipe import build_recipe
from analysis.curation.writers import (
    EXPORT_AS,
    EXPORT_FORMATS,
    format_from_suffix,
    source_paths,
    write_jsonl,
    write_rows,
)
from analysis.io import Dataset, LoadError
from analysis.util.files import atomic_path, atomic_write_text
from analysis.workspace.store import CurationStore

__all__ = ["EXPORT_AS", "EXPORT_FORMATS", "ExportResult", "export_dataset", "format_from_suffix", "select_rows"]

SIFT_VERSION = "0.1.0"


@dataclass(frozen=True)
class ExportResult:
    out: str
    rows_written: int
    rows_dropped: int
    rows_excluded: int
    manifest: str
    dropped_log: str
    recipe: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def select_rows(rows: pd.DataFrame, store: CurationStore, *, only_tags: Sequence[str] = (),
                except_tags: Sequence[str] = ()) -> tuple[pd.DataFrame, int, int]:
    """Rows to write, and how many were dropped / excluded by the tag filters."""
    dropped = store.dropped_ids()
    keep = ~rows["row_id"].isin(dropped)
    n_dropped = int((~keep).sum())
    before = int(keep.sum())
    if only_tags:
        wanted: set[int] = set().union(*(store.tagged_ids(t) for t in only_tags))
        keep &= rows["row_id"].isin(wanted)
    if except_tags:
        unwanted: set[int] = set().union(*(store.tagged_ids(t) for t in except_tags))
        keep &= ~rows["row_id"].isin(unwanted)
    return rows[keep], n_dropped, before - int(keep.sum())


def export_dataset(dataset: Dataset, store: CurationStore, out: str | Path, *, fmt: str | None = None,
                   as_: str = "source", only_tags: Sequence[str] = (), except_tags: Sequence[str] = ()
                   ) -> ExportResult:
    """Write the cleaned subset and its manifest, drop log and recipe beside it."""
    out = Path(out).expanduser()
    fmt = fmt or format_from_suffix(out)
    if fmt not in EXPORT_FORMATS:
        raise LoadError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    if as_ not in EXPORT_AS:
        raise LoadError(f"unknown export shape {as_!r}; expected one of {', '.join(EXPORT_AS)}")
    if out.is_dir():
        raise LoadError("--out is a folder; give the file to write (e.g. clean.jsonl)", path=str(out))
    sources = source_paths(dataset)
    resolved = out.resolve()
    sidecars = {resolved.parent / n for n in ("manifest.json", "dropped.jsonl", "recipe.json")}
    if resolved in sources or sidecars & sources:
        raise LoadError("refusing to overwrite a source file of this dataset; choose another --out", path=str(out))
    subset, n_dropped, n_excluded = select_rows(dataset.rows, store, only_tags=only_tags, except_tags=except_tags)
    with atomic_path(out) as tmp:
        write_rows(subset, tmp, fmt, as_)
    drops = store.drop_records()
    dropped_path = out.parent / "dropped.jsonl"
    with atomic_path(dropped_path) as tmp:
        write_jsonl(tmp, (json.dumps(d, ensure_ascii=False) for d in drops))
    recipe_path = out.parent / "recipe.json"
    atomic_write_text(recipe_path, json.dumps(build_recipe(dataset, store), indent=2, ensure_ascii=False))
    info = dataset.info
    manifest = {
        "sift_version": SIFT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {"path": info.path, "fingerprint": info.fingerprint, "format": info.format, "kind": info.kind,
                   "files": [f.path for f in info.files], "options": info.options.to_dict(),
                   "skipped_lines": len(info.skipped)},
        "output": {"path": str(out), "format": fmt, "as": as_, "dropped_log": dropped_path.name,
                   "recipe": recipe_path.name},
        "filters": {"only_tags": list(only_tags), "except_tags": list(except_tags)},
        "counts": {"rows_total": len(dataset.rows), "rows_dropped": n_dropped, "rows_excluded_by_tags": n_excluded,
                   "rows_written": len(subset)},
        "actions": [_log_entry(a) for a in store.actions()],
    }
    manifest_path = out.parent / "manifest.json"
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
    return ExportResult(str(out), len(subset), n_dropped, n_excluded, str(manifest_path), str(dropped_path),
                        str(recipe_path))


def _log_entry(action: Any) -> dict[str, Any]:
    """An action for the manifest, without the undo snapshot (which can be megabytes for big drops)."""
    entry = asdict(action)
    entry["params"] = {k: v for k, v in entry["params"].items() if k != "before"}
    return entry
