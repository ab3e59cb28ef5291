"""`semantic_duplicate`: rows whose embeddings have cosine >= threshold, found through the kNN index (issue 4).

Embeddings come from the workspace (`sift analyze PATH --embed` writes `<ws>/embeddings/<model>@<scope>.npy`); when
they are missing, an embedder passed as `ctx.extras["embedder"]` computes them (and stores them when there is a
workspace). Pairs are found with the shared `KnnIndex` (space/knn.py): every row's `k` nearest other rows, queried
in batches, so memory is O(n * k) and all pairs are never held. Groups cannot chain (`near_duplicate.centre_clusters`):
in the `keep` rule's order each unclaimed row becomes a kept centre and claims the rows it is directly paired with
(cosine >= `threshold`), identical rows (cosine 1) join transitively, so every flagged row is within the threshold
of its kept row; score = its cosine to that row. A row whose pair with the centre lies beyond its `k` nearest is not
inferred through others: it stays (a miss, never a wrong drop). Above `knn.EXACT_MAX` rows the index
is HNSW (approximate), so a few pairs can be missed there; below it the search is exact.

Default threshold 0.95, a conservative default, measured on SICK test (4,927 sentence pairs with human relatedness
1-5) with the default MiniLM (all-MiniLM-L6-v2, 2026-11-26): Spearman(cosine, relatedness) = 0.771; the 439 pairs
(8.9%) with cosine >= 0.95 have mean relatedness 4.61, 79% of them >= 4.5 and 85% are ENTAILMENT; the median cosine
of the near-paraphrases (relatedness >= 4.8, 501 pairs) is 0.952, so 0.95 flags about half of them and few loosely
related pairs (cosine 0.90 would flag 868 pairs, 70% >= 4.5). SICK's negation pairs ("a boy is playing" / "no boy is
playing") are the known blind spot: 1% of pairs rated below 4 still reach cosine 0.97. Whole conversations are longer
than SICK sentences, so review the pair sample before lowering it.
Rows with an empty scope text are never duplicates (an empty field is the `length` check's finding).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.exact_duplicate import KEEP_RULES, check_scope_keep
from analysis.checks.near_duplicate import PAIR_SAMPLE, build_groups
from analysis.space.embedders import DEFAULT_MODEL, SCOPES, embed_rows, load_embeddings, scope_texts
from analysis.space.knn import KnnIndex, knn_graph, workspace_index

EMBEDDING_CHECKS = ("semantic_duplicate", "outlier")  # and contamination when its `paraphrase` is on


def reads_embeddings(name: str, params: dict[str, Any]) -> bool:
    """Whether check `name` with these parameters reads row embeddings (so its `model` must name the embedder)."""
    return name in EMBEDDING_CHECKS or (name == "contamination" and float(params.get("paraphrase") or 0) > 0)


def with_model(name: str, params: dict[str, Any], model: str) -> dict[str, Any]:
    """`params` with `model` filled in when check `name` reads embeddings and the caller named none: a check run
    with `--embedder static` must read (or compute) the static embeddings, not look for MiniLM's."""
    if "model" in params or not reads_embeddings(name, params):
        return params
    return {**params, "model": model}


def missing_embeddings(p: Any, ws_dir: Path | None, rows: pd.DataFrame) -> str | None:
    """Why an embedding check (params with `model` and `scope`) cannot run on this workspace yet, or None."""
    if ws_dir is None or load_embeddings(ws_dir, p.model, p.scope, rows["row_id"].to_numpy()) is None:
        return f"needs {p.scope} embeddings ({p.model}): compute the map first or run `sift analyze PATH --embed`"
    return None


def scope_vectors(ctx: CheckContext, model: str, scope: str, *, check: str = "semantic_duplicate"
                  ) -> tuple[np.ndarray, str]:
    """The scope's embeddings and the model name they belong to: from the workspace, else computed (and stored)
    with `ctx.extras["embedder"]` (the CLI passes the `--embedder` it was given, the app the session's)."""
    row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
    if ctx.ws_dir is not None:
        found = load_embeddings(ctx.ws_dir, model, scope, row_ids)
        if found is not None:
            return np.asarray(found, dtype=np.float32), model
    embedder = ctx.extras.get("embedder")
    if embedder is None:
        raise ValueError(f"{check} needs embeddings: run `sift analyze PATH --embed` (scope {scope}, "
                         f"model {model}) first, or name the check with `--embedder` to compute them")
    if ctx.ws_dir is not None:
        return embed_rows(ctx.ws_dir, ctx.rows, embedder, scope=scope), embedder.name
    return np.asarray(embedder(scope_texts(ctx.rows, scope)), dtype=np.float32), embedder.name


