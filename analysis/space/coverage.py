"""Coverage gap: which topics of a reference set (production prompts, an eval set) the training set under-covers.

Why joint topics: if reference rows were assigned to the *training* topics, a kind of request the training data
lacks would be forced into whichever training topic is least far away and only nudge its share; the gap would be
invisible. So the union of training and reference vectors is clustered into joint topics: a region populated only
by reference rows becomes its own topic, with a training share of about 0, and is labelled (c-TF-IDF over both sets)
by what the references say. Then each topic's reference share is compared with its training share.

For k-means the two sets get equal total weight (each training row 1/n_train, each reference row 1/n_ref), so a
reference set ten times smaller than the training set still shapes the topics as much: otherwise its distinct
regions would be absorbed by the centroids of the much larger training set.

Per topic, with s_train = train_rows / n_train and s_ref = ref_rows / n_ref:
    ratio = s_ref / max(s_train, eps),  eps = 0.5 / n_train  (half a training row: finite for reference-only topics)
    under: ratio >= under_ratio and ref_rows >= min_ref_rows
    over:  ratio <= over_ratio and s_train * n_ref >= min_ref_rows  (at least min_ref_rows references were expected)
The "farthest" list is every reference row's cosine to its nearest training row (the workspace's kNN index when
given, else exact blocked matrix products, never all pairs at once), lowest first: concrete examples of what to
collect next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from analysis.space.topics import TopicParams, fit_topics
from analysis.util.files import atomic_path

log = logging.getLogger(__name__)

QUERY_BLOCK = 1024
BASE_BLOCK = 16_384  # a 1024 x 16384 float32 block is 64 MB, whatever the training set's size


class NeighbourIndex(Protocol):
    """What coverage needs of a kNN index: `search(queries, k) -> (positions [m, k], cosine [m, k])`."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class CoverageReport:
    """Per-topic shares of training vs reference rows, and the reference rows farthest from any training row.

    `train_topic_id` / `ref_topic_id`: each row's joint topic, aligned with the inputs (to colour the map).
    """

    per_topic: pd.DataFrame
    farthest: pd.DataFrame
    params: dict
    train_topic_id: np.ndarray | None = None
    ref_topic_id: np.ndarray | None = None

    def under(self) -> pd.DataFrame:
        """Under-covered topics, the largest ratio (reference share over training share) first."""
        return self.per_topic[self.per_topic["status"] == "under"].reset_index(drop=True)

    def over(self) -> pd.DataFrame:
        """Over-covered topics, the smallest ratio first."""
        df = self.per_topic[self.per_topic["status"] == "over"]
        return df.sort_values(["ratio", "train_rows"], ascending=[True, False], kind="stable").reset_index(drop=True)

    def farthest_csv(self, path: Path) -> None:
        """Write the farthest reference rows as CSV ("what to collect next"), atomically."""
        with atomic_path(path) as tmp:
            self.farthest.to_csv(tmp, index=False)


