"""Curation state of one dataset (flags, tags, notes, drops), kept in a SQLite file in its workspace.

Why this shape:

* The append-only ``actions`` table is the source of truth: it is the audit trail ("who dropped row 17,
  when and why") and it is never updated or deleted from (triggers enforce this). ``row_state`` is a
  materialised view of the log, written in the *same* transaction as the log entry, so the two can never
  disagree; :func:`replay` rebuilds the view from the log alone and the tests check they are equal.
* Several writers can exist at once (two browser tabs are two Streamlit sessions, plus the CLI). WAL mode
  lets readers proceed while one writer writes, and every action runs inside ``BEGIN IMMEDIATE`` ...
  ``COMMIT``: the write lock is taken *before* the prior state is read, so read-modify-write never loses a
  concurrent update. A busy timeout makes the second writer wait instead of failing.
* Every mutating action stores a ``before`` snapshot of the rows it touches (taken inside its
  transaction). Undo is then just another appended action (``"undo"``, params ``{"undoes": id}``) that
  puts those rows back exactly as they were, so undo is auditable and survives restarts.
* Large batches (100k row ids) are one action: ids go through ``executemany`` and a temp table, never one
  query per row.

SQLite's JSON1 functions (built into SQLite >= 3.38, and into Python's bundled SQLite for years) are used
for a few read-side queries.
"""

from __future__ import annotations

import getpass
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from numbers import Integral
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final[int] = 1
BUSY_TIMEOUT_S: Final[float] = 30.0
_MAX_ROW_ID: Final[int] = 2**63 - 1

#: Action names that change row state; "undo" is the inverse of any of the others.
ROW_ACTIONS: Final[frozenset[str]] = frozenset(
    {"flag", "unflag", "tag", "untag", "drop", "restore", "set_note"}
)
UNDO: Final[str] = "undo"

STATE_COLUMNS: Final[tuple[str, ...]] = (
    "row_id",
    "flagged",
    "tags",
    "note",
    "dropped",
    "drop_reason",
    "updated_by",
    "updated_at",
)

_SCHEMA: Final[str] = """
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

_CORE_COLS: Final[str] = "flagged, tags, note, dropped, drop_reason, dropped_by, dropped_at"
_ROW_COLS: Final[str] = f"{_CORE_COLS}, updated_by, updated_at"


@dataclass(frozen=True, slots=True)
class RowState:
    """Curation state of one row. The defaults are the state of a row nobody has touched."""

    row_id: int
    flagged: bool = False
    tags: tuple[str, ...] = ()
    note: str = ""
    dropped: bool = False
    drop_reason: str = ""
    dropped_by: str | None = None
    dropped_at: str | None = None
    updated_by: str | None = None
    updated_at: str | None = None

    @property
    def is_default(self) -> bool:
        """True when the row carries no curation state (it is then not stored in ``row_state``)."""
        return not (self.flagged or self.tags or self.note or self.dropped)


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of the append-only log."""

    id: int
    time: str
    user: str
    action: str
    row_ids: tuple[int, ...]
    reason: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def undoes(self) -> int | None:
        """Id of the action this one undoes (None unless this is an undo)."""
        value = self.params.get("undoes")
        return int(value) if self.action == UNDO and value is not None else None


# --------------------------------------------------------------------------------------------------------
# Pure state transitions, shared by the store and by replay() so the two can only agree.
#
# Internally a row's state is a plain "core" tuple (fast to hash, so bulk actions compute each distinct
# transition once instead of once per row): (flagged, tags, note, dropped, drop_reason, dropped_by,
# dropped_at). That is exactly what undo restores; updated_by/updated_at are stamped per action.

_Core = tuple[bool, tuple[str, ...], str, bool, str, str | None, str | None]
_DEFAULT_CORE: Final[_Core] = (False, (), "", False, "", None, None)
_SNAPSHOT_KEYS: Final[tuple[str, ...]] = (
    "flagged",
    "tags",
    "note",
    "dropped",
    "drop_reason",
    "dropped_by",
    "dropped_at",
)


def _is_default(core: _Core) -> bool:
    return not (core[0] or core[1] or core[2] or core[3])


