"""Tests for analysis.workspace.store: exact op semantics, undo, the append-only log, and that the materialised
row_state always equals a replay of the log -- across reopen, SIGKILL mid-write and concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.workspace.store import STATE_COLUMNS, Action, CurationStore, RowState, replay

REPO_ROOT = Path(__file__).parents[2]

Core = tuple[bool, tuple[str, ...], str, bool, str]
DEFAULT: Core = (False, (), "", False, "")


def core(s: RowState) -> Core:
    """The user-visible part of a row's state (what undo must restore exactly)."""
    return (s.flagged, s.tags, s.note, s.dropped, s.drop_reason)


def cores(store: CurationStore) -> dict[int, Core]:
    return {r: core(s) for r, s in store.row_states().items()}


def assert_consistent(store: CurationStore) -> None:
    """row_state == replay(log), both as RowState dicts and through the public state() frame."""
    replayed = replay(store.actions())
    assert store.row_states() == replayed
    frame = store.state()
    assert list(frame.columns) == list(STATE_COLUMNS)
    assert frame["row_id"].tolist() == sorted(replayed)
    for rec in frame.to_dict("records"):
        want = replayed[rec["row_id"]]
        assert (rec["flagged"], tuple(rec["tags"]), rec["note"], rec["dropped"], rec["drop_reason"]) == core(
            want
        )
        assert (rec["updated_by"], rec["updated_at"]) == (want.updated_by, want.updated_at)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CurationStore]:
    s = CurationStore(tmp_path / "curation.sqlite", user="alice")
    yield s
    s.close()


# ---------------------------------------------------------------------------------------------------------
# Basics and exact semantics of each operation.


def test_fresh_store(store: CurationStore, tmp_path: Path) -> None:
    frame = store.state()
    assert frame.empty and list(frame.columns) == list(STATE_COLUMNS)
    assert store.actions() == [] and store.action_count() == 0
    assert store.undo() is None
    assert store.row(3) == RowState(3)
    assert store.dropped_ids() == store.flagged_ids() == set() and store.all_tags() == []
    assert store.drop_records() == []
    with sqlite3.connect(tmp_path / "curation.sqlite") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"


def test_flag_unflag(store: CurationStore) -> None:
    a1 = store.flag([3, 1, 3], reason="odd")
    assert store.flagged_ids() == {1, 3}
    assert core(store.row(1)) == (True, (), "", False, "")
    assert store.row(1).updated_by == "alice"
    a2 = store.unflag([1, 2])
    assert a2 > a1
    assert store.flagged_ids() == {3}
    assert store.row(1) == RowState(1)  # back to default: no longer stored
    assert store.state()["row_id"].tolist() == [3]
    acts = store.actions()
    assert [(a.action, a.row_ids, a.reason, a.user) for a in acts] == [
        ("flag", (1, 3), "odd", "alice"),
        ("unflag", (1, 2), "", "alice"),
    ]
    assert_consistent(store)


def test_tag_untag(store: CurationStore) -> None:
    store.tag([1, 2], "  zeta ")
    store.tag([2, 3], "alpha")
    store.tag([2], "zeta")  # already present: no duplicate
    assert core(store.row(2)) == (False, ("alpha", "zeta"), "", False, "")
    assert store.all_tags() == ["alpha", "zeta"]
    assert store.tagged_ids("zeta") == {1, 2} and store.tagged_ids(" alpha") == {2, 3}
    store.untag([2, 3, 9], "alpha")
    assert store.tagged_ids("alpha") == set()
    assert store.row(3) == RowState(3) and store.row(9) == RowState(9)
    assert store.all_tags() == ["zeta"]
    assert store.actions()[0].params["tag"] == "zeta"
    frame = store.state()
    assert frame["tags"].tolist() == [["zeta"], ["zeta"]]
    assert_consistent(store)


def test_drop_restore_and_drop_records(store: CurationStore) -> None:
    a1 = store.drop([5, 6], reason="duplicate")
    store.flag([6])
    assert store.dropped_ids() == {5, 6}
    t1 = store.actions()[0].time
    assert core(store.row(6)) == (True, (), "", True, "duplicate")
    assert store.drop_records() == [
        {"row_id": 5, "reason": "duplicate", "user": "alice", "time": t1},
        {"row_id": 6, "reason": "duplicate", "user": "alice", "time": t1},
    ]
    store.restore([5, 6], reason="oops")
    assert store.dropped_ids() == set()
    assert store.row(5) == RowState(5)
    assert core(store.row(6)) == (True, (), "", False, "")
    assert store.drop_records() == []
    assert a1 == store.actions()[0].id
    assert_consistent(store)


