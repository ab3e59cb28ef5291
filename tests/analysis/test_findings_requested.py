"""Findings show the result of the parameters last asked for, not the newest file (issue 13, point 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.checks import latest_results, run_checks
from analysis.cli import main

ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    {"instruction": "What is the capital city of France and why is it famous", "output": "Paris."},
    {"instruction": "Name three primary colours used in traditional painting classes", "output": "Red."},
    {"instruction": "Tell me a joke", "output": "No."},
]
BENCH_A = [{"question": "What is the capital city of France and why is it famous"}]
BENCH_B = [{"question": "Name three primary colours used in traditional painting classes"},
           {"question": "Something nobody ever asks about a purple elephant at noon"}]


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return (_jsonl(tmp_path / "train.jsonl", ROWS), _jsonl(tmp_path / "bench_a.jsonl", BENCH_A),
            _jsonl(tmp_path / "bench_b.jsonl", BENCH_B))


def _benchmarks(info: dict) -> list[str]:
    return [Path(b).name for b in info["params"]["benchmarks"]]


def test_library_a_b_a_reports_a(tmp_path: Path) -> None:
    from analysis.io import load

    train, a, b = _files(tmp_path)
    rows = load(train).rows
    ws = tmp_path / "ws"
    ws.mkdir()
    seen = []
    for bench in (a, b, a):
        out = run_checks(rows, ["contamination"], ws_dir=ws, params={"contamination": {"benchmarks": [str(bench)]}})
        seen.append(out["contamination"].rows_flagged)
        latest = latest_results(ws)["contamination"]
        assert _benchmarks(latest) == [bench.name]
    assert seen == [1, 1, 1]
    # the third run was a cache hit: B's file is still the newest, yet A is what was last asked for
    files = sorted((ws / "results").glob("contamination@*.json"), key=lambda p: p.stat().st_mtime)
    assert "bench_b" in json.loads(files[-1].read_text())["params"]["benchmarks"][0]
    assert latest_results(ws)["contamination"]["summary"]["benchmarks"][0]["name"] == "bench_a.jsonl"


def test_latest_results_falls_back_to_newest_without_a_record(tmp_path: Path) -> None:
    """A workspace written before the record existed still shows its newest result."""
    rows = pd.DataFrame({"row_id": np.arange(2), "prompt": ["a", "b"], "response": ["x", "y"],
                         "messages": [[], []], "source": ["{}", "{}"]})
    run_checks(rows, ["length"], ws_dir=tmp_path)
    for f in (tmp_path / "results" / "requested").glob("*.json"):
        f.unlink()
    assert "length" in latest_results(tmp_path)


def test_cli_a_b_a_reports_a(tmp_path: Path, capsys) -> None:  # noqa: ANN001 - pytest fixture
    train, a, b = _files(tmp_path)
    ws = tmp_path / "ws"
    for bench in (a, b, a):
        assert main(["analyze", str(train), "--workspace", str(ws), "--checks", "contamination",
                     "--benchmark", str(bench), "--json"]) == 0
        capsys.readouterr()
    assert main(["findings", str(ws), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (check,) = [c for c in doc["checks"] if c["name"] == "contamination"]
    assert [Path(p).name for p in check["params"]["benchmarks"]] == ["bench_a.jsonl"]
    assert check["rows_flagged"] == 1 and list(check["reasons"]) == ["benchmark_overlap:bench_a.jsonl"]


def test_cli_subprocess_a_b_a_reports_a(tmp_path: Path) -> None:
    train, a, b = _files(tmp_path)
    ws = tmp_path / "ws"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for bench in (a, b, a):
        run = subprocess.run([sys.executable, "-m", "analysis", "analyze", str(train), "--workspace", str(ws),
                              "--checks", "contamination", "--benchmark", str(bench), "--json"],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
        assert (run.returncode, run.stderr) == (0, ""), run.stderr
    run = subprocess.run([sys.executable, "-m", "analysis", "findings", str(ws), "--json"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    (check,) = [c for c in json.loads(run.stdout)["checks"] if c["name"] == "contamination"]
    assert list(check["reasons"]) == ["benchmark_overlap:bench_a.jsonl"]
