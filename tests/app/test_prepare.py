"""AppTest on the Prepare page with the bundled sample: count tokens under ChatML against a small limit, drop the
overflow (a replayable rule), nested 25/50/100% subsets, a held-out eval split, training files written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.io import load
from analysis.tokens.counts import load_tokenizer
from analysis.tokens.templates import load_template, render
from analysis.workspace.store import CurationStore

ROOT = Path(__file__).resolve().parents[2]


def _app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SIFT_DATA", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/prepare.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_tokens_overflow_drop_nested_subsets_and_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _app(monkeypatch, tmp_path)
    at.selectbox(key="prep_template").set_value("chatml").run()
    at.number_input(key="prep_max_len").set_value(128).run()
    at.button(key="prep_count").click().run()
    assert not at.exception, at.exception
    assert any("tokenizer `qwen:qwen2.5-72b-instruct`, template `chatml`" in c.value for c in at.caption)

    # the counts are the tokenizer's own on the rendered text
    rows = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    tok, tpl = load_tokenizer("qwen2.5-72b-instruct"), load_template("chatml")
    direct = np.array([len(tok.encode(render(m, tpl, tokenizer=tok))) for m in rows["messages"]])
    assert _metric(at, "Tokens, all rows") == f"{int(direct.sum()):,}"
    over = _table(at, "tokens cut")
    assert set(over["row"]) == set(rows["row_id"][direct > 128]) and len(over) > 0
    assert (over["tokens cut"] == over["tokens"] - 128).all()
    assert _metric(at, "Rows over the limit") == f"{int((direct > 128).sum()):,}"

    at.button(key="prep_drop_over").click().run()
    assert not at.exception, at.exception
    (db,) = (tmp_path / "home" / "workspaces").glob("*/curation.sqlite")
    store = CurationStore(db)
    assert store.dropped_ids() == set(over["row"])
    (action,) = [a for a in store.actions() if a.action == "drop"]
    assert action.reason == "token_length: too_long"
    assert action.params["rule"]["check"] == "token_length" and action.params["rule"]["params"]["max_len"] == 128
    store.close()

    # nested subsets of the kept rows, with a 10% eval split
    at.number_input(key="prep_eval").set_value(0.1).run()
    assert not at.exception, at.exception
    sizes = _table(at, "subset").set_index("subset")
    kept = len(rows) - len(over)
    n_eval = round(0.1 * kept)
    assert sizes.loc["1", "rows"] == kept - n_eval
    assert abs(sizes.loc["0.25", "rows"] - 0.25 * (kept - n_eval)) <= 12  # ±1 per topic stratum at most
    out = tmp_path / "training"
    at.text_input(key="prep_out").set_value(str(out)).run()
    at.button(key="prep_write").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    manifest = json.loads((out / "manifest.json").read_text())
    ids = {k: set(v["row_ids"]) for k, v in manifest["subsets"].items()}
    assert ids["0.25"] <= ids["0.5"] <= ids["1"]  # nested
    assert manifest["fractions"] == [0.25, 0.5, 1.0] and manifest["seed"] == 0 and manifest["format"] == "messages"
    eval_ids = set(manifest["eval"]["row_ids"])
    assert len(eval_ids) == n_eval and not eval_ids & ids["1"] and not (eval_ids | ids["1"]) & set(over["row"])
    for name in ("subset_0.25.jsonl", "subset_0.5.jsonl", "subset_1.jsonl", "eval.jsonl"):
        lines = (out / name).read_text().splitlines()
        assert all("messages" in json.loads(line) for line in lines)
    assert len((out / "subset_1.jsonl").read_text().splitlines()) == kept - n_eval


def test_strategy_mode_without_embeddings_offers_random(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _app(monkeypatch, tmp_path)
    at.radio(key="prep_mode").set_value("N rows by a strategy").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="prep_strategy").options == ["random"]  # kcenter/balanced need the Map's embeddings
    at.number_input(key="prep_n").set_value(100).run()
    sizes = _table(at, "subset")
    assert list(sizes["subset"]) == ["random_n100"] and list(sizes["rows"]) == [100]
