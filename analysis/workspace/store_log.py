"""The action log and undo: every change is one appended, logged action carrying a ``before`` snapshot.

The append-only ``actions`` table is the source of truth: it is the audit trail ("who dropped row 17, when and
why") and it is never updated or deleted from (triggers enforce this). ``row_state`` is a materialised view of the
log, written in the *same* transaction as the log entry, so the two never disagree. Undo is just another appended
action (``"undo"``, params ``{"undoes": id}``) that puts the rows back exactly as they were, so it is auditable
and survives restarts. Large batches (100k row ids) are one action: ids go through ``executemany`` and a temp
table, never one query per row.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from numbers import Integral
from typing import Any

import numpy as np

from analysis.workspace.curation_db import (
    CORE_COLS,
    CurationDB,
    TagParser,
    action_from_db,
    check_str,
    normalise_ids,
    now,
)
from analysis.workspace.row_state import (
    DEFAULT_CORE,
    UNDO,
    Action,
    Core,
    decode_before,
    encode_before,
    is_default_core,
    stepper,
)

log = logging.getLogger("analysis.workspace.store")


class UndoConflict(ValueError):
    """A scoped undo refused because a later action (someone else's, still in effect) changed the same rows."""


class ActionLog(CurationDB):
    """Appending actions (with their prior state) and undoing them; reading the log back."""

    # -- writes --------------------------------------------------------------------------------------------

    def _read_cores(self, conn: sqlite3.Connection, ids: list[int]) -> dict[int, Core]:
        """Stored (non-default) states of ``ids``; via a temp table so 100k ids cost one query."""
        conn.execute("DELETE FROM temp._ids")
        conn.executemany("INSERT INTO temp._ids(row_id) VALUES (?)", ((i,) for i in ids))
        rows = conn.execute(
            f"SELECT row_id, {CORE_COLS} FROM main.row_state "
            "WHERE row_id IN (SELECT row_id FROM temp._ids) ORDER BY row_id"
        ).fetchall()
        conn.execute("DELETE FROM temp._ids")
        parse_tags = TagParser()
        memo: dict[tuple[Any, ...], Core] = {}
        out: dict[int, Core] = {}
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
        make_new_core: Callable[[str, str], Callable[[int, Core], Core]],
    ) -> int:
        """Read prior state, write new state and the log entry, all inside the caller's transaction.

        ``make_new_core(user, time)`` returns ``f(row_id, prior_core) -> new_core``. The prior states of
        all ``ids`` are stored as the action's ``before`` snapshot so that it can be undone exactly.
        """
        time, user = now(), self.user
        new_core = make_new_core(user, time)
        prev = self._read_cores(conn, ids)
        if self.session is not None:
            params = {**params, "session": self.session}
        params = {**params, "before": encode_before(prev)}
        upserts: list[tuple[Any, ...]] = []
        deletes: list[tuple[int]] = []
        values: dict[Core, tuple[Any, ...]] = {}
        for r in ids:
            new = new_core(r, prev.get(r, DEFAULT_CORE))
            if is_default_core(new):
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
                f"INSERT OR REPLACE INTO row_state(row_id, {CORE_COLS}, updated_by, updated_at) "
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
        ids = normalise_ids(row_ids, action)
        reason = check_str(reason, "reason", action)

        def make_new_core(user: str, time: str) -> Callable[[int, Core], Core]:
            step = stepper(action, params, reason, user, time)
            return lambda _row_id, core: step(core)

        with self._write_txn() as conn:
            return self._append(conn, action, ids, reason, dict(params), make_new_core)

    def undo(
        self,
        action_id: int | None = None,
        *,
        reason: str = "",
        session: str | None = None,
        user: str | None = None,
    ) -> int | None:
        """Append an ``undo`` action restoring the rows of ``action_id`` to their state before it.

        With ``action_id=None`` the most recent action that is neither an undo nor already undone is
        undone, so repeated calls walk back through history; returns None when there is nothing left.
        Undo restores the ``before`` snapshot, so it also overwrites later changes to the same rows.

        ``session`` / ``user`` scope the undo to one person in one browser tab (the app passes both): only
        their own actions are candidates, an explicit ``action_id`` of someone else's is refused, and so is
        an undo whose rows were changed since by a later action still in effect (restoring the snapshot
        would silently revert that other change): :class:`UndoConflict` names it. The undo records whose
        action it undid (``undone_user``, ``undone_session``) next to its own ``user`` and ``session``.
        """
        reason = check_str(reason, "reason", "undo")
        if action_id is not None and (
            isinstance(action_id, bool | np.bool_) or not isinstance(action_id, Integral)
        ):
            raise ValueError(f"undo: action_id must be an int or None, got {action_id!r}")
        for name, value in (("session", session), ("user", user)):
            if value is not None:
                check_str(value, name, "undo")
        scoped = session is not None or user is not None
        undone_ids = (
            "(SELECT json_extract(params, '$.undoes') FROM actions "
            " WHERE action = ? AND json_extract(params, '$.undoes') IS NOT NULL)"
        )
        with self._write_txn() as conn:
            if action_id is None:
                where, args = "", []
                if user is not None:
                    where += " AND user = ?"
                    args.append(user)
                if session is not None:
                    where += " AND json_extract(params, '$.session') = ?"
                    args.append(session)
                row = conn.execute(
                    f"SELECT id FROM actions WHERE action != ? AND id NOT IN {undone_ids}{where} "
                    "ORDER BY id DESC LIMIT 1",
                    (UNDO, UNDO, *args),
                ).fetchone()
                if row is None:
                    return None
                target = int(row[0])
            else:
                target = int(action_id)
            found = conn.execute(
                "SELECT action, row_ids, params, user, json_extract(params, '$.session') FROM actions WHERE id = ?",
                (target,),
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
            if (user is not None and found[3] != user) or (session is not None and found[4] != session):
                raise ValueError(
                    f"undo: action {target} ({found[0]}) was made by {found[3]} in another session; "
                    "only your own actions of this session can be undone here"
                )
            ids = [int(i) for i in json.loads(found[1])]
            if scoped:
                self._check_no_later_change(conn, target, ids, undone_ids)
            restored = decode_before(json.loads(found[2]).get("before", []))

            def make_new_core(_user: str, _time: str) -> Callable[[int, Core], Core]:
                return lambda row_id, _core: restored.get(row_id, DEFAULT_CORE)

            params: dict[str, Any] = {"undoes": target, "undone_action": found[0], "undone_user": found[3]}
            if found[4] is not None:
                params["undone_session"] = found[4]
            return self._append(conn, UNDO, ids, reason, params, make_new_core)

    @staticmethod
    def _check_no_later_change(conn: sqlite3.Connection, target: int, ids: list[int], undone_ids: str) -> None:
        """Raise UndoConflict when a later action still in effect touched any of ``ids``."""
        wanted = set(ids)
        later = conn.execute(
            f"SELECT id, action, user, row_ids FROM actions WHERE id > ? AND action != ? AND id NOT IN {undone_ids} "
            "ORDER BY id",
            (target, UNDO, UNDO),
        ).fetchall()
        for other_id, other_action, other_user, other_rows in later:
            common = wanted.intersection(int(i) for i in json.loads(other_rows))
            if common:
                shown = ", ".join(str(i) for i in sorted(common)[:5]) + (" …" if len(common) > 5 else "")
                raise UndoConflict(
                    f"cannot undo action {target}: row(s) {shown} were changed since by {other_user} "
                    f"(action {other_id}, {other_action}); undoing it would revert that change too. "
                    "Change those rows directly instead."
                )

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
        return [action_from_db(r) for r in rows]

    def action_count(self) -> int:
        """Number of entries in the log (cheap; it only ever grows)."""
        with self._lock:
            return int(self._c().execute("SELECT count(*) FROM actions").fetchone()[0])
