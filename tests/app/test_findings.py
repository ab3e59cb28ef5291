"""AppTest on the Findings page with the real checks on the bundled sample: run, drill in, drop, see the log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.checks import REGISTRY
from analysis.workspace.store import CurationStore

ROOT = Path(__file__).resolve().parents[2]
DEFECTS = json.loads((ROOT / "sample_data" / "defects.json").read_text())


def _app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SIFT_DATA", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/findings.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str):  # noqa: ANN202
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_run_every_check_then_drop_what_one_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if "placeholder" not in REGISTRY:
        pytest.skip("the placeholder check is not registered")
    at = _app(monkeypatch, tmp_path)
    assert any("No checks have run" in i.value for i in at.info)
    at.button(key="findings_run").click().run()
    assert not at.exception, at.exception
    summary = _table(at, "rows flagged").set_index("check")
    waiting = {n for n in REGISTRY if any(f"`{n}` cannot run yet" in c.value for c in at.caption)}
    assert waiting <= {"outlier", "semantic_duplicate", "contamination"}  # embeddings / a benchmark file needed
    assert set(summary.index) == set(REGISTRY) - waiting
    planted = {d["row_id"] for d in DEFECTS["template_placeholder"]}
    assert summary.loc["placeholder", "rows flagged"] == len(planted)

    at.selectbox(key="findings_pick").set_value("placeholder").run()
    rows = _table(at, "score")
    assert set(rows["row"]) == planted
    at.button(key="findings_drop").click().run()
    assert not at.exception, at.exception
    (db,) = (tmp_path / "home" / "workspaces").glob("*/curation.sqlite")
    store = CurationStore(db)
    assert store.dropped_ids() == planted
    assert all(r["reason"].startswith("placeholder: ") for r in store.drop_records())


def test_contamination_runs_with_a_benchmark_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A benchmark given on the page makes `contamination` runnable; a leaked sample prompt is found."""
    if "contamination" not in REGISTRY:
        pytest.skip("the contamination check is not registered")
    from analysis.io import load

    rows = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    leaked = rows[rows["kind"] == "sft"]["prompt"].iloc[3]
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"question": leaked, "answer": "x"}) + "\n", encoding="utf-8")
    at = _app(monkeypatch, tmp_path)
    at.text_area(key="findings_benchmarks").input(str(bench)).run()
    at.multiselect(key="findings_checks").set_value(["contamination"]).run()
    at.button(key="findings_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    summary = _table(at, "rows flagged").set_index("check")
    assert summary.loc["contamination", "rows flagged"] >= 1
    at.selectbox(key="findings_pick").set_value("contamination").run()
    assert not at.exception, at.exception
    rows_table = _table(at, "score")
    assert "evidence" in rows_table.columns and rows_table["evidence"].str.len().gt(0).all()
    # the open row (the first flagged) shows the offending span marked in plain text and the benchmark item
    captions = [c.value for c in at.caption]
    assert any(c.startswith("offending span in turn") for c in captions), captions
    assert any(c.startswith("matches `bench.jsonl` row 0 (100% of its n-grams)") for c in captions), captions
    codes = [c.value for c in at.code]
    assert any("⟦" in c and "⟧" in c for c in codes), codes
    assert leaked in codes


def test_many_reason_codes_are_chosen_by_kind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A duplicate check has one code per group (dup_of:<row_id>): above 50 codes the filter offers their kinds,
    not thousands of options (at 1M rows, 76k codes made this page take 88 s)."""
    data = tmp_path / "dups.jsonl"
    rows = [{"instruction": f"Question number {i} about topic {i}?", "output": f"Answer {i}."} for i in range(60)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows + rows), encoding="utf-8")
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SIFT_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/findings.py")
    at.run()
    at.multiselect(key="findings_checks").set_value(["exact_duplicate"]).run()
    at.button(key="findings_run").click().run()
    assert not at.exception, at.exception
    # one kind (dup_of) -> no filter at all; never a multiselect over the 60 codes
    assert not [m for m in at.multiselect if m.key in ("findings_codes_exact_duplicate",
                                                       "findings_prefixes_exact_duplicate")]
    assert len(_table(at, "score")) == 60
