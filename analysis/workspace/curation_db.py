"""The SQLite side of the curation store: schema, connection, write transactions, input validation, row decoding.

Why this shape: several writers exist at once (two browser tabs are two Streamlit sessions, plus the CLI). WAL lets
readers proceed while one writer writes, and every action runs inside ``BEGIN IMMEDIATE`` ... ``COMMIT``: the write
lock is taken *before* the prior state is read, so read-modify-write never loses a concurrent update. A busy timeout
makes the second writer wait instead of failing.
"""

from __future__ import annotations

import getpass
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from numbers import Integral
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import numpy as np
import pandas as pd

from analysis.workspace.row_state import Action, RowState

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final[int] = 1
BUSY_TIMEOUT_S: Final[float] = 30.0
MAX_ROW_ID: Final[int] = 2**63 - 1

SCHEMA: Final[str] = """
CREATE TABLE IF NOT EXISTS meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS row_state(
    row_id INTEGER PRIMARY KEY,
    flagged INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',          -- JSON sorted list of str
    note TEXT NOT NULL DEFAULT '',
    dropped INTEGER NOT NULL DEFAULT 0,
    drop_reason TEXT NOT NULL DEFAULT '',
    dropped_by TEXT,                          -- user/time of the action that dropped the row
    dropped_at TEXT,
    updated_by TEXT,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS actions(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,                       -- ISO-8601 UTC
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    row_ids TEXT NOT NULL,                    -- JSON sorted list of int
    reason TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}'         -- JSON object; always has "before"
);
CREATE TRIGGER IF NOT EXISTS actions_append_only_update BEFORE UPDATE ON actions
BEGIN SELECT RAISE(ABORT, 'actions is append-only'); END;
CREATE TRIGGER IF NOT EXISTS actions_append_only_delete BEFORE DELETE ON actions
BEGIN SELECT RAISE(ABORT, 'actions is append-only'); END;
"""

CORE_COLS: Final[str] = "flagged, tags, note, dropped, drop_reason, dropped_by, dropped_at"
ROW_COLS: Final[str] = f"{CORE_COLS}, updated_by, updated_at"


def normalise_ids(row_ids: Iterable[int], what: str) -> list[int]:
    """Sorted, de-duplicated list of plain ints; ValueError on empty input or non-integer/negative ids."""
    if isinstance(row_ids, str | bytes | Mapping) or not isinstance(row_ids, Iterable):
        raise ValueError(
            f"{what}: row_ids must be an iterable of non-negative ints, got {type(row_ids).__name__}"
        )
    if isinstance(row_ids, np.ndarray | pd.Index | pd.Series):
        arr = np.asarray(row_ids)
        if arr.dtype.kind in "iu":  # fast path for big numpy / pandas batches
            arr = np.unique(arr.ravel())
            if arr.size and (int(arr[0]) < 0 or int(arr[-1]) > MAX_ROW_ID):
                raise ValueError(f"{what}: row ids must be between 0 and {MAX_ROW_ID}")
            out = [int(x) for x in arr.tolist()]
        else:
            return normalise_ids(arr.ravel().tolist(), what)
    else:
        values = list(row_ids)
        if not all(type(x) is int for x in values):  # slow path: numpy scalars, bad values
            for x in values:
                if isinstance(x, bool | np.bool_) or not isinstance(x, Integral):
                    raise ValueError(f"{what}: row ids must be ints, got {x!r} ({type(x).__name__})")
            values = [int(x) for x in values]
        out = sorted(set(values))
        if out and (out[0] < 0 or out[-1] > MAX_ROW_ID):
            bad = out[0] if out[0] < 0 else out[-1]
            raise ValueError(f"{what}: row ids must be between 0 and {MAX_ROW_ID}, got {bad}")
    if not out:
        raise ValueError(f"{what}: row_ids is empty; nothing to {what}")
    return out


def one_id(row_id: int, what: str) -> int:
    if isinstance(row_id, bool | np.bool_) or not isinstance(row_id, Integral):
        raise ValueError(f"{what}: row id must be an int, got {row_id!r} ({type(row_id).__name__})")
    return normalise_ids([row_id], what)[0]


def check_str(value: str, name: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: {name} must be a str, got {type(value).__name__}")
    return value


def clean_tag(tag: str, what: str) -> str:
    tag = check_str(tag, "tag", what).strip()
    if not tag:
        raise ValueError(f"{what}: tag must be a non-empty string")
    return tag


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def default_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # getuser raises OSError/KeyError when no login name is resolvable (containers)
        return "unknown"


class TagParser:
    """json.loads of a tags column, memoised: most rows share a handful of distinct tag lists."""

    def __init__(self) -> None:
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> tuple[str, ...]:
        tags = self._memo.get(text)
        if tags is None:
            tags = self._memo[text] = tuple(json.loads(text))
        return tags


def row_state_from_db(r: tuple[Any, ...], parse_tags: TagParser) -> RowState:
    """RowState from ``SELECT row_id, {ROW_COLS}``."""
    return RowState(int(r[0]), bool(r[1]), parse_tags(r[2]), r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9])


def action_from_db(r: tuple[Any, ...]) -> Action:
    return Action(
        id=int(r[0]),
        time=r[1],
        user=r[2],
        action=r[3],
        row_ids=tuple(json.loads(r[4])),
        reason=r[5],
        params=json.loads(r[6]),
    )



# --------------------------------------------------------------------------------------------------------


class CurationDB:
    """The SQLite file under a store: one connection guarded by a lock, WAL, the schema, write transactions.

    The store's parts (log, tags, queries) are mixins over this class; none of them opens a connection.
    """

    def __init__(self, path: str | Path, *, user: str | None = None, session: str | None = None) -> None:
        """`user` is who the log names (default: the login name); `session` (the app passes one per browser tab)
        is recorded with every action as ``params["session"]`` so undo can stay within the session that acted."""
        self.path = Path(path)
        self.user = user if user else default_user()
        self.session = check_str(session, "session", "open") if session else None
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("curation db %s: could not enable WAL (journal_mode=%s)", self.path, mode)
            # FULL: a committed action survives power loss too, not only a crashed process. Actions are
            # human-paced and batched, so the extra fsync per commit is not noticeable.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _ids(row_id INTEGER PRIMARY KEY)")
            self._conn: sqlite3.Connection | None = conn
            self._init_schema()
        except BaseException:
            conn.close()
            self._conn = None
            raise

    # -- plumbing ------------------------------------------------------------------------------------------

    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"curation store {self.path} is closed")
        return self._conn

    @contextmanager
    def _write_txn(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE takes the write lock before anything is read."""
        with self._lock:
            conn = self._c()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _ids(self, sql: str, args: tuple[Any, ...] = ()) -> set[int]:
        """The row ids a one-column query returns (the reads of every mixin go through here)."""
        with self._lock:
            return {int(r[0]) for r in self._c().execute(sql, args).fetchall()}

    def _init_schema(self) -> None:
        """Create tables if missing (in one IMMEDIATE transaction, so racing openers are safe)."""
        conn = self._c()
        try:
            # executescript would COMMIT a transaction we opened, so the script carries its own.
            conn.executescript(
                f"BEGIN IMMEDIATE;{SCHEMA}"
                f"INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');"
                "COMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if int(version) != SCHEMA_VERSION:
            raise ValueError(
                f"curation db {self.path} has schema version {version}; expected {SCHEMA_VERSION}"
            )

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, user={self.user!r}, session={self.session!r})"
