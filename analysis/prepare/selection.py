"""Choose training subsets: nested fractions, diversity-aware selection of N rows, and a leak-free train/eval split.

Everything works on *positions* 0..n-1 into the rows the caller passes (usually the rows left after curation
drops); the caller maps positions to `row_id`s. Every function is reproducible from its seed.

* ``nested_subsets``: data-scaling subsets (e.g. 25/50/100%). Each stratum (topic) is shuffled once by the seed and
  every fraction takes a prefix of that one order, so a smaller subset is contained in every larger one by
  construction. Per-stratum counts are floor or ceil of f * size (within one row), chosen by largest remainder so
  each subset's total is round(f * n): topic proportions follow the full data.
* ``select_random`` / ``select_kcenter`` / ``select_balanced``: N rows three ways. k-center greedy (farthest-point
  traversal, Gonzalez 1985) on cosine distance is a 2-approximation of the smallest *coverage radius* (the largest
  distance from any row to its nearest selected row): it buys the rare corners of the data. Balanced sampling takes
  the same number from every topic (round-robin), which buys topic coverage without needing the geometry. Each
  returns positions in the order chosen, so any prefix is itself a selection of that size by the same strategy.
* ``selection_report``: what each strategy buys against the full data: topics covered, total variation distance of
  the topic distribution, coverage radius, mean distance to the nearest selected row, mean nearest-neighbour
  distance among the selected rows (higher = less redundant).
* ``split_train_eval``: an eval split that never separates a duplicate group (exact, near or semantic duplicates,
  unioned by ``union_groups``), so no near-copy of an eval row is trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

STRATEGIES = ("random", "kcenter", "balanced")
DEFAULT_FRACTIONS = (0.25, 0.5, 1.0)
DUPLICATE_CHECKS = ("exact_duplicate", "near_duplicate", "semantic_duplicate")
NN_SAMPLE = 20_000  # above this many rows, the full data's mean NN distance is estimated on a seeded sample
_BLOCK = 65_536  # rows per block in k-center updates: bounds the temporary (block,) arrays


# ---------------------------------------------------------------------------------------------- nested subsets


def parse_fractions(text: str) -> list[float]:
    """`"0.25,0.5,1"` -> [0.25, 0.5, 1.0]; each in (0, 1], sorted, no repeats; ValueError otherwise."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise ValueError(f"bad fractions {text!r}: expected numbers like 0.25,0.5,1") from exc
    return _check_fractions(values)


def _check_fractions(fractions: Iterable[float]) -> list[float]:
    values = sorted({float(f) for f in fractions})
    if not values:
        raise ValueError("no fractions given: expected numbers like 0.25,0.5,1")
    bad = [f for f in values if not 0 < f <= 1]
    if bad:
        raise ValueError(f"fractions must be in (0, 1], got {', '.join(map(str, bad))}")
    return values


def fraction_key(f: float) -> str:
    """How a fraction names its subset in JSON and file names: 0.25 -> "0.25", 1.0 -> "1"."""
    return f"{f:g}"


