"""Topics: planted clusters recovered, c-TF-IDF keywords, diversity math, drop shift, persistence, and the
TruthfulQA acceptance with the real model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import homogeneity_score, normalized_mutual_info_score

from analysis.space import topics as topics_mod
from analysis.space.embedders import HashingEmbedder
from analysis.space.topics import (
    TopicParams,
    TopicResult,
    auto_k,
    ctfidf_keywords,
    diversity,
    fit_topics,
    read_topics,
    topic_shift,
    write_topics,
)

VOCAB = [["telescope", "planet", "orbit"], ["recipe", "flour", "oven"], ["guitar", "chord", "melody"],
         ["court", "lawyer", "verdict"], ["python", "compiler", "syntax"]]
FILLER = ["question", "explain", "today", "general", "please", "thing"]


def planted(per: int = 60, dim: int = 384, seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    """5 well-separated blobs of unit vectors; each blob's texts use its own three words plus shared filler."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(VOCAB), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(len(VOCAB)), per)
    x = centres[truth] + rng.normal(size=(len(truth), dim)) * 0.6 / np.sqrt(dim)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    texts = [" ".join([*rng.choice(VOCAB[t], 2), *rng.choice(FILLER, 3), "common"]) for t in truth]
    return x, texts, truth


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, list[str], np.ndarray]:
    return planted()


@pytest.mark.parametrize("params", [TopicParams(method="kmeans", k=5), TopicParams(method="hdbscan"),
                                    TopicParams(method="agglomerative", k=5)], ids=lambda p: p.method)
def test_planted_clusters_recovered(blobs, params: TopicParams) -> None:
    x, texts, truth = blobs
    ids = np.arange(len(x)) + 1000
    res = fit_topics(x, texts, ids, params)
    assert normalized_mutual_info_score(truth, res.topic_id) > 0.9
    assert (res.topic_id >= 0).all()  # every row gets a topic
    assert res.topics["size"].sum() == len(x) and np.isclose(res.topics["share"].sum(), 1.0)
    assert list(res.topics.columns) == ["id", "label", "keywords", "size", "share", "examples"]
    assert res.topics["id"].tolist() == list(range(len(res.topics)))
    assert res.topics["size"].is_monotonic_decreasing  # id 0 = largest
    for t in res.topics.itertuples():
        blob = np.bincount(truth[res.topic_id == t.id]).argmax()
        assert set(t.keywords[:3]) == set(VOCAB[blob])  # the blob's distinctive words lead its label
        assert t.label == " · ".join(t.keywords[:4])
        assert 1 <= len(t.examples) <= 5 and all(res.topic_id[e - 1000] == t.id for e in t.examples)


def test_auto_k_rule_splits_but_never_merges(blobs) -> None:
    x, texts, truth = blobs
    assert [auto_k(n) for n in (1, 3, 10, 300, 817, 100_000)] == [1, 3, 5, 12, 20, 60]
    res = fit_topics(x, texts, np.arange(len(x)))
    assert res.params["k_used"] == 12 and len(res.topics) == 12
    assert homogeneity_score(truth, res.topic_id) > 0.95  # each topic inside one blob


def test_seeded_topics_are_deterministic(blobs) -> None:
    x, texts, _ = blobs
    a = fit_topics(x, texts, np.arange(len(x)), TopicParams(k=7, seed=3))
    b = fit_topics(x, texts, np.arange(len(x)), TopicParams(k=7, seed=3))
    assert np.array_equal(a.topic_id, b.topic_id) and a.topics.equals(b.topics)


