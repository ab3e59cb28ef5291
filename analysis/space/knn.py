"""One cosine kNN index per workspace, shared by neighbours, semantic search, semantic dedup and outliers.

Why faiss (faiss-cpu): it is actively maintained, ships CPU wheels for Linux, macOS and Windows, and puts an exact
index and HNSW behind one API (search, save/load), so the choice between them is a size threshold rather than a
second code path. Its exact search is a blocked BLAS product with a k-best heap per query, fast enough at our sizes
that it is the default; sklearn's NearestNeighbors cannot persist an index, and hnswlib would still need a separate
brute-force path for exact results.

Vectors are L2-normalised on the way in, so inner product is cosine similarity:

* ``IndexFlatIP`` (exact) up to ``EXACT_MAX`` = 100k rows: building is a copy, one query scans every row;
* ``IndexHNSWFlat`` (inner-product metric, M=32, efConstruction=100, efSearch=max(128, k)) above, where the
  O(n^2) exact kNN graph grows from seconds to minutes and an approximate graph keeps growing ~linearly.

Measured by ``bench/bench_embed.py`` (2 vCPUs, quiet machine, random 384-d unit vectors; table in bench/README.md):

=========  ========  ==========  =============  =========  =========================
rows       index     build       1,000 queries  1 query    kNN graph k=15 (estimate)
=========  ========  ==========  =============  =========  =========================
10,000     exact     0.04 s      0.04 s         0.3 ms     ~1 s
10,000     HNSW      1.6 s       0.16 s         0.4 ms     ~2 s (recall@10 0.95)
100,000    exact     0.2 s       0.42 s         2-7 ms     ~60 s
100,000    HNSW      60 s        0.68 s         1.4 ms     ~100 s (recall@10 0.63)
=========  ========  ==========  =============  =========  =========================

Random 384-d vectors are HNSW's worst case (no low-dimensional structure; clustered data of the same size builds in
~40 s with recall@10 ~1.0, and TruthfulQA's real embeddings give recall 1.0). The 100k threshold is where the
exact graph (~60 s) still beats HNSW's build + graph (~160 s) on 2 cores and matches the app's interactive limit;
above it the exact graph grows quadratically (~4 min at 200k, ~25 min at 500k) while HNSW grows ~linearly.
A kNN graph never holds all pairs: queries go in batches and faiss keeps a k-best heap per query. Small query
batches (a search box, one row's neighbours) run on one OpenMP thread: on a busy 2-core machine two threads made a
single query ~16 ms instead of ~0.3 ms.

The index is cached at ``<ws>/index/<model>@<scope>.faiss`` with a ``.json`` beside it recording the row count,
dimension, kind and a digest of the vectors, so changed embeddings rebuild it instead of returning stale neighbours.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from analysis.util.files import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

EXACT_MAX = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 128  # random 5k rows: recall@10 0.97 at 64, 0.99 at 128 (rows as queries); k above it raises it
INDEX_DIR = "index"
_ADD_BATCH = 16_384
# Fewer queries than this run on one OpenMP thread: a single query is ~0.3 ms alone but ~16 ms with two threads
# on a busy 2-core machine (the second thread waits for a time slice), and a small batch gains nothing from two.
_SERIAL_MAX_QUERIES = 64
Progress = Callable[[str, float], None]


def _faiss() -> Any:
    """faiss is an optional [embed] dependency: import it only when an index is actually needed."""
    import faiss

    return faiss


@contextlib.contextmanager
def _omp_threads(n: int) -> Iterator[None]:
    """Cap faiss's OpenMP threads for this Python thread only (libgomp keeps the setting per thread)."""
    faiss = _faiss()
    old = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(old)


def _unit(x: np.ndarray) -> np.ndarray:
    """A float32, C-contiguous, L2-normalised copy (zero rows stay zero), so inner product is cosine."""
    arr = np.array(x, dtype=np.float32, ndmin=2, copy=True, order="C")
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {np.shape(x)}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    arr /= np.maximum(norms, 1e-12)
    return arr