def _strata_positions(strata: np.ndarray, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Stratum id -> its positions in one seeded random order (strata in sorted id order, so the draw is stable)."""
    strata = np.asarray(strata)
    order = np.argsort(strata, kind="stable")
    ids, starts = np.unique(strata[order], return_index=True)
    groups = np.split(order, starts[1:])
    return {int(s): rng.permutation(g) for s, g in zip(ids, groups, strict=True)}


def _counts(sizes: np.ndarray, f: float, lower: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Per-stratum counts for fraction f: floor or ceil of f * size, at least `lower`, summing to round(f * n).

    Largest remainder: every stratum gets floor(f * size) (or `lower`, the count at the previous fraction, which is
    at most ceil), and the rows still missing go one each to the strata with the largest remainders (ties by a
    seeded priority). Keeping `lower` is what makes the counts grow with f, i.e. subsets nested.
    """
    exact = f * sizes
    base = np.maximum(np.floor(exact + 1e-9).astype(np.int64), lower)
    base = np.minimum(base, sizes)
    missing = int(round(f * sizes.sum())) - int(base.sum())
    if missing > 0:
        room = np.flatnonzero(base < np.minimum(np.ceil(exact - 1e-9), sizes))
        rem = (exact - base)[room]
        ranked = room[np.lexsort((priority[room], -rem))]
        base[ranked[:missing]] += 1
    return base


def nested_subsets(strata: np.ndarray | None, fractions: Sequence[float] = DEFAULT_FRACTIONS, seed: int = 0,
                   *, n: int | None = None) -> dict[float, np.ndarray]:
    """Fraction -> sorted positions; smaller fractions are subsets of larger ones, stratified by `strata`.

    `strata` is one label per row (topic ids; -1 "unassigned" is a stratum like any other); None puts every row in
    one stratum and then needs `n`. Per stratum the count is floor or ceil of f * size, and every subset's size is
    round(f * n) whenever the floors and ceils allow it.
    """
    fracs = _check_fractions(fractions)
    if strata is None:
        if n is None:
            raise ValueError("nested_subsets needs strata or n")
        strata = np.zeros(n, dtype=np.int64)
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    perms = _strata_positions(strata, rng)
    sizes = np.array([len(p) for p in perms.values()], dtype=np.int64)
    priority = rng.permutation(len(sizes))
    lower = np.zeros(len(sizes), dtype=np.int64)
    out: dict[float, np.ndarray] = {}
    for f in fracs:
        counts = _counts(sizes, f, lower, priority)
        lower = counts
        taken = [p[:c] for p, c in zip(perms.values(), counts, strict=True)]
        out[f] = np.sort(np.concatenate(taken)) if taken else np.zeros(0, dtype=np.int64)
    return out


# ------------------------------------------------------------------------------------------------ select N rows


def _check_k(n: int, k: int) -> None:
    if k < 1:
        raise ValueError(f"--n must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"asked for {k:,} rows but only {n:,} are available")


def select_random(n: int, k: int, seed: int = 0) -> np.ndarray:
    """k distinct positions of 0..n-1 uniformly at random, in the order drawn."""
    _check_k(n, k)
    return np.random.default_rng(seed).permutation(n)[:k].astype(np.int64)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 C-contiguous L2-normalised copy, so a dot product is cosine similarity (zero rows stay zero)."""
    x = np.array(vectors, dtype=np.float32, copy=True, order="C")
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {np.shape(vectors)}")
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def select_kcenter(vectors: np.ndarray, k: int, seed: int = 0, *, start: str = "centroid") -> np.ndarray:
    """Greedy k-center (farthest-point traversal) on cosine distance.

    `start` "centroid" (default) begins at the row nearest the mean direction: a typical row, so the traversal does
    not spend its first pick on an outlier and the result does not depend on the seed (on TruthfulQA at N=50 it
    covers 26 of 38 categories; seeded random starts range 23-29, mean 26.1, bench/README.md). `start` "random"
    begins at a seeded random row.

    Keeps d[i] = cosine distance from row i to its nearest chosen row; each step picks argmax d and lowers d with one
    matrix-vector product: O(n * k * dim) time, O(n) extra memory. The result's coverage radius is at most twice the
    best possible for k centres. Exact duplicates of a chosen row have distance 0 and are only picked once every
    distinct row is chosen.
    """
    x = unit_rows(vectors)
    n = len(x)
    _check_k(n, k)
    if start == "centroid":
        first = int(np.argmax(x @ x.mean(axis=0)))
    elif start == "random":
        first = int(np.random.default_rng(seed).integers(n))
    else:
        raise ValueError(f"start must be 'centroid' or 'random', not {start!r}")
    chosen = np.empty(k, dtype=np.int64)
    dist = np.full(n, np.inf, dtype=np.float32)
    nxt = first
    for j in range(k):
        chosen[j] = nxt
        c = x[nxt]
        for lo in range(0, n, _BLOCK):
            block = 1.0 - x[lo:lo + _BLOCK] @ c
            np.minimum(dist[lo:lo + _BLOCK], block, out=dist[lo:lo + _BLOCK])
        dist[nxt] = -np.inf  # never again, even when float error leaves a chosen row's distance above 0
        nxt = int(np.argmax(dist))
    return chosen


def select_balanced(strata: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k positions spread evenly over strata (topics): round-robin, one seeded random row per stratum per round.

    Every stratum gets floor or ceil of the equal share, except small strata, which give all they have (their unused
    share goes to the others). In each round the larger strata come first, so the last partial round's leftovers go
    to the biggest topics (proportional-ish); ties in size are broken by the seed.
    """
    strata = np.asarray(strata)
    n = len(strata)
    _check_k(n, k)
    rng = np.random.default_rng(seed)
    perms = list(_strata_positions(strata, rng).values())
    tiebreak = rng.permutation(len(perms))
    order = np.lexsort((tiebreak, -np.array([len(p) for p in perms])))
    rank = np.argsort(order)  # the place of each stratum within a round
    pos = np.concatenate(perms)
    round_no = np.concatenate([np.arange(len(p)) for p in perms])
    place = np.concatenate([np.full(len(p), rank[j]) for j, p in enumerate(perms)])
    return pos[np.lexsort((place, round_no))][:k].astype(np.int64)


def select(strategy: str, k: int, seed: int = 0, *, vectors: np.ndarray | None = None,
           strata: np.ndarray | None = None, n: int | None = None) -> np.ndarray:
    """Dispatch by name (random / kcenter / balanced); ValueError naming what is missing."""
    if strategy == "random":
        size = n if n is not None else len(vectors if vectors is not None else strata)  # type: ignore[arg-type]
        return select_random(size, k, seed)
    if strategy == "kcenter":
        if vectors is None:
            raise ValueError("kcenter needs embeddings")
        return select_kcenter(vectors, k, seed)
    if strategy == "balanced":
        if strata is None:
            raise ValueError("balanced needs topics")
        return select_balanced(strata, k, seed)
    raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")


# ------------------------------------------------------------------------------------------------------ report


@dataclass(frozen=True)
class SelectionReport:
    """What each strategy buys against the full data.

    `summary`: one row per strategy plus "full": strategy, rows, topics_covered, topics_total, topic_tvd (total
    variation distance of its topic distribution from the full data's, 0 = same proportions), coverage_radius (max
    over all rows of cosine distance to the nearest selected row), mean_coverage (the mean of that distance) and
    mean_nn_distance (mean cosine distance from each selected row to its nearest other selected row).
    `distribution`: long table strategy, topic, rows, share (for a grouped bar chart; "full" included).
    """

    summary: pd.DataFrame
    distribution: pd.DataFrame


def _faiss() -> Any:
    import faiss

    return faiss


def _nearest(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Cosine similarities of each query's k nearest rows of `base` (unit vectors; faiss IndexFlatIP)."""
    faiss = _faiss()
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(base))
    sims, _ = index.search(np.ascontiguousarray(queries), k)
    return sims


def mean_nn_distance(x: np.ndarray, *, sample: int | None = None, seed: int = 0) -> float:
    """Mean cosine distance from each row to its nearest other row (unit vectors); on `sample` rows when given."""
    if len(x) < 2:
        return float("nan")
    queries = x
    if sample is not None and len(x) > sample:
        queries = x[np.random.default_rng(seed).choice(len(x), sample, replace=False)]
    sims = _nearest(x, queries, 2)
    return float(np.mean(1.0 - sims[:, 1]))


def topic_distance(strata: np.ndarray, chosen: np.ndarray) -> float:
    """Total variation distance between the topic distribution of `chosen` and of all rows (0..1)."""
    full = pd.Series(strata).value_counts(normalize=True)
    part = pd.Series(np.asarray(strata)[chosen]).value_counts(normalize=True).reindex(full.index, fill_value=0.0)
    return float(0.5 * np.abs(full - part).sum())


def selection_report(vectors: np.ndarray | None, strata: np.ndarray | None,
                     chosen_sets: Mapping[str, np.ndarray], *, seed: int = 0,
                     include_full: bool = True) -> SelectionReport:
    """Compare selections (name -> positions) with the full data; either input may be None (its columns are NaN).

    `include_full` adds the "full" row; its mean NN distance is a kNN search over all rows (on NN_SAMPLE queries
    above that size), the one costly part: leave it out when only the selections' own numbers are wanted.
    """
    if vectors is None and strata is None:
        raise ValueError("selection_report needs vectors, strata or both")
    n = len(vectors) if vectors is not None else len(strata)  # type: ignore[arg-type]
    if strata is not None and len(strata) != n:
        raise ValueError(f"strata has {len(strata)} rows but vectors has {n}")
    x = unit_rows(vectors) if vectors is not None else None
    n_topics = int(len(np.unique(strata))) if strata is not None else 0
    records: list[dict[str, Any]] = []
    dist_frames: list[pd.DataFrame] = []
    sets = {k: np.asarray(v, dtype=np.int64) for k, v in chosen_sets.items()}
    if include_full:
        sets = {"full": np.arange(n), **sets}
    for name, pos in sets.items():
        rec: dict[str, Any] = {"strategy": name, "rows": int(len(pos))}
        if strata is not None:
            labels = np.asarray(strata)[pos]
            rec.update(topics_covered=int(len(np.unique(labels))), topics_total=n_topics,
                       topic_tvd=topic_distance(strata, pos))
            counts = pd.Series(labels).value_counts().rename_axis("topic").reset_index(name="rows")
            dist_frames.append(counts.assign(strategy=name, share=counts["rows"] / max(len(pos), 1)))
        if x is not None and len(pos):
            if name == "full":
                rec.update(coverage_radius=0.0, mean_coverage=0.0)
            else:
                cover = 1.0 - _nearest(x[pos], x, 1)[:, 0]
                rec.update(coverage_radius=float(np.clip(cover.max(), 0, 2)), mean_coverage=float(cover.mean()))
            rec["mean_nn_distance"] = mean_nn_distance(x[pos], sample=NN_SAMPLE, seed=seed)
        records.append(rec)
    cols = ["strategy", "rows", "topics_covered", "topics_total", "topic_tvd", "coverage_radius", "mean_coverage",
            "mean_nn_distance"]
    summary = pd.DataFrame.from_records(records).reindex(columns=cols)
    dist = (pd.concat(dist_frames, ignore_index=True)[["strategy", "topic", "rows", "share"]] if dist_frames
            else pd.DataFrame(columns=["strategy", "topic", "rows", "share"]))
    return SelectionReport(summary, dist)


# -------------------------------------------------------------------------------------------- train/eval split


def union_groups(labelings: Iterable[np.ndarray], n: int) -> np.ndarray:
    """Merge several group labelings (-1 = no group) into one: rows sharing a group in any labeling end up together.

    Connected components of the graph row -- group node; rows in no group stay -1. Ids are 0.. in order of each
    group's first row.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows_idx: list[np.ndarray] = []
    cols_idx: list[np.ndarray] = []
    offset = n
    for lab in labelings:
        lab = np.asarray(lab, dtype=np.int64)
        if len(lab) != n:
            raise ValueError(f"a group labeling has {len(lab)} rows, expected {n}")
        member = np.flatnonzero(lab >= 0)
        if not len(member):
            continue
        _, local = np.unique(lab[member], return_inverse=True)
        rows_idx.append(member)
        cols_idx.append(offset + local)
        offset += int(local.max()) + 1
    out = np.full(n, -1, dtype=np.int64)
    if not rows_idx:
        return out
    r, c = np.concatenate(rows_idx), np.concatenate(cols_idx)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(offset, offset))
    _, comp = connected_components(graph, directed=False)
    grouped = np.zeros(n, dtype=bool)
    grouped[r] = True
    comp = comp[:n]
    _, first, inverse = np.unique(comp[grouped], return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # renumber components by their first row
    out[grouped] = rank[inverse]
    return out


def split_train_eval(n_rows: int, groups: np.ndarray | None = None, eval_fraction: float = 0.1,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train positions, eval positions), both sorted; every group (-1 = singleton) lies wholly on one side.

    Units (groups and singletons) are shuffled by the seed and go to eval while that brings the eval size closer to
    round(eval_fraction * n_rows); a group that would overshoot is skipped for a later smaller unit. So the eval
    size is off the target by less than the largest group that had to be skipped (exact when there are singletons).
    """
    if not 0 <= eval_fraction <= 1:
        raise ValueError(f"eval fraction must be in [0, 1], got {eval_fraction}")
    groups = np.full(n_rows, -1, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    if len(groups) != n_rows:
        raise ValueError(f"groups has {len(groups)} rows, expected {n_rows}")
    # one unit id per row: groups keep theirs, each singleton gets a fresh one
    unit = groups.copy()
    single = np.flatnonzero(unit < 0)
    unit[single] = (unit.max(initial=-1) + 1) + np.arange(len(single))
    ids, inverse, sizes = np.unique(unit, return_inverse=True, return_counts=True)
    target = int(round(eval_fraction * n_rows))
    rng = np.random.default_rng(seed)
    in_eval = np.zeros(len(ids), dtype=bool)
    total = 0
    for u in rng.permutation(len(ids)):
        if total >= target:
            break
        if abs(total + int(sizes[u]) - target) < target - total:  # closer to the target with this unit than without
            in_eval[u] = True
            total += int(sizes[u])
    mask = in_eval[inverse]
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def duplicate_groups(ws_dir: Path, row_ids: np.ndarray, checks: Sequence[str] = DUPLICATE_CHECKS) -> np.ndarray:
    """One group id per row in `row_ids` order, unioning the latest results of the duplicate checks in `ws_dir`.

    Checks never run are skipped (their groups are unknown, so the split can only honour what was measured).
    """
    from analysis.checks import latest_results

    row_ids = np.asarray(row_ids, dtype=np.int64)
    latest = latest_results(Path(ws_dir))
    labelings = []
    for name in checks:
        info = latest.get(name)
        if info is None:
            continue
        frame = pd.read_parquet(info["path"], columns=["row_id", "group_id"])
        lookup = pd.Series(frame["group_id"].to_numpy(np.int64), index=frame["row_id"].to_numpy(np.int64))
        labelings.append(lookup.reindex(row_ids, fill_value=-1).to_numpy(np.int64))
    return union_groups(labelings, len(row_ids))


def selection_inputs(ws_dir: Path, all_row_ids: np.ndarray, kept_row_ids: np.ndarray, *, model: str,
                     scope: str | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """What the strategies need from a workspace, aligned with `kept_row_ids`: the topic id per row (or None when
    topics were never computed; rows missing from topics.parquet are -1) and the embeddings (or None). Without a
    `scope`, the topics' scope is tried first, then both, prompt, response."""
    from analysis.space.embedders import load_embeddings
    from analysis.space.topics import read_topics

    topics = read_topics(ws_dir)
    strata = None
    if topics is not None:
        lookup = pd.Series(topics.topic_id, index=topics.row_ids)
        strata = lookup.reindex(np.asarray(kept_row_ids), fill_value=-1).to_numpy(np.int64)
    scopes = [scope] if scope else list(dict.fromkeys(
        [s for s in ((topics.params.get("scope") if topics else None), "both", "prompt", "response") if s]))
    for sc in scopes:
        found = load_embeddings(ws_dir, model, sc, np.asarray(all_row_ids))
        if found is not None:
            return strata, np.asarray(found)[np.isin(np.asarray(all_row_ids), np.asarray(kept_row_ids))]
    return strata, None
