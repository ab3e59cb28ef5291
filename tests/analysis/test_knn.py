"""The workspace kNN index: exactness, HNSW recall, padding, persistence and caching, and real-model neighbours."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from analysis.space import knn
from analysis.space.knn import KnnIndex, knn_graph, neighbours, semantic_search, workspace_index, workspace_knn_graph

log = logging.getLogger(__name__)


def unit_vectors(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_top_k(db: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = queries @ db.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


def test_exact_index_matches_numpy_brute_force() -> None:
    db, queries = unit_vectors(2000), unit_vectors(300, seed=1)
    index = KnnIndex.build(db)
    assert index.exact and index.size == 2000
    pos, sims = index.search(queries, 10)
    want_pos, want_sims = brute_top_k(db, queries, 10)
    assert pos.dtype == np.int64 and sims.dtype == np.float32 and pos.shape == (300, 10)
    assert np.array_equal(pos, want_pos)
    np.testing.assert_allclose(sims, want_sims, atol=1e-5)
    assert (np.diff(sims, axis=1) <= 1e-6).all()  # best first


def test_vectors_are_normalised_so_scores_are_cosine() -> None:
    db = unit_vectors(500)
    scaled = db * np.random.default_rng(2).uniform(0.1, 10, (500, 1)).astype(np.float32)
    a_pos, a_sims = KnnIndex.build(db).search(db[:20], 5)
    b_pos, b_sims = KnnIndex.build(scaled).search(scaled[:20] * 3, 5)
    assert np.array_equal(a_pos, b_pos)
    np.testing.assert_allclose(a_sims, b_sims, atol=1e-5)


def test_hnsw_recall_at_10_against_exact() -> None:
    db = unit_vectors(5000, d=384, seed=3)  # random 384-d: the hardest case for a graph index
    exact = KnnIndex.build(db)
    hnsw = KnnIndex.build(db, exact_max=0)
    assert not hnsw.exact and hnsw.size == 5000
    want, _ = exact.search(db, 10)
    got, sims = hnsw.search(db, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)])
    log.info("HNSW recall@10 on 5k random 384-d rows: %.4f", recall)
    assert recall >= 0.95
    assert (np.diff(sims, axis=1) <= 1e-6).all()


def test_neighbours_exclude_self_even_with_an_exact_duplicate() -> None:
    db = unit_vectors(300)
    db[1] = db[0]  # a duplicate ties with row 0 itself
    index = KnnIndex.build(db)
    for pos in (0, 1, 7):
        nb = neighbours(index, db, pos, 5)
        assert len(nb) == 5 and pos not in [p for p, _ in nb]
        assert [s for _, s in nb] == sorted((s for _, s in nb), reverse=True)
    assert neighbours(index, db, 0, 5)[0][0] == 1 and neighbours(index, db, 0, 5)[0][1] == pytest.approx(1.0)
    assert neighbours(index, db, 3, 0) == []
    with pytest.raises(IndexError):
        neighbours(index, db, 300, 5)


def test_padding_when_k_exceeds_the_rows() -> None:
    db = unit_vectors(3)
    for index in (KnnIndex.build(db), KnnIndex.build(db, exact_max=0)):
        pos, sims = index.search(db[:1], 5)
        assert pos.shape == (1, 5)
        assert sorted(pos[0, :3].tolist()) == [0, 1, 2] and pos[0, 3:].tolist() == [-1, -1]
        assert np.isneginf(sims[0, 3:]).all() and np.isfinite(sims[0, :3]).all()
        assert len(neighbours(index, db, 0, 5)) == 2
        assert len(semantic_search(index, db[0], 5)) == 3
        g_pos, g_sims = knn_graph(index, db, 4)
        assert (g_pos[:, :2] >= 0).all() and (g_pos[:, 2:] == -1).all() and np.isneginf(g_sims[:, 2:]).all()


def test_empty_index_and_bad_dimension() -> None:
    empty = KnnIndex.build(np.zeros((0, 8), dtype=np.float32))
    pos, sims = empty.search(unit_vectors(2, d=8), 3)
    assert pos.shape == (2, 3) and (pos == -1).all()
    assert semantic_search(empty, unit_vectors(1, d=8)[0], 3) == []
    with pytest.raises(ValueError, match="dimension"):
        KnnIndex.build(unit_vectors(10)).search(unit_vectors(1, d=8), 3)


@pytest.mark.parametrize("exact_max", [50_000, 0], ids=["exact", "hnsw"])
def test_save_load_round_trip(tmp_path: Path, exact_max: int) -> None:
    db = unit_vectors(1000)
    index = KnnIndex.build(db, exact_max=exact_max)
    path = tmp_path / "sub" / "i.faiss"
    index.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["i.faiss"]  # no temp file left behind
    back = KnnIndex.load(path)
    assert (back.size, back.exact, back.dim) == (1000, index.exact, 64)
    a, b = index.search(db[:50], 10), back.search(db[:50], 10)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_workspace_index_is_reused_and_rebuilt_when_vectors_change(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db = unit_vectors(800)
    first = workspace_index(tmp_path, "hashing", "prompt", db)
    path = tmp_path / "index" / "hashing@prompt.faiss"
    assert path.exists() and path.with_suffix(".json").exists()

    real_build = KnnIndex.build.__func__  # type: ignore[attr-defined]

    def no_build(cls: type[KnnIndex], *args: object, **kwargs: object) -> KnnIndex:
        raise AssertionError("index rebuilt although the vectors did not change")

    monkeypatch.setattr(KnnIndex, "build", classmethod(no_build))
    again = workspace_index(tmp_path, "hashing", "prompt", db.copy())
    assert np.array_equal(again.search(db[:5], 5)[0], first.search(db[:5], 5)[0])

    builds: list[int] = []

    def counting_build(cls: type[KnnIndex], vectors: np.ndarray, **kwargs: object) -> KnnIndex:
        builds.append(len(vectors))
        return real_build(cls, vectors, **kwargs)

    monkeypatch.setattr(KnnIndex, "build", classmethod(counting_build))
    changed = db.copy()
    changed[17] = unit_vectors(1, seed=9)[0]  # one row re-embedded: same n, other content
    rebuilt = workspace_index(tmp_path, "hashing", "prompt", changed)
    assert builds == [800]
    assert rebuilt.search(changed[17:18], 1)[0][0, 0] == 17
    workspace_index(tmp_path, "hashing", "prompt", changed[:500])  # fewer rows
    assert builds == [800, 500]
    assert workspace_index(tmp_path, "hashing", "response", changed[:500]).size == 500  # scopes are separate
    assert builds == [800, 500, 500]

    path.write_bytes(b"not a faiss index")  # damaged file: rebuilt, not an exception
    assert workspace_index(tmp_path, "hashing", "prompt", changed[:500]).size == 500
    assert builds == [800, 500, 500, 500]


def test_knn_graph_shape_self_exclusion_and_symmetry() -> None:
    db = unit_vectors(1200, d=32)
    index = KnnIndex.build(db)
    pos, sims = knn_graph(index, db, 8, batch=256)
    assert pos.shape == (1200, 8) and sims.shape == (1200, 8)
    assert not (pos == np.arange(1200)[:, None]).any()
    assert (pos >= 0).all() and (np.diff(sims, axis=1) <= 1e-6).all()
    # each score is the cosine of its pair, so it reads the same from both ends
    np.testing.assert_allclose(sims, np.einsum("id,ikd->ik", db, db[pos]), atol=1e-5)
    edges = {(i, int(j)): s for i in range(1200) for j, s in zip(pos[i], sims[i], strict=True)}
    mutual = [(e, (e[1], e[0])) for e in edges if (e[1], e[0]) in edges]
    assert len(mutual) > 0.3 * len(edges)
    assert all(abs(edges[a] - edges[b]) < 1e-5 for a, b in mutual)
    # the batched graph equals per-row neighbours and a single-batch run
    for i in (0, 599, 1199):
        assert [p for p, _ in neighbours(index, db, i, 8)] == pos[i].tolist()
    assert np.array_equal(knn_graph(index, db, 8)[0], pos)
    with pytest.raises(ValueError, match="index holds"):
        knn_graph(index, db[:100], 8)


def test_hnsw_knn_graph_excludes_self() -> None:
    db = unit_vectors(2000, d=32)
    pos, _ = knn_graph(KnnIndex.build(db, exact_max=0), db, 10, batch=500)
    assert pos.shape == (2000, 10) and not (pos == np.arange(2000)[:, None]).any() and (pos >= 0).all()


def test_workspace_knn_graph_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = unit_vectors(600, d=32)
    seen: list[float] = []
    pos, sims = workspace_knn_graph(tmp_path, "hashing", "both", db, k=10, progress=lambda m, f: seen.append(f))
    assert seen and seen[-1] == 1.0
    assert (tmp_path / "index" / "hashing@both.knn10.npz").exists()

    def no_graph(*args: object, **kwargs: object) -> None:
        raise AssertionError("graph recomputed although cached")

    monkeypatch.setattr(knn, "knn_graph", no_graph)
    again = workspace_knn_graph(tmp_path, "hashing", "both", db, k=10)
    assert np.array_equal(again[0], pos) and np.array_equal(again[1], sims)
    smaller = workspace_knn_graph(tmp_path, "hashing", "both", db, k=4)  # served from k=10
    assert np.array_equal(smaller[0], pos[:, :4])

    monkeypatch.undo()
    changed = db.copy()
    changed[0] = -changed[0]
    new_pos, _ = workspace_knn_graph(tmp_path, "hashing", "both", changed, k=10)
    assert not np.array_equal(new_pos, pos)
    assert np.array_equal(new_pos, knn_graph(KnnIndex.build(changed), changed, 10)[0])
    assert [p.name for p in (tmp_path / "index").glob("*.npz")] == ["hashing@both.knn10.npz"]


def test_semantic_search_accepts_a_vector_or_a_row() -> None:
    db = unit_vectors(400)
    index = KnnIndex.build(db)
    hits = semantic_search(index, db[42], 3)
    assert hits[0][0] == 42 and hits[0][1] == pytest.approx(1.0, abs=1e-5) and len(hits) == 3
    assert semantic_search(index, db[42:43], 3) == hits


# ------------------------------------------------------------------------------------------------ the real model


@pytest.mark.slow
def test_truthfulqa_nearest_neighbour_shares_the_category(truthfulqa) -> None:
    vecs, cats = truthfulqa["vectors"], np.array(truthfulqa["categories"])
    index = workspace_index(truthfulqa["ws"], "all-MiniLM-L6-v2", "prompt", vecs)
    pos, _ = knn_graph(index, vecs, 1)
    agreement = float(np.mean(cats[pos[:, 0]] == cats))
    chance = sum((c / len(cats)) ** 2 for c in Counter(cats).values())
    log.info("TruthfulQA nearest-neighbour category agreement %.3f (chance %.3f)", agreement, chance)
    assert agreement > 0.4
    assert agreement > 5 * chance


@pytest.mark.slow
def test_semantic_search_finds_the_watermelon_question(truthfulqa, real_embedder) -> None:
    rows = truthfulqa["rows"]
    index = workspace_index(truthfulqa["ws"], real_embedder.name, "prompt", truthfulqa["vectors"])
    query = real_embedder(["Can you get sick from eating watermelon seeds?"])[0]
    hits = semantic_search(index, query, 3)
    prompts = [rows["prompt"].iloc[p] for p, _ in hits]
    assert any("watermelon seeds" in p for p in prompts), prompts
    assert hits[0][1] > 0.8