def test_hdbscan_noise_assigned_or_counted(blobs, monkeypatch: pytest.MonkeyPatch) -> None:
    """HDBSCAN's noise (-1) goes to the nearest centroid, or stays -1 and is counted as unassigned."""
    x, texts, truth = blobs
    noise_rows = np.arange(0, len(x), 7)  # every 7th row, from every blob

    def fake_hdbscan(vectors: np.ndarray, min_cluster_size: int, seed: int) -> np.ndarray:
        labels = truth.copy()
        labels[noise_rows] = -1
        return labels

    monkeypatch.setattr(topics_mod, "_hdbscan", fake_hdbscan)
    kept = fit_topics(x, texts, np.arange(len(x)), TopicParams(method="hdbscan", assign_noise=False))
    assert np.flatnonzero(kept.topic_id == -1).tolist() == noise_rows.tolist()
    assert kept.params["unassigned"] == len(noise_rows) == diversity(kept.topic_id)["unassigned"]
    assert kept.topics["size"].sum() == len(x) - len(noise_rows)
    assigned = fit_topics(x, texts, np.arange(len(x)), TopicParams(method="hdbscan", assign_noise=True))
    assert (assigned.topic_id >= 0).all() and assigned.params["unassigned"] == 0
    assert normalized_mutual_info_score(truth, assigned.topic_id) == pytest.approx(1.0)  # each to its own blob
    monkeypatch.setattr(topics_mod, "_hdbscan", lambda v, m, s: np.full(len(v), -1))
    assert (fit_topics(x, texts, np.arange(len(x)), TopicParams(method="hdbscan")).topic_id == 0).all()
    assert (fit_topics(x, texts, np.arange(len(x)), TopicParams(method="hdbscan", assign_noise=False)).topic_id
            == -1).all()


def test_tiny_and_degenerate_inputs() -> None:
    emb = HashingEmbedder(dim=64)
    texts = ["a cat", "a dog", "the sun"]
    x = emb(texts)
    for params in (TopicParams(), TopicParams(method="agglomerative"), TopicParams(method="hdbscan")):
        res = fit_topics(x, texts, np.arange(3), params)
        assert (res.topic_id >= 0).all() and res.topics["size"].sum() == 3
    empty = fit_topics(np.zeros((0, 64), np.float32), [], np.zeros(0, np.int64))
    assert len(empty.topic_id) == 0 and empty.topics.empty
    stop = fit_topics(emb(["the", "a", "of"]), ["the", "a", "of"], np.arange(3), TopicParams(k=2))
    assert stop.topics["label"].str.startswith("topic ").all()  # no vocabulary left: a neutral label
    with pytest.raises(ValueError, match="align"):
        fit_topics(x, texts[:2], np.arange(3))
    with pytest.raises(ValueError, match="unknown topic method"):
        TopicParams(method="lda")


def test_hashing_embedder_topics_follow_vocabulary() -> None:
    """The deterministic fake embedder: texts sharing words end up together."""
    rng = np.random.default_rng(1)
    truth = np.repeat(np.arange(5), 30)
    texts = [" ".join(rng.choice(VOCAB[t], 3)) + " " + " ".join(rng.choice(VOCAB[t], 2)) for t in truth]
    x = HashingEmbedder(dim=256)(texts)
    res = fit_topics(x, texts, np.arange(len(texts)), TopicParams(k=5))
    assert normalized_mutual_info_score(truth, res.topic_id) > 0.9


def test_ctfidf_keywords_math() -> None:
    texts = ["apple banana apple", "apple cherry", "banana date", "date date elder"]
    labels = np.array([0, 0, 1, 1])
    kw = ctfidf_keywords(texts, labels, 3)
    # class 0: apple 3, banana 1, cherry 1 (+ bigrams); class 1: banana 1, date 3, elder 1
    assert kw[0][0] == "apple" and kw[1][0] == "date"
    assert "banana" not in kw[0][:2] and "banana" not in kw[1][:2]  # shared by both classes: down-weighted
    assert set(kw) == {0, 1} and all(len(v) <= 3 for v in kw.values())
    noisy = ctfidf_keywords(texts + ["zebra zebra"], np.array([0, 0, 1, 1, -1]), 2)
    assert set(noisy) == {0, 1}  # noise is no topic of its own
    assert ctfidf_keywords(["the of", "and"], np.array([0, 1]), 3) == {0: [], 1: []}
    assert "the" not in ctfidf_keywords(["the cat sat", "the dog ran"], np.array([0, 1]), 5)[0]


def test_ctfidf_skips_repeated_words() -> None:
    texts = ["new york city", "new york pizza", "new york subway", "tokyo sushi", "tokyo tower"]
    kw = ctfidf_keywords(texts, np.array([0, 0, 0, 1, 1]), 4)
    words = [w for term in kw[0] for w in term.split()]
    assert len(words) == len(set(words))


