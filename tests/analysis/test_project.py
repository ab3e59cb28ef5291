"""The 2-D map: UMAP shape and determinism, the PCA path, tiny inputs, and the workspace cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.space import projection as proj
from analysis.space.projection import ProjectionParams, project, projection_path, workspace_projection


def _blobs(n_per: int = 40, k: int = 4, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    x = np.repeat(centres, n_per, axis=0) + rng.normal(size=(k * n_per, dim)) * 0.3
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_shape_dtype_and_seeded_runs_are_identical() -> None:
    x = _blobs()
    a = project(x, ProjectionParams(seed=7))
    b = project(x, ProjectionParams(seed=7))
    assert a.shape == (len(x), 2) and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.array_equal(a, b)


def test_unseeded_run_works() -> None:
    out = project(_blobs(n_per=15), ProjectionParams(seed=None))
    assert out.shape == (60, 2) and np.isfinite(out).all()


def test_clusters_stay_apart_on_the_map() -> None:
    x = _blobs(n_per=40, k=4)
    xy = project(x)
    labels = np.repeat(np.arange(4), 40)
    centres = np.stack([xy[labels == c].mean(axis=0) for c in range(4)])
    spread = max(np.linalg.norm(xy[labels == c] - centres[c], axis=1).mean() for c in range(4))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(4) for j in range(i + 1, 4)]
    assert min(gaps) > 2 * spread


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6])
def test_tiny_inputs_do_not_crash(n: int) -> None:
    x = _blobs(n_per=2, k=3)[:n]
    out = project(x)
    assert out.shape == (n, 2) and out.dtype == np.float32 and np.isfinite(out).all()


def test_pca_path_taken_above_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    real = proj._pca

    def spy(vectors: np.ndarray, n_components: int, seed: int | None) -> np.ndarray:
        calls.append((vectors.shape[0], n_components))
        return real(vectors, n_components, seed)

    monkeypatch.setattr(proj, "_pca", spy)
    x = _blobs(n_per=20)  # 80 rows, 64 dims
    project(x, ProjectionParams(pca_above=100, pca_dims=10))
    assert calls == []
    out = project(x, ProjectionParams(pca_above=50, pca_dims=10))
    assert calls == [(80, 10)] and out.shape == (80, 2)


def test_key_is_stable_and_distinguishes_params() -> None:
    assert ProjectionParams().key() == ProjectionParams().key() == "umap-n15-d0.1-s42-pca20000x50"
    keys = {ProjectionParams(n_neighbors=30).key(), ProjectionParams(min_dist=0.5).key(),
            ProjectionParams(seed=None).key(), ProjectionParams(pca_above=1000).key(),
            ProjectionParams(pca_dims=20).key()}
    assert len(keys) == 5 and all("/" not in k and " " not in k for k in keys)


def test_workspace_cache_reused_and_invalidated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = _blobs(n_per=15)
    ids = np.arange(len(x), dtype=np.int64) * 2
    messages: list[str] = []
    first = workspace_projection(tmp_path, "m", "prompt", x, ids, progress=lambda msg, _f: messages.append(msg))
    path = projection_path(tmp_path, "m", "prompt")
    assert path == tmp_path / "projection" / f"m@prompt@{ProjectionParams().key()}.parquet" and path.exists()
    assert list(first.columns) == ["row_id", "x", "y"] and first["row_id"].tolist() == ids.tolist()
    assert not list(path.parent.glob(".*.tmp"))  # atomic write left no temp file

    def boom(*_a: object, **_k: object) -> np.ndarray:
        raise AssertionError("projection recomputed although cached")

    monkeypatch.setattr(proj, "project", boom)
    again = workspace_projection(tmp_path, "m", "prompt", x, ids, progress=lambda msg, _f: messages.append(msg))
    pd.testing.assert_frame_equal(first, again)
    assert messages[-1].endswith("cached")

    with pytest.raises(AssertionError, match="recomputed"):  # other row ids: the cache is not trusted
        workspace_projection(tmp_path, "m", "prompt", x, ids + 1)
    with pytest.raises(AssertionError, match="recomputed"):  # other params: another file
        workspace_projection(tmp_path, "m", "prompt", x, ids, ProjectionParams(n_neighbors=5))
    monkeypatch.undo()
    fresh = workspace_projection(tmp_path, "m", "prompt", x, ids + 1)
    assert fresh["row_id"].tolist() == (ids + 1).tolist()


def test_damaged_cache_is_recomputed(tmp_path: Path) -> None:
    x = _blobs(n_per=10)
    ids = np.arange(len(x))
    path = projection_path(tmp_path, "m", "both")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet")
    out = workspace_projection(tmp_path, "m", "both", x, ids)
    assert len(out) == len(x) and np.isfinite(out[["x", "y"]].to_numpy()).all()


def test_misaligned_inputs_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="row ids"):
        workspace_projection(tmp_path, "m", "prompt", _blobs(n_per=5), np.arange(3))


# ---------------------------------------------------------------- sample and place (fit_sample)


def test_fit_sample_key_keeps_the_old_key_and_validates() -> None:
    assert ProjectionParams(fit_sample=None).key() == "umap-n15-d0.1-s42-pca20000x50"  # old caches stay valid
    assert ProjectionParams(fit_sample=10_000).key() == "umap-n15-d0.1-s42-pca20000x50-fit10000"
    assert ProjectionParams(fit_sample=500).key() != ProjectionParams(fit_sample=600).key()
    with pytest.raises(ValueError, match="fit_sample"):
        ProjectionParams(fit_sample=2)


def test_nearest_rows_is_exact_with_ties_to_the_lower_position() -> None:
    rng = np.random.default_rng(3)
    queries, base = rng.normal(size=(700, 6)).astype(np.float32), rng.normal(size=(90, 6)).astype(np.float32)
    base[40] = base[11]  # an exact tie: the lower position comes first
    queries[5] = base[11]
    pos, dist = proj.nearest_rows(queries, base, 4, block=128)  # several blocks, the last one partial
    full = ((queries[:, None, :].astype(np.float64) - base[None, :, :]) ** 2).sum(-1)
    expected = np.argsort(full, axis=1, kind="stable")[:, :4]
    assert np.array_equal(pos, expected)
    np.testing.assert_allclose(dist, np.sqrt(np.take_along_axis(full, expected, axis=1)), atol=1e-5)
    assert pos[5, :2].tolist() == [11, 40] and dist[5, 0] == 0.0


def test_sampled_rows_keep_the_fitted_layout_and_runs_are_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    fits: list[tuple[np.ndarray, np.ndarray]] = []
    real = proj._umap

    def spy(x: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        out = real(x, *args, **kwargs)
        fits.append((x.copy(), out.copy()))
        return out

    monkeypatch.setattr(proj, "_umap", spy)
    x = _blobs(n_per=60, k=4)  # 240 rows
    params = ProjectionParams(seed=7, fit_sample=80)
    a, b = project(x, params), project(x, params)
    assert a.shape == (240, 2) and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.array_equal(a, b)
    fit = proj.fit_sample_rows(240, 80, 7)
    assert len(fit) == 80 and len(set(fit.tolist())) == 80 and np.array_equal(fit, np.sort(fit))
    # UMAP saw exactly the sampled rows, and they sit exactly where it put them
    assert len(fits) == 2 and np.array_equal(fits[0][0], x[fit]) and np.array_equal(a[fit], fits[0][1])
    assert not np.array_equal(proj.fit_sample_rows(240, 80, 8), fit)  # another seed, another sample


def test_fit_sample_not_used_when_all_rows_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _blobs(n_per=15)
    exact = project(x, ProjectionParams(seed=3))
    monkeypatch.setattr(proj, "_sample_and_place", lambda *a, **k: pytest.fail("sampled although n <= fit_sample"))
    assert np.array_equal(project(x, ProjectionParams(seed=3, fit_sample=len(x))), exact)


def test_placed_rows_land_in_their_own_cluster() -> None:
    k, n_per = 5, 80
    x = _blobs(n_per=n_per, k=k, seed=1)
    labels = np.repeat(np.arange(k), n_per)
    params = ProjectionParams(seed=0, fit_sample=100)
    xy = project(x, params)
    fit = proj.fit_sample_rows(len(x), 100, 0)
    placed = np.setdiff1d(np.arange(len(x)), fit)
    assert len(np.unique(labels[fit])) == k  # every cluster is in the sample
    centres = np.stack([xy[fit][labels[fit] == c].mean(axis=0) for c in range(k)])
    nearest = np.argmin(((xy[placed][:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels[placed]).mean() >= 0.99
    # a placed row is near its own cluster's sampled rows, not in the gaps between clusters
    spread = max(np.linalg.norm(xy[fit][labels[fit] == c] - centres[c], axis=1).max() for c in range(k))
    assert np.linalg.norm(xy[placed] - centres[labels[placed]], axis=1).max() <= 1.5 * spread


def test_pca_then_sample_places_in_the_pca_space(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    real = proj._umap

    def spy(x: np.ndarray, n_components: int, params: ProjectionParams, metric: str,
            knn: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        calls.append(x.shape)
        assert metric == "euclidean" and knn is not None and knn[0].shape == (60, 15)
        assert (knn[0][:, 0] == np.arange(60)).all() and (knn[1][:, 0] == 0).all()  # itself first, at distance 0
        return real(x, n_components, params, metric, knn)

    monkeypatch.setattr(proj, "_umap", spy)
    x = _blobs(n_per=50, k=4)  # 200 rows, 64 dims
    out = project(x, ProjectionParams(pca_above=100, pca_dims=10, fit_sample=60))
    assert calls == [(60, 10)] and out.shape == (200, 2) and np.isfinite(out).all()


def _knn_kept(vectors: np.ndarray, xy: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest neighbours by cosine that are also among its k nearest on the map."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    a, b = np.argpartition(-sims, k, axis=1)[:, :k], np.argpartition(d, k, axis=1)[:, :k]
    return float(np.mean([len(set(p) & set(q)) / k for p, q in zip(a, b, strict=True)]))


@pytest.mark.slow
def test_sampled_map_keeps_neighbourhoods_on_truthfulqa(truthfulqa) -> None:
    """Real MiniLM vectors of 817 questions: a map fitted on 300 of them keeps most of the neighbourhoods the full
    map keeps, far above a shuffled layout (measured: full 0.44, sampled 0.23, shuffled 0.01; at 100k rows with
    10% sampled the sample-and-place map keeps more kNN@10 than the full one: bench/README.md)."""
    v = np.asarray(truthfulqa["vectors"])
    full = project(v, ProjectionParams(seed=42))
    sampled = project(v, ProjectionParams(seed=42, fit_sample=300))
    kept_full, kept_sampled = _knn_kept(v, full), _knn_kept(v, sampled)
    shuffled = _knn_kept(v, sampled[np.random.default_rng(0).permutation(len(v))])
    assert kept_sampled >= 0.4 * kept_full and kept_sampled > 10 * shuffled, (kept_full, kept_sampled, shuffled)


def test_when_the_map_is_sampled() -> None:
    from analysis.space.pipeline import (
        ACCURATE_SAMPLE_ABOVE,
        INSTANT_SAMPLE_ABOVE,
        MAP_FIT_SAMPLE,
        TOPIC_FIT_SAMPLE,
        fit_samples,
    )

    static, onnx = "all-MiniLM-L6-v2-static", "all-MiniLM-L6-v2-onnx"
    assert fit_samples(INSTANT_SAMPLE_ABOVE, static, None) == (None, None)  # small enough: exact, old cache key
    assert fit_samples(INSTANT_SAMPLE_ABOVE + 1, static, None) == (MAP_FIT_SAMPLE, TOPIC_FIT_SAMPLE)
    assert fit_samples(ACCURATE_SAMPLE_ABOVE, onnx, None) == (None, None)  # the accurate map stays exact to 100k
    assert fit_samples(ACCURATE_SAMPLE_ABOVE + 1, onnx, None) == (MAP_FIT_SAMPLE, TOPIC_FIT_SAMPLE)
    assert fit_samples(1_000_000, static, 0) == (None, None)  # --map-sample 0: every row
    assert fit_samples(50_000, onnx, 5_000) == (5_000, TOPIC_FIT_SAMPLE)
    assert fit_samples(15_000, onnx, 5_000) == (5_000, None)  # k-means fits whole below its own sample size
    assert fit_samples(4_000, static, 5_000) == (None, None)
