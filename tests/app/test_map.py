"""AppTest on the Map and Topics pages with the real MiniLM on a small three-topic dataset:
compute → colour switch → select a whole topic → flag; neighbours; semantic search; coverage gap."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.curation import CurationStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

COOKING = ["How long should I simmer a tomato sauce for pasta?", "What temperature do I roast a whole chicken at?",
           "How do I keep pancakes fluffy?", "Can I freeze homemade bread dough?",
           "What is the best oil for deep frying potatoes?", "How do I caramelise onions without burning them?",
           "How much salt goes into pasta water?", "Why did my cake sink in the middle of the oven?",
           "How do I make a stock from leftover chicken bones?", "What spices go into a simple curry?",
           "How do I know when a steak is medium rare?", "How do I stop rice from sticking to the pot?"]
SPACE = ["How far is the Moon from the Earth?", "Why does Mars look red in the night sky?",
         "What is a black hole made of?", "How many moons does Jupiter have?", "What causes a solar eclipse?",
         "How hot is the surface of the Sun?", "What is a light year in kilometres?",
         "Why does Saturn have rings?", "How do astronomers find planets around other stars?",
         "What is the Milky Way galaxy?", "Why is Venus the hottest planet?", "What is a comet's tail made of?"]
PYTHON = ["How do I read a CSV file with pandas?", "What is a list comprehension in Python?",
          "How do I handle a KeyError in a Python dict?", "How do I install a package with pip?",
          "What does the Python `with` statement do?", "How do I sort a list of dictionaries by a key in Python?",
          "How do I write a unit test with pytest?", "What is the difference between a tuple and a list in Python?",
          "How do I format a float to two decimals in Python?", "How do I reverse a string in Python?",
          "What is a virtual environment in Python?", "How do I parse JSON in Python?"]
GARDEN = ["How often should I water tomato plants?", "When do I prune rose bushes?", "How do I compost kitchen scraps?",
          "What vegetables grow well in shade?", "How do I get rid of aphids on my plants?",
          "When should I plant tulip bulbs?", "How deep do I plant potato seeds?", "How do I keep basil alive?"]


def _chat(q: str) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": f"Here is how: {q}"}]}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "three_topics.jsonl"
    path.write_text("".join(json.dumps(_chat(q)) + "\n" for q in COOKING + SPACE + PYTHON), encoding="utf-8")
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
