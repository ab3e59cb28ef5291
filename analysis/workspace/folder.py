"""The on-disk workspace of one dataset (ARCHITECTURE.md §3), shared by the app and the CLI.

A workspace is keyed by the fingerprint of the source bytes plus loader options, so reopening the
same file is a Parquet read instead of a re-parse, and a changed file never reuses stale results.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
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
FORMAT_VERSION = 1

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


def default_workspace_dir(fp: str) -> Path:
    return sift_home() / "workspaces" / fp[:16]


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
        meta = _read_meta(ws_dir)
        if meta is not None:
            if meta.get("fingerprint") == fp and (ws_dir / DATASET_FILE).exists():
                return cls.from_dir(ws_dir)
            if workspace is not None:
                raise LoadError(f"the workspace {ws_dir} belongs to another dataset ({meta.get('path')}); "
                                "choose a new --workspace directory", path=str(path))
        dataset = (loader or load)(path, options, progress=progress)
        save_dataset(ws_dir, dataset)
        return cls(ws_dir, dataset)

    @classmethod
    def from_dir(cls, ws_dir: str | Path) -> Workspace:
        """Reopen a workspace someone built earlier (the app or the CLI), with no re-parse."""
        ws_dir = Path(ws_dir).expanduser()
        meta = _read_meta(ws_dir)
        if meta is None or not (ws_dir / DATASET_FILE).exists():
            raise LoadError("not a Sift workspace (no meta.json / dataset.parquet)", path=str(ws_dir))
        info = LoadInfo.from_dict(meta["info"])
        info.fingerprint = meta["fingerprint"]
        table = pq.read_table(ws_dir / DATASET_FILE)
        rows = table.drop_columns(["messages"]).to_pandas()
        rows.insert(2, "messages", table.column("messages").to_pylist())
        rows["source_line"] = rows["source_line"].astype("Int64")
        return cls(ws_dir, Dataset(rows, info))


def _read_meta(ws_dir: Path) -> dict | None:
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
    meta = {"format_version": FORMAT_VERSION, "fingerprint": dataset.info.fingerprint, "path": dataset.info.path,
            "source_paths": [str(Path(p).resolve()) for p in resolve_paths(dataset.info.path)],
            "info": dataset.info.to_dict()}
    atomic_write_text(ws_dir / META_FILE, json.dumps(meta, indent=2, ensure_ascii=False))
    log.info("workspace written to %s", ws_dir)
