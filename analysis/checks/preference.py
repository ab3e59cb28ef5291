"""`preference`: degenerate and contradicting preference pairs, plus a length-bias report (issue 5)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register

_TOKEN = re.compile(r"\w+")
# Bin edges of log2(len(chosen) / len(rejected)): 0 is equal length, ±1 is twice / half as long.
LOG2_BIN_EDGES = (-np.inf, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, np.inf)


def _ws(text: str) -> str:
    return " ".join(text.split())


def jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the lowercased word-token sets (1.0 when both are empty)."""
    ta, tb = set(_TOKEN.findall(a.lower())), set(_TOKEN.findall(b.lower()))
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def length_bias(chosen: list[str], rejected: list[str]) -> dict[str, object]:
    """Dataset-level length bias, lengths in characters: share of pairs whose chosen answer is longer (and
    shorter, equal), the median of len(chosen)/len(rejected) and a histogram of its log2 (pairs with an empty
    side are left out of the ratio and the histogram, not of the shares)."""
    lc = np.array([len(c) for c in chosen], dtype=float)
    lr = np.array([len(r) for r in rejected], dtype=float)
    n = len(lc)
    both = (lc > 0) & (lr > 0)
    ratio = lc[both] / lr[both]
    counts, _ = np.histogram(np.log2(ratio), bins=np.array(LOG2_BIN_EDGES)) if len(ratio) else (
        np.zeros(len(LOG2_BIN_EDGES) - 1, dtype=int), None)
    return {"pairs": n, "share_chosen_longer": float((lc > lr).mean()) if n else 0.0,
            "share_chosen_shorter": float((lc < lr).mean()) if n else 0.0,
            "share_equal_length": float((lc == lr).mean()) if n else 0.0,
            "median_length_ratio": float(np.median(ratio)) if len(ratio) else None,
            # ±inf written as null so the summary stays strict JSON
            "log2_ratio_bin_edges": [float(e) if np.isfinite(e) else None for e in LOG2_BIN_EDGES],
            "log2_ratio_counts": [int(c) for c in counts]}


@register
class Preference(Check):
    """Preference pairs that teach nothing or contradict each other. `chosen_equals_rejected`: the two answers are
    identical after whitespace normalisation, so the pair carries no preference signal (a DPO loss on it is
    zero at best, noise at worst). `chosen_near_rejected`: lowercased word-token Jaccard ≥ `near_threshold`
    (default 0.9: at most about one word in ten differs), where the preference hinges on a detail a reviewer
    should confirm. `contradicting_pair`: the same prompt (whitespace-normalised) with answer A preferred over B
    in one row and B over A in another; every such row is flagged and the rows share a `group_id` per prompt.
    The summary adds the dataset-level length bias (share of pairs whose chosen answer is longer in characters,
    the median length ratio and a histogram of log2(len(chosen)/len(rejected))): reward models and DPO readily
    learn "longer is better" when chosen answers are systematically longer. Only preference rows are checked.
    Score: 1.0 equal or contradicting, else the Jaccard similarity.
    """

    name = "preference"
    description = "Chosen equal / near-identical to rejected, contradicting pairs, and the length-bias report."

    bounds = {"near_threshold": Bound(0, 1)}

    @dataclass(frozen=True)
    class Params:
        near_threshold: float = 0.9  # word-token Jaccard at or above which chosen and rejected are near-identical

    def run(self, ctx: CheckContext) -> CheckResult:
        rows = ctx.rows
        n = len(rows)
        kinds = rows["kind"].astype(str).to_numpy()
        idx = np.flatnonzero(kinds == "preference")
        chosen_all, rejected_all = rows["chosen"].tolist(), rows["rejected"].tolist()
        prompts = ctx.prompts
        chosen = [str(chosen_all[i]) if isinstance(chosen_all[i], str) else "" for i in idx]
        rejected = [str(rejected_all[i]) if isinstance(rejected_all[i], str) else "" for i in idx]
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        group_id = np.full(n, -1, dtype=np.int64)
        nc, nr = [_ws(c) for c in ctx.track(chosen, label="pairs")], [_ws(r) for r in rejected]
        # Contradictions: within one prompt, an ordered pair (A, B) whose reverse (B, A) also occurs.
        by_prompt: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(list))
        for k, i in enumerate(idx):
            if nc[k] != nr[k]:
                by_prompt[_ws(prompts[i])][(nc[k], nr[k])].append(int(i))
        contradicting: dict[int, int] = {}
        next_group = 0
        for pairs in by_prompt.values():
            hit = sorted({i for (a, b), members in pairs.items() if (b, a) in pairs for i in members})
            if hit:
                for i in hit:
                    contradicting[i] = next_group
                next_group += 1
        for k, i in enumerate(idx):
            if nc[k] == nr[k]:
                reason[i], score[i] = "chosen_equals_rejected", 1.0
            elif i in contradicting:
                reason[i], score[i], group_id[i] = "contradicting_pair", 1.0, contradicting[i]
            else:
                sim = jaccard(nc[k], nr[k])
                if sim >= self.params.near_threshold:
                    reason[i], score[i] = "chosen_near_rejected", sim
        return self.result(ctx, score=score, reason=reason, group_id=group_id,
                           summary={"preference_rows": int(len(idx)), "contradicting_prompts": next_group,
                                    "length_bias": length_bias(chosen, rejected)})
