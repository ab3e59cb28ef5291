"""AppTest on the Map page's time promises (issue 13, "honest time"): before any measurement it says "first run:
measuring", after one its estimate is the measured rate scaled to these rows; a model the install step did not build
is built in the background with its elapsed time shown, never inside the Compute click."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from topic_texts import QUESTIONS, chat_row

from analysis.space import timings
from analysis.space.fast_embedders import DEFAULT, embedder_name

ROOT = Path(__file__).resolve().parents[2]


def _app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    data = tmp_path / "three_topics.jsonl"
    data.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS), encoding="utf-8")
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SIFT_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/map.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _needs(at: AppTest) -> str:
    (info,) = [i.value for i in at.info if "needs embeddings" in i.value]
    return info


def test_estimate_is_measuring_then_scaled_from_the_recorded_run(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    import analysis.space.fast_embedders as fe

    monkeypatch.setattr(fe, "model_ready", lambda kind, model_path=None: True)  # no build needed for this test
    at = _app(monkeypatch, tmp_path)
    assert at.selectbox(key="map_embedder").value == DEFAULT
    text = _needs(at)
    assert "first run: measuring" in text and "about" not in text

    # a run measured on this machine (as embed_rows and run_analysis record them): 10 units/s for every step
    model = embedder_name(DEFAULT)
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    timings.record(model, [timings.StepWork(s, 1.0, 10.0) for s in ("embed", "knn_index", "projection", "topics")])
    at.run()
    from analysis.io import load
    from analysis.space.pipeline import map_work

    rows = load(str(tmp_path / "three_topics.jsonl")).rows
    work = map_work(rows, "both", model)
    want = sum(work.values()) / 10.0
    text = _needs(at)
    assert f"about {timings.format_seconds(want)} (scaled to these rows" in text, text
    assert "first run: measuring" not in text


def test_a_missing_model_is_built_in_the_background_with_visible_progress(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    import analysis.space.fast_embedders as fe

    gate, built = threading.Event(), threading.Event()
    calls: list[str] = []

    def prepare(kind: str, model_path: object = None, *, root: Path | None = None) -> None:
        calls.append(kind)
        gate.wait(60)
        built.set()

    monkeypatch.setattr(fe, "model_ready", lambda kind, model_path=None: built.is_set())
    monkeypatch.setattr(fe, "prepare_model", prepare)
    at = _app(monkeypatch, tmp_path)
    (bar,) = [p for p in at.get("progress") if "Building the" in p.text]
    assert f"Building the {DEFAULT} embedder's model once for this machine" in bar.text and "so far" in bar.text
    assert not [b for b in at.button if b.key == "map_compute"]  # no compute until the model exists
    at.run()
    assert calls == [DEFAULT]  # started once, not on every rerun
    gate.set()
    deadline = time.monotonic() + 60
    while not [b for b in at.button if b.key == "map_compute"]:
        assert time.monotonic() < deadline, "the build did not finish"
        time.sleep(0.2)
        at.run()
        assert not at.exception, at.exception
    assert "needs embeddings" in _needs(at)
