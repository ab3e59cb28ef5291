"""Write the cleaned subset as a new export folder, with a record of what was removed and why.

Export = all rows minus drops (optionally only / except given tags), as JSONL, Parquet or CSV, either in the
source format (the original records; JSONL lines byte-for-byte) or as normalised chat `messages`. An export is a
folder (`--out clean`) holding:

* one data file per source file, named after it (`sft.jsonl`, `chat.jsonl` ...): a mixed folder never becomes one
  file of mixed records that no trainer (and not `sift info`) can read back;
* `dropped.jsonl`: per dropped row its id, reason, who, when, source file and the original record as JSON;
* `recipe.json`: the row decisions as replayable data (ARCHITECTURE.md §5, `sift apply`);
* `manifest.json`: source fingerprint, counts, filters, the action log and every file with its sha256. Its
  `sift_export` key lets the loader read the folder back as exactly its data files.

Why a folder, and why this order of operations:

* **Nothing unrelated is touched.** The export never writes beside other files; a target inside a workspace, over
  or around a source file, or a folder Sift did not write is refused; a previous export is replaced only when asked
  (`force`).
* **One snapshot.** Rows to keep, drop records, the log and the recipe's rules come from one
  `CurationStore.snapshot()` (one SQLite read transaction), so a concurrent drop can never make a row both exported
  and listed as dropped.
* **All files or none.** Everything is written and fsynced into a hidden sibling folder, then renamed into place
  (`renameat2(RENAME_EXCHANGE)` swaps it with a previous export atomically; elsewhere old-aside, new-in, old-out).
  A kill leaves the previous export or the new one, never a mix; leftovers of a killed export are removed (and a
  previous export set aside is put back) by the next export to the same place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

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
from analysis.io import Dataset, LoadError, resolve_paths
from analysis.io.load import DATA_SUFFIXES, EXPORT_MANIFEST, EXPORT_MARKER
from analysis.util.files import RENAME_EXCHANGE, RENAME_NOREPLACE, file_sha256, fsync_dir, rename_flags
from analysis.workspace.folder import CURATION_FILE, DATASET_FILE, META_FILE, sift_home
from analysis.workspace.store import Action, CurationStore, Snapshot

__all__ = ["DROPPED_FILE", "EXPORT_AS", "EXPORT_FORMATS", "MANIFEST_FILE", "RECIPE_FILE", "ExportResult",
           "check_target", "export_dataset", "format_from_suffix", "is_export_folder", "select_rows"]

SIFT_VERSION = "0.1.0"
EXPORT_VERSION = 1
MANIFEST_FILE = EXPORT_MANIFEST
DROPPED_FILE = "dropped.jsonl"
RECIPE_FILE = "recipe.json"
_TMP, _OLD = "sift-tmp", "sift-old"  # hidden siblings: .<name>.sift-tmp-<pid>-<rand>, .<name>.sift-old-<pid>-<rand>
USE_RENAME_EXCHANGE = True  # tests turn it off to exercise the portable old-aside / new-in path
FAULT_ENV = "SIFT_EXPORT_FAULT"  # fault-injection tests: SIGKILL this process at the named point


class CurationReads(Protocol):
    """What an export reads: a `CurationStore` or, for one consistent view, its `Snapshot`."""

    def dropped_ids(self) -> set[int]: ...
    def tagged_ids(self, tag: str) -> set[int]: ...
    def drop_records(self) -> list[dict[str, Any]]: ...
    def actions(self) -> list[Action]: ...


@dataclass(frozen=True)
class ExportResult:
    out: str  # the export folder
    files: list[str]  # its data files
    rows_written: int
    rows_dropped: int
    rows_excluded: int
    manifest: str
    dropped_log: str
    recipe: str
    csv_formulas_neutralised: int = 0
    replaced: bool = False  # a previous export was replaced (force)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def select_rows(rows: pd.DataFrame, store: CurationReads, *, only_tags: Sequence[str] = (),
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


def is_export_folder(path: Path) -> bool:
    """A folder a Sift export wrote (its manifest carries the export marker)."""
    try:
        doc = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and EXPORT_MARKER in doc


def _workspace_holding(path: Path) -> Path | None:
    """The Sift workspace `path` is in (or is), if any: a folder with meta.json + dataset.parquet, or anything
    under $SIFT_HOME/workspaces."""
    home = (sift_home() / "workspaces").resolve()
    for p in (path, *path.parents):
        if (p / META_FILE).is_file() and ((p / DATASET_FILE).exists() or (p / CURATION_FILE).exists()):
            return p
        if p == home or p.parent == home:
            return p
    return None


def check_target(dataset: Dataset, out: str | Path, *, force: bool = False, given: str | Path | None = None) -> Path:
    """The resolved export folder, or a LoadError saying why writing there could destroy something. `given`: the
    path the user named (a workspace is keyed by content, so it may have been built from an identical copy)."""
    out = Path(out).expanduser()
    target = out.resolve()
    ws = _workspace_holding(target)
    if ws is not None:
        raise LoadError(f"refusing to export into the Sift workspace {ws}: it would replace its curation state or "
                        "data; choose a folder outside it", path=str(out))
    sources = source_paths(dataset)
    roots = [Path(dataset.info.path).expanduser()]
    if given is not None:
        roots.append(Path(given).expanduser())
        with contextlib.suppress(LoadError):
            sources |= {p.resolve() for p in resolve_paths(given)}
    if any(s == target or target in s.parents for s in sources):
        raise LoadError("refusing to overwrite a source file of this dataset; choose another --out", path=str(out))
    if target.name.lower().endswith(tuple(DATA_SUFFIXES) + (".gz",)):
        raise LoadError(f"--out names the export folder (e.g. {out.with_suffix('')}), not a file: the data files "
                        "inside it are named after the source files; choose the format with --format",
                        path=str(out))
    if any(r.is_dir() and (target == r.resolve() or r.resolve() in target.parents) for r in roots):
        raise LoadError("refusing to export into the source folder (the export would become part of the dataset); "
                        "choose a folder outside it", path=str(out))
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise LoadError("--out exists and is a file, not an export folder; choose another --out", path=str(out))
        if any(target.iterdir()):
            if not is_export_folder(target):
                raise LoadError("--out is a folder Sift did not write; choose a new folder (--force only replaces "
                                "a previous Sift export)", path=str(out))
            if not force:
                raise LoadError("--out already holds an export; add --force to replace it", path=str(out))
    return target


def _fault(point: str) -> None:
    """Fault injection for tests/analysis/test_export_faults.py: die here, as a kill -9 would."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(target: Path) -> list[str]:
    """Remove the hidden temporaries a killed export to `target` left behind (never those of a live export),
    putting a previous export back first if a kill struck between setting it aside and renaming the new one in."""
    found = []
    pattern = re.compile(rf"\.{re.escape(target.name)}\.({_TMP}|{_OLD})-(\d+)-[0-9a-f]+")
    for p in sorted(target.parent.iterdir()):
        m = pattern.fullmatch(p.name)
        if m is None or (int(m[2]) != os.getpid() and _pid_alive(int(m[2]))):
            continue
        if m[1] == _OLD and not target.exists():
            os.rename(p, target)  # the previous export, set aside by a killed run: put it back
            fsync_dir(target.parent)
        else:
            shutil.rmtree(p, ignore_errors=True)
        found.append(p.name)
    return found