def test_redrop_replaces_reason_and_records_latest(store: CurationStore) -> None:
    store.drop([1], reason="short")
    store.drop([1, 2], reason="toxic")
    recs = store.drop_records()
    t2 = store.actions()[-1].time
    assert [(r["row_id"], r["reason"], r["time"]) for r in recs] == [(1, "toxic", t2), (2, "toxic", t2)]


def test_set_note(store: CurationStore) -> None:
    store.set_note(np.int64(4), "look at the\nsystem prompt")
    assert store.row(4).note == "look at the\nsystem prompt"
    store.set_note(4, "")
    assert store.row(4) == RowState(4)
    assert [a.params["note"] for a in store.actions()] == ["look at the\nsystem prompt", ""]
    assert_consistent(store)


def test_ids_are_normalised(store: CurationStore) -> None:
    aid = store.drop(np.array([7, 3, 7, 3], dtype=np.int32), reason="x")
    store.flag([np.int64(9), np.uint8(2), 9])
    store.tag(pd.Index([11, 10]), "t")
    store.tag(pd.Series([12]), "t")
    store.untag(range(12, 13), "t")
    store.restore(i for i in [3])
    acts = store.actions()
    assert acts[0].id == aid and acts[0].row_ids == (3, 7)
    assert [a.row_ids for a in acts[1:]] == [(2, 9), (10, 11), (12,), (12,), (3,)]
    assert all(type(r) is int for a in acts for r in a.row_ids)
    assert store.dropped_ids() == {7} and store.flagged_ids() == {2, 9} and store.tagged_ids("t") == {10, 11}


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: s.flag([]), "empty"),
        (lambda s: s.drop(np.array([], dtype=np.int64)), "empty"),
        (lambda s: s.flag(3), "iterable"),
        (lambda s: s.flag("12"), "iterable"),
        (lambda s: s.flag([1.0]), "ints"),
        (lambda s: s.flag(np.array([1.5])), "ints"),
        (lambda s: s.flag([True]), "ints"),
        (lambda s: s.flag([None]), "ints"),
        (lambda s: s.drop([-1]), "between"),
        (lambda s: s.drop(np.array([-1])), "between"),
        (lambda s: s.drop([2**63]), "between"),
        (lambda s: s.tag([1], "   "), "non-empty"),
        (lambda s: s.tag([1], 5), "str"),
        (lambda s: s.untag([1], ""), "non-empty"),
        (lambda s: s.drop([1], reason=None), "reason"),
        (lambda s: s.set_note(1, None), "note"),
        (lambda s: s.set_note("1", "x"), "row id"),
        (lambda s: s.set_note(-1, "x"), "between"),
        (lambda s: s.undo("1"), "action_id"),
        (lambda s: s.undo(99), "no action"),
        (lambda s: s.actions(limit=-1), "limit"),
    ],
)
def test_bad_input_raises_and_logs_nothing(store: CurationStore, call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(store)
    assert store.action_count() == 0 and store.state().empty


# ---------------------------------------------------------------------------------------------------------
# Undo.


def _seed(store: CurationStore) -> None:
    """Rows in a variety of states so each op's undo has something to restore."""
    store.flag([1, 2])
    store.tag([2, 3], "a")
    store.tag([3], "b")
    store.drop([3, 4], reason="old reason")
    store.set_note(1, "n1")


OPS = {
    "flag": lambda s: s.flag([1, 2, 5]),
    "unflag": lambda s: s.unflag([1, 2, 5]),
    "tag": lambda s: s.tag([1, 3, 5], "b"),
    "untag": lambda s: s.untag([2, 3, 5], "a"),
    "drop": lambda s: s.drop([1, 3, 4, 5], reason="new reason"),
    "restore": lambda s: s.restore([1, 3, 4, 5]),
    "set_note": lambda s: s.set_note(1, "changed"),
    "set_note_clear": lambda s: s.set_note(1, ""),
    "set_note_new_row": lambda s: s.set_note(5, "fresh"),
}


@pytest.mark.parametrize("op", list(OPS))
def test_undo_restores_exact_prior_state(store: CurationStore, op: str) -> None:
    _seed(store)
    before_states = store.row_states()
    before_records = store.drop_records()
    n = store.action_count()
    aid = OPS[op](store)
    assert store.row_states() != before_states
    undo_id = store.undo()
    assert undo_id == aid + 1 and store.action_count() == n + 2
    undo = store.actions()[-1]
    assert (undo.action, undo.params["undoes"], undo.row_ids) == ("undo", aid, store.actions()[-2].row_ids)
    after = store.row_states()
    assert {r: core(s) for r, s in after.items()} == {r: core(s) for r, s in before_states.items()}
    assert {r: (s.dropped_by, s.dropped_at) for r, s in after.items()} == {
        r: (s.dropped_by, s.dropped_at) for r, s in before_states.items()
    }
    assert store.drop_records() == before_records
    assert_consistent(store)


def test_undo_redrop_brings_old_reason_back(store: CurationStore) -> None:
    store.drop([1, 2], reason="short")
    first = store.drop_records()
    store.drop([1], reason="toxic")
    assert store.row(1).drop_reason == "toxic"
    store.undo()
    assert store.row(1).drop_reason == "short"
    assert store.drop_records() == first


def test_repeated_undo_walks_back_history(store: CurationStore) -> None:
    snapshots = [cores(store)]
    for op in (
        lambda: store.flag([1]),
        lambda: store.tag([1, 2], "x"),
        lambda: store.drop([2], reason="r"),
        lambda: store.set_note(3, "hi"),
    ):
        op()
        snapshots.append(cores(store))
    for expected in reversed(snapshots[:-1]):
        assert store.undo() is not None
        assert cores(store) == expected
        assert_consistent(store)
    assert store.undo() is None
    assert store.action_count() == 8
    # New work after undoing: the next undo takes the new action first.
    store.flag([9])
    store.undo()
    assert store.flagged_ids() == set()
    assert store.undo() is None


def test_undo_of_undone_or_of_an_undo_raises(store: CurationStore) -> None:
    a = store.flag([1])
    u = store.undo(a)
    with pytest.raises(ValueError, match="already undone"):
        store.undo(a)
    with pytest.raises(ValueError, match="itself an undo"):
        store.undo(u)
    assert store.action_count() == 2


def test_undo_specific_older_action(store: CurationStore) -> None:
    a = store.drop([1], reason="r")
    store.flag([2])
    store.undo(a)
    assert store.dropped_ids() == set() and store.flagged_ids() == {2}
    store.undo()  # most recent not-undone: the flag
    assert store.state().empty
    assert store.undo() is None
    assert_consistent(store)


def test_undo_overwrites_later_changes_to_same_rows(store: CurationStore) -> None:
    """Documented semantics: undo restores the snapshot, so later edits to those rows are reverted too."""
    a = store.flag([1])
    store.tag([1], "later")
    store.undo(a)
    assert store.row(1) == RowState(1)
    assert_consistent(store)


# ---------------------------------------------------------------------------------------------------------
# The log.


def test_log_is_append_only(store: CurationStore, tmp_path: Path) -> None:
    counts = [store.action_count()]
    for op in (lambda: store.flag([1]), lambda: store.drop([1, 2]), store.undo, store.undo):
        op()
        counts.append(store.action_count())
    assert counts == [0, 1, 2, 3, 4]
    acts = store.actions()
    assert [a.action for a in acts] == ["flag", "drop", "undo", "undo"]
    assert [a.id for a in acts] == sorted(a.id for a in acts)
    assert all(a.time.endswith("+00:00") for a in acts)
    with sqlite3.connect(tmp_path / "curation.sqlite") as raw:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM actions")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE actions SET reason = 'x'")
    assert store.actions() == acts


