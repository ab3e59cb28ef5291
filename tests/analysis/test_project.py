"""The 2-D map: UMAP shape and determinism, the PCA path, tiny inputs, and the workspace cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import project as proj
from analysis.project import ProjectionParams, project, projection_path, workspace_projection


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
