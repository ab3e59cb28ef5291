"""Read-side queries over ``row_state``: what is dropped, flagged, the state of one row or all rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.workspace.curation_db import ROW_COLS, CurationDB, TagParser, one_id, row_state_from_db
from analysis.workspace.row_state import STATE_COLUMNS, RowState


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
