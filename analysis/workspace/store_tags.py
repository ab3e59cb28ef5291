"""Tags and notes: free labels on rows (stored as a sorted JSON list per row) and one free-text note per row."""

from __future__ import annotations

import json
from collections.abc import Iterable

from analysis.workspace.curation_db import check_str, clean_tag, one_id
from analysis.workspace.store_log import ActionLog


class TagsAndNotes(ActionLog):
    """Tag, untag and annotate rows (each one logged action), and look rows up by tag."""

    def tag(self, row_ids: Iterable[int], tag: str, *, reason: str = "") -> int:
        """Add ``tag`` (stripped, non-empty) to rows."""
        return self._row_action("tag", row_ids, reason, tag=clean_tag(tag, "tag"))

    def untag(self, row_ids: Iterable[int], tag: str, *, reason: str = "") -> int:
        """Remove ``tag`` from rows (rows without it are still logged as touched)."""
        return self._row_action("untag", row_ids, reason, tag=clean_tag(tag, "untag"))

    def set_note(self, row_id: int, note: str) -> int:
        """Set the free-text note of one row; the empty string clears it."""
        rid = one_id(row_id, "set_note")
        return self._row_action("set_note", [rid], "", note=check_str(note, "note", "set_note"))

    def tagged_ids(self, tag: str) -> set[int]:
        """Row ids currently carrying ``tag``."""
        tag = clean_tag(tag, "tagged_ids")
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