def _step(core: _Core, action: str, params: Mapping[str, Any], reason: str, user: str, time: str) -> _Core:
    """New core state of one row after a (non-undo) action."""
    flagged, tags, note, dropped, drop_reason, dropped_by, dropped_at = core
    if action == "flag":
        flagged = True
    elif action == "unflag":
        flagged = False
    elif action == "tag":
        if params["tag"] not in tags:
            tags = tuple(sorted((*tags, params["tag"])))
    elif action == "untag":
        tags = tuple(t for t in tags if t != params["tag"])
    elif action == "drop":
        # Re-dropping replaces the reason: the latest decision is the one that gets exported.
        dropped, drop_reason, dropped_by, dropped_at = True, reason, user, time
    elif action == "restore":
        dropped, drop_reason, dropped_by, dropped_at = False, "", None, None
    elif action == "set_note":
        note = params["note"]
    else:
        raise ValueError(f"unknown action {action!r}")
    return (flagged, tags, note, dropped, drop_reason, dropped_by, dropped_at)


def _stepper(
    action: str, params: Mapping[str, Any], reason: str, user: str, time: str
) -> Callable[[_Core], _Core]:
    """``_step`` for one action, memoised on the prior state (a 100k-row batch has few distinct ones)."""
    memo: dict[_Core, _Core] = {}

    def step(core: _Core) -> _Core:
        new = memo.get(core)
        if new is None:
            new = memo[core] = _step(core, action, params, reason, user, time)
        return new

    return step


def _encode_before(prev: Mapping[int, _Core]) -> list[dict[str, Any]]:
    """JSON-able ``before`` snapshot: rows grouped by identical prior state; absent rows were default."""
    groups: dict[_Core, list[int]] = {}
    for row_id, core in prev.items():
        groups.setdefault(core, []).append(row_id)
    return [
        {
            "rows": sorted(rows),
            "state": dict(zip(_SNAPSHOT_KEYS, (*core[:1], list(core[1]), *core[2:]), strict=True)),
        }
        for core, rows in groups.items()
    ]


def _decode_before(before: Iterable[Mapping[str, Any]]) -> dict[int, _Core]:
    """Inverse of :func:`_encode_before`."""
    out: dict[int, _Core] = {}
    for group in before:
        st = group["state"]
        core: _Core = (
            bool(st.get("flagged", False)),
            tuple(sorted(set(st.get("tags", ())))),
            str(st.get("note", "")),
            bool(st.get("dropped", False)),
            str(st.get("drop_reason", "")),
            st.get("dropped_by"),
            st.get("dropped_at"),
        )
        for row_id in group["rows"]:
            out[int(row_id)] = core
    return out


def _make_row(row_id: int, core: _Core, updated_by: str | None, updated_at: str | None) -> RowState:
    return RowState(row_id, *core, updated_by=updated_by, updated_at=updated_at)


def replay(actions: Iterable[Action]) -> dict[int, RowState]:
    """Rebuild the row states from the log alone, keyed by row id (rows in the default state are omitted).

    An undo restores the ``before`` snapshot stored with the action it undoes. The store's ``row_state``
    table must always equal this (see :meth:`CurationStore.row_states`).
    """
    cores: dict[int, _Core] = {}
    stamps: dict[int, tuple[str, str]] = {}
    befores: dict[int, Any] = {}
    for act in actions:
        befores[act.id] = act.params.get("before", [])
        stamp = (act.user, act.time)
        if act.action == UNDO:
            target = act.undoes
            if target is None or target not in befores:
                raise ValueError(f"action {act.id} undoes unknown action {target!r}")
            restored = _decode_before(befores[target])
            new_cores = [(r, restored.get(r, _DEFAULT_CORE)) for r in act.row_ids]
        else:
            step = _stepper(act.action, act.params, act.reason, act.user, act.time)
            new_cores = [(r, step(cores.get(r, _DEFAULT_CORE))) for r in act.row_ids]
        for r, core in new_cores:
            if _is_default(core):
                cores.pop(r, None)
                stamps.pop(r, None)
            else:
                cores[r] = core
                stamps[r] = stamp
    return {r: _make_row(r, cores[r], *stamps[r]) for r in sorted(cores)}


# --------------------------------------------------------------------------------------------------------
# Validation helpers.


