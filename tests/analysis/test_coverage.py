"""Coverage gap: a topic the training set lacks is found, the share math, the farthest list, and the TruthfulQA
acceptance (one category held out of training) with the real model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.space.coverage import CoverageReport, coverage_gap, nearest_cosine
from analysis.space.embedders import HashingEmbedder
from analysis.space.topics import TopicParams

VOCAB = [["telescope", "planet", "orbit"], ["recipe", "flour", "oven"], ["guitar", "chord", "melody"],
         ["court", "lawyer", "verdict"], ["python", "compiler", "syntax"]]


def sample(counts: list[int], seed: int, dim: int = 128) -> tuple[np.ndarray, list[str], np.ndarray]:
    """`counts[b]` unit vectors around blob b's fixed centre (centres do not depend on `seed`), with texts."""
    centres = np.random.default_rng(0).normal(size=(len(VOCAB), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    blob = np.repeat(np.arange(len(counts)), counts)
    x = centres[blob] + rng.normal(size=(len(blob), dim)) * 0.5 / np.sqrt(dim)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    texts = [" ".join([*rng.choice(VOCAB[b], 2), "about", "something"]) for b in blob]
    return x, texts, blob


@pytest.fixture(scope="module")
def report_and_truth() -> tuple[CoverageReport, np.ndarray, np.ndarray]:
    # training lacks blob 4 entirely and is heavy on blob 0; the reference is the opposite
    tx, tt, tb = sample([100, 50, 50, 50, 0], seed=1)
    rx, rt, rb = sample([2, 10, 10, 10, 20], seed=2)
    rep = coverage_gap(tx, tt, np.arange(len(tx)) + 10_000, rx, rt, np.arange(len(rx)) + 500,
                       topic_params=TopicParams(k=5), n_farthest=25)
    return rep, tb, rb


def test_missing_topic_is_top_under_covered(report_and_truth) -> None:
    rep, _, rb = report_and_truth
    under = rep.under()
    assert len(under) == 1
    top = under.iloc[0]
    assert top["train_rows"] == 0 and top["ref_rows"] == 20
    assert {"python", "compiler", "syntax"} >= set(top["keywords"][:3])  # labelled by what the references say
    members = np.flatnonzero(rep.ref_topic_id == top["topic_id"])
    assert (rb[members] == 4).all() and len(members) == 20
    assert rep.per_topic.iloc[0]["topic_id"] == top["topic_id"]  # the most under-covered first


def test_share_math_and_status(report_and_truth) -> None:
    rep, tb, rb = report_and_truth
    pt = rep.per_topic
    assert list(pt.columns[:9]) == ["topic_id", "label", "keywords", "train_rows", "train_share", "ref_rows",
                                    "ref_share", "ratio", "status"]
    assert pt["train_rows"].sum() == len(tb) and pt["ref_rows"].sum() == len(rb)
    eps = 0.5 / 250
    assert rep.params["eps"] == pytest.approx(eps)
    by_blob = {}
    for r in pt.itertuples():
        train_blobs = tb[rep.train_topic_id == r.topic_id]
        ref_blobs = rb[rep.ref_topic_id == r.topic_id]
        blob = int(np.bincount(np.r_[train_blobs, ref_blobs]).argmax())
        by_blob[blob] = r
        assert r.train_share == pytest.approx(r.train_rows / 250) and r.ref_share == pytest.approx(r.ref_rows / 52)
        assert r.ratio == pytest.approx(r.ref_share / max(r.train_share, eps))
    assert by_blob[4].ratio == pytest.approx((20 / 52) / eps) and by_blob[4].status == "under"
    assert by_blob[0].ratio == pytest.approx((2 / 52) / (100 / 250)) and by_blob[0].status == "over"
    assert {by_blob[b].status for b in (1, 2, 3)} == {"ok"}  # 0.2 of training vs 10/52 of reference
    assert rep.over()["topic_id"].tolist() == [by_blob[0].topic_id]
    assert pt["ratio"].iloc[1:].is_monotonic_decreasing


def test_thresholds_need_enough_rows() -> None:
    tx, tt, _ = sample([60, 60, 60, 60, 0], seed=3)
    rx, rt, _ = sample([10, 10, 10, 10, 2], seed=4)  # only 2 references in the missing region
    rep = coverage_gap(tx, tt, np.arange(len(tx)), rx, rt, np.arange(len(rx)), topic_params=TopicParams(k=5))
    assert rep.under().empty  # below min_ref_rows=3: not enough evidence
    rep2 = coverage_gap(tx, tt, np.arange(len(tx)), rx, rt, np.arange(len(rx)), topic_params=TopicParams(k=5),
                        min_ref_rows=2)
    assert len(rep2.under()) == 1 and rep2.under().iloc[0]["ref_rows"] == 2


def test_farthest_list(report_and_truth, tmp_path: Path) -> None:
    rep, _, rb = report_and_truth
    far = rep.farthest
    assert list(far.columns) == ["ref_row_id", "text", "topic_id", "nearest_train_row_id", "similarity", "distance"]
    assert len(far) == 25 and far["distance"].is_monotonic_decreasing
    assert (rb[far["ref_row_id"].to_numpy()[:20] - 500] == 4).all()  # the missing blob is farthest
    assert np.allclose(far["distance"], 1 - far["similarity"])
    assert far["nearest_train_row_id"].between(10_000, 10_249).all()
    out = tmp_path / "collect_next.csv"
    rep.farthest_csv(out)
    back = pd.read_csv(out)
    assert back["ref_row_id"].tolist() == far["ref_row_id"].tolist() and not list(tmp_path.glob(".*.tmp"))


def test_nearest_cosine_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=(1000, 32)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = rng.normal(size=(70, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    pos, sim = nearest_cosine(queries, base, query_block=16, base_block=128)  # blocks smaller than the inputs
    full = queries @ base.T
    assert np.array_equal(pos, full.argmax(axis=1)) and np.allclose(sim, full.max(axis=1), atol=1e-6)


def test_reuses_a_knn_index(report_and_truth) -> None:
    knn = pytest.importorskip("analysis.space.knn")
    tx, tt, _ = sample([100, 50, 50, 50, 0], seed=1)
    rx, rt, _ = sample([2, 10, 10, 10, 20], seed=2)
    index = knn.KnnIndex.build(tx)
    rep = coverage_gap(tx, tt, np.arange(len(tx)) + 10_000, rx, rt, np.arange(len(rx)) + 500,
                       topic_params=TopicParams(k=5), n_farthest=25, train_index=index)
    expected = report_and_truth[0].farthest
    assert rep.farthest["nearest_train_row_id"].tolist() == expected["nearest_train_row_id"].tolist()
    assert np.allclose(rep.farthest["similarity"], expected["similarity"], atol=1e-5)


def test_hashing_embedder_texts() -> None:
    """The same property with the fake embedder: law questions absent from training surface as the gap."""
    emb = HashingEmbedder(dim=256)
    rng = np.random.default_rng(0)
    train_t = [" ".join(rng.choice(VOCAB[b], 4)) for b in (0, 1, 2) for _ in range(40)]
    ref_t = [" ".join(rng.choice(VOCAB[b], 4)) for b in (0, 1, 2) for _ in range(5)]
    ref_t += [" ".join(rng.choice(VOCAB[3], 4)) for _ in range(12)]
    rep = coverage_gap(emb(train_t), train_t, np.arange(len(train_t)), emb(ref_t), ref_t, np.arange(len(ref_t)),
                       topic_params=TopicParams(k=4))
    top = rep.under().iloc[0]
    assert top["ref_rows"] == 12 and top["train_rows"] == 0
    assert set(top["keywords"][:3]) <= {"court", "lawyer", "verdict"}
    assert set(rep.farthest["ref_row_id"].head(12)) == set(range(15, 27))


def test_no_topics_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.space import topics as topics_mod

    monkeypatch.setattr(topics_mod, "_hdbscan", lambda v, m, s: np.full(len(v), -1))
    x, t, _ = sample([20, 20, 0, 0, 0], seed=1)
    rep = coverage_gap(x[:30], t[:30], np.arange(30), x[30:], t[30:], np.arange(10),
                       topic_params=TopicParams(method="hdbscan", assign_noise=False))
    assert rep.per_topic.empty and rep.under().empty and rep.over().empty
    assert len(rep.farthest) == 10 and (rep.farthest["topic_id"] == -1).all()


def test_bad_inputs() -> None:
    x, t, _ = sample([5, 5, 0, 0, 0], seed=1)
    with pytest.raises(ValueError, match="training and reference rows"):
        coverage_gap(x, t, np.arange(10), x[:0], [], np.arange(0))
    with pytest.raises(ValueError, match="same model"):
        coverage_gap(x, t, np.arange(10), x[:, :64], t, np.arange(10))
    with pytest.raises(ValueError, match="align"):
        coverage_gap(x, t[:3], np.arange(10), x, t, np.arange(10))


@pytest.mark.slow
def test_truthfulqa_held_out_category_is_top_gap(truthfulqa, caplog: pytest.LogCaptureFixture) -> None:
    """Training = TruthfulQA minus every "Law" question (64) and 50 sampled others; reference = those 64 + 50.

    The 50 others are held out of training too, so the farthest list is not trivially won (a reference row that is
    also a training row has distance 0). The top under-covered joint topic must be mostly held-out Law rows, and
    Law must dominate the reference rows farthest from any training row (its base rate is 64/114 = 0.56).
    """
    caplog.set_level(logging.INFO)
    rows, vectors = truthfulqa["rows"], np.asarray(truthfulqa["vectors"])
    cats = np.array(truthfulqa["categories"])
    texts = rows["prompt"].to_numpy(dtype=object)
    ids = rows["row_id"].to_numpy()
    held = cats == "Law"
    others = np.random.default_rng(0).choice(np.flatnonzero(~held), 50, replace=False)
    in_ref = held.copy()
    in_ref[others] = True
    tr, rf = np.flatnonzero(~in_ref), np.flatnonzero(in_ref)
    rep = coverage_gap(vectors[tr], texts[tr].tolist(), ids[tr], vectors[rf], texts[rf].tolist(), ids[rf])
    under = rep.under()
    assert len(under) >= 1
    top = under.iloc[0]
    top_ref = rf[rep.ref_topic_id == top["topic_id"]]
    purity = held[top_ref].sum() / (top["train_rows"] + top["ref_rows"])
    held_of_top20 = held[rep.farthest["ref_row_id"].head(20).to_numpy()].mean()
    logging.getLogger(__name__).info("Law held out: top under-covered topic %r (%d train, %d ref), purity %.2f; "
                                     "Law share of the 20 farthest %.2f", top["label"], top["train_rows"],
                                     top["ref_rows"], purity, held_of_top20)
    assert purity > 0.5, (purity, under.head())
    assert held_of_top20 > 0.6, held_of_top20
    under_ref = rf[np.isin(rep.ref_topic_id, under["topic_id"])]
    assert held[under_ref].mean() > 0.8  # the under-covered topics as a whole are the Law questions