@register
class SemanticDuplicate(Check):
    """Semantic duplicates: rows whose embeddings (scope `both` by default) have cosine similarity >= `threshold`
    (default 0.95, a conservative default: reworded or re-templated copies of one example), found as each row's
    `k` nearest neighbours in the kNN index (never all pairs). Such rows teach the model the same thing twice while
    escaping exact and word-overlap dedup. Groups cannot chain: in the `keep` rule's order (first, longest,
    shortest, highest_score, most_turns) each unclaimed row becomes a kept centre claiming the rows paired with it
    directly, so a→b→c with a and c unlike never makes c a duplicate of a; the others are flagged
    `dup_of:<row_id of the kept member>` with score = their cosine to it.
    Needs the scope's embeddings (`sift analyze --embed`).
    """

    name = "semantic_duplicate"
    description = "Rows whose embeddings have cosine >= threshold (kNN index); one kept per group."

    bounds = {"scope": Bound(choices=SCOPES), "threshold": Bound(-1, 1), "k": Bound(1, 1000),
              "keep": Bound(choices=KEEP_RULES)}

    @dataclass(frozen=True)
    class Params:
        scope: str = "both"  # prompt | response | both (the embedded scopes)
        threshold: float = 0.95  # cosine similarity
        k: int = 10  # neighbours searched per row
        model: str = DEFAULT_MODEL  # whose embeddings to read from the workspace
        keep: str = "first"  # first | longest | shortest | highest_score | most_turns

        def __post_init__(self) -> None:
            check_scope_keep(self.scope, self.keep, SCOPES)
            if not -1 <= self.threshold <= 1:
                raise ValueError("threshold must be a cosine in [-1, 1]")
            if self.k < 1:
                raise ValueError("k must be >= 1")

    @classmethod
    def missing_inputs(cls, ws_dir: Path | None, rows: pd.DataFrame) -> str | None:
        return missing_embeddings(cls.Params(), ws_dir, rows)

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        vectors, model = scope_vectors(ctx, p.model, p.scope)
        if vectors.shape[0] != n:
            raise ValueError(f"{vectors.shape[0]} embeddings for {n} rows")
        texts = scope_texts(ctx.rows, p.scope)
        empty = np.array([not t.strip() for t in texts], dtype=bool)
        pairs = np.zeros((0, 2), dtype=np.int64)
        sims = np.zeros(0, dtype=np.float64)
        if n >= 2:
            index = workspace_index(ctx.ws_dir, model, p.scope, vectors) if ctx.ws_dir is not None \
                else KnnIndex.build(vectors)
            pos, cos = knn_graph(index, vectors, min(p.k, n - 1))
            src = np.repeat(np.arange(n), pos.shape[1])
            dst, val = pos.ravel(), cos.ravel().astype(np.float64)
            ok = (dst >= 0) & (val >= p.threshold - 1e-6)
            src, dst, val = src[ok], dst[ok], val[ok]
            ok = ~empty[src] & ~empty[dst] & (src != dst)
            src, dst, val = src[ok], dst[ok], np.minimum(val[ok], 1.0)
            if len(src):
                a, b = np.minimum(src, dst), np.maximum(src, dst)
                codes, first = np.unique(a * n + b, return_index=True)
                pairs = np.stack([codes // n, codes % n], axis=1)
                sims = val[first]
        group_id, keep, reason, score, stats = build_groups(ctx, pairs, sims, p.keep)
        row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
        shown = np.argsort(-sims, kind="stable")[:PAIR_SAMPLE]
        summary = {"scope": p.scope, "keep_rule": p.keep, "model": model, "rows_in_groups": int((group_id >= 0).sum()),
                   **stats, "pairs_found": int(len(pairs)),
                   "pairs": [{"a": int(row_ids[i]), "b": int(row_ids[j]), "cosine": round(float(s), 4)}
                             for (i, j), s in zip(pairs[shown].tolist(), sims[shown].tolist(), strict=True)]}
        issue = reason != ""
        return self.result(ctx, score=score, is_issue=issue, reason=reason, group_id=group_id, keep=keep,
                           summary=summary)
