"""The `sift` CLI contract (ARCHITECTURE.md §10): exit 0 / 2, one stderr line, `--json` is one document."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED

from analysis.cli import main
from analysis.workspace.folder import Workspace

ROOT = Path(__file__).resolve().parents[2]
ALPACA = [{"instruction": f"Task {i}", "input": "", "output": f"Answer {i}"} for i in range(5)]


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_json(out: str) -> dict:
    """stdout holds exactly one JSON document and nothing else."""
    assert out.endswith("\n") and out.count("\n") == 1
    return json.loads(out)


def _one_error_line(err: str, prefix: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith(prefix)
    return err.rstrip("\n")


def test_info_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    code, out, err = _run(capsys, "info", str(path), "--json")
    assert (code, err) == (0, "")
    doc = _one_json(out)
    assert {"path", "format", "kind", "rows", "fields", "skipped_lines"} <= set(doc)
    assert (doc["path"], doc["format"], doc["kind"], doc["rows"]) == (str(path), "jsonl", "sft", 5)
    assert doc["fields"] == ["input", "instruction", "output"]
    assert doc["skipped_lines"] == []
    assert doc["kinds"] == {"sft": 5}


def test_info_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    code, out, _ = _run(capsys, "info", str(path))
    assert code == 0
    assert out.splitlines()[0] == f"{path}: 5 rows, format jsonl, kind sft"
    assert "fields: input (5), instruction (5), output (5)" in out


def test_info_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ALPACA[0]) + "\n[1, 2]\n")
    code, out, err = _run(capsys, "info", str(path), "--json")
    assert (code, out) == (2, "")
    assert _one_error_line(err, "sift info: error: ") == (
        f"sift info: error: {path}, line 2: expected a JSON object per line, found an array"
        " (to leave such records out and load the rest: `--skip-bad-lines` in the CLI, \"Skip bad lines\" on the"
        " app's Data page)")
    code, out, err = _run(capsys, "info", str(tmp_path / "missing.jsonl"))
    assert (code, out) == (2, "")
    _one_error_line(err, "sift info: error: ")
    code, _, err = _run(capsys, "info", str(path), "--map", "prompt")
    assert code == 2
    assert _one_error_line(err, "sift info: error: ") == "sift info: error: bad mapping 'prompt': expected role=column"


def test_info_skip_bad_lines_lists_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ALPACA[0]) + "\n[1, 2]\n" + json.dumps(ALPACA[1]) + '\n{"instruction": "x"\n')
    code, out, _ = _run(capsys, "info", str(path), "--skip-bad-lines", "--json")
    assert code == 0
    doc = _one_json(out)
    assert doc["rows"] == 2
    assert doc["skipped_lines"] == [
        {"file": str(path), "line": 2, "error": "expected a JSON object per line, found an array"},
        {"file": str(path), "line": 4, "error": "the line ends in the middle of a JSON record (truncated?)"}]
    code, out, _ = _run(capsys, "info", str(path), "--skip-bad-lines")
    assert code == 0
    assert "skipped 2 bad records:" in out
    assert f"{path} line 4: the line ends in the middle of a JSON record (truncated?)" in out


def test_info_map_kind_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Question,Best Answer,Grade\nWhy?,Because.,3\n")
    code, out, _ = _run(capsys, "info", str(path), "--json")
    assert _one_json(out)["kind"] == "table"
    code, out, _ = _run(capsys, "info", str(path), "--json", "--map", "prompt=Question,response=Best Answer")
    assert (code, _one_json(out)["kind"]) == (0, "sft")
    code, out, _ = _run(capsys, "info", str(path), "--json", "--map", "prompt=Question,response=Best Answer",
                        "--kind", "scored")
    assert _one_json(out)["kind"] == "scored"
    code, out, _ = _run(capsys, "info", str(path), "--json", "--header", "no")
    assert _one_json(out)["fields"] == ["col_0", "col_1", "col_2"]
    code, _, err = _run(capsys, "info", str(path), "--map", "prompt=Nope")
    assert code == 2
    assert _one_error_line(err, "sift info: error: ") == (
        f"sift info: error: {path}: the mapping prompt=Nope names no column of this file "
        "(columns: Question, Best Answer, Grade)")


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared datasets not found")
def test_info_on_shared_truthfulqa_with_map(capsys: pytest.CaptureFixture[str]) -> None:
    path = SHARED / "truthfulqa" / "TruthfulQA.csv"
    code, out, _ = _run(capsys, "info", str(path), "--json", "--map", "prompt=Question,response=Best Answer")
    doc = _one_json(out)
    assert (code, doc["format"], doc["kind"], doc["rows"]) == (0, "csv", "sft", 817)


def test_export_data_path(tmp_path: Path, capsys: pytest.CaptureFixture[str], sift_home: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    out = tmp_path / "out" / "clean"
    code, stdout, err = _run(capsys, "export", str(path), "--out", str(out), "--json")
    assert (code, err) == (0, "")
    doc = _one_json(stdout)
    assert {"out", "files", "rows_written", "rows_dropped", "csv_formulas_neutralised", "replaced"} <= set(doc)
    assert (doc["out"], doc["rows_written"], doc["rows_dropped"]) == (str(out), 5, 0)
    assert doc["files"] == [str(out / "a.jsonl")]
    assert Path(doc["workspace"]).parent == sift_home / "workspaces"
    assert (out / "a.jsonl").read_text().splitlines() == [json.dumps(r) for r in ALPACA]
    assert {p.name for p in out.iterdir()} == {"a.jsonl", "manifest.json", "dropped.jsonl", "recipe.json"}
    assert [p.name for p in out.parent.iterdir()] == ["clean"]  # nothing beside the export folder


def test_export_workspace_dir_with_drops_and_tags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    ws = Workspace.open(path, workspace=tmp_path / "ws")
    ws.store.drop([1], reason="dup")
    ws.store.tag([0, 2, 3], "good")
    ws.store.tag([3], "check")
    ws.close()
    out = tmp_path / "out" / "a.jsonl"
    code, stdout, _ = _run(capsys, "export", str(tmp_path / "ws"), "--out", str(out.parent), "--as", "messages",
                           "--only-tag", "good", "--except-tag", "check", "--json")
    doc = _one_json(stdout)
    assert (code, doc["rows_written"], doc["rows_dropped"], doc["rows_excluded"]) == (0, 2, 1, 2)
    assert [json.loads(line)["row_id"] for line in out.read_text().splitlines()] == [0, 2]
    code, stdout, _ = _run(capsys, "export", str(tmp_path / "ws"), "--out", str(tmp_path / "o2"),
                           "--format", "parquet")
    assert code == 0
    assert stdout.splitlines() == [f"wrote 4 rows to {tmp_path / 'o2'} (1 dropped)",
                                   "  data: a.parquet; also manifest.json, dropped.jsonl, recipe.json"]
    assert (tmp_path / "o2" / "a.parquet").read_bytes()[:4] == b"PAR1"


def test_export_data_path_with_explicit_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    ws_dir = tmp_path / "ws"
    code, stdout, _ = _run(capsys, "export", str(path), "--workspace", str(ws_dir), "--out",
                           str(tmp_path / "o"), "--format", "csv", "--json")
    assert (code, _one_json(stdout)["workspace"]) == (0, str(ws_dir))
    other = _jsonl(tmp_path / "b.jsonl", ALPACA[:2])
    code, stdout, err = _run(capsys, "export", str(other), "--workspace", str(ws_dir), "--out",
                             str(tmp_path / "o2"))
    assert (code, stdout) == (2, "")
    assert _one_error_line(err, "sift export: error: ") == (
        f"sift export: error: {other}: the workspace {ws_dir} belongs to another dataset ({path}); "
        "choose a new --workspace directory")


def test_export_refuses_source_and_bad_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    before = path.read_bytes()
    code, out, err = _run(capsys, "export", str(path), "--out", str(path))
    assert (code, out) == (2, "")
    assert _one_error_line(err, "sift export: error: ") == (
        f"sift export: error: {path}: refusing to overwrite a source file of this dataset; choose another --out")
    assert path.read_bytes() == before
    code, _, err = _run(capsys, "export", str(path), "--out", str(tmp_path))
    assert code == 2
    _one_error_line(err, "sift export: error: ")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(capsys, "export", str(path), "--out", str(blocker / "sub" / "o"))
    assert code == 2
    assert _one_error_line(err, "sift export: error: ") == f"sift export: error: {blocker / 'sub'}: Not a directory"


@pytest.mark.parametrize("argv", [["--help"], ["info", "--help"], ["export", "--help"]])
def test_help_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: sift" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["info"], ["export", "x.jsonl"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def _sift_cmd() -> list[str]:
    exe = shutil.which("sift") or str(Path(sys.executable).parent / "sift")
    return [exe] if Path(exe).exists() else [sys.executable, "-m", "analysis"]


def test_real_subprocess(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([*_sift_cmd(), "info", str(path), "--json"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    assert (run.returncode, run.stderr) == (0, "")
    assert json.loads(run.stdout)["rows"] == 5 and run.stdout.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    run = subprocess.run([sys.executable, "-m", "analysis", "info", str(bad)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=60, check=False)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (f"sift info: error: {bad}: this looks like a binary file (NUL bytes in the first 8 KB), "
                          "not JSON text\n")
    out = tmp_path / "o" / "c"
    run = subprocess.run([*_sift_cmd(), "export", str(path), "--out", str(out), "--json"], capture_output=True,
                         text=True, env=env, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["rows_written"] == 5
    assert (out / "a.jsonl").read_text() == path.read_text()


def test_info_on_a_workspace_describes_its_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    ws = Workspace.open(path, workspace=tmp_path / "ws")
    code, out, _ = _run(capsys, "info", str(ws.dir), "--json")
    doc = _one_json(out)
    assert (code, doc["kind"], doc["rows"], doc["format"]) == (0, "sft", 5, "jsonl")
    assert doc["fingerprint"] == ws.fingerprint


def test_analyze_checks_then_findings_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The §10 path: `sift analyze PATH --workspace DIR --checks ...` then `sift findings DIR --json`."""
    from analysis.checks import REGISTRY

    if not REGISTRY:
        pytest.skip("no checks registered")
    sample = str(Path(__file__).resolve().parents[2] / "sample_data" / "*.jsonl")
    ws = tmp_path / "ws"
    code, out, err = _run(capsys, "analyze", sample, "--workspace", str(ws), "--checks", "all", "--json")
    assert code == 0, err
    doc = _one_json(out)
    assert doc["workspace"] == str(ws) and doc["rows"] == 1050
    skipped = doc.get("skipped_checks", {})
    assert all("embeddings" in why or "--benchmark" in why for why in skipped.values())  # inputs, not bugs
    ran = set(REGISTRY) - set(skipped)
    assert {s["name"] for s in doc["steps"]} >= {"load"} | {f"check:{n}" for n in ran}
    code, out, _ = _run(capsys, "findings", str(ws), "--json")
    assert code == 0
    found = {c["name"]: c for c in _one_json(out)["checks"]}
    assert set(found) == ran
    for c in found.values():
        assert {"name", "rows_flagged", "groups", "rows_removable", "params", "reasons"} <= set(c)
        assert sum(c["reasons"].values()) == c["rows_flagged"]
    code, _, err = _run(capsys, "analyze", sample, "--workspace", str(ws), "--checks", "nope")
    assert code == 2 and "unknown check(s) nope" in err
    code, _, err = _run(capsys, "findings", str(tmp_path / "empty_ws_path.jsonl"))
    assert code == 2