def test_actions_limit_and_params(store: CurationStore) -> None:
    for i in range(5):
        store.flag([i], reason=f"r{i}")
    assert [a.reason for a in store.actions(limit=2)] == ["r3", "r4"]
    assert store.actions(limit=0) == []
    assert len(store.actions(limit=50)) == 5
    a = store.actions()[0]
    assert isinstance(a, Action) and a.params["before"] == [] and a.undoes is None
    store.flag([0, 1])
    before = store.actions()[-1].params["before"]
    assert before == [
        {
            "rows": [0, 1],
            "state": {
                "flagged": True,
                "tags": [],
                "note": "",
                "dropped": False,
                "drop_reason": "",
                "dropped_by": None,
                "dropped_at": None,
            },
        }
    ]


def test_user_is_recorded(tmp_path: Path) -> None:
    with CurationStore(tmp_path / "c.sqlite") as s:
        assert s.user  # getpass or "unknown"
        s.flag([1])
    with CurationStore(tmp_path / "c.sqlite", user="bob") as s:
        s.drop([1], reason="r")
        assert [a.user for a in s.actions()][1] == "bob"
        assert s.row(1).updated_by == "bob" and s.drop_records()[0]["user"] == "bob"


# ---------------------------------------------------------------------------------------------------------
# Persistence, crash safety, concurrency, speed.