def _normalise_ids(row_ids: Iterable[int], what: str) -> list[int]:
    """Sorted, de-duplicated list of plain ints; ValueError on empty input or non-integer/negative ids."""
    if isinstance(row_ids, str | bytes | Mapping) or not isinstance(row_ids, Iterable):
        raise ValueError(
            f"{what}: row_ids must be an iterable of non-negative ints, got {type(row_ids).__name__}"
        )
    if isinstance(row_ids, np.ndarray | pd.Index | pd.Series):
        arr = np.asarray(row_ids)
        if arr.dtype.kind in "iu":  # fast path for big numpy / pandas batches
            arr = np.unique(arr.ravel())
            if arr.size and (int(arr[0]) < 0 or int(arr[-1]) > _MAX_ROW_ID):
                raise ValueError(f"{what}: row ids must be between 0 and {_MAX_ROW_ID}")
            out = [int(x) for x in arr.tolist()]
        else:
            return _normalise_ids(arr.ravel().tolist(), what)
    else:
        values = list(row_ids)
        if not all(type(x) is int for x in values):  # slow path: numpy scalars, bad values
            for x in values:
                if isinstance(x, bool | np.bool_) or not isinstance(x, Integral):
                    raise ValueError(f"{what}: row ids must be ints, got {x!r} ({type(x).__name__})")
            values = [int(x) for x in values]
        out = sorted(set(values))
        if out and (out[0] < 0 or out[-1] > _MAX_ROW_ID):
            bad = out[0] if out[0] < 0 else out[-1]
            raise ValueError(f"{what}: row ids must be between 0 and {_MAX_ROW_ID}, got {bad}")
    if not out:
        raise ValueError(f"{what}: row_ids is empty; nothing to {what}")
    return out


def _one_id(row_id: int, what: str) -> int:
    if isinstance(row_id, bool | np.bool_) or not isinstance(row_id, Integral):
        raise ValueError(f"{what}: row id must be an int, got {row_id!r} ({type(row_id).__name__})")
    return _normalise_ids([row_id], what)[0]


def _check_str(value: str, name: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: {name} must be a str, got {type(value).__name__}")
    return value


def _clean_tag(tag: str, what: str) -> str:
    tag = _check_str(tag, "tag", what).strip()
    if not tag:
        raise ValueError(f"{what}: tag must be a non-empty string")
    return tag


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _default_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # getuser raises OSError/KeyError when no login name is resolvable (containers)
        return "unknown"


class _TagParser:
    """json.loads of a tags column, memoised: most rows share a handful of distinct tag lists."""

    def __init__(self) -> None:
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> tuple[str, ...]:
        tags = self._memo.get(text)
        if tags is None:
            tags = self._memo[text] = tuple(json.loads(text))
        return tags


def _row_state_from_db(r: tuple[Any, ...], parse_tags: _TagParser) -> RowState:
    """RowState from ``SELECT row_id, {_ROW_COLS}``."""
    return RowState(int(r[0]), bool(r[1]), parse_tags(r[2]), r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9])


def _action_from_db(r: tuple[Any, ...]) -> Action:
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


