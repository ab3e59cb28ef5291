"""Fault injection for `sift export`: kills, a racing curator, hostile targets, formula cells, round trips.

Kills are deterministic: `SIFT_EXPORT_FAULT=<point>` makes the export SIGKILL itself at that point (the hook in
`analysis.curation.export._fault`), and one test kills from outside the moment the temporary folder appears. Every
kill must leave at `--out` the previous export or the new one (each checked against its manifest's hashes), never a
mix, and the next export must leave no hidden leftovers.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from analysis.cli import main
from analysis.curation.export import export_dataset
from analysis.io import LoadError, load
from analysis.workspace.folder import Workspace
from analysis.workspace.store import CurationStore

ROOT = Path(__file__).resolve().parents[2]
N_ROWS = 3000


def _records(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "prompt": f"question {i} " + "word " * 20, "response": f"answer {i} " + "more " * 30}
            for i in range(n)]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A built workspace of N_ROWS rows (so the export subprocess opens it without a parse)."""
    src = tmp_path / "src" / "data.jsonl"
    src.parent.mkdir()
    src.write_text("".join(json.dumps(r) + "\n" for r in _records(N_ROWS)), encoding="utf-8")
    Workspace.open(src, workspace=tmp_path / "ws").close()
    return tmp_path / "ws"