def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _stem(name: str) -> str:
    """`sft.jsonl.gz` -> `sft`: a source file's name without its data suffixes."""
    low = name.lower()
    if low.endswith(".gz"):
        name, low = name[:-3], low[:-3]
    for suf in DATA_SUFFIXES:
        if low.endswith(suf):
            return name[: -len(suf)] or name
    return name


def data_file_names(dataset: Dataset, fmt: str) -> dict[str, str]:
    """Source file (as in `rows.source_file`) -> the data file of the export that holds its rows: the source
    file's name (its sub-folder kept for a folder source) with the export format's suffix; unique."""
    files = list(dict.fromkeys([f.path for f in dataset.info.files]
                               + dataset.rows["source_file"].astype(str).unique().tolist()))
    names: dict[str, str] = {}
    used: set[str] = set()
    for src in files:
        rel = Path(src)
        if rel.is_absolute() or ".." in rel.parts or len(files) == 1:
            rel = Path(rel.name)
        base = (rel.parent / _stem(rel.name)).as_posix().lstrip("./") or "data"
        if base in (Path(MANIFEST_FILE).stem, Path(DROPPED_FILE).stem, Path(RECIPE_FILE).stem):
            base = f"{base}_data"
        name, n = f"{base}.{fmt}", 2
        while name.lower() in used:
            name, n = f"{base}_{n}.{fmt}", n + 1
        used.add(name.lower())
        names[src] = name
    return names


