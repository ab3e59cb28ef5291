"""AppTest for issue 13.2 in the app: an unmapped table is mapped automatically with a notice and an override on the
Data page; the Overview of a table left unmapped says so instead of showing empty counts; the Topics page maps a
reference file's columns (automatically, or by its form) before measuring coverage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from topic_texts import COOKING, GARDEN, QUESTIONS, chat_row

from analysis.space.embedders import HashingEmbedder
from analysis.space.fast_embedders import INSTANT, embedder_name

ROOT = Path(__file__).resolve().parents[2]


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


def _session(at: AppTest):  # noqa: ANN202 - components.state.Session
    return at.session_state["sift_session"]


def test_data_page_auto_maps_a_table_and_offers_an_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            shared: Path) -> None:
    at = _app(monkeypatch, tmp_path, shared / "truthfulqa" / "TruthfulQA.csv")
    _go(at, "pages/data.py")
    assert _session(at).options.mapping == {"prompt": "Question"}
    assert any("reads column `Question` as the prompt" in i.value for i in at.info)
    assert at.selectbox(key="data_text_column").value == "Question"
    _go(at, "pages/overview.py")
    assert not at.warning and at.metric[0].value == "817"
    # override: another column
    _go(at, "pages/data.py")
    at.selectbox(key="data_text_column").set_value("Best Answer").run()
    at.button(key="data_text_apply").click().run()
    assert not at.exception, at.exception
    assert _session(at).options.mapping == {"prompt": "Best Answer"}
    assert not any("reads column" in i.value for i in at.info)  # the user's choice, not Sift's
    # override: no column at all; Sift does not map it again, and the Overview says the table is unmapped
    at.selectbox(key="data_text_column").set_value("— none (leave the table unmapped)").run()
    at.button(key="data_text_apply").click().run()
    assert _session(at).options.mapping is None
    assert any("no column is mapped" in w.value for w in at.warning)
    _go(at, "pages/overview.py")
    (warning,) = at.warning
    assert "0 of 817 rows have any text" in warning.value and "Data page (prompt=Question)" in warning.value
    assert [m.label for m in at.metric] == ["Rows"]  # no "Empty responses 817", no charts
    assert not at.get("plotly_chart")


@pytest.fixture
def instant(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The instant embedder without distilling its model (minutes on a fresh machine): hashing vectors under its
    cache name. What is tested is the mapping, not the model."""
    import analysis.space.fast_embedders as fast_embed
    from components import state

    def load(kind: str = "minilm", model_path: str | None = None) -> object:
        assert kind == INSTANT, kind
        return HashingEmbedder(dim=256, name=embedder_name(INSTANT, model_path))

    monkeypatch.setattr(fast_embed, "load_embedder_by_kind", load)
    state._embedder.clear()
    yield
    state._embedder.clear()


@pytest.mark.slow
def test_topics_reference_mapping_form(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, instant: None,
                                       shared: Path) -> None:
    data = tmp_path / "three_topics.jsonl"
    data.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS), encoding="utf-8")
    at = _app(monkeypatch, tmp_path, data)
    _go(at, "pages/map.py")
    at.selectbox(key="map_embedder").set_value(INSTANT).run()
    at.button(key="map_compute").click().run()
    assert not at.exception, at.exception
    _go(at, "pages/topics.py")
    # a reference with no known schema and no column that clearly holds its text: the form maps it
    ref = tmp_path / "prod.jsonl"
    ref.write_text("".join(json.dumps({"qid": i, "asked": q, "asked_again": q.upper()}) + "\n"
                           for i, q in enumerate(GARDEN + COOKING[:3])), encoding="utf-8")
    at.text_input(key="topics_ref_path").input(str(ref)).run()
    assert any("no column that clearly holds its text" in w.value for w in at.warning)
    at.button(key="topics_cov_go").click().run()
    assert any("rows have any text" in e.value and "Reference columns" in e.value for e in at.error)
    assert "topics_coverage" not in at.session_state  # no result from empty text
    at.selectbox(key="topics_ref_map_prompt").set_value("asked")
    at.button(key="FormSubmitter:topics_ref_map-Apply reference mapping").click().run()
    assert not at.exception, at.exception
    assert any("prompt = `asked`" in c.value for c in at.caption)
    at.button(key="topics_cov_go").click().run()
    assert not at.error, [e.value for e in at.error]
    report = at.session_state["topics_coverage"]["report"]
    assert len(report.per_topic) > 1 and all(len(k) for k in report.per_topic["keywords"])
    assert report.farthest["similarity"].nunique() > 3
    # MT-Bench: its `turns` are read (detected, or mapped automatically with a notice), never empty strings
    at.text_input(key="topics_ref_path").input(str(shared / "fastchat" / "mt_bench" / "question.jsonl")).run()
    at.button(key="topics_cov_go").click().run()
    assert not at.error, [e.value for e in at.error]
    cov = at.session_state["topics_coverage"]
    assert cov["path"].endswith("question.jsonl")
    if cov["mapping"]:
        assert cov["mapping"] == {"prompt": "turns"} and "turns" in cov["notice"]
    assert cov["report"].farthest["similarity"].nunique() > 10


def test_findings_embedding_checks_use_the_maps_embedder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          instant: None) -> None:
    """Issue 13.7 in the app: with the instant embedder chosen on the Map, semantic_duplicate computes and reads the
    instant embeddings (never looks for MiniLM's) and its result names that model."""
    from analysis.checks import latest_results

    data = tmp_path / "three_topics.jsonl"
    data.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS + QUESTIONS[:3]), encoding="utf-8")
    at = _app(monkeypatch, tmp_path, data)
    _go(at, "pages/map.py")
    at.selectbox(key="map_embedder").set_value(INSTANT).run()
    _go(at, "pages/findings.py")
    assert any("semantic_duplicate" in c.value and embedder_name(INSTANT) in c.value for c in at.caption)
    at.multiselect(key="findings_checks").set_value(["semantic_duplicate"]).run()
    at.button(key="findings_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (ws,) = list((tmp_path / "home" / "workspaces").glob("*/"))
    assert (ws / "embeddings" / f"{embedder_name(INSTANT)}@both.npy").is_file()
    assert not (ws / "embeddings" / "all-MiniLM-L6-v2@both.npy").exists()
    result = latest_results(ws)["semantic_duplicate"]
    assert result["params"]["model"] == embedder_name(INSTANT)
    assert result["summary"]["rows_flagged"] == 3  # the three repeated questions