def _sift(*args: str, fault: str | None = None, exchange: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `sift` in a subprocess (optionally dying at `fault`, optionally without renameat2)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SIFT_EXPORT_FAULT", None)
    if fault:
        env["SIFT_EXPORT_FAULT"] = fault
    code = ("import sys; import analysis.curation.export as e; e.USE_RENAME_EXCHANGE = " + str(exchange) +
            "; from analysis.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)


def _export_state(folder: Path) -> tuple[frozenset[int], dict[str, Any]]:
    """The ids an export holds, after checking it is whole: every file its manifest lists, with that hash, and
    nothing else; the rows match the counts; no row is both written and listed as dropped."""
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    assert {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} == {*listed, "manifest.json"}
    for rel, entry in listed.items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    ids = [json.loads(x)["id"] for e in listed.values() if e["role"] == "data"
           for x in (folder / e["path"]).read_text().splitlines()]
    dropped = [json.loads(x) for x in (folder / "dropped.jsonl").read_text().splitlines()]
    assert len(ids) == manifest["counts"]["rows_written"]
    assert len(dropped) == manifest["counts"]["rows_dropped"]
    assert not set(ids) & {d["record"]["id"] for d in dropped}
    assert set(ids) | {d["row_id"] for d in dropped} == set(range(N_ROWS))
    recipe = json.loads((folder / "recipe.json").read_text())
    assert sorted(r["row_id"] for s in recipe["steps"] for r in s["rows"]) == sorted(d["row_id"] for d in dropped)
    return frozenset(ids), manifest


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


_SLOW = pytest.mark.slow  # ~10 s each on a busy 2-core machine (three sift subprocesses)


@pytest.mark.parametrize(("fault", "exchange", "expect"), [
    pytest.param("after-data-file", True, "old", marks=_SLOW),
    ("before-publish", True, "old"),
    pytest.param("after-publish", True, "new", marks=_SLOW),
    pytest.param("after-data-file", False, "old", marks=_SLOW),
    ("between-renames", False, "restored"),
    pytest.param("after-publish", False, "new", marks=_SLOW),
])
def test_a_kill_leaves_the_previous_export_or_the_new_one(workspace: Path, tmp_path: Path, fault: str,
                                                          exchange: bool, expect: str) -> None:
    out = tmp_path / "exports" / "clean"
    with CurationStore(workspace / "curation.sqlite") as store:
        store.drop(range(0, 100), reason="first")
    assert _sift("export", str(workspace), "--out", str(out)).returncode == 0
    old_ids, old_manifest = _export_state(out)
    with CurationStore(workspace / "curation.sqlite") as store:
        store.drop(range(100, 300), reason="second")
    run = _sift("export", str(workspace), "--out", str(out), "--force", fault=fault, exchange=exchange)
    assert run.returncode == -signal.SIGKILL, run.stderr
    if expect == "restored":  # old aside, new not yet in: the target is missing until the next export
        assert not out.exists()
    else:
        ids, manifest = _export_state(out)
        assert ids == (old_ids if expect == "old" else frozenset(range(300, N_ROWS)))
        assert (manifest == old_manifest) == (expect == "old")
    assert _leftovers(out.parent)  # the killed run's temporaries are there ...
    if expect != "new":  # ... the next export puts any previous one back, refuses without --force, and cleans up
        refused = _sift("export", str(workspace), "--out", str(out))
        assert refused.returncode == 2 and "--force" in refused.stderr
        assert _export_state(out)[0] == old_ids
    assert _sift("export", str(workspace), "--out", str(out), "--force", exchange=exchange).returncode == 0
    assert _export_state(out)[0] == frozenset(range(300, N_ROWS))
    assert _leftovers(out.parent) == []
    assert [p.name for p in out.parent.iterdir()] == ["clean"]


@pytest.mark.slow
def test_a_kill_from_outside_while_writing(workspace: Path, tmp_path: Path) -> None:
    """Killed by another process the moment its temporary folder appears (no hook): still old or new."""
    out = tmp_path / "exports" / "clean"
    assert _sift("export", str(workspace), "--out", str(out)).returncode == 0
    old_ids, _ = _export_state(out)
    with CurationStore(workspace / "curation.sqlite") as store:
        store.drop(range(0, 50), reason="x")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "export", str(workspace), "--out", str(out),
                             "--force", "--format", "parquet"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while proc.poll() is None and not _leftovers(out.parent) and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["output"]["format"] in ("jsonl", "parquet")
    if manifest["output"]["format"] == "jsonl":  # the kill came first: the previous export, whole
        assert _export_state(out)[0] == old_ids
    for entry in manifest["files"]:  # either way every file matches the manifest it came with
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    assert _sift("export", str(workspace), "--out", str(out), "--force").returncode == 0
    assert _export_state(out)[0] == frozenset(range(50, N_ROWS))
    assert _leftovers(out.parent) == []


_DROPPER = """
import random, sys, time
from pathlib import Path
from analysis.workspace.store import CurationStore
ids = list(range(int(sys.argv[2])))
random.Random(7).shuffle(ids)
with CurationStore(sys.argv[1], user="racer") as store:
    Path(sys.argv[3]).touch()
    for k in range(0, len(ids), 3):
        store.drop(ids[k:k + 3], reason=f"race {k}")
        if k % 27 == 0:
            store.restore(ids[k:k + 2])
        time.sleep(0.002)
"""


def test_an_export_racing_a_curator_is_one_snapshot(workspace: Path, tmp_path: Path) -> None:
    """Another process drops (and restores) rows while exports run: each export is one instant of the curation."""
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racer = subprocess.Popen([sys.executable, "-c", _DROPPER, str(workspace / "curation.sqlite"), str(N_ROWS),
                              str(ready)], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        ws = Workspace.from_dir(workspace)
        seen = set()
        for k in range(6):
            res = export_dataset(ws.dataset, ws.store, tmp_path / f"e{k}")
            ids, manifest = _export_state(Path(res.out))  # no row both exported and dropped; recipe == drop log
            seen.add(len(ids))
        ws.close()
        assert racer.poll() is None  # still dropping when the last export finished
    finally:
        racer.kill()  # mid-action is fine: the store is crash-safe
        racer.wait(timeout=60)
    assert len(seen) > 1  # the exports really did run while rows were being dropped


def test_export_into_its_own_workspace_exits_2(workspace: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str], sift_home: Path) -> None:
    db = workspace / "curation.sqlite"
    with CurationStore(db) as store:
        store.drop([1], reason="x")
    before = {p.name: p.read_bytes() for p in workspace.iterdir() if p.is_file() and "-wal" not in p.name}
    for out in (db, workspace / "dataset.parquet", workspace, workspace / "sub", sift_home / "workspaces" / "x"):
        assert main(["export", str(workspace), "--out", str(out), "--force"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "refusing to export into the Sift workspace" in err, err
    after = {p.name: p.read_bytes() for p in workspace.iterdir() if p.is_file() and "-wal" not in p.name}
    assert after == before
    with CurationStore(db) as store:
        assert store.dropped_ids() == {1} and len(store.actions()) == 1


def test_existing_targets_are_refused(workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exports" / "clean"
    assert main(["export", str(workspace), "--out", str(out)]) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(["export", str(workspace), "--out", str(out)]) == 2
    assert "already holds an export; add --force" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["export", str(workspace), "--out", str(mine), "--force"]) == 2  # not an export: never replaced
    assert "a folder Sift did not write" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()  # an empty folder is simply used
    assert main(["export", str(workspace), "--out", str(tmp_path / "empty"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replaced"] is False
    assert (tmp_path / "empty" / "manifest.json").is_file()
    (tmp_path / "file").write_text("x")
    assert main(["export", str(workspace), "--out", str(tmp_path / "file"), "--force"]) == 2
    assert (tmp_path / "file").read_text() == "x"
    capsys.readouterr()
    assert main(["export", str(workspace), "--out", str(out), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replaced"] is True


def test_export_of_an_export_never_replaces_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _records(5)))
    assert main(["export", str(src), "--out", str(tmp_path / "clean")]) == 0
    assert main(["export", str(tmp_path / "clean"), "--out", str(tmp_path / "clean"), "--force"]) == 2
    assert "source" in capsys.readouterr().err
    assert len(load(tmp_path / "clean").rows) == 5


FORMULAS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(A1)", "+1+2", "-3+4", "\tx", "\rx"]


def test_csv_formula_cells_are_neutralised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [{"prompt": f, "response": "safe", "score": -1} for f in FORMULAS]
    records.append({"prompt": "plain = text", "response": "ok @home", "score": 2})
    src = tmp_path / "f.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["export", str(src), "--out", str(tmp_path / "safe"), "--format", "csv", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["csv_formulas_neutralised"] == len(FORMULAS)
    with open(tmp_path / "safe" / "f.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["prompt"] for r in rows] == ["'" + f for f in FORMULAS] + ["plain = text"]
    assert [r["score"] for r in rows] == ["-1"] * len(FORMULAS) + ["2"]  # numbers are not formulas
    manifest = json.loads((tmp_path / "safe" / "manifest.json").read_text())
    assert manifest["output"]["csv_formulas_neutralised"] == len(FORMULAS)
    assert main(["export", str(src), "--out", str(tmp_path / "safe2"), "--format", "csv"]) == 0
    assert f"{len(FORMULAS)} CSV cells began like a spreadsheet formula" in capsys.readouterr().out

    assert main(["export", str(src), "--out", str(tmp_path / "raw"), "--format", "csv", "--csv-raw", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["csv_formulas_neutralised"] == 0
    with open(tmp_path / "raw" / "f.csv", newline="", encoding="utf-8") as fh:
        assert [r["prompt"] for r in csv.DictReader(fh)] == [*FORMULAS, "plain = text"]
    for fmt in ("jsonl", "parquet"):  # untouched
        res = export_dataset(load(src), CurationStore(tmp_path / f"{fmt}.sqlite"), tmp_path / fmt, fmt=fmt)
        assert res.csv_formulas_neutralised == 0
        assert load(res.out).rows["prompt"].tolist()[:len(FORMULAS)] == FORMULAS


def _mixed(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    sft = [{"instruction": f"Do {i}", "input": "", "output": f"Done {i}"} for i in range(6)]
    chat = [{"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"yo {i}"}]}
            for i in range(5)]
    pref = [{"prompt": f"p{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(4)]
    for name, recs in (("alpaca.jsonl", sft), ("chat.jsonl", chat), ("pref.jsonl", pref)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in recs))
    return folder


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
@pytest.mark.parametrize("as_", ["source", "messages"])
@pytest.mark.parametrize("drops", [(), (0, 7, 12)])
def test_every_export_loads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, as_: str,
                                 drops: tuple[int, ...]) -> None:
    """A mixed folder (Alpaca, messages, preference files) exports one file per source file; `sift info` loads
    the export folder and each file, and so does Hugging Face `datasets` (empty or full drop log alike)."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    datasets = pytest.importorskip("datasets")
    src = _mixed(tmp_path)
    ds = load(src)
    assert ds.info.kind == "mixed"
    with CurationStore(tmp_path / "c.sqlite") as store:
        if drops:
            store.drop(drops, reason="bad")
        res = export_dataset(ds, store, tmp_path / "out", fmt=fmt, as_=as_)
    assert [Path(f).name for f in res.files] == [f"alpaca.{fmt}", f"chat.{fmt}", f"pref.{fmt}"]
    back = load(res.out)
    assert len(back.rows) == 15 - len(drops)
    expected = {"sft": "sft", "chat": "chat", "preference": "preference"}
    if as_ == "messages":  # Alpaca becomes a conversation; a preference keeps its chosen / rejected
        expected["sft"] = "chat"
    if fmt == "csv":  # a CSV cell holds a conversation as JSON text: read back as a table column, and said so
        expected = {k: ("table" if v == "chat" else v) for k, v in expected.items()}
        assert res.warnings and "JSON text" in res.warnings[0]
    else:
        assert res.warnings == []
    assert sorted(back.rows["kind"].unique()) == sorted(set(expected.values()))
    for f, kind, n in zip(res.files, ("sft", "chat", "preference"), (6, 5, 4), strict=True):
        one = load(f)
        assert one.info.kind == expected[kind]
        hf = datasets.load_dataset({"jsonl": "json"}.get(fmt, fmt), data_files=f, split="train",
                                   cache_dir=str(tmp_path / "hf_cache"))
        assert hf.num_rows == len(one.rows) == n - sum(1 for d in drops if d in _ids_of(ds, f))
    assert main(["info", res.out]) == 0


def _ids_of(ds: Any, data_file: str) -> set[int]:
    stem = Path(data_file).stem
    return set(ds.rows.loc[ds.rows["source_file"].map(lambda s: Path(s).stem) == stem, "row_id"].tolist())


def test_a_missing_data_file_of_an_export_is_a_clear_error(tmp_path: Path) -> None:
    src = _mixed(tmp_path)
    res = export_dataset(load(src), CurationStore(tmp_path / "c.sqlite"), tmp_path / "out")
    Path(res.files[1]).unlink()
    with pytest.raises(LoadError, match="lists the data file chat.jsonl but it is missing"):
        load(res.out)


def test_snapshot_is_the_store_at_one_instant(tmp_path: Path) -> None:
    with CurationStore(tmp_path / "c.sqlite", user="u") as store:
        store.drop([1, 2, 3], reason="a")
        store.tag([2, 5], "keep")
        store.restore([3])
        snap = store.snapshot()
        assert (snap.dropped_ids(), snap.tagged_ids("keep"), snap.drop_records()) == (
            store.dropped_ids(), store.tagged_ids("keep"), store.drop_records())
        assert snap.actions() == store.actions()
        store.drop([9], reason="later")  # a later write does not reach an earlier snapshot
        assert snap.dropped_ids() == {1, 2} and len(snap.actions()) == 3
        assert store.dropped_ids() == {1, 2, 9}