def test_reopen_keeps_state_and_log(tmp_path: Path) -> None:
    path = tmp_path / "ws" / "curation.sqlite"
    with CurationStore(path, user="alice") as s:
        _seed(s)
        s.undo()
        state, acts = s.row_states(), s.actions()
    with pytest.raises(ValueError, match="closed"):
        s.flag([1])
    with CurationStore(str(path), user="bob") as s2:
        assert s2.row_states() == state and s2.actions() == acts
        assert_consistent(s2)


_CRASHER = """
import sys
from analysis.workspace.store import CurationStore
s = CurationStore(sys.argv[1], user="crasher")
i = 0
while True:
    s.drop(range(i * 50, i * 50 + 50), reason=f"r{i % 3}")
    s.flag([i, i + 1])
    s.drop(range(i * 50, i * 50 + 500), reason="big")
    i += 1
"""


def _count_actions(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as raw:
            return int(raw.execute("SELECT count(*) FROM actions").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_write_leaves_consistent_db(tmp_path: Path) -> None:
    path = tmp_path / "curation.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _CRASHER, str(path)], cwd=REPO_ROOT, env=_env())
    try:
        deadline = time.monotonic() + 30
        while _count_actions(path) < 60:
            assert proc.poll() is None, "writer died on its own"
            assert time.monotonic() < deadline, "writer too slow"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with CurationStore(path, user="checker") as s:
        raw = s._c()
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        acts = s.actions()
        assert len(acts) >= 60 and [a.id for a in acts] == list(range(1, len(acts) + 1))
        assert_consistent(s)
        # Every logged action is fully reflected (the workload only ever sets flags and drops).
        state = s.row_states()
        last_drop: dict[int, str] = {}
        for a in acts:
            for r in a.row_ids:
                assert r in state
                if a.action == "flag":
                    assert state[r].flagged
                else:
                    assert state[r].dropped
                    last_drop[r] = a.reason
        assert {r: st.drop_reason for r, st in state.items() if st.dropped} == last_drop
        assert set(state) == {r for a in acts for r in a.row_ids}
        s.flag([0])  # still writable
        assert_consistent(s)


_WORKER = """
import sys, time
from pathlib import Path
from analysis.workspace.store import CurationStore
path, mode, start, tag, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], Path(sys.argv[5])
with CurationStore(path, user=tag) as s:
    Path(f"{go}.{tag}.ready").touch()
    while not go.exists():
        time.sleep(0.001)
    if mode == "disjoint":
        for k in range(100):
            if k % 2:
                s.flag([start + k], reason=tag)
            else:
                s.tag([start + k], tag)
            time.sleep(0.002)  # release the lock a moment so the two writers interleave
    else:
        for r in range(50):
            s.tag([r], tag)
            time.sleep(0.002)
"""


def _run_pair(path: Path, tmp_path: Path, jobs: list[tuple[str, int, str]]) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), mode, str(start), tag, str(go)],
            cwd=REPO_ROOT,
            env=_env(),
        )
        for mode, start, tag in jobs
    ]
    # Both open the store (racing schema creation), then start writing together.
    deadline = time.monotonic() + 30
    while not all(Path(f"{go}.{tag}.ready").exists() for _, _, tag in jobs):
        assert all(p.poll() is None for p in procs), "worker died before starting"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    go.touch()
    for p in procs:
        assert p.wait(timeout=60) == 0


def test_concurrent_writers_disjoint_rows(tmp_path: Path) -> None:
    path = tmp_path / "curation.sqlite"
    _run_pair(path, tmp_path, [("disjoint", 0, "w1"), ("disjoint", 1000, "w2")])
    with CurationStore(path) as s:
        acts = s.actions()
        assert len(acts) == 200
        assert {a.user for a in acts} == {"w1", "w2"}
        state = s.row_states()
        assert set(state) == set(range(100)) | set(range(1000, 1100))
        assert s.flagged_ids() == {r for r in state if r % 2}
        assert s.tagged_ids("w1") == set(range(0, 100, 2)) and s.tagged_ids("w2") == set(range(1000, 1100, 2))
        assert_consistent(s)


def test_concurrent_writers_same_rows(tmp_path: Path) -> None:
    path = tmp_path / "curation.sqlite"
    _run_pair(path, tmp_path, [("same", 0, "red"), ("same", 0, "blue")])
    with CurationStore(path) as s:
        assert s.action_count() == 100
        assert s.tagged_ids("red") == s.tagged_ids("blue") == set(range(50))
        assert all(st.tags == ("blue", "red") for st in s.row_states().values())
        assert_consistent(s)


