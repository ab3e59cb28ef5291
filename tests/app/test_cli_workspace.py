"""One workspace, two front ends: the app opens what `sift analyze` built, and the CLI reads what the app built,
with no recomputation (no model load, no check re-run, cached files untouched)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from topic_texts import QUESTIONS, chat_row

import analysis.space.embedders
from analysis.cli import main

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _no_model(*_args, **_kwargs):  # noqa: ANN202
    raise AssertionError("the embedding model was loaded: something was recomputed")


def _mtimes(ws: Path) -> dict[str, float]:
    return {str(p.relative_to(ws)): p.stat().st_mtime_ns for p in ws.rglob("*")
            if p.is_file() and p.suffix in (".parquet", ".npy", ".json") and "results" in p.parts
            or p.is_file() and p.suffix in (".npy", ".parquet") and p.parent.name in ("embeddings", ws.name)}


def _app(monkeypatch: pytest.MonkeyPatch, home: Path, data: Path) -> AppTest:
    monkeypatch.setenv("SIFT_HOME", str(home))
    monkeypatch.setenv("SIFT_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "three_topics.jsonl"
    path.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS), encoding="utf-8")
    return path


def test_app_opens_what_the_cli_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("SIFT_HOME", str(home))
    assert main(["analyze", str(data), "--embed", "--checks", "all", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ws = Path(doc["workspace"])
    before = _mtimes(ws)
    assert any(k.startswith("embeddings") for k in before) and any(k.startswith("results") for k in before)

    monkeypatch.setattr(analysis.space.embedders, "load_embedder", _no_model)
    at = _app(monkeypatch, home, data)
    at.switch_page("pages/map.py")
    at.run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "map_compute"] and len(at.get("plotly_chart")) == 1
    at.switch_page("pages/topics.py")
    at.run()
    assert not at.exception, at.exception
    assert int(at.metric[0].value) == len(json.loads((ws / "topics.json").read_text())["topics"])
    at.switch_page("pages/findings.py")
    at.run()
    assert not at.exception, at.exception
    summary = next(d.value for d in at.dataframe if "rows flagged" in d.value.columns).set_index("check")
    assert set(summary.index) == set(doc["checks"])
    assert _mtimes(ws) == before  # nothing was written again


def test_cli_reads_what_the_app_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    at = _app(monkeypatch, home, data)
    at.switch_page("pages/map.py")
    at.run()
    at.button(key="map_compute").click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/findings.py")
    at.run()
    at.multiselect(key="findings_checks").set_value(["exact_duplicate", "placeholder", "length"]).run()
    at.button(key="findings_run").click().run()
    assert not at.exception, at.exception
    (ws,) = list((home / "workspaces").glob("*/"))
    before = _mtimes(ws)

    monkeypatch.setattr(analysis.space.embedders, "load_embedder", _no_model)
    assert main(["findings", str(ws), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {c["name"] for c in found["checks"]} == {"exact_duplicate", "placeholder", "length"}
    assert main(["topics", str(data), "--json"]) == 0  # by data path: the same workspace is found
    topics = json.loads(capsys.readouterr().out)
    assert Path(topics["workspace"]) == ws and sum(t["size"] for t in topics["topics"]) == len(QUESTIONS)
    assert main(["analyze", str(data), "--embed", "--json"]) == 0  # cached: no model call (it would raise)
    capsys.readouterr()
    assert _mtimes(ws) == before