def _drop_log_lines(rows: pd.DataFrame, drops: list[dict[str, Any]]) -> list[str]:
    """dropped.jsonl: each drop with the source record it removed (as JSON, not a repr), ready to audit or restore."""
    pos = {int(r): i for i, r in enumerate(rows["row_id"].tolist())}
    sources, files, lines_no = rows["source"].tolist(), rows["source_file"].tolist(), rows["source_line"].tolist()
    lines = []
    for d in drops:
        rid = int(d["row_id"])
        rec: dict[str, Any] = {"row_id": rid, "reason": d["reason"], "user": d["user"], "time": d["time"],
                               "source_file": None, "source_line": None, "record": None}
        i = pos.get(rid)
        if i is not None:  # a drop recorded for a row this dataset does not have keeps its record null
            rec["source_file"] = str(files[i])
            rec["source_line"] = None if pd.isna(lines_no[i]) else int(lines_no[i])
            try:
                rec["record"] = json.loads(sources[i])
            except ValueError:
                rec["record"] = sources[i]
        lines.append(json.dumps(rec, ensure_ascii=False))
    return lines


def export_dataset(dataset: Dataset, store: CurationStore | Snapshot, out: str | Path, *, fmt: str | None = None,
                   as_: str = "source", only_tags: Sequence[str] = (), except_tags: Sequence[str] = (),
                   force: bool = False, csv_raw: bool = False, given: str | Path | None = None) -> ExportResult:
    """Write the cleaned subset as the export folder `out` (see the module docstring); all files or none."""
    fmt = fmt or "jsonl"
    if fmt not in EXPORT_FORMATS:
        raise LoadError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    if as_ not in EXPORT_AS:
        raise LoadError(f"unknown export shape {as_!r}; expected one of {', '.join(EXPORT_AS)}")
    shown = Path(out).expanduser()
    target = check_target(dataset, shown, force=force, given=given)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    if target.exists() and any(target.iterdir()):  # a leftover may have been the previous export, put back
        check_target(dataset, shown, force=force, given=given)
    had_export = target.is_dir() and is_export_folder(target)  # an empty folder is simply used, not "replaced"
    snap = store.snapshot() if isinstance(store, CurationStore) else store
    subset, n_dropped, n_excluded = select_rows(dataset.rows, snap, only_tags=only_tags, except_tags=except_tags)
    tmp = target.parent / f".{target.name}.{_TMP}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        files, neutralised = _write_folder(tmp, dataset, snap, subset, fmt, as_, csv_raw)
        warnings = []
        if fmt == "csv" and (as_ == "messages" or _has_nested(subset)):
            warnings.append("CSV keeps conversations and other nested values as JSON text in a cell: Sift and most "
                            "tools read them back as a plain column; export JSONL or Parquet to keep them as data")
        info = dataset.info
        entries = []
        for role, rel, extra in files:
            p = tmp / rel
            _fsync(p)
            entries.append({"path": rel, "role": role, **extra, "bytes": p.stat().st_size, "sha256": file_sha256(p)})
        manifest = {
            EXPORT_MARKER: EXPORT_VERSION,
            "sift_version": SIFT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": {"path": info.path, "fingerprint": info.fingerprint, "format": info.format, "kind": info.kind,
                       "files": [f.path for f in info.files], "options": info.options.to_dict(),
                       "skipped_lines": len(info.skipped)},
            "output": {"path": str(shown), "format": fmt, "as": as_, "dropped_log": DROPPED_FILE,
                       "recipe": RECIPE_FILE, "csv_formulas": "kept raw" if csv_raw else "neutralised",
                       "csv_formulas_neutralised": neutralised},
            "files": entries,
            "warnings": warnings,
            "filters": {"only_tags": list(only_tags), "except_tags": list(except_tags)},
            "counts": {"rows_total": len(dataset.rows), "rows_dropped": n_dropped,
                       "rows_excluded_by_tags": n_excluded, "rows_written": len(subset)},
            "actions": [_log_entry(a) for a in snap.actions()],
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
                                         encoding="utf-8")
        _fsync(tmp / MANIFEST_FILE)
        for sub in {(tmp / rel).parent for _, rel, _ in files} | {tmp}:
            fsync_dir(sub)
        _fault("before-publish")
        replaced = _publish(tmp, target) and had_export
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    data = [str(shown / rel) for role, rel, _ in files if role == "data"]
    return ExportResult(str(shown), data, len(subset), n_dropped, n_excluded, str(shown / MANIFEST_FILE),
                        str(shown / DROPPED_FILE), str(shown / RECIPE_FILE), neutralised, replaced, warnings)