class KnnIndex:
    """Cosine kNN over row positions 0..n-1: exact (flat) or HNSW, chosen by size at build time."""

    def __init__(self, index: Any, exact: bool) -> None:
        self._index = index
        self.exact = exact

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, *, exact_max: int = EXACT_MAX,
              progress: Progress | None = None) -> KnnIndex:
        """Index `vectors` (n, d); exact when n <= exact_max. Added in batches so no normalised full copy exists."""
        faiss = _faiss()
        if np.ndim(vectors) != 2:
            raise ValueError(f"expected a 2-d array of vectors, got shape {np.shape(vectors)}")
        n, d = vectors.shape
        exact = n <= exact_max
        if exact:
            index = faiss.IndexFlatIP(d)
        else:
            index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        start = time.monotonic()
        for lo in range(0, n, _ADD_BATCH):
            hi = min(lo + _ADD_BATCH, n)
            index.add(_unit(vectors[lo:hi]))
            if progress:
                progress(f"building {'exact' if exact else 'HNSW'} kNN index: {hi:,} of {n:,} rows", hi / n)
        log.info("built %s kNN index over %d x %d in %.2fs", "exact" if exact else "HNSW", n, d,
                 time.monotonic() - start)
        return cls(index, exact)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions int64 [m, k], cosine float32 [m, k]), best first; -1 and -inf pad when k > size."""
        q = _unit(queries)
        m = q.shape[0]
        if q.shape[1] != self.dim:
            raise ValueError(f"queries have dimension {q.shape[1]}, the index has {self.dim}")
        if k <= 0 or m == 0 or self.size == 0:
            k = max(k, 0)
            return np.full((m, k), -1, dtype=np.int64), np.full((m, k), -np.inf, dtype=np.float32)
        threads = contextlib.nullcontext() if m >= _SERIAL_MAX_QUERIES else _omp_threads(1)
        with threads:
            if self.exact:
                sims, pos = self._index.search(q, k)
            else:  # per-call parameters: the index is shared across Streamlit sessions' threads
                params = _faiss().SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k))
                sims, pos = self._index.search(q, k, params=params)
        pos = pos.astype(np.int64, copy=False)
        sims = sims.astype(np.float32, copy=False)
        sims[pos < 0] = -np.inf
        return pos, sims

    def save(self, path: Path) -> None:
        """Write the index atomically (temp file + rename)."""
        with atomic_path(path) as tmp:
            _faiss().write_index(self._index, str(tmp))

    @classmethod
    def load(cls, path: Path) -> KnnIndex:
        faiss = _faiss()
        index = faiss.read_index(str(path))
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ValueError(f"{path} is not an inner-product index")
        return cls(index, isinstance(index, faiss.IndexFlat))

    def __repr__(self) -> str:
        return f"KnnIndex(size={self.size}, dim={self.dim}, exact={self.exact})"


def vectors_digest(vectors: np.ndarray) -> str:
    """Content digest of an embedding array (shape included): ~0.1 s per 100k x 384."""
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    h = hashlib.sha256(f"{arr.shape}".encode())
    h.update(memoryview(arr).cast("B"))
    return h.hexdigest()[:32]


def index_path(ws_dir: Path, model: str, scope: str) -> Path:
    return Path(ws_dir) / INDEX_DIR / f"{model}@{scope}.faiss"


def _index_meta(vectors: np.ndarray, digest: str) -> dict[str, Any]:
    n, d = vectors.shape
    meta: dict[str, Any] = {"n": int(n), "dim": int(d), "digest": digest, "exact": bool(n <= EXACT_MAX)}
    if not meta["exact"]:
        meta["hnsw"] = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    return meta


def workspace_index(ws_dir: Path, model: str, scope: str, vectors: np.ndarray) -> KnnIndex:
    """The workspace's index for (model, scope), loaded when it was built from these exact vectors, else rebuilt."""
    return _workspace_index(ws_dir, model, scope, vectors, vectors_digest(vectors), None)


def _workspace_index(ws_dir: Path, model: str, scope: str, vectors: np.ndarray, digest: str,
                     progress: Progress | None) -> KnnIndex:
    path = index_path(ws_dir, model, scope)
    meta_path = path.with_suffix(".json")
    want = _index_meta(vectors, digest)
    if path.exists() and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()) == want:
                index = KnnIndex.load(path)
                if index.size == want["n"] and index.dim == want["dim"]:
                    return index
        except (OSError, ValueError, RuntimeError) as exc:  # faiss raises RuntimeError on a damaged file
            log.warning("kNN index %s unreadable (%s); rebuilding", path, exc)
    index = KnnIndex.build(vectors, exact_max=EXACT_MAX, progress=progress)
    index.save(path)
    atomic_write_text(meta_path, json.dumps(want))  # written last: a crash before it means "rebuild"
    return index


