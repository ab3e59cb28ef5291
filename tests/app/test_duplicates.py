"""AppTest on the Duplicates page: exact duplicates of the bundled sample, keep override, drop with dup_of."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.workspace.store import CurationStore

ROOT = Path(__file__).resolve().parents[2]
DEFECTS = json.loads((ROOT / "sample_data" / "defects.json").read_text())


def test_exact_duplicate_clusters_keep_override_and_drop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SIFT_DATA", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/duplicates.py")
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="dup_method").set_value("exact_duplicate").run()
    planted = {d["row_id"]: d["of"] for d in DEFECTS["exact_duplicate"]}
    assert at.metric[0].value == str(len(planted)) and at.metric[2].value == str(len(planted))

    # override the kept member of the first cluster on the page: keep the copy, drop the original
    first_copy, first_original = sorted(planted.items(), key=lambda kv: kv[1])[0]
    group_boxes = [s for s in at.selectbox if str(s.key).startswith("dup_keep_exact_duplicate_")]
    box = next(s for s in group_boxes if set(s.options) == {str(first_original), str(first_copy)})
    box.set_value(first_copy).run()
    at.button(key="dup_drop_all").click().run()
    assert not at.exception, at.exception
    (db,) = (tmp_path / "home" / "workspaces").glob("*/curation.sqlite")
    store = CurationStore(db)
    expected = (set(planted) - {first_copy}) | {first_original}
    assert store.dropped_ids() == expected
    reasons = {r["row_id"]: r["reason"] for r in store.drop_records()}
    assert reasons[first_original].startswith(f"dup_of:{first_copy} (exact_duplicate")
    assert all(reasons[c].startswith(f"dup_of:{o} ") for c, o in planted.items() if c != first_copy)
    assert all("{" not in r and "scope=" in r for r in reasons.values())  # readable text, not a dict repr


def test_near_duplicate_threshold_moves_along_the_precomputed_curve(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SIFT_DATA", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/duplicates.py")
    at.run()
    at.selectbox(key="dup_method").set_value("near_duplicate").run()
    assert not at.exception, at.exception
    planted = len(DEFECTS["exact_duplicate"]) + len(DEFECTS["near_duplicate"])
    assert at.metric[2].value == str(planted)
    (meta,) = (tmp_path / "home" / "workspaces").glob("*/results/near_duplicate@*.json")
    curve = json.loads(meta.read_text())["summary"]["removed_by_threshold"]
    at.slider(key="dup_threshold_near_duplicate").set_value(0.9).run()
    assert at.metric[2].value == str(curve["0.90"]) and curve["0.90"] < planted