def nearest_cosine(queries: np.ndarray, base: np.ndarray, *, query_block: int = QUERY_BLOCK,
                   base_block: int = BASE_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """For each query (unit vector), the position in `base` of its most similar row and that cosine.

    Exact; memory is one query_block x base_block matrix at a time, never all pairs.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    b = np.ascontiguousarray(base, dtype=np.float32)
    best_pos = np.zeros(len(q), dtype=np.int64)
    best_sim = np.full(len(q), -np.inf, dtype=np.float32)
    if len(b) == 0:
        return best_pos, best_sim
    for qs in range(0, len(q), query_block):
        qb = q[qs:qs + query_block]
        for bs in range(0, len(b), base_block):
            sims = qb @ b[bs:bs + base_block].T
            arg = sims.argmax(axis=1)
            val = sims[np.arange(len(qb)), arg]
            better = val > best_sim[qs:qs + query_block]
            best_sim[qs:qs + query_block][better] = val[better]
            best_pos[qs:qs + query_block][better] = arg[better] + bs
    return best_pos, best_sim


def _status(ratio: float, ref_rows: int, expected_ref: float, under_ratio: float, over_ratio: float,
            min_ref_rows: int) -> str:
    if ratio >= under_ratio and ref_rows >= min_ref_rows:
        return "under"
    if ratio <= over_ratio and expected_ref >= min_ref_rows:
        return "over"
    return "ok"


def coverage_gap(train_vectors: np.ndarray, train_texts: Sequence[str], train_row_ids: np.ndarray,
                 ref_vectors: np.ndarray, ref_texts: Sequence[str], ref_row_ids: np.ndarray, *,
                 topic_params: TopicParams = TopicParams(),  # noqa: B008 (frozen dataclass, immutable)
                 under_ratio: float = 2.0, over_ratio: float = 0.5, min_ref_rows: int = 3, n_farthest: int = 50,
                 train_index: NeighbourIndex | None = None) -> CoverageReport:
    """Compare training and reference rows (unit vectors from the same embedder) topic by topic.

    `train_index`: the workspace's kNN index over exactly `train_vectors` (e.g. `space.knn.KnnIndex`), reused for
    the nearest-training search; without it the search is exact blocked matrix products.

    per_topic: topic_id, label, keywords, train_rows, train_share, ref_rows, ref_share, ratio, status,
    train_examples, ref_examples (row ids nearest the topic centroid); the most under-covered first.
    farthest: ref_row_id, text, topic_id, nearest_train_row_id, similarity, distance; the most distant first.
    """
    tv = np.ascontiguousarray(train_vectors, dtype=np.float32)
    rv = np.ascontiguousarray(ref_vectors, dtype=np.float32)
    train_ids = np.asarray(train_row_ids, dtype=np.int64)
    ref_ids = np.asarray(ref_row_ids, dtype=np.int64)
    n_train, n_ref = len(tv), len(rv)
    if n_train == 0 or n_ref == 0:
        raise ValueError(f"coverage needs training and reference rows (got {n_train} and {n_ref})")
    if tv.shape[1] != rv.shape[1]:
        raise ValueError(f"training vectors have dim {tv.shape[1]} but reference vectors {rv.shape[1]}: "
                         "embed both with the same model")
    if not (n_train == len(train_texts) == len(train_ids)) or not (n_ref == len(ref_texts) == len(ref_ids)):
        raise ValueError("vectors, texts and row ids must align for each set")

    union = np.vstack([tv, rv])
    texts = [*map(str, train_texts), *map(str, ref_texts)]
    is_ref = np.r_[np.zeros(n_train, dtype=bool), np.ones(n_ref, dtype=bool)]
    weight = np.where(is_ref, 1.0 / n_ref, 1.0 / n_train) * (n_train + n_ref) / 2  # equal mass, mean weight 1
    topics = fit_topics(union, texts, np.arange(len(union)), topic_params, sample_weight=weight)
    tid = topics.topic_id

    eps = 0.5 / n_train
    rows = []
    for t in topics.topics.itertuples(index=False):
        in_t = tid == t.id
        tr, rf = int((in_t & ~is_ref).sum()), int((in_t & is_ref).sum())
        s_tr, s_rf = tr / n_train, rf / n_ref
        ratio = s_rf / max(s_tr, eps)
        pos = np.flatnonzero(in_t)
        sims = union[pos] @ topics.centroids[t.id]
        ordered = pos[np.argsort(-sims, kind="stable")]
        rows.append({"topic_id": int(t.id), "label": t.label, "keywords": t.keywords, "train_rows": tr,
                     "train_share": s_tr, "ref_rows": rf, "ref_share": s_rf, "ratio": ratio,
                     "status": _status(ratio, rf, s_tr * n_ref, under_ratio, over_ratio, min_ref_rows),
                     "train_examples": [int(train_ids[p]) for p in ordered[~is_ref[ordered]][:5]],
                     "ref_examples": [int(ref_ids[p - n_train]) for p in ordered[is_ref[ordered]][:5]]})
    per_topic = pd.DataFrame(rows, columns=["topic_id", "label", "keywords", "train_rows", "train_share", "ref_rows",
                                            "ref_share", "ratio", "status", "train_examples", "ref_examples"])
    per_topic["_under"] = per_topic["status"] != "under"
    per_topic = (per_topic.sort_values(["_under", "ratio", "ref_rows"], ascending=[True, False, False], kind="stable")
                 .drop(columns="_under").reset_index(drop=True))

    if train_index is not None:
        found, sims = train_index.search(rv, 1)
        pos, sim = np.maximum(found[:, 0], 0), sims[:, 0]
    else:
        pos, sim = nearest_cosine(rv, tv)
    far = pd.DataFrame({"ref_row_id": ref_ids, "text": [str(x) for x in ref_texts], "topic_id": tid[n_train:],
                        "nearest_train_row_id": train_ids[pos], "similarity": sim.astype(np.float64),
                        "distance": 1.0 - sim.astype(np.float64)})
    far = far.sort_values(["distance", "ref_row_id"], ascending=[False, True], kind="stable")
    far = far.head(n_farthest).reset_index(drop=True)

    params = {"topic": {**asdict(topic_params), "k_used": topics.params.get("k_used"),
                        "n_topics": topics.params.get("n_topics")},
              "under_ratio": under_ratio, "over_ratio": over_ratio, "min_ref_rows": min_ref_rows,
              "n_farthest": n_farthest, "eps": eps, "n_train": n_train, "n_ref": n_ref}
    n_under = int((per_topic["status"] == "under").sum())
    log.info("coverage: %d training vs %d reference rows, %d joint topics, %d under-covered", n_train, n_ref,
             len(per_topic), n_under)
    return CoverageReport(per_topic, far, params, tid[:n_train].copy(), tid[n_train:].copy())
