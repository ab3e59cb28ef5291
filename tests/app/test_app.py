"""AppTest: every page on real data, driving search, bulk and per-row actions, undo and export.

The assertions read what matters from disk (the workspace's SQLite and the exported file), not
only from the rendered page.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.workspace.store import CurationStore

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/data.py", "pages/overview.py", "pages/browse.py", "pages/export.py"]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    chat = [{"messages": [{"role": "user", "content": f"How do I bake bread number {i}?"},
                          {"role": "assistant", "content": f"Knead dough {i} times, then bake it."}]}
            for i in range(20)]
    chat.append({"messages": [
        {"role": "user", "content": "Weather in Lisbon?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Lisbon\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"temp_c\": 21}"},
        {"role": "assistant", "content": "It is 21 °C in Lisbon."}]})
    _write_jsonl(d / "chat.jsonl", chat)
    pref = [{"prompt": f"Name a prime above {i}.", "chosen": f"{i} has a prime above it: see the list.",
             "rejected": "No."} for i in range(10)]
    _write_jsonl(d / "preference.jsonl", pref)
    return d


def _app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: str | None) -> AppTest:
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    if data is None:
        monkeypatch.delenv("SIFT_DATA", raising=False)
    else:
        monkeypatch.setenv("SIFT_DATA", data)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, f"{page}: {at.exception}"
    return at


def _store(tmp_path: Path) -> CurationStore:
    dbs = list((tmp_path / "home" / "workspaces").glob("*/curation.sqlite"))
    assert len(dbs) == 1, dbs
    return CurationStore(dbs[0])


def _match_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "rows match" in m.value)


def test_every_page_renders_on_the_bundled_sample(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _app(monkeypatch, tmp_path, None)
    n_lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (ROOT / "sample_data").glob("*.jsonl"))
    assert at.metric[0].value == f"{n_lines:,}"
    for page in PAGES:
        _visit(at, page)
        assert not at.error, [e.value for e in at.error]


def test_browse_search_flag_drop_undo_and_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 data_dir: Path) -> None:
    at = _app(monkeypatch, tmp_path, str(data_dir))
    _visit(at, "pages/browse.py")
    assert _match_line(at).startswith("**31** of 31 rows match")

    at.text_input(key="browse_q").input("bread number 1").run()
    # "bread number 1" hits 1 and 10..19
    assert _match_line(at).startswith("**11** of 31")
    at.selectbox(key="browse_scope").set_value("assistant").run()
    assert _match_line(at).startswith("**0** of 31")
    at.selectbox(key="browse_scope").set_value("user").run()
    assert _match_line(at).startswith("**11** of 31")

    at.text_input(key="browse_q").input("(").run()
    at.checkbox(key="browse_regex").check().run()
    assert any("invalid regular expression" in e.value for e in at.error)
    at.text_input(key="browse_q").input(r"number 1\d\?").run()
    assert _match_line(at).startswith("**10** of 31")

    # bulk: all 10 matches, tag then drop with a reason
    at.radio(key="browse_apply_to").set_value(at.radio(key="browse_apply_to").options[1]).run()
    at.text_input(key="browse_bulk_reason").input("too templated").run()
    at.text_input(key="browse_bulk_tag").input("bread").run()
    at.button(key="browse_bulk_tagbtn").click().run()
    at.button(key="browse_bulk_drop").click().run()
    assert not at.exception
    store = _store(tmp_path)
    assert store.dropped_ids() == set(range(10, 20))
    assert store.tagged_ids("bread") == set(range(10, 20))
    assert {r["reason"] for r in store.drop_records()} == {"too templated"}
    assert "10 dropped" in _match_line(at)

    # undo the drop: restored, tag kept
    at.button(key="browse_bulk_undo").click().run()
    assert store.dropped_ids() == set()
    assert store.tagged_ids("bread") == set(range(10, 20))
    at.button(key="browse_bulk_drop").click().run()
    assert store.dropped_ids() == set(range(10, 20))

    # example view: open the tool-call row, flag and drop it with a reason
    at.text_input(key="browse_q").input("").run()
    at.number_input(key="browse_row").set_value(20).run()
    assert any(m.value.startswith("#### Row 20") for m in at.markdown)
    assert len(at.chat_message) == 4
    assert any("get_weather" in c.value for c in at.code)
    at.button(key="browse_ex_flag_20").click().run()
    at.text_input(key="browse_ex_reason_20").input("tool call looks odd").run()
    at.button(key="browse_ex_drop_20").click().run()
    assert store.flagged_ids() == {20}
    assert 20 in store.dropped_ids()
    at.text_area(key="browse_ex_note_20").input("check the tool schema").run()
    at.button(key="browse_ex_savenote_20").click().run()
    assert store.row(20).note == "check the tool schema"

    # a fresh session (a browser refresh) sees the same state
    at2 = _app(monkeypatch, tmp_path, str(data_dir))
    _visit(at2, "pages/browse.py")
    assert "11 dropped · 1 flagged" in _match_line(at2)

    # export: source format, rows minus drops, one file per source file, manifest and drop log in the folder
    _visit(at, "pages/export.py")
    out = tmp_path / "out" / "clean"
    at.text_input(key="export_out").input(str(out)).run()
    at.button(key="export_go").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("Wrote 20 rows" in s.value for s in at.success)
    assert sorted(p.name for p in out.iterdir()) == ["chat.jsonl", "dropped.jsonl", "manifest.json",
                                                     "preference.jsonl", "recipe.json"]
    lines = [line for name in ("chat.jsonl", "preference.jsonl")
             for line in (out / name).read_text(encoding="utf-8").splitlines()]
    source = (data_dir / "chat.jsonl").read_text(encoding="utf-8").splitlines() + \
        (data_dir / "preference.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for i, line in enumerate(source) if i not in store.dropped_ids()]
    assert lines == kept
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["rows_dropped"] == 11 and manifest["counts"]["rows_written"] == 20
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert sorted(d["row_id"] for d in dropped) == sorted(store.dropped_ids())
    assert all(json.loads(source[d["row_id"]]) == d["record"] for d in dropped)

    # the same folder again: refused until the overwrite is confirmed, and the confirmation is spent by it
    store.restore([20])
    before = manifest
    at.button(key="export_go").click().run()
    assert any("already holds an export" in e.value for e in at.error)
    assert json.loads((out / "manifest.json").read_text()) == before
    at.checkbox(key="export_overwrite_1").check().run()
    at.button(key="export_go").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("Wrote 21 rows" in s.value and "replaced the previous export" in s.value for s in at.success)
    assert json.loads((out / "manifest.json").read_text())["counts"]["rows_written"] == 21
    at.run()
    assert not at.checkbox(key="export_overwrite_2").value
    assert [p.name for p in out.parent.iterdir()] == ["clean"]


def test_preference_rows_show_both_sides_and_a_diff(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    data_dir: Path) -> None:
    at = _app(monkeypatch, tmp_path, str(data_dir / "preference.jsonl"))
    _visit(at, "pages/browse.py")
    at.number_input(key="browse_row").set_value(3).run()
    texts = [t.value for t in at.text]
    assert "3 has a prime above it: see the list." in texts and "No." in texts
    assert any("{+3 has a prime above it: see the list.+}" in c.value or "[-No.-]" in c.value for c in at.code)


def test_data_page_reports_bad_input_then_skips_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "response": "b"}\n{"prompt": "c", "response": \n{"prompt": "d", '
                   '"response": "e"}\n', encoding="utf-8")
    at = _app(monkeypatch, tmp_path, str(bad))
    assert not at.exception
    _visit(at, "pages/data.py")
    assert any(e.value.startswith(f"{bad}, line 2: ") for e in at.error), [e.value for e in at.error]
    _visit(at, "pages/browse.py")
    assert any("line 2" in e.value for e in at.error)
    _visit(at, "pages/data.py")
    at.radio(key="data_source").set_value("Local path").run()
    at.text_input(key="data_path").input(str(bad)).run()
    at.checkbox(key="data_skip").check().run()
    at.button(key="data_load").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("1 records were skipped" in w.value for w in at.warning)
    assert at.metric[0].value == "2"


def test_data_page_maps_columns_of_an_unknown_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    csv = tmp_path / "qa.csv"
    csv.write_text('Question,Best Answer,Category\n"What is 2+2?","4",math\n"Capital of France?","Paris",geo\n',
                   encoding="utf-8")
    at = _app(monkeypatch, tmp_path, str(csv))
    _visit(at, "pages/data.py")
    # no known schema: the question-like column is mapped at once, said in a notice (issue 13.2) ...
    assert at.metric[2].value == "sft" and any("reads column `Question` as the prompt" in i.value for i in at.info)
    # ... and the mapping form still maps more roles; form widgets commit on submit, so no rerun between them
    at.selectbox(key="data_map_prompt").set_value("Question")
    at.selectbox(key="data_map_response").set_value("Best Answer")
    at.button(key="FormSubmitter:data_mapping-Apply mapping").click().run()
    assert not at.exception
    assert at.metric[2].value == "sft"
    _visit(at, "pages/browse.py")
    at.number_input(key="browse_row").set_value(1).run()
    assert "Paris" in [t.value for t in at.text]


def test_narrowing_a_search_or_switching_dataset_resets_paging(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path, data_dir: Path) -> None:
    at = _app(monkeypatch, tmp_path, str(data_dir))
    _visit(at, "pages/browse.py")
    at.selectbox(key="browse_page_size").set_value(50).run()
    at.number_input(key="browse_row").set_value(25).run()
    at.text_input(key="browse_q").input("Lisbon").run()
    assert at.number_input(key="browse_page").value == 1
    assert len(at.dataframe[0].value) == 1
    _visit(at, "pages/data.py")
    at.radio(key="data_source").set_value("Local path").run()
    at.text_input(key="data_path").input(str(data_dir / "chat.jsonl")).run()
    at.button(key="data_load").click().run()
    _visit(at, "pages/browse.py")
    assert _match_line(at).startswith("**21** of 21 rows match")
    assert at.number_input(key="browse_row").value == 0
    assert not at.exception


@pytest.mark.parametrize(("name", "body", "located"), [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "record 0 (line 1, byte 1): the JSON nests deeper"),
    ("key.jsonl", '{"prompt": "a", "response": "b"}\n{"prompt": "c", "response": "d", "k\\ud800": 1}\n',
     "line 2: lone surrogate \\ud800 in key"),
    ("cat.json", '[{"prompt": "a", "response": "b"}][{"prompt": "c", "response": "d"}]',
     "record 1 (line 1, byte 34): JSON array 2 starts here"),
], ids=["deep_nesting", "surrogate_key", "concatenated"])
def test_data_page_shows_one_error_for_hostile_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str,
                                                    body: str, located: str) -> None:
    """Issue 14.5: these were an uncaught RecursionError / a traceback / silent data loss on the Data page."""
    bad = tmp_path / name
    bad.write_text(body, encoding="utf-8")
    at = _app(monkeypatch, tmp_path, str(bad))
    _visit(at, "pages/data.py")
    assert [e.value for e in at.error] == [next(e.value for e in at.error)]  # exactly one
    assert at.error[0].value.startswith(f"{bad}, {located}"), at.error[0].value


def test_data_page_lists_the_files_a_folder_left_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     data_dir: Path) -> None:
    (data_dir / "dropped.jsonl").write_text("", encoding="utf-8")
    at = _app(monkeypatch, tmp_path, str(data_dir))
    _visit(at, "pages/data.py")
    assert not at.error, [e.value for e in at.error]
    assert "dropped.jsonl: left out: the file is empty: no records to load" in [i.value for i in at.info]
    assert at.metric[0].value == "31"