def test_diversity_hand_computed() -> None:
    uniform = diversity(np.repeat([0, 1, 2, 3], 5))
    assert uniform["n_topics"] == 4 and uniform["effective_topics"] == pytest.approx(4.0)
    assert uniform["largest_share"] == pytest.approx(0.25) and uniform["sizes"] == {0: 5, 1: 5, 2: 5, 3: 5}
    one = diversity(np.zeros(9, dtype=int))
    assert one["n_topics"] == 1 and one["effective_topics"] == pytest.approx(1.0) and one["largest_share"] == 1.0
    # shares 1/2, 1/4, 1/4: H = ln 2 / 2 + 2 * ln 4 / 4 = 1.5 ln 2, exp(H) = 2^1.5
    skewed = diversity(np.array([0, 0, 1, 2, -1, -1]))
    assert skewed["effective_topics"] == pytest.approx(2 ** 1.5) and skewed["largest_share"] == pytest.approx(0.5)
    assert skewed["unassigned"] == 2 and skewed["sizes"] == {0: 2, 1: 1, 2: 1}
    kept = diversity(np.array([0, 0, 1, 2, 3, 3]), keep=np.array([True, False, True, True, True, False]))
    assert kept["effective_topics"] == pytest.approx(4.0) and kept["n_rows"] == 4
    none = diversity(np.array([-1, -1]))
    assert none["n_topics"] == 0 and none["effective_topics"] == 0.0 and none["unassigned"] == 2
    with pytest.raises(ValueError, match="boolean mask"):
        diversity(np.array([0, 1]), keep=np.array([0, 1]))


def test_topic_shift_counts() -> None:
    tid = np.array([0, 0, 0, 0, 1, 1, 2, -1])
    dropped = np.array([True, True, False, False, True, True, False, True])
    df = topic_shift(tid, dropped, {0: "zero", 1: "one", 2: "two"})
    assert list(df.columns) == ["id", "label", "before", "after", "lost", "lost_share"]
    rows = {r.id: (r.label, r.before, r.after, r.lost, r.lost_share) for r in df.itertuples()}
    assert rows == {0: ("zero", 4, 2, 2, 0.5), 1: ("one", 2, 0, 2, 1.0), 2: ("two", 1, 1, 0, 0.0),
                    -1: ("unassigned", 1, 0, 1, 1.0)}
    assert df["lost"].tolist() == [2, 2, 1, 0] and df["id"].tolist()[:2] == [0, 1]  # lost desc, ties by id
    with pytest.raises(ValueError, match="boolean mask"):
        topic_shift(tid, np.array([0, 1]), {})


def test_params_key_stable() -> None:
    assert TopicParams().key() == "kmeans-kauto-s42-w6"
    assert TopicParams(method="hdbscan", min_cluster_size=5, assign_noise=False).key() == "hdbscan-m5-s42-noise-w6"
    assert len({TopicParams(k=k).key() for k in (None, 5, 6)}) == 3


def test_write_read_round_trip(tmp_path: Path, blobs) -> None:
    x, texts, _ = blobs
    ids = np.arange(len(x), dtype=np.int64) * 3
    res = fit_topics(x, texts, ids, TopicParams(k=5))
    path = write_topics(tmp_path, ids, res, model="hashing", scope="prompt")
    assert path == tmp_path / "topics.parquet"
    table = pq.read_table(path)
    assert table.column_names == ["row_id", "topic_id", "topic_label"]
    df = table.to_pandas()
    assert df["row_id"].tolist() == ids.tolist() and df["topic_id"].tolist() == res.topic_id.tolist()
    labels = dict(zip(res.topics["id"], res.topics["label"], strict=True))
    assert df["topic_label"].tolist() == [labels[t] for t in res.topic_id]
    meta = json.loads((tmp_path / "topics.json").read_text())
    assert meta["model"] == "hashing" and meta["scope"] == "prompt" and meta["params"]["k_used"] == 5
    assert not list(tmp_path.glob(".*.tmp"))
    back = read_topics(tmp_path)
    assert isinstance(back, TopicResult)
    assert np.array_equal(back.topic_id, res.topic_id) and np.array_equal(back.row_ids, ids)
    pd.testing.assert_frame_equal(back.topics, res.topics, check_dtype=False)
    assert back.params["model"] == "hashing" and back.params["method"] == "kmeans"


