"""The on-disk workspace of one dataset (ARCHITECTURE.md §3), shared by the app and the CLI.

A workspace is keyed by the fingerprint of the source bytes plus loader options, so reopening the
same file is a Parquet read instead of a re-parse, and a changed file never reuses stale results.

A default workspace lives at `$SIFT_HOME/workspaces/<id>` (the id is the fingerprint's first 16 hex digits): the
app names it in its URL (`?ws=<id>`), so a reload, a second tab or a bookmark reopens the same rows and flags
(`Workspace.from_id`), and the Data page lists them by when they were last opened (`recent_workspaces`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from analysis.io import Dataset, LoadError, LoadInfo, LoadOptions, load, resolve_paths
from analysis.io.load import Progress, fingerprint
from analysis.util.files import atomic_path, atomic_write_text
from analysis.workspace.store import CurationStore

log = logging.getLogger(__name__)

META_FILE = "meta.json"
DATASET_FILE = "dataset.parquet"
CURATION_FILE = "curation.sqlite"
OPENED_FILE = "opened.json"
WORKSPACES = "workspaces"
FORMAT_VERSION = 1
# What a workspace id in a URL may look like: a folder name under $SIFT_HOME/workspaces, never a path.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

_TURN = pa.struct([("role", pa.string()), ("content", pa.string()), ("tool_call", pa.bool_())])
SCHEMA = pa.schema([
    ("row_id", pa.int64()), ("kind", pa.string()), ("messages", pa.list_(_TURN)), ("prompt", pa.string()),
    ("response", pa.string()), ("chosen", pa.string()), ("rejected", pa.string()), ("score", pa.float64()),
    ("tools", pa.string()), ("source", pa.string()), ("source_file", pa.string()), ("source_index", pa.int64()),
    ("source_line", pa.int64()),
])


def sift_home() -> Path:
    """`$SIFT_HOME`, default `~/.sift`: where workspaces live unless `--workspace` says otherwise."""
    return Path(os.environ.get("SIFT_HOME") or Path.home() / ".sift").expanduser()


def workspaces_root(home: Path | None = None) -> Path:
    """`$SIFT_HOME/workspaces`: where default workspaces live (and the only place a workspace id can name)."""
    return (home or sift_home()) / WORKSPACES


def default_workspace_dir(fp: str) -> Path:
    return workspaces_root() / fp[:16]


def workspace_id(ws_dir: str | Path, home: Path | None = None) -> str | None:
    """The id of a workspace directly under `$SIFT_HOME/workspaces` (its folder name); None for one elsewhere
    (`--workspace DIR`, `SIFT_WORKSPACE`), which no short id can name."""
    ws_dir = Path(ws_dir).expanduser()
    try:
        same = ws_dir.resolve().parent == workspaces_root(home).resolve()
    except OSError:
        return None
    return ws_dir.name if same and _ID.fullmatch(ws_dir.name) else None


def workspace_dir_of(ws_id: str, home: Path | None = None) -> Path:
    """The folder a workspace id names; LoadError for anything that is not an id (a path, `..`, an empty string)."""
    if not isinstance(ws_id, str) or not _ID.fullmatch(ws_id):
        raise LoadError(f"{ws_id!r} is not a workspace id (a folder name under {workspaces_root(home)})")
    return workspaces_root(home) / ws_id


def mark_opened(ws_dir: str | Path, when: datetime | None = None) -> None:
    """Record that someone opened this workspace now (what 'Recent workspaces' sorts by). Best effort: a
    read-only workspace still opens, it just keeps its older date."""
    stamp = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    try:
        atomic_write_text(Path(ws_dir) / OPENED_FILE, json.dumps({"last_opened": stamp}))
    except OSError as exc:
        log.warning("could not record when %s was opened: %s", ws_dir, exc)


def source_stats(files: list[Path]) -> list[dict[str, object]]:
    """Name, size and mtime of each source file: a cheap way to tell later that a source changed."""
    out: list[dict[str, object]] = []
    for f in files:
        st = f.stat()
        out.append({"path": str(f.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def source_changes(ws_dir: str | Path) -> list[str] | None:
    """What changed in the source files since this workspace was built: e.g. `["a.jsonl: missing"]`; [] when
    nothing did; None when the workspace predates recorded stats (unknown). Opening a workspace by id shows its
    rows as they were read, so the app says so when the files moved on."""
    meta = read_meta(Path(ws_dir))
    recorded = (meta or {}).get("source_stats")
    if not isinstance(recorded, list):
        return None
    changes: list[str] = []
    for entry in recorded:
        f = Path(str(entry.get("path", "")))
        try:
            st = f.stat()
        except OSError:
            changes.append(f"{f.name}: missing")
            continue
        if st.st_size != entry.get("size") or st.st_mtime_ns != entry.get("mtime_ns"):
            changes.append(f"{f.name}: modified")
    try:
        now_files = {str(f.resolve()) for f in resolve_paths(meta["path"])} if meta and meta.get("path") else set()
    except LoadError:
        now_files = set()
    added = sorted(now_files - {str(e.get("path")) for e in recorded})
    changes += [f"{Path(a).name}: new file" for a in added]
    return changes


@dataclass(frozen=True)
class WorkspaceSummary:
    """One line of 'Recent workspaces': enough to recognise a dataset without loading its rows."""

    id: str
    dir: Path
    name: str
    path: str
    kind: str
    rows: int
    files: int
    last_opened: str  # ISO-8601 UTC; when never opened through the app, when it was built
    options: dict[str, object]


def display_name(path: str, files: list[str]) -> str:
    """A short name for a dataset: its file name, or its folder/glob with the number of files."""
    if len(files) == 1:
        return Path(files[0]).name
    p = Path(path)
    glob_part = any(c in p.name for c in "*?[")
    base = f"{p.parent.name}/{p.name}" if glob_part else f"{p.name}/"
    return f"{base} ({len(files)} files)"


def recent_workspaces(home: Path | None = None, limit: int | None = None) -> list[WorkspaceSummary]:
    """Workspaces under `$SIFT_HOME/workspaces`, last opened first. Reads only each meta.json (never the rows).

    A folder without a readable meta.json is an interrupted first load (meta.json is written last) or not a
    workspace at all; it is left out, because it cannot be opened.
    """
    root = workspaces_root(home)
    out: list[WorkspaceSummary] = []
    if not root.is_dir():
        return out
    for d in root.iterdir():
        if not d.is_dir() or not _ID.fullmatch(d.name) or not (d / DATASET_FILE).exists():
            continue
        meta = read_meta(d)
        if meta is None or not isinstance(meta.get("info"), dict):
            continue
        info = meta["info"]
        files = [str(f.get("path", "")) for f in info.get("files", []) if isinstance(f, dict)]
        out.append(WorkspaceSummary(
            id=d.name, dir=d, name=display_name(str(meta.get("path", d.name)), files), path=str(meta.get("path", "")),
            kind=str(info.get("kind", "?")), rows=int(info.get("rows", 0)), files=len(files),
            last_opened=_last_opened(d), options=dict(info.get("options") or {})))
    out.sort(key=lambda w: (w.last_opened, w.id), reverse=True)
    return out[:limit] if limit is not None else out


def _last_opened(ws_dir: Path) -> str:
    try:
        stamp = json.loads((ws_dir / OPENED_FILE).read_text(encoding="utf-8"))["last_opened"]
        datetime.fromisoformat(stamp)
        return str(stamp)
    except (OSError, ValueError, KeyError, TypeError):
        try:
            mtime = (ws_dir / META_FILE).stat().st_mtime
        except OSError:  # deleted while listing: sorts last
            return ""
        return datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")


@dataclass
class Workspace:
    """A dataset's directory: canonical rows, load info and curation state."""

    dir: Path
    dataset: Dataset
    _store: CurationStore | None = None

    @property
    def fingerprint(self) -> str:
        return self.dataset.info.fingerprint

    @property
    def store(self) -> CurationStore:
        if self._store is None:
            self._store = CurationStore(self.dir / CURATION_FILE)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @classmethod
    def open(cls, path: str | Path, options: LoadOptions | None = None, *, workspace: str | Path | None = None,
             progress: Progress | None = None, loader: Callable[..., Dataset] | None = None) -> Workspace:
        """Open the workspace of `path` (a file, folder or glob), building it on first use (with `loader`, default
        `analysis.io.load`; the Ray runner passes its own, which returns the same Dataset)."""
        options = options or LoadOptions()
        files = resolve_paths(path)
        p = Path(path).expanduser()
        fp = fingerprint(files, options, root=p if p.is_dir() else None)
        ws_dir = Path(workspace).expanduser() if workspace else default_workspace_dir(fp)
        meta = read_meta(ws_dir)
        if meta is not None:
            if meta.get("fingerprint") == fp and (ws_dir / DATASET_FILE).exists():
                _refresh_source_stats(ws_dir, meta, files)
                return cls.from_dir(ws_dir)
            if workspace is not None:
                raise LoadError(f"the workspace {ws_dir} belongs to another dataset ({meta.get('path')}); "
                                "choose a new --workspace directory", path=str(path))
        dataset = (loader or load)(path, options, progress=progress)
        save_dataset(ws_dir, dataset)
        return cls(ws_dir, dataset)

    @classmethod
    def from_id(cls, ws_id: str, home: Path | None = None) -> Workspace:
        """Reopen the workspace `$SIFT_HOME/workspaces/<ws_id>` (what the app's `?ws=` names), with no re-parse and
        no need for the source files to still exist; LoadError saying which id and where it was looked for."""
        ws_dir = workspace_dir_of(ws_id, home)
        if not ws_dir.is_dir():
            raise LoadError(f"no workspace {ws_id!r} under {workspaces_root(home)} (deleted, or another SIFT_HOME)")
        return cls.from_dir(ws_dir)

    @classmethod
    def from_dir(cls, ws_dir: str | Path) -> Workspace:
        """Reopen a workspace someone built earlier (the app or the CLI), with no re-parse."""
        ws_dir = Path(ws_dir).expanduser()
        meta = read_meta(ws_dir)
        if meta is None or not (ws_dir / DATASET_FILE).exists():
            raise LoadError("not a Sift workspace (no meta.json / dataset.parquet)", path=str(ws_dir))
        info = LoadInfo.from_dict(meta["info"])
        info.fingerprint = meta["fingerprint"]
        table = pq.read_table(ws_dir / DATASET_FILE)
        rows = table.drop_columns(["messages"]).to_pandas()
        rows.insert(2, "messages", table.column("messages").to_pylist())
        rows["source_line"] = rows["source_line"].astype("Int64")
        return cls(ws_dir, Dataset(rows, info))


