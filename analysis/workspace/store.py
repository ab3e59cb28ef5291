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

import json
from collections.abc import Iterable, Mapping
from typing import Any

from analysis.workspace.curation_db import BUSY_TIMEOUT_S, SCHEMA_VERSION
from analysis.workspace.row_state import ROW_ACTIONS, STATE_COLUMNS, UNDO, Action, RowState, replay
from analysis.workspace.store_log import UndoConflict
from analysis.workspace.store_queries import Snapshot, SnapshotReads
from analysis.workspace.store_tags import TagsAndNotes

__all__ = ["BUSY_TIMEOUT_S", "ROW_ACTIONS", "SCHEMA_VERSION", "STATE_COLUMNS", "UNDO", "Action", "CurationStore",
           "RowState", "Snapshot", "UndoConflict", "replay"]


class CurationStore(TagsAndNotes, SnapshotReads):
    """Curation state of one dataset, persisted in a SQLite file (e.g. ``<workspace>/curation.sqlite``).

    Every mutating method is one atomic, logged action and returns its id. Safe to share between
    threads (one connection guarded by a lock) and between processes (SQLite locking, WAL). The parts:
    `curation_db` (connection, schema), `store_log` (actions, undo), `store_tags` (tags, notes),
    `store_queries` (reads, and `snapshot()`: all an export reads, in one transaction),
    `row_state` (the pure state model and `replay`).
    """

    def flag(self, row_ids: Iterable[int], *, reason: str = "") -> int:
        """Mark rows for a closer look (does not remove them from the export)."""
        return self._row_action("flag", row_ids, reason)

    def unflag(self, row_ids: Iterable[int], *, reason: str = "") -> int:
        """Clear the flag on rows."""
        return self._row_action("unflag", row_ids, reason)

    def drop(self, row_ids: Iterable[int], *, reason: str = "", rule: Mapping[str, Any] | None = None) -> int:
        """Exclude rows from the export; re-dropping a dropped row replaces its reason. `rule` records the check
        decision behind a bulk drop (`analysis.curation.recipe.check_rule`) so a recipe can replay it on new data."""
        if rule is not None:
            return self._row_action("drop", row_ids, reason, rule=json.loads(json.dumps(dict(rule), default=str)))
        return self._row_action("drop", row_ids, reason)

    def restore(self, row_ids: Iterable[int], *, reason: str = "") -> int:
        """Bring dropped rows back (clears the drop reason)."""
        return self._row_action("restore", row_ids, reason)