def test_unassigned_written_and_missing_read(tmp_path: Path) -> None:
    assert read_topics(tmp_path) is None
    tid = np.array([0, -1, 0])
    res = TopicResult(tid, pd.DataFrame({"id": [0], "label": ["a · b"], "keywords": [["a", "b"]], "size": [2],
                                         "share": [2 / 3], "examples": [[0, 2]]}), {"method": "hdbscan"})
    write_topics(tmp_path, np.array([5, 6, 7]), res, model="m", scope="both")
    assert pq.read_table(tmp_path / "topics.parquet").column("topic_label").to_pylist() == ["a · b", "unassigned",
                                                                                           "a · b"]
    (tmp_path / "topics.json").write_text("{broken")
    assert read_topics(tmp_path) is None


@pytest.mark.slow
@pytest.mark.parametrize("method", ["kmeans", "hdbscan"])
def test_truthfulqa_topics_acceptance(truthfulqa, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                      method: str) -> None:
    """Every row gets a topic, at least 5 topics, NMI vs the 38 human categories above 0.3 (bench: 0.49 / 0.47)."""
    rows, vectors, cats = truthfulqa["rows"], truthfulqa["vectors"], truthfulqa["categories"]
    caplog.set_level(logging.INFO)
    res = fit_topics(vectors, rows["prompt"].tolist(), rows["row_id"].to_numpy(), TopicParams(method=method))
    nmi = normalized_mutual_info_score(cats, res.topic_id)
    logging.getLogger(__name__).info("TruthfulQA %s: %d topics, NMI %.3f", method, len(res.topics), nmi)
    assert (res.topic_id >= 0).all() and len(res.topic_id) == 817
    assert len(res.topics) >= 5
    assert nmi > 0.3, nmi
    assert all(len(k) > 0 for k in res.topics["keywords"])
    law = [t for t in res.topics.itertuples() if {"legal", "illegal"} & set(t.keywords)]
    assert law, res.topics["label"].tolist()  # a readable label for the questions about laws
    write_topics(tmp_path, rows["row_id"].to_numpy(), res, model="all-MiniLM-L6-v2", scope="prompt")
    assert read_topics(tmp_path).topic_id.tolist() == res.topic_id.tolist()


# ---------------------------------------------------------------- sampled k-means (fit_sample)


def test_fit_sample_key_keeps_the_old_key() -> None:
    assert TopicParams(fit_sample=None).key() == "kmeans-kauto-s42-w6"  # topics.json written before stays valid
    assert TopicParams(fit_sample=20_000).key() == "kmeans-kauto-s42-fit20000-w6"
    assert TopicParams(method="hdbscan", fit_sample=100).key() == TopicParams(method="hdbscan").key()  # kmeans only
    with pytest.raises(ValueError, match="fit_sample"):
        TopicParams(fit_sample=0)


def test_sampled_kmeans_recovers_planted_topics_and_assigns_every_row(blobs, monkeypatch: pytest.MonkeyPatch
                                                                      ) -> None:
    from sklearn.cluster import KMeans

    x, texts, truth = blobs  # 300 rows
    fitted_on: list[int] = []
    real_fit = KMeans.fit

    def record(self: KMeans, data: np.ndarray, *args: object, **kwargs: object) -> KMeans:
        fitted_on.append(len(data))
        return real_fit(self, data, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", record)
    params = TopicParams(k=5, fit_sample=60)
    a = fit_topics(x, texts, np.arange(len(x)), params)
    b = fit_topics(x, texts, np.arange(len(x)), params)
    assert fitted_on == [60, 60]  # fitted on the sample, not on all 300 rows
    fit_topics(x, texts, np.arange(len(x)), TopicParams(k=5))
    assert fitted_on[-1] == len(x)  # (the spy sees a full fit too)
    assert np.array_equal(a.topic_id, b.topic_id)  # deterministic for a seed
    assert (a.topic_id >= 0).all() and a.topics["size"].sum() == len(x)
    assert normalized_mutual_info_score(truth, a.topic_id) > 0.95
    # every row is in the topic whose centroid is nearest (what the assignment promises)
    assert (np.argmax(x @ a.centroids.T, axis=1) == a.topic_id).mean() > 0.99
    assert a.params["fit_sample"] == 60


def test_fit_sample_not_used_when_all_rows_fit(blobs) -> None:
    x, texts, _ = blobs
    exact = fit_topics(x, texts, np.arange(len(x)), TopicParams(k=5))
    same = fit_topics(x, texts, np.arange(len(x)), TopicParams(k=5, fit_sample=len(x)))
    assert np.array_equal(exact.topic_id, same.topic_id)
