"""Undo scoped to one user in one browser session (issue 13.5): two stores on the same SQLite file stand for two
tabs; one tab's undo never reaches the other's work, and a log written before sessions existed still opens."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from analysis.workspace.curation_db import SCHEMA
from analysis.workspace.store import CurationStore, UndoConflict, replay


def _tabs(path: Path) -> tuple[CurationStore, CurationStore]:
    return CurationStore(path, user="ann", session="tab-a"), CurationStore(path, user="bob", session="tab-b")


def _mine(store: CurationStore) -> int | None:
    """What the app's Undo button calls."""
    return store.undo(session=store.session, user=store.user)


def test_undo_in_tab_a_leaves_tab_b_alone(tmp_path: Path) -> None:
    a, b = _tabs(tmp_path / "curation.sqlite")
    with a, b:
        fa = a.flag([600])
        fb = b.flag([601])  # B acted last: an unscoped undo would take B's flag
        u = _mine(a)
        assert a.flagged_ids() == {601} == b.flagged_ids()
        undo = a.actions()[-1]
        assert undo.id == u and undo.undoes == fa
        assert (undo.user, undo.session) == ("ann", "tab-a")
        assert undo.params["undone_user"] == "ann" and undo.params["undone_session"] == "tab-a"
        assert undo.detail == f"undid #{fa} (flag by ann)"
        assert [x.session for x in a.actions()] == ["tab-a", "tab-b", "tab-a"]
        assert _mine(a) is None  # nothing of A's is left; B's flag is still not A's to undo
        assert b.flagged_ids() == {601}
        assert _mine(b) is not None and b.actions()[-1].undoes == fb
        assert a.flagged_ids() == set()
        assert replay(a.actions()) == a.row_states()


def test_undo_walks_back_only_own_history(tmp_path: Path) -> None:
    a, b = _tabs(tmp_path / "curation.sqlite")
    with a, b:
        a1 = a.flag([1])
        b.tag([2], "review")
        a2 = a.drop([3], reason="junk")
        b.flag([4])
        _mine(a)
        _mine(a)
        assert [x.undoes for x in a.actions() if x.action == "undo"] == [a2, a1]
        assert _mine(a) is None
        assert a.flagged_ids() == {4} and a.tagged_ids("review") == {2} and a.dropped_ids() == set()


def test_same_session_other_name_is_not_mine(tmp_path: Path) -> None:
    """Renaming oneself mid-session: the earlier actions were logged under the other name, so not undone."""
    path = tmp_path / "curation.sqlite"
    with CurationStore(path, user="ann", session="tab-a") as before, \
            CurationStore(path, user="annie", session="tab-a") as after:
        before.flag([1])
        assert _mine(after) is None
        assert after.flagged_ids() == {1}


def test_explicit_id_of_someone_else_is_refused(tmp_path: Path) -> None:
    a, b = _tabs(tmp_path / "curation.sqlite")
    with a, b:
        fb = b.flag([9])
        with pytest.raises(ValueError, match="made by bob in another session"):
            a.undo(fb, session=a.session, user=a.user)
        assert a.flagged_ids() == {9}


def test_undo_that_would_revert_another_tab_is_refused(tmp_path: Path) -> None:
    """A flags row 5, then B drops it: restoring A's snapshot would silently un-drop B's row."""
    a, b = _tabs(tmp_path / "curation.sqlite")
    with a, b:
        a.flag([5, 6])
        d = b.drop([5], reason="pii")
        n = a.action_count()
        with pytest.raises(UndoConflict, match=rf"row\(s\) 5 were changed since by bob \(action {d}, drop\)"):
            _mine(a)
        assert a.action_count() == n and a.dropped_ids() == {5} and a.flagged_ids() == {5, 6}
        _mine(b)  # once B's drop is undone, A's flag can go
        _mine(a)
        assert a.flagged_ids() == set() and a.dropped_ids() == set()
        assert replay(a.actions()) == a.row_states()


def test_unscoped_undo_is_unchanged_for_the_cli(tmp_path: Path) -> None:
    a, b = _tabs(tmp_path / "curation.sqlite")
    with a, b, CurationStore(tmp_path / "curation.sqlite", user="cli") as cli:
        a.flag([600])
        fb = b.flag([601])
        assert cli.undo() is not None and cli.actions()[-1].undoes == fb
        undo = cli.actions()[-1]
        assert undo.session is None and undo.params["undone_session"] == "tab-b"
        assert cli.flagged_ids() == {600}


def _old_db(path: Path) -> None:
    """A curation.sqlite as Sift wrote it before sessions: the same schema, actions without a session."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA + "INSERT INTO meta(key, value) VALUES ('schema_version', '1');")
    conn.execute("INSERT INTO row_state(row_id, flagged, updated_by, updated_at) VALUES (7, 1, 'old', 't0')")
    conn.execute("INSERT INTO actions(time, user, action, row_ids, reason, params) VALUES (?,?,?,?,?,?)",
                 ("t0", "old", "flag", "[7]", "", json.dumps({"before": []})))
    conn.commit()
    conn.close()


def test_a_log_from_before_sessions_stays_readable(tmp_path: Path) -> None:
    path = tmp_path / "curation.sqlite"
    _old_db(path)
    with CurationStore(path, user="ann", session="tab-a") as a:
        assert [(x.user, x.action, x.session) for x in a.actions()] == [("old", "flag", None)]
        assert a.flagged_ids() == {7} and replay(a.actions()) == a.row_states()
        assert _mine(a) is None  # an old action belongs to no tab
        a.flag([8])
        assert a.actions()[-1].session == "tab-a"
        _mine(a)
        assert a.flagged_ids() == {7}
        assert a.undo() is not None  # the CLI's plain undo still reaches the old action
        assert a.flagged_ids() == set()
    # The schema is untouched (the session lives in params), so an older Sift still reads and writes this file.
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(actions)")]
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    conn.close()
    assert cols == ["id", "time", "user", "action", "row_ids", "reason", "params"] and version == "1"


def test_session_must_be_text(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="session must be a str"):
        CurationStore(tmp_path / "c.sqlite", session=123)  # type: ignore[arg-type]
