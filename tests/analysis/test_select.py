"""Selection (nested subsets, random / k-center / balanced, leak-free split), training formats and `sift select`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.io import load
from analysis.prepare.selection import (
    fraction_key,
    nested_subsets,
    parse_fractions,
    select_balanced,
    select_kcenter,
    select_random,
    selection_report,
    split_train_eval,
    union_groups,
)
from analysis.prepare.training_files import SUFFIX, training_records, write_nested, write_training

LLAMAFACTORY = SHARED / "llamafactory_demo"

strata_st = st.lists(st.integers(min_value=-1, max_value=6), min_size=1, max_size=300).map(np.array)
fractions_st = st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=4)


# ------------------------------------------------------------------------------------------------ nested subsets


@settings(max_examples=150, deadline=None)
@given(strata=strata_st, fractions=fractions_st, seed=st.integers(0, 2**32 - 1))
def test_nested_subsets_contained_stratified_and_sized(strata: np.ndarray, fractions: list[float], seed: int) -> None:
    subsets = nested_subsets(strata, fractions, seed)
    assert list(subsets) == sorted(set(fractions))
    prev: set[int] = set()
    for f, pos in subsets.items():
        assert len(set(pos.tolist())) == len(pos) and np.all(np.diff(pos) > 0)  # distinct, sorted
        assert prev <= set(pos.tolist())  # each smaller subset lies inside the larger one
        prev = set(pos.tolist())
        assert len(pos) == round(f * len(strata))
        for s in np.unique(strata):
            size = int((strata == s).sum())
            count = int((strata[pos] == s).sum())
            assert abs(count - f * size) < 1 + 1e-9, (f, s, count, size)  # floor or ceil of f * size
    if 1.0 in subsets:
        assert len(subsets[1.0]) == len(strata)


@settings(max_examples=40, deadline=None)
@given(strata=strata_st, seed=st.integers(0, 2**32 - 1))
def test_nested_subsets_reproducible_from_the_seed(strata: np.ndarray, seed: int) -> None:
    a, b = nested_subsets(strata, (0.3, 0.6), seed), nested_subsets(strata, (0.3, 0.6), seed)
    assert all(np.array_equal(a[f], b[f]) for f in a)


def test_nested_subsets_without_strata_and_bad_fractions() -> None:
    subsets = nested_subsets(None, (0.25, 0.5, 1), 3, n=10)
    assert [len(p) for p in subsets.values()] == [2, 5, 10]  # round half to even: 2.5 -> 2
    assert not np.array_equal(nested_subsets(None, (0.5,), 1, n=50)[0.5], nested_subsets(None, (0.5,), 2, n=50)[0.5])
    assert parse_fractions("1, 0.25,0.5") == [0.25, 0.5, 1.0]
    assert [fraction_key(f) for f in (0.25, 0.5, 1.0)] == ["0.25", "0.5", "1"]
    for bad, msg in (("0,0.5", "must be in (0, 1]"), ("1.5", "must be in (0, 1]"), ("a,b", "bad fractions"),
                     ("", "no fractions")):
        with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)").replace("]", r"\]")):
            parse_fractions(bad)


# ---------------------------------------------------------------------------------------------------- select N


def _planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """5 tight clusters on orthogonal axes: 200, 100, 50, 10 and 3 rows."""
    rng = np.random.default_rng(seed)
    sizes = [200, 100, 50, 10, 3]
    x = np.concatenate([np.eye(16)[c] + 0.01 * rng.normal(size=(s, 16)) for c, s in enumerate(sizes)])
    return x.astype(np.float32), np.repeat(np.arange(5), sizes)


def test_kcenter_picks_one_point_per_planted_cluster() -> None:
    x, labels = _planted()
    for seed in range(5):
        chosen = select_kcenter(x, 5, seed)
        assert sorted(labels[chosen].tolist()) == [0, 1, 2, 3, 4]
        assert np.array_equal(chosen, select_kcenter(x, 5, seed))
    random_cover = np.mean([len(set(labels[select_random(len(x), 5, s)].tolist())) for s in range(20)])
    assert random_cover < 4  # the small clusters are what random sampling misses


def test_kcenter_with_duplicates_never_repeats_a_row() -> None:
    x = np.repeat(np.eye(3, dtype=np.float32), 4, axis=0)
    chosen = select_kcenter(x, 12, 0)
    assert sorted(chosen.tolist()) == list(range(12))
    assert sorted(np.unique(x[chosen[:3]], axis=0).argmax(axis=1).tolist()) == [0, 1, 2]


def test_random_and_bad_sizes() -> None:
    a = select_random(100, 10, 7)
    assert len(set(a.tolist())) == 10 and np.array_equal(a, select_random(100, 10, 7))
    assert np.array_equal(select_random(100, 5, 7), a[:5])  # prefix property
    with pytest.raises(ValueError, match="asked for 11 rows but only 10 are available"):
        select_random(10, 11)
    with pytest.raises(ValueError, match="at least 1"):
        select_kcenter(np.eye(3), 0)


def test_balanced_gives_equal_rows_per_cluster() -> None:
    _, labels = _planted()
    chosen = select_balanced(labels, 40, 1)
    counts = np.bincount(labels[chosen], minlength=5)
    # 3 from the 3-row cluster, the other 37 spread over four: 10, 9, 9, 9, the extra one to the biggest
    assert counts.tolist() == [10, 9, 9, 9, 3]
    assert np.bincount(labels[select_balanced(labels, 60, 1)], minlength=5).tolist() == [16, 16, 15, 10, 3]
    assert len(set(chosen.tolist())) == 40
    assert np.bincount(labels[select_balanced(labels, 15, 1)], minlength=5).tolist() == [3, 3, 3, 3, 3]


def test_selection_report_shows_what_kcenter_buys() -> None:
    x, labels = _planted()
    sets = {"random": select_random(len(x), 5, 0), "kcenter": select_kcenter(x, 5, 0),
            "balanced": select_balanced(labels, 5, 0)}
    rep = selection_report(x, labels, sets)
    s = rep.summary.set_index("strategy")
    assert list(s.index) == ["full", "random", "kcenter", "balanced"]
    assert s.loc["kcenter", "topics_covered"] == s.loc["balanced", "topics_covered"] == 5
    assert s.loc["full", "topics_total"] == 5
    assert s.loc["kcenter", "coverage_radius"] < 0.1 < s.loc["random", "coverage_radius"]
    assert s.loc["kcenter", "mean_nn_distance"] > 0.9 > s.loc["full", "mean_nn_distance"]
    assert s.loc["full", "topic_tvd"] == 0 and s.loc["kcenter", "topic_tvd"] > 0.4
    d = rep.distribution
    assert set(d.columns) == {"strategy", "topic", "rows", "share"}
    assert np.allclose(d.groupby("strategy")["share"].sum(), 1.0)
    only = selection_report(None, labels, {"b": sets["balanced"]}, include_full=False).summary
    assert list(only["strategy"]) == ["b"] and np.isnan(only["coverage_radius"].iloc[0])


# ------------------------------------------------------------------------------------------------ train / eval


def test_union_groups_merges_across_checks() -> None:
    exact = np.array([0, 0, -1, -1, 1, 1, -1, -1])
    near = np.array([-1, 3, 3, -1, -1, -1, 7, 7])
    assert union_groups([exact, near], 8).tolist() == [0, 0, 0, -1, 1, 1, 2, 2]
    assert union_groups([], 3).tolist() == [-1, -1, -1]
    with pytest.raises(ValueError, match="expected 8"):
        union_groups([np.zeros(3)], 8)


groups_st = st.lists(st.integers(min_value=-1, max_value=15), min_size=1, max_size=400).map(np.array)


@settings(max_examples=150, deadline=None)
@given(groups=groups_st, frac=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_split_never_separates_a_group(groups: np.ndarray, frac: float, seed: int) -> None:
    train, ev = split_train_eval(len(groups), groups, frac, seed)
    assert sorted(np.concatenate([train, ev]).tolist()) == list(range(len(groups)))
    for g in np.unique(groups[groups >= 0]):
        members = set(np.flatnonzero(groups == g).tolist())
        assert members <= set(train.tolist()) or members <= set(ev.tolist())
    target = round(frac * len(groups))
    sizes = np.bincount(groups[groups >= 0]) if (groups >= 0).any() else np.zeros(1, int)
    assert abs(len(ev) - target) <= max(int(sizes.max()), 1)  # off by less than the largest group
    if (groups < 0).sum() >= len(groups) - 1:  # (almost) all singletons: exact
        assert len(ev) == target
    again = split_train_eval(len(groups), groups, frac, seed)
    assert np.array_equal(again[1], ev)


def test_split_eval_fraction_close_on_many_small_groups() -> None:
    groups = np.repeat(np.arange(300), 3)
    groups[::7] = -1
    _, ev = split_train_eval(len(groups), groups, 0.2, 0)
    assert abs(len(ev) / len(groups) - 0.2) < 0.005
    with pytest.raises(ValueError, match="eval fraction"):
        split_train_eval(10, None, 1.5)


# ---------------------------------------------------------------------------------------------- shared data (slow)


@pytest.mark.slow
def test_truthfulqa_nested_subsets_keep_topic_and_category_shares(truthfulqa: dict) -> None:
    from analysis.space.topics import TopicParams, cluster

    topics, _ = cluster(truthfulqa["vectors"], TopicParams())
    cats = pd.Series(truthfulqa["categories"]).astype("category").cat.codes.to_numpy()
    for labels in (topics, cats):
        full = np.bincount(labels) / len(labels)
        for f, pos in nested_subsets(topics, (0.25, 0.5, 1), 42).items():
            share = np.bincount(labels[pos], minlength=len(full)) / len(pos)
            if labels is topics:  # stratified by topic: the topic shares follow the full data
                assert np.abs(share - full).max() < 0.02, f
            else:  # categories are not what was stratified on: report, with a loose bound
                assert np.abs(share - full).max() < 0.05, f


@pytest.mark.slow
def test_truthfulqa_kcenter_covers_more_categories_than_random(truthfulqa: dict) -> None:
    """N=50 of 817 questions, 38 human categories, MiniLM prompt embeddings (numbers in bench/README.md).

    The default (centroid) start is what the CLI and the app use; seeded random starts win on average and for
    most seeds, not for every seed (seed 0 gives 23, below the random mean of 24.2)."""
    cats = np.array(truthfulqa["categories"])
    rnd = np.mean([len(set(cats[select_random(len(cats), 50, s)])) for s in range(20)])
    default = len(set(cats[select_kcenter(truthfulqa["vectors"], 50)]))
    assert default > rnd + 1, (default, rnd)
    kc = [len(set(cats[select_kcenter(truthfulqa["vectors"], 50, s, start="random")])) for s in range(20)]
    assert np.mean(kc) > rnd + 1, (kc, rnd)
    assert sum(k > rnd for k in kc) >= 15, (kc, rnd)


# ---------------------------------------------------------------------------------------------- training formats


def _load_hf(path: Path, tmp_path: Path) -> list[dict]:
    import datasets

    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    return ds.to_list()


def _chat(*turns: str, system: str | None = None) -> dict:
    msgs = [{"role": "system", "content": system}] if system else []
    return {"messages": msgs + [{"role": "user" if i % 2 == 0 else "assistant", "content": t}
                                for i, t in enumerate(turns)]}


@pytest.fixture
def chat_rows(write_jsonl) -> pd.DataFrame:
    return load(write_jsonl("chat.jsonl", [_chat("hi", "hello"), _chat("q1", "a1", "q2", "a2", system="be brief"),
                                           _chat("ünïcode ✓", "ok")])).rows


def test_alpaca_sharegpt_messages_load_and_round_trip(chat_rows: pd.DataFrame, tmp_path: Path) -> None:
    pos = [1, 0, 2]
    out = {fmt: write_training(chat_rows, pos, tmp_path / f"x{SUFFIX[fmt]}".replace("x", fmt), fmt)
           for fmt in ("alpaca", "sharegpt", "messages")}
    alpaca = _load_hf(Path(out["alpaca"].out), tmp_path)
    assert alpaca[0] == {"instruction": "q2", "input": "", "output": "a2", "system": "be brief",
                         "history": [["q1", "a1"]]}
    assert alpaca[1] == {"instruction": "hi", "input": "", "output": "hello", "system": "", "history": []}
    assert alpaca[2]["instruction"] == "ünïcode ✓"
    share = _load_hf(Path(out["sharegpt"].out), tmp_path)
    assert share[0]["conversations"] == [{"from": "system", "value": "be brief"}, {"from": "human", "value": "q1"},
                                         {"from": "gpt", "value": "a1"}, {"from": "human", "value": "q2"},
                                         {"from": "gpt", "value": "a2"}]
    msgs = _load_hf(Path(out["messages"].out), tmp_path)
    for rec, p in zip(msgs, pos, strict=True):
        assert rec["messages"] == [{"role": t["role"], "content": t["content"]} for t in chat_rows["messages"][p]]
    assert {r.rows_written for r in out.values()} == {3}


def test_trl_formats_load_and_round_trip(write_jsonl, tmp_path: Path) -> None:
    recs = [{"messages": [{"role": "user", "content": "2+2?"}], "chosen": "4", "rejected": "5"},
            {"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "u1"},
                          {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}],
             "chosen": "good", "rejected": "bad"}]
    rows = load(write_jsonl("pref.jsonl", recs)).rows
    trl = _load_hf(Path(write_training(rows, [0, 1], tmp_path / "p.jsonl", "trl").out), tmp_path)
    assert trl[0] == {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
    assert trl[1]["chosen"] == "good" and "u2" in trl[1]["prompt"] and "sys" in trl[1]["prompt"]
    chat = _load_hf(Path(write_training(rows, [0, 1], tmp_path / "c.jsonl", "trl_chat").out), tmp_path)
    assert chat[0] == {"prompt": [{"role": "user", "content": "2+2?"}],
                       "chosen": [{"role": "assistant", "content": "4"}],
                       "rejected": [{"role": "assistant", "content": "5"}]}
    assert [m["content"] for m in chat[1]["prompt"]] == ["sys", "u1", "a1", "u2"]
    sft = training_records(rows, [0], "alpaca")[0]  # preference rows go to SFT formats with the chosen answer
    assert sft == [{"instruction": "2+2?", "input": "", "output": "4"}]


def test_inexpressible_rows_raise_or_are_skipped(chat_rows: pd.DataFrame, write_jsonl, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^row 0 cannot be written as trl: a chat row has no chosen/rejected pair"):
        write_training(chat_rows, [0, 1], tmp_path / "t.jsonl", "trl")
    assert not (tmp_path / "t.jsonl").exists()
    text = load(write_jsonl("t.jsonl", [{"text": "plain"}, {"text": "more"}])).rows
    with pytest.raises(ValueError, match="row 0 cannot be written as messages: a text row has no user turn"):
        training_records(text, [0], "messages")
    res = write_training(chat_rows, [0, 1, 2], tmp_path / "s.jsonl", "trl", skip_unsupported=True)
    assert res.rows_written == 0 and [s["row_id"] for s in res.skipped] == [0, 1, 2]
    with pytest.raises(ValueError, match="unknown training format 'csv'"):
        training_records(chat_rows, [0], "csv")


@pytest.mark.parametrize(("name", "fmt"), [("alpaca_en_demo.json", "alpaca"), ("glaive_toolcall_en_demo.json",
                                                                                "sharegpt"),
                                           ("dpo_en_demo.json", "trl"), ("dpo_en_demo.json", "trl_chat"),
                                           ("v1_sft_demo.jsonl", "messages")])
def test_shared_demo_files_export_and_load(name: str, fmt: str, tmp_path: Path) -> None:
    if not (LLAMAFACTORY / name).is_file():
        pytest.skip("shared datasets not found")
    rows = load(LLAMAFACTORY / name).rows
    pos = select_random(len(rows), min(50, len(rows)), 0)
    res = write_training(rows, pos, tmp_path / f"out{SUFFIX[fmt]}", fmt)
    loaded = _load_hf(Path(res.out), tmp_path)
    assert len(loaded) == res.rows_written == len(pos)
    if fmt == "sharegpt":
        roles = {t["from"] for r in loaded for t in r["conversations"]}
        assert {"function_call", "observation"} <= roles and any(r["tools"] for r in loaded)
    if fmt == "trl":
        assert [r["chosen"] for r in loaded] == rows["chosen"].iloc[pos].tolist()


def test_write_nested_files_and_manifest(chat_rows: pd.DataFrame, tmp_path: Path) -> None:
    subsets = nested_subsets(None, (0.34, 1), 0, n=3)
    doc = write_nested(chat_rows, subsets, tmp_path / "nested", "messages", seed=0, extra={"dataset": "abc"})
    manifest = json.loads((tmp_path / "nested" / "manifest.json").read_text())
    assert manifest == doc
    assert (manifest["fractions"], manifest["seed"], manifest["strategy"], manifest["dataset"]) == \
        ([0.34, 1.0], 0, "stratified-random", "abc")
    assert manifest["subsets"]["1"]["row_ids"] == [0, 1, 2] and manifest["subsets"]["1"]["file"] == "subset_1.jsonl"
    small = manifest["subsets"]["0.34"]
    assert len(small["row_ids"]) == 1 and set(small["row_ids"]) <= {0, 1, 2}
    assert len(_load_hf(tmp_path / "nested" / small["file"], tmp_path)) == 1


# --------------------------------------------------------------------------------------------------------- CLI


def _workspace(tmp_path: Path, embed: bool = True) -> Path:
    """A 60-row chat workspace; with `embed`, hashing embeddings under the default model's name, and topics."""
    from analysis.space.embedders import HashingEmbedder, embed_rows, keyword_texts, model_name
    from analysis.space.topics import TopicParams, fit_topics, write_topics
    from analysis.workspace.folder import Workspace

    words = ["apple", "river", "engine", "violin", "planet", "castle"]
    recs = [_chat(f"tell me about {words[i % 6]} number {i}", f"{words[i % 6]} fact {i}") for i in range(60)]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    ws = Workspace.open(path, workspace=tmp_path / "ws")
    if embed:
        rows = ws.dataset.rows
        vectors = embed_rows(ws.dir, rows, HashingEmbedder(name=model_name(None)), scope="both")
        result = fit_topics(vectors, keyword_texts(rows, "both"), rows["row_id"].to_numpy(), TopicParams(k=6))
        write_topics(ws.dir, rows["row_id"].to_numpy(), result, model=model_name(None), scope="both")
    ws.store.drop([0, 1], reason="test")
    ws.close()
    return ws.dir


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_select_strategies_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(_workspace(tmp_path))
    for strategy in ("random", "kcenter", "balanced"):
        code, out, _ = _cli(capsys, "select", ws, "--strategy", strategy, "--n", "12", "--seed", "3", "--json")
        doc = json.loads(out)
        assert code == 0 and out.count("\n") == 1
        ids = doc["row_ids"]
        assert len(ids) == len(set(ids)) == 12 and not {0, 1} & set(ids)  # dropped rows are never selected
        assert doc["rows_available"] == 58 and doc["report"]["rows"] == 12
        assert json.loads(_cli(capsys, "select", ws, "--strategy", strategy, "--n", "12", "--seed", "3",
                               "--json")[1])["row_ids"] == ids
    doc = json.loads(_cli(capsys, "select", ws, "--strategy", "balanced", "--n", "12", "--json")[1])
    assert doc["report"]["topics_covered"] == doc["report"]["topics_total"] == 6