class CurationStore:
    """Curation state of one dataset, persisted in a SQLite file (e.g. ``<workspace>/curation.sqlite``).

    Every mutating method is one atomic, logged action and returns its id. Safe to share between
    threads (one connection guarded by a lock) and between processes (SQLite locking, WAL).
    """

    def __init__(self, path: str | Path, *, user: str | None = None) -> None:
        self.path = Path(path)
        self.user = user if user else _default_user()
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

    def _init_schema(self) -> None:
        """Create tables if missing (in one IMMEDIATE transaction, so racing openers are safe)."""
        conn = self._c()
        try:
            # executescript would COMMIT a transaction we opened, so the script carries its own.
            conn.executescript(
                f"BEGIN IMMEDIATE;{_SCHEMA}"
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

    # -- writes --------------------------------------------------------------------------------------------

    def _read_cores(self, conn: sqlite3.Connection, ids: list[int]) -> dict[int, _Core]:
        """Stored (non-default) states of ``ids``; via a temp table so 100k ids cost one query."""
        conn.execute("DELETE FROM temp._ids")
        conn.executemany("INSERT INTO temp._ids(row_id) VALUES (?)", ((i,) for i in ids))
        rows = conn.execute(
            f"SELECT row_id, {_CORE_COLS} FROM main.row_state "
            "WHERE row_id IN (SELECT row_id FROM temp._ids) ORDER BY row_id"
        ).fetchall()
        conn.execute("DELETE FROM temp._ids")
        parse_tags = _TagParser()
        memo: dict[tuple[Any, ...], _Core] = {}
        out: dict[int, _Core] = {}
        for row in rows:
            raw = row[1:]
            core = memo.get(raw)
            if core is None:
                core = memo[raw] = (
                    bool(raw[0]),
                    parse_tags(raw[1]),
                    raw[2],
                    bool(raw[3]),
                    raw[4],
                    raw[5],
                    raw[6],
                )
            out[row[0]] = core
        return out

    def _append(
        self,
        conn: sqlite3.Connection,
        action: str,
        ids: list[int],
        reason: str,
        params: dict[str, Any],
        make_new_core: Callable[[str, str], Callable[[int, _Core], _Core]],
    ) -> int:
        """Read prior state, write new state and the log entry, all inside the caller's transaction.

        ``make_new_core(user, time)`` returns ``f(row_id, prior_core) -> new_core``. The prior states of
        all ``ids`` are stored as the action's ``before`` snapshot so that it can be undone exactly.
        """
        time, user = _now(), self.user
        new_core = make_new_core(user, time)
        prev = self._read_cores(conn, ids)
        params = {**params, "before": _encode_before(prev)}
        upserts: list[tuple[Any, ...]] = []
        deletes: list[tuple[int]] = []
        values: dict[_Core, tuple[Any, ...]] = {}
        for r in ids:
            new = new_core(r, prev.get(r, _DEFAULT_CORE))
            if _is_default(new):
                if r in prev:
                    deletes.append((r,))
                continue
            vals = values.get(new)
            if vals is None:
                vals = values[new] = (
                    int(new[0]),
                    json.dumps(list(new[1])),
                    new[2],
                    int(new[3]),
                    new[4],
                    new[5],
                    new[6],
                    user,
                    time,
                )
            upserts.append((r, *vals))
        if deletes:
            conn.executemany("DELETE FROM row_state WHERE row_id = ?", deletes)
        if upserts:
            conn.executemany(
                f"INSERT OR REPLACE INTO row_state(row_id, {_CORE_COLS}, updated_by, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                upserts,
            )
        cur = conn.execute(
            "INSERT INTO actions(time, user, action, row_ids, reason, params) VALUES (?,?,?,?,?,?)",
            (time, user, action, json.dumps(ids), reason, json.dumps(params, separators=(",", ":"))),
        )
        action_id = int(cur.lastrowid or 0)
        log.info(
            "curation %s: %s %d row(s) by %s (action %d)", self.path.name, action, len(ids), user, action_id
        )
        return action_id

    def _row_action(self, action: str, row_ids: Iterable[int], reason: str, **params: Any) -> int:
        ids = _normalise_ids(row_ids, action)
        reason = _check_str(reason, "reason", action)

        def make_new_core(user: str, time: str) -> Callable[[int, _Core], _Core]:
            step = _stepper(action, params, reason, user, time)
            return lambda _row_id, core: step(core)

        with self._write_txn() as conn:
            return self._append(conn, action, ids, reason, dict(params), make_new_core)

    def flag(self, row_ids: Iterable[int], *, reason: str = "") -> int:
        """Mark rows for a closer look (does not remove them from the export)."""
        return self._row_action("flag", row_ids, reason)

    def unflag(self, row_ids: Iterable[int], *, reason: str = "") -> int:
        """Clear the flag on rows."""
        return self._row_action("unflag", row_ids, reason)

    def tag(self, row_ids: Iterable[int], tag: str, *, reason: str = "") -> int:
        """Add ``tag`` (stripped, non-empty) to rows."""
        return self._row_action("tag", row_ids, reason, tag=_clean_tag(tag, "tag"))

    def untag(self, row_ids: Iterable[int], tag: str, *, reason: str = "") -> int:
        """Remove ``tag`` from rows (rows without it are still logged as touched)."""
        return self._row_action("untag", row_ids, reason, tag=_clean_tag(tag, "untag"))

    def drop(self, row_ids: Iterable[int], *, reason: str = "", rule: Mapping[str, Any] | None = None) -> int:
        """Exclude rows from the export; re-dropping a dropped row replaces its reason. `rule` records the check
        decision behind a bulk drop (`analysis.curation.recipe.check_rule`) so a recipe can replay it on new data."""
        if rule is not None:
            return self._row_action("drop", row_ids, reason, rule=json.loads(json.dumps(dict(rule), default=str)))
        return self._row_action("drop", row_ids, reason)

    def restore(self, row_ids: Iterable[int], *, reason: str = "") -> int:
        """Bring dropped rows back (clears the drop reason)."""
        return self._row_action("restore", row_ids, reason)

    def set_note(self, row_id: int, note: str) -> int:
        """Set the free-text note of one row; the empty string clears it."""
        rid = _one_id(row_id, "set_note")
        return self._row_action("set_note", [rid], "", note=_check_str(note, "note", "set_note"))

    def undo(self, action_id: int | None = None, *, reason: str = "") -> int | None:
        """Append an ``undo`` action restoring the rows of ``action_id`` to their state before it.

        With ``action_id=None`` the most recent action that is neither an undo nor already undone is
        undone, so repeated calls walk back through history; returns None when there is nothing left.
        Undo restores the ``before`` snapshot, so it also overwrites later changes to the same rows.
        """
        reason = _check_str(reason, "reason", "undo")
        if action_id is not None and (
            isinstance(action_id, bool | np.bool_) or not isinstance(action_id, Integral)
        ):
            raise ValueError(f"undo: action_id must be an int or None, got {action_id!r}")
        with self._write_txn() as conn:
            if action_id is None:
                row = conn.execute(
                    "SELECT id FROM actions WHERE action != ? AND id NOT IN "
                    "(SELECT json_extract(params, '$.undoes') FROM actions "
                    " WHERE action = ? AND json_extract(params, '$.undoes') IS NOT NULL) "
                    "ORDER BY id DESC LIMIT 1",
                    (UNDO, UNDO),
                ).fetchone()
                if row is None:
                    return None
                target = int(row[0])
            else:
                target = int(action_id)
            found = conn.execute(
                "SELECT action, row_ids, params FROM actions WHERE id = ?", (target,)
            ).fetchone()
            if found is None:
                raise ValueError(f"undo: no action with id {target}")
            if found[0] == UNDO:
                raise ValueError(f"undo: action {target} is itself an undo (redo is not supported)")
            already = conn.execute(
                "SELECT id FROM actions WHERE action = ? AND json_extract(params, '$.undoes') = ?",
                (UNDO, target),
            ).fetchone()
            if already is not None:
                raise ValueError(f"undo: action {target} was already undone by action {already[0]}")
            ids = [int(i) for i in json.loads(found[1])]
            restored = _decode_before(json.loads(found[2]).get("before", []))

            def make_new_core(_user: str, _time: str) -> Callable[[int, _Core], _Core]:
                return lambda row_id, _core: restored.get(row_id, _DEFAULT_CORE)

            params = {"undoes": target, "undone_action": found[0]}
            return self._append(conn, UNDO, ids, reason, params, make_new_core)

    # -- reads ---------------------------------------------------------------------------------------------

    def _all_rows(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._c().execute(f"SELECT row_id, {_ROW_COLS} FROM row_state ORDER BY row_id").fetchall()

    def row_states(self) -> dict[int, RowState]:
        """All rows with non-default state, keyed by row id (comparable with :func:`replay`)."""
        parse_tags = _TagParser()
        return {r[0]: _row_state_from_db(r, parse_tags) for r in self._all_rows()}

    def state(self) -> pd.DataFrame:
        """One row per row id that has any curation state, sorted by row id."""
        rows = self._all_rows()
        parse_tags = _TagParser()
        cols = list(zip(*rows, strict=True)) if rows else [()] * 11
        return pd.DataFrame(
            {
                "row_id": pd.Series(cols[0], dtype="int64"),
                "flagged": pd.Series(cols[1], dtype="bool"),
                "tags": pd.Series([list(parse_tags(t)) for t in cols[2]], dtype="object"),
                "note": pd.Series(cols[3], dtype="str"),
                "dropped": pd.Series(cols[4], dtype="bool"),
                "drop_reason": pd.Series(cols[5], dtype="str"),
                "updated_by": pd.Series(cols[8], dtype="str"),
                "updated_at": pd.Series(cols[9], dtype="str"),
            },
            columns=list(STATE_COLUMNS),
        )

    def _ids(self, sql: str, args: tuple[Any, ...] = ()) -> set[int]:
        with self._lock:
            return {int(r[0]) for r in self._c().execute(sql, args).fetchall()}

    def dropped_ids(self) -> set[int]:
        """Row ids currently excluded from the export."""
        return self._ids("SELECT row_id FROM row_state WHERE dropped")

    def flagged_ids(self) -> set[int]:
        """Row ids currently flagged."""
        return self._ids("SELECT row_id FROM row_state WHERE flagged")

    def tagged_ids(self, tag: str) -> set[int]:
        """Row ids currently carrying ``tag``."""
        tag = _clean_tag(tag, "tagged_ids")
        return self._ids(
            "SELECT s.row_id FROM row_state AS s, json_each(s.tags) AS j WHERE j.value = ?", (tag,)
        )

    def noted_ids(self) -> set[int]:
        """Row ids that carry a note."""
        return self._ids("SELECT row_id FROM row_state WHERE note != ''")

    def tag_index(self) -> dict[str, set[int]]:
        """Every tag with its rows, in one query (the Browse filters need all of them each rerun)."""
        out: dict[str, set[int]] = {}
        with self._lock:
            rows = self._c().execute(
                "SELECT j.value, s.row_id FROM row_state AS s, json_each(s.tags) AS j"
            ).fetchall()
        for tag, rid in rows:
            out.setdefault(str(tag), set()).add(int(rid))
        return out

    def all_tags(self) -> list[str]:
        """Sorted distinct tags in use."""
        with self._lock:
            rows = self._c().execute("SELECT DISTINCT tags FROM row_state WHERE tags != '[]'").fetchall()
        return sorted({t for (tj,) in rows for t in json.loads(tj)})

    def row(self, row_id: int) -> RowState:
        """State of one row (all defaults if never touched or back to default)."""
        rid = _one_id(row_id, "row")
        with self._lock:
            r = (
                self._c()
                .execute(f"SELECT row_id, {_ROW_COLS} FROM row_state WHERE row_id = ?", (rid,))
                .fetchone()
            )
        return _row_state_from_db(r, _TagParser()) if r is not None else RowState(rid)

    def actions(self, limit: int | None = None) -> list[Action]:
        """The log, oldest first; with ``limit``, only the newest ``limit`` actions (still oldest first)."""
        cols = "id, time, user, action, row_ids, reason, params"
        with self._lock:
            conn = self._c()
            if limit is None:
                rows = conn.execute(f"SELECT {cols} FROM actions ORDER BY id").fetchall()
            else:
                if isinstance(limit, bool) or not isinstance(limit, Integral) or limit < 0:
                    raise ValueError(f"actions: limit must be a non-negative int or None, got {limit!r}")
                rows = conn.execute(
                    f"SELECT {cols} FROM actions ORDER BY id DESC LIMIT ?", (int(limit),)
                ).fetchall()
                rows.reverse()
        return [_action_from_db(r) for r in rows]

    def action_count(self) -> int:
        """Number of entries in the log (cheap; it only ever grows)."""
        with self._lock:
            return int(self._c().execute("SELECT count(*) FROM actions").fetchone()[0])

    def drop_records(self) -> list[dict[str, Any]]:
        """``{row_id, reason, user, time}`` of the drop in effect, per dropped row (for dropped.jsonl)."""
        with self._lock:
            rows = (
                self._c()
                .execute(
                    "SELECT row_id, drop_reason, dropped_by, dropped_at FROM row_state "
                    "WHERE dropped ORDER BY row_id"
                )
                .fetchall()
            )
        return [{"row_id": int(r[0]), "reason": r[1], "user": r[2], "time": r[3]} for r in rows]

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
        return f"CurationStore({str(self.path)!r}, user={self.user!r})"
