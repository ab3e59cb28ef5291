"""2-D map of the embeddings (UMAP, cosine), cached in the workspace per model, scope and parameters.

UMAP keeps local neighbourhoods, which is what the Map page is for: points that sit together are examples the
embedder finds similar, so a lasso picks a coherent region. Above `pca_above` rows the vectors are first reduced
with PCA: the nearest-neighbour search and the layout then work in 50 dimensions instead of 384, which is several
times faster at 100k rows and keeps most of the variance of sentence embeddings. umap-learn and scikit-learn are
imported lazily (numba's import alone takes seconds).

Sample and place (`ProjectionParams.fit_sample`): UMAP's cost grows with n and, seeded, runs on one thread, so a
100k-row map took 2.5-6 minutes on 2 cores, too slow for the instant embedder's first look. Above `fit_sample`
rows UMAP is fitted on a seeded uniform sample and every other row is placed at the inverse-distance-weighted mean
position of its PLACE_K nearest sampled rows, found exactly in the same (PCA) space UMAP saw. A uniform sample
keeps every region in proportion to its size, so a placed row lands inside the island of the rows it resembles;
what is lost is the wider arrangement inside a region (it comes from the sampled rows only). At 100k rows with a
10k sample the map kept more of each row's 10 nearest neighbours than the full fit and was 4x faster
(bench/README.md "First map of 100k rows"). umap-learn's own `transform` starts from the same weighted mean and
then optimises every new point through pynndescent's index (whose numba compilation alone is ~25 s in a fresh
process); the plain mean is cheap and exact. Sampled rows keep their fitted positions, and the result is a pure
function of the vectors and the seed.
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

from analysis.util.files import atomic_path
from analysis.util.progress import heartbeat, report

log = logging.getLogger(__name__)

PROJECTION_DIR = "projection"
MIN_UMAP_ROWS = 5  # below this UMAP's spectral init and k-NN graph are degenerate: a PCA layout is used instead
PLACE_K = 5  # sampled neighbours a placed row is averaged over (fewer: noisier; more: pulled between islands)
_PLACE_BLOCK = 2048  # query rows per block of the exact placement kNN: one 2048 x fit_sample float32 matrix at a time
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ProjectionParams:
    """UMAP settings; every field goes into the cache key, so a change recomputes the layout.

    seed=None lets UMAP run its k-NN search and optimisation on all cores, but the layout then changes from run
    to run; a fixed seed is single-threaded and reproducible. fit_sample=N fits UMAP on N sampled rows and places
    the rest (module docstring) when there are more than N rows; None fits on every row.
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    seed: int | None = 42
    pca_above: int = 20_000
    pca_dims: int = 50
    fit_sample: int | None = None

    def __post_init__(self) -> None:
        if self.fit_sample is not None and self.fit_sample < MIN_UMAP_ROWS:
            raise ValueError(f"fit_sample must be at least {MIN_UMAP_ROWS} rows (or None), got {self.fit_sample}")

    def key(self) -> str:
        """Short, stable, file-name-safe: `umap-n15-d0.1-s42-pca20000x50`, plus `-fit10000` for a sampled fit
        (without it the key is unchanged, so maps cached before fit_sample existed stay valid)."""
        seed = "none" if self.seed is None else str(self.seed)
        key = f"umap-n{self.n_neighbors}-d{self.min_dist:g}-s{seed}-pca{self.pca_above}x{self.pca_dims}"
        return key if self.fit_sample is None else f"{key}-fit{self.fit_sample}"


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
    if params.fit_sample is not None and n > params.fit_sample:
        return _sample_and_place(x, n_components, params, metric, params.fit_sample)
    return _umap(x, n_components, params, metric)


def _n_neighbors(n: int, params: ProjectionParams) -> int:
    return max(2, min(params.n_neighbors, n - 1))


def _umap(x: np.ndarray, n_components: int, params: ProjectionParams, metric: str,
          knn: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """umap-learn on `x`; `knn` = (positions, distances) of each row's _n_neighbors nearest rows (itself
    included) when already known, which skips pynndescent (and its ~25 s of numba compilation)."""
    import umap

    n = x.shape[0]
    n_neighbors = _n_neighbors(n, params)
    reducer = umap.UMAP(n_components=n_components, n_neighbors=n_neighbors, min_dist=params.min_dist,
                        metric=metric, random_state=params.seed, n_jobs=1 if params.seed is not None else -1,
                        init="spectral" if n > n_components + 1 + n_neighbors else "random",
                        precomputed_knn=(knn[0], knn[1], None) if knn is not None else (None, None, None))
    with warnings.catch_warnings():
        # "n_jobs value 1 overridden to 1 by setting random_state" and spectral-init fallbacks are expected here
        warnings.filterwarnings("ignore", category=UserWarning, module="umap")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="umap")
        out = reducer.fit_transform(x)
    return np.ascontiguousarray(out, dtype=np.float32)


