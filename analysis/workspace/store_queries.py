"""Read-side queries over ``row_state``: what is dropped, flagged, the state of one row or all rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.workspace.curation_db import (
    ROW_COLS,
    CurationDB,
    TagParser,
    action_from_db,
    one_id,
    row_state_from_db,
)
from analysis.workspace.row_state import STATE_COLUMNS, Action, RowState


class StateQueries(CurationDB):
    """Reads of the materialised state (the log itself is read through `ActionLog.actions`)."""

    def _all_rows(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._c().execute(f"SELECT row_id, {ROW_COLS} FROM row_state ORDER BY row_id").fetchall()

    def row_states(self) -> dict[int, RowState]:
        """All rows with non-default state, keyed by row id (comparable with :func:`replay`)."""
        parse_tags = TagParser()
        return {r[0]: row_state_from_db(r, parse_tags) for r in self._all_rows()}

    def state(self) -> pd.DataFrame:
        """One row per row id that has any curation state, sorted by row id."""
        rows = self._all_rows()
        parse_tags = TagParser()
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

    def dropped_ids(self) -> set[int]:
        """Row ids currently excluded from the export."""
        return self._ids("SELECT row_id FROM row_state WHERE dropped")

    def flagged_ids(self) -> set[int]:
        """Row ids currently flagged."""
        return self._ids("SELECT row_id FROM row_state WHERE flagged")

    def row(self, row_id: int) -> RowState:
        """State of one row (all defaults if never touched or back to default)."""
        rid = one_id(row_id, "row")
        with self._lock:
            r = (
                self._c()
                .execute(f"SELECT row_id, {ROW_COLS} FROM row_state WHERE row_id = ?", (rid,))
                .fetchone()
            )
        return row_state_from_db(r, TagParser()) if r is not None else RowState(rid)

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


@dataclass(frozen=True)
class Snapshot:
    """The curation state as of one instant: drops, tags and the whole log, read in ONE read transaction.

    An export reads the rows to keep, the drop records, the log and the recipe's rules from this object, so a
    writer committing in between can never make a row both exported and listed as dropped. It answers the same
    read methods as the store (`dropped_ids`, `tagged_ids`, `drop_records`, `actions`), so code written against
    the store takes a snapshot unchanged.
    """

    drops: tuple[dict[str, Any], ...]
    tags: dict[str, frozenset[int]]
    log: tuple[Action, ...]

    def dropped_ids(self) -> set[int]:
        return {int(d["row_id"]) for d in self.drops}

    def tagged_ids(self, tag: str) -> set[int]:
        return set(self.tags.get(tag.strip(), frozenset()))

    def drop_records(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self.drops]

    def actions(self) -> list[Action]:
        return list(self.log)


class SnapshotReads(StateQueries):
    """`snapshot()`: every read an export needs, inside one SQLite read transaction (WAL keeps it consistent)."""

    def snapshot(self) -> Snapshot:
        with self._lock:
            conn = self._c()
            conn.execute("BEGIN")  # deferred: the read snapshot is fixed by the first SELECT and held to COMMIT
            try:
                drops = conn.execute(
                    "SELECT row_id, drop_reason, dropped_by, dropped_at FROM row_state WHERE dropped ORDER BY row_id"
                ).fetchall()
                tagged = conn.execute("SELECT j.value, s.row_id FROM row_state AS s, json_each(s.tags) AS j").fetchall()
                log = conn.execute(
                    "SELECT id, time, user, action, row_ids, reason, params FROM actions ORDER BY id"
                ).fetchall()
            finally:
                conn.execute("COMMIT")
        tags: dict[str, set[int]] = {}
        for tag, rid in tagged:
            tags.setdefault(str(tag), set()).add(int(rid))
        return Snapshot(
            drops=tuple({"row_id": int(r[0]), "reason": r[1], "user": r[2], "time": r[3]} for r in drops),
            tags={t: frozenset(ids) for t, ids in tags.items()},
            log=tuple(action_from_db(r) for r in log),
        )