def test_cli_select_nested_json_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(_workspace(tmp_path))
    code, out, _ = _cli(capsys, "select", ws, "--nested", "0.25,0.5,1", "--json")
    subsets = json.loads(out)["subsets"]
    assert code == 0 and list(subsets) == ["0.25", "0.5", "1"]
    assert set(subsets["0.25"]) <= set(subsets["0.5"]) <= set(subsets["1"]) == set(range(2, 60))
    assert [len(v) for v in subsets.values()] == [round(0.25 * 58), 29, 58]
    code, out, _ = _cli(capsys, "select", ws, "--nested", "0.5,1", "--out", str(tmp_path / "o"), "--format",
                        "sharegpt")
    assert code == 0 and "written with manifest" in out
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["manifest.json", "subset_0.5.json", "subset_1.json"]
    assert manifest["seed"] == 0 and manifest["fractions"] == [0.5, 1.0] and manifest["stratified_by"] == "topic"
    code, _, _ = _cli(capsys, "select", ws, "--strategy", "kcenter", "--n", "5", "--out", str(tmp_path / "k"),
                      "--format", "alpaca")
    assert code == 0 and (tmp_path / "k" / "selection_kcenter_n5.json").is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (["--strategy", "kcenter", "--n", "5"], "kcenter needs embeddings of {ws}: run `sift analyze PATH --embed` first"),
    (["--strategy", "balanced", "--n", "5"], "balanced needs topics of {ws}: run `sift analyze PATH --embed` first"),
    (["--strategy", "random"], "--strategy needs --n N (how many rows to select)"),
    (["--strategy", "random", "--n", "500"], "asked for 500 rows but only 58 are available"),
    (["--nested", "0.5,2"], "fractions must be in (0, 1], got 2.0"),
    (["--strategy", "random", "--n", "3", "--out", "{tmp}/t", "--format", "trl"],
     "row {row} cannot be written as trl: a chat row has no chosen/rejected pair"),
])
def test_cli_select_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    argv: list[str], message: str) -> None:
    ws = _workspace(tmp_path, embed=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = _cli(capsys, "select", str(ws), *argv)
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("sift select: error: ")
    if "{row}" in message:
        assert "cannot be written as trl: a chat row has no chosen/rejected pair" in err
    else:
        assert message.format(ws=ws) in err


def test_cli_select_random_needs_nothing_but_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(_workspace(tmp_path, embed=False))
    doc = json.loads(_cli(capsys, "select", ws, "--strategy", "random", "--n", "5", "--json")[1])
    assert len(doc["row_ids"]) == 5 and "report" not in doc
    nested = json.loads(_cli(capsys, "select", ws, "--nested", "0.5", "--json")[1])
    assert nested["stratified_by"] == "none" and len(nested["subsets"]["0.5"]) == 29
