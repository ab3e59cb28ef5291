"""Workspaces named by id and listed by recency (issue 13.1): what the app's `?ws=` and the Data page's
'Recent workspaces' rest on. Real files, real workspace folders under a temp SIFT_HOME."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.io import LoadError, LoadOptions
from analysis.workspace.folder import (
    DATASET_FILE,
    META_FILE,
    Workspace,
    display_name,
    mark_opened,
    recent_workspaces,
    source_changes,
    workspace_dir_of,
    workspace_id,
    workspaces_root,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("SIFT_HOME", str(h))
    return h


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _sft(path: Path, n: int) -> Path:
    return _jsonl(path, [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(n)])


def test_id_round_trip_and_reopen_without_source(home: Path, tmp_path: Path) -> None:
    src = _sft(tmp_path / "data" / "train.jsonl", 5)
    ws = Workspace.open(src)
    ws_id = workspace_id(ws.dir)
    assert ws_id == ws.fingerprint[:16] and ws.dir == workspaces_root() / ws_id
    src.unlink()  # a bookmark still opens the rows (and their flags) after the file is gone
    again = Workspace.from_id(ws_id)
    assert again.dir == ws.dir and again.dataset.rows["prompt"].tolist() == [f"q{i}" for i in range(5)]
    assert workspace_id(tmp_path / "elsewhere") is None  # a --workspace folder has no short id


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "..", ".hidden", "x" * 65, "a b", "/etc"])
def test_a_url_id_is_never_a_path(home: Path, bad: str) -> None:
    with pytest.raises(LoadError, match="is not a workspace id"):
        workspace_dir_of(bad)


def test_unknown_id_says_where_it_looked(home: Path) -> None:
    with pytest.raises(LoadError, match=r"no workspace 'deadbeefdeadbeef' under .*workspaces"):
        Workspace.from_id("deadbeefdeadbeef")


def test_recent_lists_name_kind_rows_last_opened(home: Path, tmp_path: Path) -> None:
    a = Workspace.open(_sft(tmp_path / "a.jsonl", 3))
    b = Workspace.open(_jsonl(tmp_path / "chats" / "c.jsonl", [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]))
    _sft(tmp_path / "chats" / "d.jsonl", 2)
    c = Workspace.open(tmp_path / "chats", LoadOptions(skip_bad_lines=True))
    mark_opened(a.dir, datetime(2026, 1, 2, tzinfo=UTC))
    mark_opened(b.dir, datetime(2026, 1, 1, tzinfo=UTC))
    mark_opened(c.dir, datetime(2026, 1, 3, tzinfo=UTC))
    (workspaces_root() / "interrupted").mkdir()  # a first load killed before meta.json: cannot be opened
    (workspaces_root() / "broken").mkdir()
    (workspaces_root() / "broken" / META_FILE).write_text("{not json")
    (workspaces_root() / "broken" / DATASET_FILE).write_bytes(b"")
    got = recent_workspaces()
    assert [w.id for w in got] == [workspace_id(x.dir) for x in (c, a, b)]
    assert [(w.name, w.kind, w.rows, w.files) for w in got] == [
        ("chats/ (2 files)", "mixed", 3, 2), ("a.jsonl", "sft", 3, 1), ("c.jsonl", "chat", 1, 1)]
    assert got[0].last_opened.startswith("2026-01-03") and got[0].options["skip_bad_lines"] is True
    assert [w.id for w in recent_workspaces(limit=1)] == [got[0].id]
    mark_opened(b.dir)  # opening b now moves it to the top
    assert recent_workspaces()[0].id == workspace_id(b.dir)


def test_never_opened_falls_back_to_build_time(home: Path, tmp_path: Path) -> None:
    ws = Workspace.open(_sft(tmp_path / "a.jsonl", 1))
    os.utime(ws.dir / META_FILE, (1_700_000_000, 1_700_000_000))
    (item,) = recent_workspaces()
    assert item.last_opened == datetime.fromtimestamp(1_700_000_000, UTC).isoformat(timespec="seconds")


def test_no_home_yet_lists_nothing(home: Path) -> None:
    assert recent_workspaces() == []


def test_display_names() -> None:
    assert display_name("/d/x.jsonl", ["/d/x.jsonl"]) == "x.jsonl"
    assert display_name("/repo/sample_data/*.jsonl", ["a", "b", "c"]) == "sample_data/*.jsonl (3 files)"
    assert display_name("/data/shards", ["a", "b"]) == "shards/ (2 files)"


def test_source_changes_are_reported(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    _sft(folder / "a.jsonl", 2)
    b = _sft(folder / "b.jsonl", 2)
    ws = Workspace.open(folder)
    assert source_changes(ws.dir) == []
    _sft(b, 3)
    _sft(folder / "c.jsonl", 1)
    assert source_changes(ws.dir) == ["b.jsonl: modified", "c.jsonl: new file"]
    shutil.rmtree(folder)
    assert source_changes(ws.dir) == ["a.jsonl: missing", "b.jsonl: missing"]


def test_touched_but_same_bytes_is_not_a_change(home: Path, tmp_path: Path) -> None:
    src = _sft(tmp_path / "a.jsonl", 2)
    ws = Workspace.open(src)
    os.utime(src, (1_800_000_000, 1_800_000_000))
    assert source_changes(ws.dir) == ["a.jsonl: modified"]
    Workspace.open(src)  # same bytes, same fingerprint: the recorded stats are refreshed
    assert source_changes(ws.dir) == []


def test_workspace_from_before_stats_is_unknown_then_learns(home: Path, tmp_path: Path) -> None:
    src = _sft(tmp_path / "a.jsonl", 2)
    ws = Workspace.open(src)
    meta = json.loads((ws.dir / META_FILE).read_text())
    del meta["source_stats"]
    (ws.dir / META_FILE).write_text(json.dumps(meta))
    assert source_changes(ws.dir) is None
    Workspace.open(src)
    assert source_changes(ws.dir) == []
