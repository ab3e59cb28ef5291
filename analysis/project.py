"""2-D map of the embeddings (UMAP, cosine), cached in the workspace per model, scope and parameters.

UMAP keeps local neighbourhoods, which is what the Map page is for: points that sit together are examples the
embedder finds similar, so a lasso picks a coherent region. Above `pca_above` rows the vectors are first reduced
with PCA: the nearest-neighbour search and the layout then work in 50 dimensions instead of 384, which is several
times faster at 100k rows and keeps most of the variance of sentence embeddings. umap-learn and scikit-learn are
imported lazily (numba's import alone takes seconds).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.fsutil import atomic_path

log = logging.getLogger(__name__)

PROJECTION_DIR = "projection"
MIN_UMAP_ROWS = 5  # below this UMAP's spectral init and k-NN graph are degenerate: a PCA layout is used instead
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ProjectionParams:
    """UMAP settings; every field goes into the cache key, so a change recomputes the layout.

    seed=None lets UMAP run its k-NN search and optimisation on all cores, but the layout then changes from run
    to run; a fixed seed is single-threaded and reproducible.
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    seed: int | None = 42
    pca_above: int = 20_000
    pca_dims: int = 50

    def key(self) -> str:
        """Short, stable, file-name-safe: `umap-n15-d0.1-s42-pca20000x50`."""
        seed = "none" if self.seed is None else str(self.seed)
        return f"umap-n{self.n_neighbors}-d{self.min_dist:g}-s{seed}-pca{self.pca_above}x{self.pca_dims}"


def _pca(vectors: np.ndarray, n_components: int, seed: int | None) -> np.ndarray:
    from sklearn.decomposition import PCA

    n_components = max(1, min(n_components, vectors.shape[0], vectors.shape[1]))
    solver = "randomized" if n_components < min(vectors.shape) else "full"
    pca = PCA(n_components=n_components, svd_solver=solver, random_state=0 if seed is None else seed)
    return pca.fit_transform(vectors).astype(np.float32)


def _tiny_layout(vectors: np.ndarray, n_components: int) -> np.ndarray:
    """Fewer than MIN_UMAP_ROWS points: the top principal directions, padded with zeros (deterministic)."""
    n = vectors.shape[0]
    out = np.zeros((n, n_components), dtype=np.float32)
    if n < 2:
        return out
    centered = vectors - vectors.mean(axis=0, keepdims=True)
    u, s, _ = np.linalg.svd(centered, full_matrices=False)
    coords = u * s
    m = min(n_components, coords.shape[1])
    out[:, :m] = coords[:, :m]
    return out


def reduce(vectors: np.ndarray, n_components: int = 2, params: ProjectionParams = ProjectionParams()) -> np.ndarray:
    """UMAP to `n_components` dimensions (2 for the map, 5 for HDBSCAN topics); (n, n_components) float32.

    The unit vectors are compared by cosine. After PCA the reduced vectors are compared by Euclidean distance:
    for unit vectors ||a - b||^2 = 2 - 2 cos(a, b), and PCA is an orthogonal projection that approximately keeps
    Euclidean distances, whereas the cosine of centred PCA coordinates is a different geometry.
    """
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {x.shape}")
    n = x.shape[0]
    if n < MIN_UMAP_ROWS:
        return _tiny_layout(x, n_components)
    metric = "cosine"
    if n > params.pca_above and x.shape[1] > params.pca_dims:
        log.info("PCA %d -> %d dims before UMAP (%d rows > %d)", x.shape[1], params.pca_dims, n, params.pca_above)
        x = _pca(x, params.pca_dims, params.seed)
        metric = "euclidean"
    import umap

    n_neighbors = max(2, min(params.n_neighbors, n - 1))
    reducer = umap.UMAP(n_components=n_components, n_neighbors=n_neighbors, min_dist=params.min_dist,
                        metric=metric, random_state=params.seed, n_jobs=1 if params.seed is not None else -1,
                        init="spectral" if n > n_components + 1 + n_neighbors else "random")
    with warnings.catch_warnings():
        # "n_jobs value 1 overridden to 1 by setting random_state" and spectral-init fallbacks are expected here
        warnings.filterwarnings("ignore", category=UserWarning, module="umap")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="umap")
        out = reducer.fit_transform(x)
    return np.ascontiguousarray(out, dtype=np.float32)


def project(vectors: np.ndarray, params: ProjectionParams = ProjectionParams()) -> np.ndarray:
    """The 2-D map layout of `vectors` (unit embeddings): (n, 2) float32, aligned with the input rows."""
    start = time.monotonic()
    out = reduce(vectors, 2, params)
    log.info("projected %d rows with %s in %.1fs", len(out), params.key(), time.monotonic() - start)
    return out


def projection_path(ws_dir: Path, model: str, scope: str, params: ProjectionParams = ProjectionParams()) -> Path:
    return Path(ws_dir) / PROJECTION_DIR / f"{model}@{scope}@{params.key()}.parquet"


def _read_cached(path: Path, row_ids: np.ndarray) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:  # a damaged cache is recomputed, never trusted
        log.warning("ignoring unreadable projection cache %s: %s", path, exc)
        return None
    df = table.to_pandas()
    if list(df.columns) != ["row_id", "x", "y"] or not np.array_equal(df["row_id"].to_numpy(), row_ids):
        return None
    return df


def workspace_projection(ws_dir: Path, model: str, scope: str, vectors: np.ndarray, row_ids: np.ndarray,
                         params: ProjectionParams = ProjectionParams(), progress: Progress | None = None
                         ) -> pd.DataFrame:
    """`row_id, x, y` for every row, read from `<ws>/projection/<model>@<scope>@<key>.parquet` when it was computed
    for exactly these row ids, else computed with `project` and written atomically."""
    row_ids = np.asarray(row_ids, dtype=np.int64)
    if len(row_ids) != len(vectors):
        raise ValueError(f"{len(row_ids)} row ids for {len(vectors)} vectors")
    path = projection_path(ws_dir, model, scope, params)
    cached = _read_cached(path, row_ids)
    if cached is not None:
        if progress:
            progress(f"map {model}@{scope}: cached", 1.0)
        return cached
    if progress:
        progress(f"map {model}@{scope}: UMAP of {len(row_ids):,} rows", 0.0)
    xy = project(vectors, params)
    df = pd.DataFrame({"row_id": row_ids, "x": xy[:, 0], "y": xy[:, 1]})
    table = pa.Table.from_pandas(df, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    if progress:
        progress(f"map {model}@{scope}: done", 1.0)
    return df