def fit_sample_rows(n: int, fit_sample: int, seed: int | None) -> np.ndarray:
    """The sorted positions UMAP is fitted on: a uniform sample without replacement, fixed by the seed."""
    rng = np.random.default_rng(0 if seed is None else seed)
    return np.sort(rng.choice(n, size=min(fit_sample, n), replace=False))


def nearest_rows(queries: np.ndarray, base: np.ndarray, k: int, *, block: int = _PLACE_BLOCK
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest `base` rows of each query by Euclidean distance: (positions, distances), nearest first.

    Candidates come from blocked BLAS (||b||^2 - 2 q.b), so memory is one block x len(base) matrix, taken by k
    rounds of argmin (several times faster than argpartition for a small k). Their distances are then recomputed
    from the differences: the BLAS form loses ~1e-3 to cancellation, which would give a duplicate (or a row and
    itself) a small non-zero distance where UMAP's kernel needs an exact 0. Ties go to the lower position.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    b = np.ascontiguousarray(base, dtype=np.float32)
    k = min(k, len(b))
    b_sq = np.einsum("ij,ij->i", b, b)
    pos = np.empty((len(q), k), dtype=np.int64)
    dist = np.empty((len(q), k), dtype=np.float32)
    for lo in range(0, len(q), block):
        qb = q[lo:lo + block]
        rows = np.arange(len(qb))
        scores = qb @ b.T
        scores *= -2.0
        scores += b_sq[None, :]
        cand = np.empty((len(qb), k), dtype=np.int64)
        for j in range(k):
            cand[:, j] = scores.argmin(axis=1)
            scores[rows, cand[:, j]] = np.inf
        exact = np.linalg.norm(b[cand] - qb[:, None, :], axis=2)
        order = np.lexsort((cand, exact), axis=1)
        pos[lo:lo + block] = np.take_along_axis(cand, order, axis=1)
        dist[lo:lo + block] = np.take_along_axis(exact, order, axis=1)
    return pos, dist


def _sample_and_place(x: np.ndarray, n_components: int, params: ProjectionParams, metric: str,
                      fit_sample: int) -> np.ndarray:
    """UMAP on `fit_sample` rows, every other row at the inverse-distance-weighted mean of its PLACE_K nearest
    sampled rows' positions (module docstring says why).

    The sample's own kNN graph is computed exactly here, in the same space as the placement, and handed to UMAP:
    at 10k rows that is ~1 s, where pynndescent costs ~25 s of numba compilation in a fresh process.
    """
    n = x.shape[0]
    fit = fit_sample_rows(n, fit_sample, params.seed)
    start = time.monotonic()
    cosine = metric == "cosine"
    space = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12) if cosine else x
    base = np.ascontiguousarray(space[fit])
    knn_pos, knn_dist = nearest_rows(base, base, _n_neighbors(len(fit), params))
    if cosine:  # UMAP's cosine distance is 1 - cos = ||a - b||^2 / 2 for unit vectors
        knn_dist = knn_dist ** 2 / 2
    out = np.empty((n, n_components), dtype=np.float32)
    out[fit] = _umap(x[fit], n_components, params, metric, knn=(knn_pos, knn_dist))
    fitted = time.monotonic()
    rest = np.setdiff1d(np.arange(n), fit, assume_unique=True)
    if len(rest):
        pos, dist = nearest_rows(space[rest], base, PLACE_K)
        w = 1.0 / np.maximum(dist.astype(np.float64), 1e-6)  # a duplicate of a sampled row sits on top of it
        w /= w.sum(axis=1, keepdims=True)
        out[rest] = np.einsum("ik,ikc->ic", w, out[fit][pos].astype(np.float64)).astype(np.float32)
    log.info("UMAP fitted on %d of %d rows in %.1fs, the other %d placed in %.1fs", len(fit), n,
             fitted - start, len(rest), time.monotonic() - fitted)
    return out


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
    step = f"map {scope}"
    if cached is not None:
        report(progress, f"map {model}@{scope}: cached", 1.0, step=step)
        return cached
    # UMAP reports nothing while it fits: a heartbeat keeps the CLI's progress line alive (minutes at 100k rows)
    with heartbeat(progress, f"map {model}@{scope}: UMAP of {len(row_ids):,} rows", step=step):
        xy = project(vectors, params)
    df = pd.DataFrame({"row_id": row_ids, "x": xy[:, 0], "y": xy[:, 1]})
    table = pa.Table.from_pandas(df, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    report(progress, f"map {model}@{scope}: done", 1.0, step=step, done=len(row_ids), total=len(row_ids))
    return df
