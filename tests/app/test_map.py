"""AppTest on the Map and Topics pages with the real MiniLM on a small three-topic dataset:
compute → colour switch → select a whole topic → flag; neighbours; semantic search; coverage gap."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from topic_texts import COOKING, GARDEN, QUESTIONS, chat_row

from analysis.curation import CurationStore

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