def neighbours(index: KnnIndex, vectors: np.ndarray, pos: int, k: int) -> list[tuple[int, float]]:
    """The k rows nearest to row `pos` (itself excluded), best first, as (position, cosine)."""
    if not 0 <= pos < len(vectors):
        raise IndexError(f"row position {pos} out of range 0..{len(vectors) - 1}")
    if k <= 0:
        return []
    found, sims = index.search(np.asarray(vectors[pos:pos + 1]), k + 1)
    # self is dropped wherever it lands (exact duplicates can tie with it); else the (k+1)-th is surplus
    out = [(int(p), float(s)) for p, s in zip(found[0], sims[0], strict=True) if p >= 0 and p != pos]
    return out[:k]


def knn_graph(index: KnnIndex, vectors: np.ndarray, k: int, *, batch: int = 4096,
              progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every row's k nearest other rows: (positions int64 [n, k], cosine float32 [n, k]), best first.

    Queries go `batch` rows at a time, so memory is O(n * k), never O(n^2).
    """
    n = len(vectors)
    if n != index.size:
        raise ValueError(f"{n} vectors but the index holds {index.size}: the graph needs the indexed vectors")
    k = max(int(k), 0)
    out_pos = np.full((n, k), -1, dtype=np.int64)
    out_sim = np.full((n, k), -np.inf, dtype=np.float32)
    if k == 0 or n == 0:
        return out_pos, out_sim
    start = time.monotonic()
    for lo in range(0, n, batch):
        hi = min(lo + batch, n)
        found, sims = index.search(np.asarray(vectors[lo:hi]), k + 1)
        is_self = found == np.arange(lo, hi)[:, None]
        order = np.argsort(is_self, axis=1, kind="stable")[:, :k]  # non-self first, order kept
        out_pos[lo:hi] = np.take_along_axis(found, order, axis=1)
        out_sim[lo:hi] = np.take_along_axis(sims, order, axis=1)
        if progress:
            rate = hi / max(time.monotonic() - start, 1e-6)
            progress(f"kNN graph (k={k}): {hi:,} of {n:,} rows ({rate:,.0f} rows/s, "
                     f"ETA {(n - hi) / rate:,.0f}s)", hi / n)
    return out_pos, out_sim


def _graph_path(ws_dir: Path, model: str, scope: str, k: int) -> Path:
    return Path(ws_dir) / INDEX_DIR / f"{model}@{scope}.knn{k}.npz"


def _cached_graph(ws_dir: Path, model: str, scope: str, digest: str, n: int,
                  k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A cached graph for these vectors with at least k columns (best-first, so the first k are the k-NN)."""
    folder = Path(ws_dir) / INDEX_DIR
    prefix = f"{model}@{scope}.knn"
    candidates = []
    for f in folder.glob("*.npz") if folder.is_dir() else ():
        if f.name.startswith(prefix) and f.name[len(prefix):-4].isdigit():
            candidates.append((int(f.name[len(prefix):-4]), f))
    for kk, f in sorted(candidates):
        if kk < k:
            continue
        try:
            with np.load(f) as z:
                fresh = str(z["digest"]) == digest and z["positions"].shape == (n, kk)
                if fresh:
                    return z["positions"][:, :k].copy(), z["sims"][:, :k].copy()
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cached kNN graph %s unreadable (%s); removing it", f, exc)
        f.unlink(missing_ok=True)  # built from other vectors (or damaged): it can never be used again
    return None


def workspace_knn_graph(ws_dir: Path, model: str, scope: str, vectors: np.ndarray, k: int = 15,
                        progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """knn_graph over the workspace index, cached in `<ws>/index/<model>@<scope>.knn<k>.npz` (a larger cached k
    serves a smaller one)."""
    digest = vectors_digest(vectors)
    cached = _cached_graph(ws_dir, model, scope, digest, len(vectors), k)
    if cached is not None:
        if progress:
            progress(f"kNN graph {model}@{scope} (k={k}): cached", 1.0)
        return cached
    index = _workspace_index(ws_dir, model, scope, vectors, digest, progress)
    positions, sims = knn_graph(index, vectors, k, progress=progress)
    path = _graph_path(ws_dir, model, scope, k)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, positions=positions, sims=sims, digest=np.array(digest))
    return positions, sims


def semantic_search(index: KnnIndex, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k rows closest to one embedded query, best first, as (position, cosine)."""
    q = np.asarray(query_vec, dtype=np.float32).reshape(1, -1)
    found, sims = index.search(q, k)
    return [(int(p), float(s)) for p, s in zip(found[0], sims[0], strict=True) if p >= 0]