def _has_nested(rows: pd.DataFrame) -> bool:
    """Any source record with a list or object value (a conversation, say), which a CSV cell holds as JSON text."""
    for src in rows["source"]:
        try:
            rec = json.loads(src)
        except ValueError:
            continue
        if isinstance(rec, dict) and any(isinstance(v, list | dict) for v in rec.values()):
            return True
    return False


def _write_folder(tmp: Path, dataset: Dataset, snap: CurationReads, subset: pd.DataFrame, fmt: str, as_: str,
                  csv_raw: bool) -> tuple[list[tuple[str, str, dict[str, Any]]], int]:
    """Write the data files, drop log and recipe into `tmp`; (role, relative path, manifest fields) per file."""
    names = data_file_names(dataset, fmt)
    files: list[tuple[str, str, dict[str, Any]]] = []
    neutralised = 0
    for src, part in subset.groupby(subset["source_file"].astype(str), sort=False):
        rel = names[str(src)]
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        neutralised += write_rows(part, tmp / rel, fmt, as_, csv_raw=csv_raw)
        kinds = sorted(part["kind"].astype(str).unique().tolist())
        files.append(("data", rel, {"source_file": str(src), "kinds": kinds, "rows": len(part)}))
        _fault("after-data-file")
    write_jsonl(tmp / DROPPED_FILE, _drop_log_lines(dataset.rows, snap.drop_records()))
    files.append(("dropped_log", DROPPED_FILE, {"rows": len(snap.drop_records())}))
    (tmp / RECIPE_FILE).write_text(json.dumps(build_recipe(dataset, snap), indent=2, ensure_ascii=False),
                                   encoding="utf-8")
    files.append(("recipe", RECIPE_FILE, {}))
    return files, neutralised


def _publish(tmp: Path, target: Path) -> bool:
    """Rename the finished `tmp` folder into place as `target`; True when it replaced a previous export."""
    if not target.exists():
        if not (USE_RENAME_EXCHANGE and rename_flags(tmp, target, RENAME_NOREPLACE)):
            os.rename(tmp, target)  # onto nothing, or onto an empty folder
        fsync_dir(target.parent)
        return False
    if USE_RENAME_EXCHANGE and rename_flags(tmp, target, RENAME_EXCHANGE):
        fsync_dir(target.parent)  # one atomic swap: `tmp` now holds the previous export
        _fault("after-publish")
        shutil.rmtree(tmp, ignore_errors=True)
        return True
    aside = target.parent / f".{target.name}.{_OLD}-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(target, aside)
    _fault("between-renames")  # a kill here: the next export to `target` puts `aside` back (clean_leftovers)
    os.rename(tmp, target)
    fsync_dir(target.parent)
    _fault("after-publish")
    with contextlib.suppress(OSError):
        shutil.rmtree(aside)
    return True


def _log_entry(action: Any) -> dict[str, Any]:
    """An action for the manifest, without the undo snapshot (which can be megabytes for big drops)."""
    entry = asdict(action)
    entry["params"] = {k: v for k, v in entry["params"].items() if k != "before"}
    return entry