def read_meta(ws_dir: Path) -> dict | None:
    """A workspace's meta.json as a dict; None when it is missing or unreadable (not a finished workspace)."""
    try:
        return json.loads((ws_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def save_dataset(ws_dir: Path, dataset: Dataset) -> None:
    """Write dataset.parquet then meta.json (the latter last, so a crash never leaves a 'valid' half)."""
    ws_dir.mkdir(parents=True, exist_ok=True)
    rows = dataset.rows
    table = pa.Table.from_pandas(rows[[f.name for f in SCHEMA]], schema=SCHEMA, preserve_index=False)
    with atomic_path(ws_dir / DATASET_FILE) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    files = resolve_paths(dataset.info.path)
    meta = {"format_version": FORMAT_VERSION, "fingerprint": dataset.info.fingerprint, "path": dataset.info.path,
            "source_paths": [str(Path(p).resolve()) for p in files],
            "source_stats": source_stats(files), "info": dataset.info.to_dict()}
    atomic_write_text(ws_dir / META_FILE, json.dumps(meta, indent=2, ensure_ascii=False))
    log.info("workspace written to %s", ws_dir)


def _refresh_source_stats(ws_dir: Path, meta: dict, files: list[Path]) -> None:
    """The bytes were just verified (same fingerprint): record the files' current stats, so a touched but
    unchanged file (or a workspace built before stats were kept) is not later reported as changed."""
    try:
        stats = source_stats(files)
        if meta.get("source_stats") != stats:
            atomic_write_text(ws_dir / META_FILE, json.dumps({**meta, "source_stats": stats}, indent=2,
                                                             ensure_ascii=False))
    except OSError as exc:
        log.warning("could not update %s: %s", ws_dir / META_FILE, exc)