def test_large_batch_is_fast(store: CurationStore) -> None:
    """100k-row actions cost well under 2 s of CPU each (the code's own cost; wall time on a busy 2-core machine
    adds waiting for the CPU and fsync, so it only gets a loose bound)."""
    steps = [lambda: store.drop(np.arange(100_000), reason="near-duplicate"),
             lambda: store.drop(range(100_000), reason="again"),  # every row already has state: full before-snapshot
             store.undo]
    for step in steps:
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert cpu < 2.0 and wall < 15.0, (cpu, wall)
    assert len(store.dropped_ids()) == 100_000
    assert {r["reason"] for r in store.drop_records()} == {"near-duplicate"}


# ---------------------------------------------------------------------------------------------------------
# Property: random op sequences against an independent model, and row_state == replay(log).

_ids = st.lists(st.integers(0, 6), min_size=1, max_size=4)
_ops = st.one_of(
    st.tuples(
        st.sampled_from(["flag", "unflag", "drop", "restore"]), _ids, st.sampled_from(["", "r1", "r2"])
    ),
    st.tuples(st.sampled_from(["tag", "untag"]), _ids, st.sampled_from(["a", "b", "c"])),
    st.tuples(st.just("set_note"), st.integers(0, 6), st.sampled_from(["", "n1", "n2"])),
    st.tuples(st.just("undo"), st.none() | st.integers(0, 25)),
)


def _model_step(c: Core, op: str, arg: str) -> Core:
    flagged, tags, note, dropped, reason = c
    if op == "flag":
        flagged = True
    elif op == "unflag":
        flagged = False
    elif op == "tag":
        tags = tuple(sorted(set(tags) | {arg}))
    elif op == "untag":
        tags = tuple(t for t in tags if t != arg)
    elif op == "drop":
        dropped, reason = True, arg
    elif op == "restore":
        dropped, reason = False, ""
    elif op == "set_note":
        note = arg
    return (flagged, tags, note, dropped, reason)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_ops, max_size=25))
def test_random_sequences_match_model_and_replay(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as d, CurationStore(Path(d) / "c.sqlite", user="prop") as s:
        model: dict[int, Core] = {}
        # action id -> (kind, rows, model state of those rows before it); plus the undone set.
        history: dict[int, tuple[str, list[int], dict[int, Core]]] = {}
        undone: set[int] = set()
        for op in ops:
            if op[0] == "undo":
                target = op[1]
                if target is None:
                    live = [a for a, (k, _, _) in history.items() if k != "undo" and a not in undone]
                    target = max(live) if live else None
                    if target is None:
                        assert s.undo() is None
                        continue
                elif target not in history or history[target][0] == "undo" or target in undone:
                    with pytest.raises(ValueError):
                        s.undo(target)
                    continue
                _, rows, prior = history[target]
                before = {r: model.get(r, DEFAULT) for r in rows}
                aid = s.undo(target) if op[1] is not None else s.undo()
                assert aid is not None and s.actions(limit=1)[0].undoes == target
                for r in rows:
                    model[r] = prior[r]
                history[aid] = ("undo", rows, before)
                undone.add(target)
            else:
                name, ids, arg = op
                rows = sorted({ids} if isinstance(ids, int) else set(ids))
                before = {r: model.get(r, DEFAULT) for r in rows}
                if name == "set_note":
                    aid = s.set_note(ids, arg)
                elif name in ("tag", "untag"):
                    aid = getattr(s, name)(ids, arg)
                else:
                    aid = getattr(s, name)(ids, reason=arg)
                for r in rows:
                    model[r] = _model_step(before[r], name, arg)
                history[aid] = (name, rows, before)
            assert cores(s) == {r: c for r, c in model.items() if c != DEFAULT}
        assert s.action_count() == len(history)
        assert_consistent(s)


def test_tag_index_and_noted_ids_match_the_per_tag_queries(tmp_path: Path) -> None:
    with CurationStore(tmp_path / "c.sqlite") as store:
        store.tag([1, 2, 3], "a")
        store.tag([3, 4], "b")
        store.set_note(2, "look")
        store.set_note(5, "x")
        store.set_note(5, "")
        assert store.tag_index() == {"a": {1, 2, 3}, "b": {3, 4}}
        assert store.tag_index() == {t: store.tagged_ids(t) for t in store.all_tags()}
        assert store.noted_ids() == {2}
