"""`shared_response`: one non-trivial response given to different prompts (issue 4, inspect-data findings)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.exact_duplicate import normalize


@register
class SharedResponse(Check):
    """Shared responses: the same response (equal after `exact_duplicate`'s normalisation: NFKC, whitespace,
    casefold) given to two or more different prompts (normalised the same way). A finetuning set that answers
    unrelated prompts with one canned text teaches the model to ignore the prompt; it is the mark of a templated
    fallback, a mis-joined prompt/response column or a copy-paste error. Responses of fewer than `min_words`
    whitespace-separated words are skipped (default 5, so "Thank you!" or "Yes." never group). Groups whose
    members all share one prompt are not reported: those are exact duplicate rows, the `exact_duplicate` check's
    finding. Every member of a reported group is flagged `shared_response` (one group_id per response, no kept
    member: a review finding, not a dedup), score = 1 - 1/(distinct prompts), so 2 prompts score 0.5 and 10
    score 0.9. For preference rows the response is the chosen answer. Measured: the bundled sample flags 0
    rows (its only repeated responses are its planted exact duplicates); GSM8K test + test_socratic 0;
    HH-RLHF harmless-base test 3 groups of 2 (canned apologies).
    """

    name = "shared_response"
    description = "The same non-trivial response given to different prompts."

    bounds = {"min_words": Bound(1, 10_000_000)}

    @dataclass(frozen=True)
    class Params:
        min_words: int = 5  # shorter responses ("Thank you!", "Yes.") are legitimately shared
        case_sensitive: bool = False  # False: casefold before comparing

        def __post_init__(self) -> None:
            if self.min_words < 1:
                raise ValueError("min_words must be >= 1")

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        responses = [normalize(t, case_sensitive=p.case_sensitive) for t in ctx.track(ctx.responses)]
        long_enough = np.array([r.count(" ") + 1 >= p.min_words if r else False for r in responses], dtype=bool)
        pos = np.flatnonzero(long_enough)
        group_id = np.full(n, -1, dtype=np.int64)
        score = np.zeros(n, dtype=np.float64)
        reason = np.full(n, "", dtype=object)
        biggest: list[dict[str, object]] = []
        if len(pos):
            prompts = [normalize(ctx.prompts[i], case_sensitive=p.case_sensitive) for i in pos]
            frame = pd.DataFrame({"pos": pos, "r": pd.factorize(pd.Series([responses[i] for i in pos],
                                                                          dtype=object))[0],
                                  "q": pd.factorize(pd.Series(prompts, dtype=object))[0]})
            frame["prompts"] = frame.groupby("r")["q"].transform("nunique")
            members = frame[frame["prompts"].to_numpy() >= 2]
            if len(members):
                gids = pd.factorize(members["r"], sort=False)[0]  # members are in row order: first-member order
                mpos = members["pos"].to_numpy()
                group_id[mpos] = gids
                k = members["prompts"].to_numpy(dtype=float)
                score[mpos] = 1.0 - 1.0 / k
                reason[mpos] = "shared_response"
                row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
                sizes = pd.Series(mpos).groupby(gids).agg(["size", "first"])
                top = sizes.sort_values(["size", "first"], ascending=[False, True]).head(20)
                biggest = [{"group_id": int(g), "rows": int(s), "first_row": int(row_ids[f]),
                            "response": ctx.responses[f][:200]}
                           for g, s, f in zip(top.index, top["size"], top["first"], strict=True)]
        issue = reason != ""
        return self.result(ctx, score=score, is_issue=issue, reason=reason, group_id=group_id, keep=None,
                           summary={"rows_in_groups": int(issue.sum()), "largest_groups": biggest,
                                    "min_words": p.min_words})
