"""The workspace (ARCHITECTURE.md §3): keyed by fingerprint, read back without re-parsing, never stale."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import analysis.workspace.folder as workspace_mod
from analysis.io import LoadError, LoadOptions, load
from analysis.io.load import fingerprint
from analysis.workspace.folder import CURATION_FILE, DATASET_FILE, META_FILE, Workspace

RECORDS: list[dict[str, Any]] = [
    {"prompt": "p0", "response": "r0", "score": 0.5},
    {"prompt": "p1", "response": "r1"},  # no score: NaN
    {"prompt": "p2", "response": "r2", "score": None},
]


def _no_reparse(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the workspace re-parsed the source")

    monkeypatch.setattr(workspace_mod, "load", boom)


def _mixed_folder(tmp_path: Path) -> Path:
    """Every canonical column in use: chat with tools and tool calls, preference, scored, table, NaN/None."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a_chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                      {"role": "assistant", "content": None,
                       "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]},
                      {"role": "tool", "content": "42"}, {"role": "assistant", "content": "It is 42."}],
         "tools": [{"name": "f"}]},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]))
    (data / "b_pref.json").write_text(json.dumps({"data": [{"prompt": "p", "chosen": "c", "rejected": "r"}]}))
    (data / "c_scored.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    (data / "d_table.csv").write_text("id,name\n1,x\n")
    return data


def test_open_builds_under_sift_home_keyed_by_fingerprint(write_jsonl: Callable[..., Path], sift_home: Path) -> None:
    path = write_jsonl("d.jsonl", RECORDS)
    ws = Workspace.open(path)
    fp = fingerprint([path], LoadOptions())
    assert workspace_mod.sift_home() == sift_home
    assert ws.fingerprint == fp == ws.dataset.info.fingerprint
    assert ws.dir == sift_home / "workspaces" / fp[:16]
    assert {p.name for p in ws.dir.iterdir()} >= {DATASET_FILE, META_FILE}
    meta = json.loads((ws.dir / META_FILE).read_text())
    assert (meta["fingerprint"], meta["path"], meta["source_paths"]) == (fp, str(path), [str(path)])
    assert meta["info"]["rows"] == 3
    assert not any(p.name.endswith(".tmp") for p in ws.dir.iterdir())
    ws.close()


def test_reopen_reads_back_without_reparsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mixed_folder(tmp_path)
    fresh = Workspace.open(data)
    assert fresh.dataset.info.kind == "mixed" and len(fresh.dataset) == 7
    _no_reparse(monkeypatch)
    again = Workspace.open(data)
    from_dir = Workspace.from_dir(fresh.dir)
    for other in (again, from_dir):
        assert other.dir == fresh.dir
        pd.testing.assert_frame_equal(other.dataset.rows, fresh.dataset.rows)
        assert other.dataset.rows["messages"].tolist() == fresh.dataset.rows["messages"].tolist()
        assert other.dataset.info.to_dict() == fresh.dataset.info.to_dict()
    rows = again.dataset.rows
    assert rows["messages"][0][2] == {"role": "assistant", "content": '{"name": "f", "arguments": "{}"}',
                                      "tool_call": True}
    assert rows["tools"][0] == '[{"name": "f"}]' and pd.isna(rows["tools"][1])
    assert rows["chosen"][2] == "c" and pd.isna(rows["chosen"][0])
    assert rows["score"].isna().tolist() == [True, True, True, False, True, True, True]
    assert rows["messages"][6] == []
    assert rows["source_line"].isna().tolist() == [False, False, True, False, False, False, False]
    for ws in (fresh, again, from_dir):
        ws.close()


def test_loaded_and_reopened_dtypes_match(write_jsonl: Callable[..., Path]) -> None:
    """An all-missing column (no tools anywhere) has the same dtype fresh and after the Parquet round trip."""
    path = write_jsonl("d.jsonl", RECORDS)
    fresh = load(path).rows
    reopened = Workspace.from_dir(Workspace.open(path).dir).dataset.rows
    assert fresh.dtypes.to_dict() == reopened.dtypes.to_dict()
    assert fresh["tools"].isna().all()


def test_skipped_lines_survive_the_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a"}\n[1]\n{"text": "b"}\n')
    options = LoadOptions(skip_bad_lines=True)
    first = Workspace.open(path, options)
    _no_reparse(monkeypatch)
    second = Workspace.open(path, options)
    assert [s.to_dict() for s in second.dataset.info.skipped] == [
        {"file": str(path), "line": 2, "error": "expected a JSON object per line, found an array"}]
    assert second.dataset.rows["row_id"].tolist() == [0, 2]
    assert second.dataset.info.options == options
    first.close()
    second.close()


def test_changed_bytes_or_options_give_another_workspace(write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl("d.jsonl", RECORDS)
    dirs = {Workspace.open(path).dir}
    dirs.add(Workspace.open(path, LoadOptions(kind="sft")).dir)
    dirs.add(Workspace.open(path, LoadOptions(skip_bad_lines=True)).dir)
    dirs.add(Workspace.open(path, LoadOptions(mapping={"prompt": "prompt", "response": "response"})).dir)
    assert len(dirs) == 4
    path.write_text(path.read_text() + json.dumps({"prompt": "p3", "response": "r3"}) + "\n")
    changed = Workspace.open(path)
    assert changed.dir not in dirs
    assert len(changed.dataset) == 4
    assert Workspace.open(path, LoadOptions(kind="sft")).dataset.info.kind == "sft"


def test_a_changed_file_is_reparsed(write_jsonl: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl("d.jsonl", RECORDS)
    Workspace.open(path)
    path.write_text(json.dumps({"prompt": "new", "response": "x"}) + "\n")
    _no_reparse(monkeypatch)
    with pytest.raises(AssertionError, match="re-parsed"):
        Workspace.open(path)


def test_explicit_workspace_dir(write_jsonl: Callable[..., Path], tmp_path: Path, sift_home: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl("d.jsonl", RECORDS)
    target = tmp_path / "my_ws"
    ws = Workspace.open(path, workspace=target)
    assert ws.dir == target and (target / DATASET_FILE).exists()
    assert not (sift_home / "workspaces").exists()
    ws.store.drop([1], reason="dup")
    ws.close()
    other = write_jsonl("other.jsonl", [{"text": "t"}])
    with pytest.raises(LoadError) as err:
        Workspace.open(other, workspace=target)
    assert str(err.value) == (f"{other}: the workspace {target} belongs to another dataset ({path}); "
                              "choose a new --workspace directory")
    assert json.loads((target / META_FILE).read_text())["path"] == str(path)  # untouched
    _no_reparse(monkeypatch)
    again = Workspace.open(path, workspace=target)
    assert again.store.dropped_ids() == {1}
    again.close()


def test_curation_state_persists_with_the_workspace(write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl("d.jsonl", RECORDS)
    ws = Workspace.open(path)
    ws.store.drop([0, 2], reason="bad")
    ws.store.tag([1], "keep")
    ws.close()
    assert (ws.dir / CURATION_FILE).exists()
    again = Workspace.open(path)
    assert again.store.dropped_ids() == {0, 2}
    assert again.store.tagged_ids("keep") == {1}
    again.close()


def test_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        Workspace.from_dir(tmp_path)
    assert str(err.value) == f"{tmp_path}: not a Sift workspace (no meta.json / dataset.parquet)"


def test_crash_before_meta_leaves_no_valid_half(write_jsonl: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
                                                sift_home: Path) -> None:
    path = write_jsonl("d.jsonl", RECORDS)

    def crash(*_a: Any, **_k: Any) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(workspace_mod, "atomic_write_text", crash)
        with pytest.raises(OSError, match="disk full"):
            Workspace.open(path)
    ws_dir = next((sift_home / "workspaces").iterdir())
    assert not (ws_dir / META_FILE).exists()
    with pytest.raises(LoadError):
        Workspace.from_dir(ws_dir)
    assert len(Workspace.open(path).dataset) == 3  # rebuilt


def test_same_file_in_a_copy_folder_shares_the_workspace(tmp_path: Path) -> None:
    """The key is name + bytes + options, not the location: a moved file keeps its workspace and curation."""
    data = _mixed_folder(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    assert Workspace.open(data).dir == Workspace.open(copy).dir


def test_glob_reopens_without_reparsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mixed_folder(tmp_path)
    pattern = str(data / "*.jsonl")
    first = Workspace.open(pattern)
    assert len(first.dataset) == 5
    _no_reparse(monkeypatch)
    assert Workspace.open(pattern).dir == first.dir
