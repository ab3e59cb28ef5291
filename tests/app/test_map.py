"""AppTest on the Map and Topics pages with the real MiniLM on a small three-topic dataset:
compute → colour switch → select a whole topic → flag; neighbours; semantic search; coverage gap; and the
instant map's upgrade to the accurate one in the background (with stand-in embedders)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from topic_texts import COOKING, GARDEN, QUESTIONS, chat_row

from analysis.space.embedders import HashingEmbedder
from analysis.space.fast_embedders import ACCURATE, INSTANT, embedder_name
from analysis.workspace.store import CurationStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "three_topics.jsonl"
    path.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS), encoding="utf-8")
    return path


def _app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: Path) -> AppTest:
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SIFT_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, page: str) -> None:
    at.switch_page(page)
    at.run()
    assert not at.exception, f"{page}: {at.exception}"


def _table(at: AppTest, column: str, nth: int = 0) -> pd.DataFrame:
    """The nth st.dataframe that has `column` (display-only tables carry no key in AppTest)."""
    return [d.value for d in at.dataframe if column in d.value.columns][nth]


def _ws(tmp_path: Path) -> Path:
    (ws,) = list((tmp_path / "home" / "workspaces").glob("*/"))
    return ws


def test_map_compute_colour_select_flag_neighbours_search(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          dataset: Path) -> None:
    at = _app(monkeypatch, tmp_path, dataset)
    _go(at, "pages/map.py")
    assert any("needs embeddings" in i.value for i in at.info)
    at.button(key="map_compute").click().run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1
    assert (_ws(tmp_path) / "topics.parquet").exists()

    for colour in ("kind", "status", "response length", "topic"):
        at.radio(key="map_colour").set_value(colour).run()
        assert not at.exception, colour

    topics = pd.read_parquet(_ws(tmp_path) / "topics.parquet")
    first = int(topics["topic_id"].iloc[0])
    members = set(topics.loc[topics["topic_id"] == first, "row_id"].astype(int))
    at.multiselect(key="map_topics_pick").set_value([first]).run()
    assert any(f"{len(members):,} rows selected on the map" in m.value for m in at.markdown)
    at.text_input(key="map_bulk_reason").input("map: review this cluster").run()
    at.button(key="map_bulk_flag").click().run()
    store = CurationStore(_ws(tmp_path) / "curation.sqlite")
    assert store.flagged_ids() == members
    # the three planted topics are separated: the flagged cluster is (mostly) one subject
    subjects = [0 if r < 12 else 1 if r < 24 else 2 for r in members]
    assert max(subjects.count(s) for s in set(subjects)) >= 0.8 * len(members)

    at.number_input(key="map_row").set_value(13).run()  # "Why does Mars look red in the night sky?"
    neighbours = _table(at, "cosine")
    assert len(neighbours) == 10 and 13 not in set(neighbours["row"])
    assert sum(12 <= r < 24 for r in neighbours["row"].head(5)) >= 4  # its neighbours are astronomy questions

    at.text_input(key="map_query").input("which planet is red").run()
    hits = _table(at, "similarity")
    assert int(hits["row"].iloc[0]) == 13

    # A new session reopens the computed workspace: no compute button, the map is there at once.
    at2 = _app(monkeypatch, tmp_path, dataset)
    _go(at2, "pages/map.py")
    assert not [b for b in at2.button if b.key == "map_compute"]
    assert len(at2.get("plotly_chart")) == 1


def test_topics_page_diversity_and_coverage_gap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                dataset: Path) -> None:
    at = _app(monkeypatch, tmp_path, dataset)
    _go(at, "pages/map.py")
    at.button(key="map_compute").click().run()
    _go(at, "pages/topics.py")
    assert at.metric[0].label == "Topics" and int(at.metric[0].value) >= 3
    reference = tmp_path / "prod_prompts.csv"
    pd.DataFrame({"prompt": GARDEN + COOKING[:3], "response": ["" for _ in GARDEN + COOKING[:3]]}).to_csv(
        reference, index=False)
    at.text_input(key="topics_ref_path").input(str(reference)).run()
    at.button(key="topics_cov_go").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    under = _table(at, "ref_share")
    assert len(under) >= 1
    top = under.iloc[0]
    assert top["train_rows"] == 0 or top["train_share"] < 0.05
    assert top["ref_rows"] >= 5
    farthest = _table(at, "nearest_train_row_id")
    assert all(any(q in text for q in GARDEN) for text in farthest["text"].head(5))


def test_reference_is_drawn_on_the_map_after_a_coverage_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            dataset: Path) -> None:
    at = _app(monkeypatch, tmp_path, dataset)
    _go(at, "pages/map.py")
    at.button(key="map_compute").click().run()
    _go(at, "pages/topics.py")
    reference = tmp_path / "prod.jsonl"
    reference.write_text("".join(json.dumps({"text": q}) + "\n" for q in GARDEN), encoding="utf-8")
    at.text_input(key="topics_ref_path").input(str(reference)).run()
    at.button(key="topics_cov_go").click().run()
    assert not at.error, [e.value for e in at.error]
    _go(at, "pages/map.py")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    ref_traces = [t for t in spec["data"] if t.get("name") == "reference"]
    assert len(ref_traces) == 1 and len(ref_traces[0]["text"]) == len(GARDEN)
    at.checkbox(key="map_show_ref").uncheck().run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not [t for t in spec["data"] if t.get("name") == "reference"]


# ---------------------------------------------------------------- the accurate upgrade runs in the background


class _Gated:
    """A stand-in accurate embedder: hashing vectors under the onnx cache name, held at a gate so the test sees the
    job running, or raising to show how a failure is reported."""

    def __init__(self, gate: threading.Event, error: str | None = None) -> None:
        self.inner = HashingEmbedder(dim=128, name=embedder_name(ACCURATE))
        self.name, self.dim, self.gate, self.error, self.calls = self.inner.name, 128, gate, error, 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        assert self.gate.wait(60)
        self.calls += 1
        if self.error:
            raise ValueError(self.error)
        return self.inner(texts)


@pytest.fixture
def fake_embedders(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """Instant and accurate embedders without the model (no distillation, no ONNX export): the app loads both
    through space.fast_embedders.load_embedder_by_kind. The process-wide model cache is cleared around the test so
    the stand-ins never leak into another test."""
    import analysis.space.fast_embedders as fast_embed
    from components import state

    made: dict[str, object] = {"gate": threading.Event(), "error": None}

    def load(kind: str = "minilm", model_path: str | None = None) -> object:
        if kind == INSTANT:
            return HashingEmbedder(dim=256, name=embedder_name(INSTANT, model_path))
        assert kind == ACCURATE, kind
        made["accurate"] = _Gated(made["gate"], made["error"])  # type: ignore[arg-type]
        return made["accurate"]

    monkeypatch.setattr(fast_embed, "load_embedder_by_kind", load)
    monkeypatch.setattr(fast_embed, "model_ready", lambda kind, model_path=None: True)  # nothing to build
    state._embedder.clear()
    yield made
    made["gate"].set()  # type: ignore[attr-defined]
    state._embedder.clear()


def _instant_map(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: Path) -> AppTest:
    at = _app(monkeypatch, tmp_path, data)
    _go(at, "pages/map.py")
    at.selectbox(key="map_embedder").set_value(INSTANT).run()
    at.button(key="map_compute").click().run()
    assert not at.exception, at.exception
    assert any(f"model {embedder_name(INSTANT)}" in c.value for c in at.caption)
    return at


def _poll(at: AppTest, done: Callable[[AppTest], bool], seconds: float = 60) -> None:
    """Rerun the page until `done` (AppTest does not run fragments' timers: each run is a full rerun)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
        at.run()
        assert not at.exception, at.exception
        if done(at):
            return
    raise AssertionError("the background upgrade did not finish in time")


def test_accurate_upgrade_runs_in_the_background_then_switches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                              dataset: Path, fake_embedders: dict) -> None:
    at = _instant_map(monkeypatch, tmp_path, dataset)
    at.button(key="map_upgrade").click().run()
    assert not at.exception, at.exception
    # running: the progress is shown and the instant map stays usable
    (bar,) = [p for p in at.get("progress") if "in the background" in p.text]
    assert f"Upgrading to {ACCURATE}" in bar.text
    assert not [b for b in at.button if b.key == "map_upgrade"]  # no second start
    at.radio(key="map_colour").set_value("kind").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert any(f"model {embedder_name(INSTANT)}" in c.value for c in at.caption)

    fake_embedders["gate"].set()
    _poll(at, lambda a: any(b.key == "map_upgrade_switch" for b in a.button))
    assert any(f"accurate ({ACCURATE}) map is ready" in s.value for s in at.success)
    assert fake_embedders["accurate"].calls >= 1
    ws = _ws(tmp_path)
    assert {p.name for p in (ws / "embeddings").glob("*.npy")} == {f"{embedder_name(INSTANT)}@both.npy",
                                                                   f"{embedder_name(ACCURATE)}@both.npy"}
    at.button(key="map_upgrade_switch").click().run()
    assert not at.exception, at.exception
    assert any(f"model {embedder_name(ACCURATE)}" in c.value for c in at.caption)
    assert at.selectbox(key="map_embedder").value == ACCURATE
    assert json.loads((ws / "topics.json").read_text())["model"] == embedder_name(ACCURATE)
    assert not [b for b in at.button if b.key in ("map_upgrade", "map_upgrade_switch")]


def test_a_failed_upgrade_is_an_error_message_and_can_be_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                  dataset: Path, fake_embedders: dict) -> None:
    fake_embedders["error"] = "the onnx export is missing"
    fake_embedders["gate"].set()
    at = _instant_map(monkeypatch, tmp_path, dataset)
    at.button(key="map_upgrade").click().run()
    _poll(at, lambda a: bool(a.error))
    assert [e.value for e in at.error] == [f"The upgrade to {ACCURATE} failed: ValueError: the onnx export is missing"]
    assert not at.exception  # a message, not a traceback
    assert len(at.get("plotly_chart")) == 1 and any(f"model {embedder_name(INSTANT)}" in c.value for c in at.caption)
    assert [b for b in at.button if b.key == "map_upgrade"]  # offered again
