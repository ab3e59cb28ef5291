"""Topics: cluster the embeddings, label each cluster with c-TF-IDF keywords, measure diversity.

Three clusterers, one result:

* ``kmeans`` (default): k-means on the unit vectors. For unit vectors ||a - b||^2 = 2 - 2 cos(a, b), so Euclidean
  k-means groups by cosine. Every row gets a topic by construction. Fast and deterministic with a seed.
* ``agglomerative``: Ward linkage. It needs all pairwise merges, so above AGGLO_MAX_ROWS rows it runs on
  AGGLO_MICRO k-means micro-clusters (their centroids) and each row takes its micro-cluster's topic.
* ``hdbscan``: HDBSCAN on a 5-D UMAP of the vectors (density is meaningless in 384-D; BERTopic does the same). It
  finds the number of topics itself and leaves sparse rows as noise; with ``assign_noise`` each noise row goes to
  the topic whose centroid is nearest by cosine, otherwise it stays -1 ("unassigned").

Auto k (kmeans/agglomerative, k=None): round(sqrt(n / 2)) clipped to [5, 60] (and to n), the usual rule of thumb;
817 TruthfulQA questions get 20 topics, 100k rows get 60.

Topic ids are renumbered by size, 0 = largest, so the same data gives the same ids whatever the clusterer's order.

Sampled k-means (``fit_sample=N``, kmeans only): above N rows k-means is fitted on a seeded uniform sample of N rows
and every row then takes its nearest centroid. Lloyd's iterations cost n x k x dim each, times n_init restarts; the
centroids of 60 topics are pinned down well by a uniform sample of 20k rows (~330 per centroid), and assigning 100k
rows to them is one blocked product. On 100k static vectors that cut k-means from 114 s to 8 s, and the sampled fit
agreed with the full one as closely as two full fits with different seeds do (NMI 0.753 vs 0.749; bench/README.md
"First map of 100k rows"). Thin samples do cost: 250 of TruthfulQA's 817 rows (~12 per centroid) lost 0.05 NMI.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.util.files import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

METHODS = ("kmeans", "hdbscan", "agglomerative")
TOPICS_FILE = "topics.parquet"
TOPICS_META = "topics.json"
UNASSIGNED = -1
UNASSIGNED_LABEL = "unassigned"
LABEL_WORDS = 4  # keywords shown in a topic's label; `keywords` keeps n_keywords
N_EXAMPLES = 5
AGGLO_MAX_ROWS = 10_000
AGGLO_MICRO = 1_000
HDBSCAN_DIMS = 5


@dataclass(frozen=True)
class TopicParams:
    """How topics are found; `key()` and `asdict` go into caches and the topics.json record."""

    method: str = "kmeans"
    k: int | None = None  # None: round(sqrt(n / 2)) clipped to [5, 60] (kmeans/agglomerative; hdbscan ignores k)
    min_cluster_size: int = 10  # hdbscan only
    seed: int = 42
    n_keywords: int = 6
    assign_noise: bool = True
    fit_sample: int | None = None  # kmeans: fit on this many sampled rows when there are more (module docstring)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown topic method {self.method!r}; expected one of {', '.join(METHODS)}")
        if self.k is not None and self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.fit_sample is not None and self.fit_sample < 1:
            raise ValueError(f"fit_sample must be at least 1 (or None), got {self.fit_sample}")

    def key(self) -> str:
        """Short, stable, file-name-safe: `kmeans-kauto-s42` or `hdbscan-m10-s42-noise`."""
        if self.method == "hdbscan":
            core = f"hdbscan-m{self.min_cluster_size}-s{self.seed}-{'assign' if self.assign_noise else 'noise'}"
        else:
            core = f"{self.method}-k{'auto' if self.k is None else self.k}-s{self.seed}"
            if self.method == "kmeans" and self.fit_sample is not None:
                core += f"-fit{self.fit_sample}"
        return f"{core}-w{self.n_keywords}"


@dataclass
class TopicResult:
    """Per-row topic ids (aligned with the input rows) and the topic table.

    `topics` columns: id, label, keywords (list[str]), size, share (of all rows), examples (up to 5 row_ids nearest
    the topic centroid). `row_ids` and `centroids` (unit vectors, one per topic id) are kept when known.
    """

    topic_id: np.ndarray
    topics: pd.DataFrame
    params: dict
    row_ids: np.ndarray | None = None
    centroids: np.ndarray | None = field(default=None, repr=False)

    def labels(self) -> dict[int, str]:
        """{topic id: label}, with -1 -> "unassigned"."""
        out = {int(i): str(lab) for i, lab in zip(self.topics["id"], self.topics["label"], strict=True)}
        out[UNASSIGNED] = UNASSIGNED_LABEL
        return out


def auto_k(n: int) -> int:
    """round(sqrt(n / 2)) clipped to [5, 60], never more than n."""
    return max(1, min(n, int(np.clip(round(math.sqrt(n / 2)), 5, 60))))


# ------------------------------------------------------------------------------------------- clustering


def _kmeans(x: np.ndarray, k: int, seed: int, sample_weight: np.ndarray | None = None,
            fit_sample: int | None = None) -> np.ndarray:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=3, random_state=seed)
    if fit_sample is None or len(x) <= max(fit_sample, k):
        return km.fit_predict(x, sample_weight=sample_weight)
    fit = np.sort(np.random.default_rng(seed).choice(len(x), size=fit_sample, replace=False))
    km.fit(x[fit], sample_weight=None if sample_weight is None else np.asarray(sample_weight)[fit])
    return km.predict(x)  # every row, sampled or not, takes its nearest centroid


def _agglomerative(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if len(x) <= AGGLO_MAX_ROWS:
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)
    # Ward on all rows needs O(n^2) memory; on micro-cluster centroids it is the same tree above that scale.
    micro = _kmeans(x, AGGLO_MICRO, seed)
    centres = np.stack([x[micro == m].mean(axis=0) for m in range(AGGLO_MICRO)])
    top = AgglomerativeClustering(n_clusters=min(k, AGGLO_MICRO), linkage="ward").fit_predict(centres)
    return top[micro]


def _hdbscan(x: np.ndarray, min_cluster_size: int, seed: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    from analysis.space.projection import ProjectionParams, reduce

    if len(x) < 2 * max(min_cluster_size, 2):
        return np.full(len(x), UNASSIGNED, dtype=np.int64)  # not enough rows for two clusters: all noise
    # min_dist=0 packs neighbours tightly, which is what a density clusterer wants (unlike the map's 0.1).
    low = reduce(x, HDBSCAN_DIMS, ProjectionParams(n_neighbors=15, min_dist=0.0, seed=seed))
    return HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(low)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _centroids(x: np.ndarray, labels: np.ndarray, n_topics: int) -> np.ndarray:
    """Unit mean vector of each topic: the direction its members share (cosine k-means' centroid)."""
    from scipy import sparse

    ok = np.flatnonzero(labels >= 0)
    member = sparse.csr_matrix((np.ones(len(ok)), (labels[ok], ok)), shape=(n_topics, len(x)))
    return _unit(np.asarray(member @ x.astype(np.float64))).astype(np.float32)


def _renumber_by_size(labels: np.ndarray) -> np.ndarray:
    """Map cluster labels to 0..m-1 by decreasing size (ties by first appearance); -1 stays -1."""
    ok = labels >= 0
    ids, first, counts = np.unique(labels[ok], return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))  # by size desc, then first appearance
    lut = np.empty(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    lut[ids[order]] = np.arange(len(ids))
    out = np.full(len(labels), UNASSIGNED, dtype=np.int64)
    out[ok] = lut[labels[ok]]
    return out


def cluster(vectors: np.ndarray, params: TopicParams, sample_weight: np.ndarray | None = None
            ) -> tuple[np.ndarray, int | None]:
    """Raw cluster labels (renumbered by size, -1 = noise) and the k used (None for hdbscan).

    `sample_weight` is honoured by kmeans only (coverage uses it to give training and reference equal mass).
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    if params.method == "hdbscan":
        return _renumber_by_size(_hdbscan(x, params.min_cluster_size, params.seed)), None
    k = min(params.k, n) if params.k is not None else auto_k(n)
    if k == 1:
        return np.zeros(n, dtype=np.int64), 1
    raw = _kmeans(x, k, params.seed, sample_weight, params.fit_sample) if params.method == "kmeans" \
        else _agglomerative(x, k, params.seed)
    return _renumber_by_size(raw), k


def fit_topics(vectors: np.ndarray, texts: Sequence[str], row_ids: np.ndarray, params: TopicParams = TopicParams(),
               *, sample_weight: np.ndarray | None = None) -> TopicResult:
    """Cluster `vectors` (unit embeddings, aligned with `texts` and `row_ids`) into labelled topics."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    row_ids = np.asarray(row_ids, dtype=np.int64)
    if not (len(x) == len(texts) == len(row_ids)):
        raise ValueError(f"{len(x)} vectors, {len(texts)} texts and {len(row_ids)} row ids must align")
    labels, k = cluster(x, params, sample_weight)
    n_topics = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if n_topics == 0 and len(x) and params.assign_noise:
        labels, n_topics = np.zeros(len(x), dtype=np.int64), 1  # no dense region at all: one topic
    centroids = _centroids(x, labels, n_topics)
    noise = labels < 0
    if noise.any() and params.assign_noise and n_topics:
        labels[noise] = np.argmax(x[noise] @ centroids.T, axis=1)  # nearest centroid by cosine
        labels = _renumber_by_size(labels)
        centroids = _centroids(x, labels, n_topics)
    keywords = ctfidf_keywords(texts, labels, params.n_keywords)
    rows = []
    for t in range(n_topics):
        members = np.flatnonzero(labels == t)
        sims = x[members] @ centroids[t]
        nearest = members[np.argsort(-sims, kind="stable")[:N_EXAMPLES]]
        words = keywords.get(t, [])
        rows.append({"id": t, "label": " · ".join(words[:LABEL_WORDS]) or f"topic {t}", "keywords": words,
                     "size": len(members), "share": len(members) / len(x),
                     "examples": [int(r) for r in row_ids[nearest]]})
    topics = pd.DataFrame(rows, columns=["id", "label", "keywords", "size", "share", "examples"])
    info = {**asdict(params), "k_used": k, "n_topics": n_topics, "n_rows": len(x),
            "unassigned": int((labels < 0).sum())}
    log.info("topics %s: %d rows -> %d topics (%d unassigned)", params.key(), len(x), n_topics, info["unassigned"])
    return TopicResult(labels, topics, info, row_ids, centroids)


# --------------------------------------------------------------------------------------------- keywords


def _pick_terms(terms: np.ndarray, weights: np.ndarray, n: int) -> list[str]:
    """Top terms by weight, skipping a term that repeats a word already picked ("new york", then not "york" or
    "york city"): a label of six distinct words says more than "years · years ago"."""
    picked: list[str] = []
    covered: set[str] = set()
    for j in np.argsort(-weights, kind="stable"):
        if len(picked) >= n or weights[j] <= 0:
            break
        words = set(terms[j].split())
        if words & covered:
            continue
        picked.append(str(terms[j]))
        covered |= words
    return picked


def ctfidf_keywords(texts: Sequence[str], labels: np.ndarray, n: int) -> dict[int, list[str]]:
    """Top `n` keywords per topic label (not -1) by class-based TF-IDF, as in BERTopic.

    All texts of a class are one document. For term t and class c:
        W(t, c) = tf(t, c) * log(1 + A / f(t))
    tf(t, c): frequency of t in c, L1-normalised per class; f(t): frequency of t over all classes; A: average number
    of words per class. Terms frequent in one class and rare elsewhere score high. English stop words removed;
    unigrams and bigrams; above 1,000 texts a term must occur in two of them (hapaxes are never good labels).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    classes = sorted(int(c) for c in np.unique(labels) if c >= 0)
    if not classes or n <= 0:
        return {c: [] for c in classes}
    vec = CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2 if len(texts) > 1000 else 1,
                          lowercase=True)
    try:
        counts = vec.fit_transform([str(t) for t in texts])
    except ValueError:  # empty vocabulary: every text is stop words, digits or blank
        return {c: [] for c in classes}
    terms = vec.get_feature_names_out()
    all_classes = sorted(int(c) for c in np.unique(labels))  # noise (-1) counts towards f(t) too
    index = {c: i for i, c in enumerate(all_classes)}
    from scipy import sparse

    member = sparse.csr_matrix((np.ones(len(labels)), ([index[int(c)] for c in labels], np.arange(len(labels)))),
                               shape=(len(all_classes), len(labels)))
    tf = np.asarray((member @ counts).todense(), dtype=np.float64)  # classes x terms
    f_t = tf.sum(axis=0)
    avg_words = tf.sum() / len(all_classes)
    idf = np.log1p(avg_words / np.maximum(f_t, 1e-12))
    tf_norm = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1e-12)
    weights = tf_norm * idf
    return {c: _pick_terms(terms, weights[index[c]], n) for c in classes}


# -------------------------------------------------------------------------------------------- diversity


def _mask(arr: np.ndarray | None, n: int, name: str) -> np.ndarray | None:
    if arr is None:
        return None
    m = np.asarray(arr)
    if m.dtype != bool or m.shape != (n,):
        raise ValueError(f"{name} must be a boolean mask of length {n} (one per row), got {m.dtype} {m.shape}")
    return m


def diversity(topic_id: np.ndarray, keep: np.ndarray | None = None) -> dict:
    """Topic diversity over the kept rows (`keep`: boolean mask per row; None = all).

    Shares p_i are over assigned kept rows; effective_topics = exp(-sum p_i ln p_i), the number of equally sized
    topics with the same entropy (4 equal topics -> 4.0, one topic -> 1.0); largest_share = max p_i.
    """
    t = np.asarray(topic_id, dtype=np.int64)
    keep_m = _mask(keep, len(t), "keep")
    if keep_m is not None:
        t = t[keep_m]
    unassigned = int((t < 0).sum())
    ids, counts = np.unique(t[t >= 0], return_counts=True)
    total = counts.sum()
    if total == 0:
        return {"n_rows": len(t), "n_topics": 0, "effective_topics": 0.0, "largest_share": 0.0,
                "unassigned": unassigned, "sizes": {}}
    p = counts / total
    entropy = float(-(p * np.log(p)).sum())
    return {"n_rows": len(t), "n_topics": len(ids), "effective_topics": float(math.exp(entropy)),
            "largest_share": float(p.max()), "unassigned": unassigned,
            "sizes": {int(i): int(c) for i, c in zip(ids, counts, strict=True)}}


def topic_shift(topic_id: np.ndarray, dropped: np.ndarray, labels: dict[int, str]) -> pd.DataFrame:
    """Rows per topic before and after the drops (`dropped`: boolean mask per row), most rows lost first.

    Columns: id, label, before, after, lost, lost_share (= lost / before). Unassigned rows appear as id -1.
    """
    t = np.asarray(topic_id, dtype=np.int64)
    d = _mask(dropped, len(t), "dropped")
    ids, inv, before = np.unique(t, return_inverse=True, return_counts=True)
    lost = np.bincount(inv[d], minlength=len(ids)) if len(ids) else np.zeros(0, dtype=np.int64)
    df = pd.DataFrame({"id": ids.astype(np.int64),
                       "label": [labels.get(int(i), UNASSIGNED_LABEL if i < 0 else f"topic {i}") for i in ids],
                       "before": before.astype(np.int64), "after": (before - lost).astype(np.int64),
                       "lost": lost.astype(np.int64)})
    df["lost_share"] = df["lost"] / df["before"].clip(lower=1)
    return df.sort_values(["lost", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------- persistence


def _digest(row_ids: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(row_ids, dtype=np.int64).tobytes()).hexdigest()[:16]


def write_topics(ws_dir: Path, row_ids: np.ndarray, result: TopicResult, *, model: str, scope: str) -> Path:
    """Write `<ws>/topics.parquet` (row_id, topic_id, topic_label; ARCHITECTURE.md §10) and `<ws>/topics.json`
    (topic table, params, model, scope) atomically; returns the parquet path."""
    row_ids = np.asarray(row_ids, dtype=np.int64)
    tid = np.asarray(result.topic_id, dtype=np.int64)
    if len(row_ids) != len(tid):
        raise ValueError(f"{len(row_ids)} row ids for {len(tid)} topic ids")
    names = result.labels()
    table = pa.table({"row_id": pa.array(row_ids, pa.int64()), "topic_id": pa.array(tid, pa.int64()),
                      "topic_label": pa.array([names.get(int(i), f"topic {i}") for i in tid], pa.string())})
    ws = Path(ws_dir)
    path = ws / TOPICS_FILE
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    topics = [{"id": int(r.id), "label": str(r.label), "keywords": [str(w) for w in r.keywords], "size": int(r.size),
               "share": float(r.share), "examples": [int(e) for e in r.examples]}
              for r in result.topics.itertuples(index=False)]
    meta = {"model": model, "scope": scope, "params": result.params, "n_rows": len(row_ids),
            "row_ids": _digest(row_ids), "topics": topics}
    atomic_write_text(ws / TOPICS_META, json.dumps(meta, ensure_ascii=False, indent=1))
    return path


def read_topics(ws_dir: Path) -> TopicResult | None:
    """The topics written by `write_topics`, or None when absent or unreadable.

    `params` is the stored params plus "model" and "scope"; `row_ids` is the parquet's row order.
    """
    ws = Path(ws_dir)
    path, meta_path = ws / TOPICS_FILE, ws / TOPICS_META
    if not path.exists() or not meta_path.exists():
        return None
    try:
        table = pq.read_table(path, columns=["row_id", "topic_id"])
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, pa.ArrowInvalid) as exc:
        log.warning("ignoring unreadable topics in %s: %s", ws, exc)
        return None
    topics = pd.DataFrame(meta.get("topics", []), columns=["id", "label", "keywords", "size", "share", "examples"])
    params = {**meta.get("params", {}), "model": meta.get("model"), "scope": meta.get("scope")}
    return TopicResult(table.column("topic_id").to_numpy().astype(np.int64), topics, params,
                       table.column("row_id").to_numpy().astype(np.int64))