def test_findings_without_results_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "a.jsonl", ALPACA)
    ws = Workspace.open(path, workspace=tmp_path / "ws")
    code, _, err = _run(capsys, "findings", str(ws.dir))
    assert code == 2 and "no findings" in _one_error_line(err, "sift findings: error:")


# ---------------------------------------------------------------- progress on stderr (issue 6)

CHAT = [{"messages": [{"role": "user", "content": f"Question {i}?"},
                      {"role": "assistant", "content": "I'm sorry, but I can't help with that." if i % 7 == 0
                       else f"Here is a full answer number {i} with enough words to count."}]} for i in range(300)]


def test_analyze_progress_forced_shows_rows_rate_and_time(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """--progress on a non-terminal: per step, rows done with rows/s and ETA while it runs, then rows, total time
    and rate; stdout still holds exactly one JSON document."""
    from analysis.cli import StderrProgress

    monkeypatch.setattr(StderrProgress, "PLAIN_INTERVAL", 0.0)  # every update, not one line per 5 s
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    code, out, err = _run(capsys, "analyze", str(path), "--workspace", str(tmp_path / "ws"),
                          "--checks", "refusal,length", "--progress", "--json")
    assert code == 0, err
    assert _one_json(out)["rows"] == 300
    lines = err.splitlines()
    assert "\r" not in err and "\033" not in err  # not a terminal: plain lines
    rate = r"\([\d,]+ rows/s\)"
    for step in ("load chat.jsonl", "normalise chat.jsonl", "check refusal", "check length"):
        assert any(re.fullmatch(rf"{step}: 300 rows in \d+\.\ds {rate}", ln) for ln in lines), (step, err)
    running = [ln for ln in lines if ln.startswith("check refusal: ") and " · " in ln]
    assert running and all(re.fullmatch(r"check refusal: [\d,]+/300 rows · [\d,]+ rows/s( · ETA \d+\.\ds)?", ln)
                           for ln in running), running
    assert any("ETA" in ln for ln in running)
    assert [ln.split(":")[0] for ln in lines if " in " in ln].index("check refusal") < \
        [ln.split(":")[0] for ln in lines if " in " in ln].index("check length")  # steps in order, one line each
    code, out, err = _run(capsys, "analyze", str(path), "--workspace", str(tmp_path / "ws"), "--checks", "refusal",
                          "--progress")
    assert code == 0 and "check refusal (cached)" in err.splitlines()  # a cached step: one line, no timing
    code, out, err = _run(capsys, "analyze", str(path), "--workspace", str(tmp_path / "ws"), "--checks", "refusal",
                          "--json")
    assert code == 0 and err == "" and _one_json(out)  # by default nothing on a non-terminal


def test_progress_off_with_no_progress_and_errors_stay_one_line(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    code, out, err = _run(capsys, "info", str(path), "--no-progress")
    assert code == 0 and err == "" and "300 rows" in out
    code, out, err = _run(capsys, "info", str(path), "--progress", "--json")
    assert code == 0 and _one_json(out)["rows"] == 300 and "load chat.jsonl: 300 rows in" in err
    code, _, err = _run(capsys, "info", str(tmp_path / "missing.jsonl"), "--progress")
    assert code == 2 and _one_error_line(err, "sift info: error:")
    with pytest.raises(SystemExit) as exc:  # mutually exclusive: a usage error
        main(["info", str(path), "--progress", "--no-progress"])
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_stderr_progress_steps_rate_eta_and_terminal_line(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis import cli
    from analysis.util.progress import report

    clock = iter(float(t) for t in range(100))
    monkeypatch.setattr(cli.time, "monotonic", lambda: next(clock))
    p = cli.StderrProgress(True, tty=False, interval=0)
    p("embed both: 100 of 1,000 rows", 0.0, 0, 1000, step="embed both")  # t=0
    p("embed both", 0.25, 250, 1000, step="embed both")  # t=1: 250 rows/s, 3 s to go
    report(p, "plain text ignored", 0.5, step="embed both", done=500, total=1000)  # t=2
    p("map m@both: UMAP of 1,000 rows", 0.0)  # t=3: a new step (the text before ':'); embed ends at 500 rows
    p("map m@both: done", 1.0)  # t=4
    p("map m@both: late word", 1.0)  # ignored: that step has finished
    p.close()
    assert capsys.readouterr().err.splitlines() == [
        "embed both: 250/1,000 rows · 250 rows/s · ETA 3.0s",
        "embed both: 500/1,000 rows · 250 rows/s · ETA 2.0s",
        "embed both: 500/1,000 rows in 3.0s (167 rows/s)",
        "map m@both: done · 1.0s",
    ]
    t = cli.StderrProgress(True, tty=True, interval=0)
    t("check x", 0.5, 5, 10, step="check x")
    t("check x", 1.0, 10, 10, step="check x")
    t.close()
    err = capsys.readouterr().err
    assert err.startswith("\rcheck x: 5/10 rows") and err.endswith("\033[K\n") and err.count("\n") == 1
    off = cli.StderrProgress(False)
    off("anything", 0.5, 1, 2, step="x")
    off.close()
    assert capsys.readouterr().err == ""
