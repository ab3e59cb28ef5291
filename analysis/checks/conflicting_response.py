"""`conflicting_response`: the same prompt answered with different responses (issue 4, inspect-data findings)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.exact_duplicate import normalize
from analysis.checks.near_duplicate import (
    lsh_candidates,
    minhash_signatures,
    optimal_bands,
    shingle_sets,
    true_jaccard,
    union_find,
)

_WORD = re.compile(r"\w+")
_NUM = r"([-+]?\$?\s?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+)"
_GSM8K = re.compile(r"####\s*" + _NUM)
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*" + _NUM, re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{\s*" + _NUM + r"\s*\}")
_TRAILING = re.compile(_NUM + r"[\s.!)\]*%]*$")
MAX_COMPARE = 32  # a row's divergence is measured against at most this many other distinct responses of its group
NUM_PERM = 128


def final_number(text: str) -> float | None:
    """The final numeric answer of a response, or None.

    Tried in order, the last match of each: GSM8K's `#### N`, "the answer is N" (any case, optional colon),
    LaTeX `\\boxed{N}`, and finally a number ending the text (only closing punctuation, `%` or whitespace after
    it). Thousands separators, `$` and a leading `+` are dropped, so "1,000", "$1000" and "1000.00" are equal.
    """
    for pattern in (_GSM8K, _ANSWER_IS, _BOXED):
        found = pattern.findall(text)
        if found:
            return _to_float(found[-1])
    m = _TRAILING.search(text)
    return _to_float(m.group(1)) if m else None


def _to_float(s: str) -> float | None:
    try:
        return float(s.replace(",", "").replace("$", "").replace(" ", ""))
    except ValueError:
        return None


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


@register
class ConflictingResponse(Check):
    """Conflicting responses: the same prompt (equal after `exact_duplicate`'s normalisation: NFKC, whitespace,
    casefold) answered with two or more different responses (normalised the same way). Finetuning on both teaches
    the model that either answer is right for that prompt; when the answers disagree on a fact the model learns
    noise, and it is often a sign of merged sources, a re-templated copy, or a preference pair split into two SFT
    rows. With `prompt_threshold` below 1.0 prompts also match when the true Jaccard of their word trigram sets
    reaches it (MinHash + LSH as `near_duplicate`, joined transitively); the default 1.0 is exact matching. Every
    member of a group with at least two distinct responses is flagged (one group_id per prompt group, no kept
    member: this is a review finding, not a dedup). Reason `conflicting_answer` when the row's final numeric
    answer differs from another member's (extraction in order: GSM8K `#### N`, "the answer is N",
    `\\boxed{N}`, a number ending the text; commas and `$` dropped; rows without a number never count), score 1.0;
    otherwise `conflicting_response` with score = 1 - the lowest word-set Jaccard between the row's response and
    the group's other distinct responses (up to 32 compared). Rows with an empty prompt or an empty response are
    ignored (the `length` check's finding). For preference rows the response is the chosen answer. Measured:
    GSM8K test + test_socratic loaded together give 1,319 groups (the same questions with plain and Socratic
    solutions) and 0 numeric conflicts; HH-RLHF harmless-base test gives 2 groups of 2 rows.
    """

    name = "conflicting_response"
    description = "The same prompt answered with different responses (or different final numbers)."

    bounds = {"prompt_threshold": Bound(0, 1)}

    @dataclass(frozen=True)
    class Params:
        prompt_threshold: float = 1.0  # 1.0: exact normalised prompt; below: word-trigram Jaccard of prompts
        case_sensitive: bool = False  # False: casefold prompts and responses before comparing

        def __post_init__(self) -> None:
            if not 0 < self.prompt_threshold <= 1:
                raise ValueError("prompt_threshold must be in (0, 1]")

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        prompts = [normalize(t, case_sensitive=p.case_sensitive) for t in ctx.track(ctx.prompts, label="prompts")]
        responses = [normalize(t, case_sensitive=p.case_sensitive)
                     for t in ctx.track(ctx.responses, label="responses")]
        valid = np.array([bool(a) and bool(b) for a, b in zip(prompts, responses, strict=True)], dtype=bool)
        pos = np.flatnonzero(valid)
        group_of = self._prompt_groups(ctx, prompts, pos)  # -1 for invalid rows
        resp_code = pd.factorize(pd.Series(responses, dtype=object))[0]
        frame = pd.DataFrame({"pos": pos, "g": group_of[pos], "r": resp_code[pos]})
        distinct = frame.groupby("g")["r"].transform("nunique").to_numpy()
        members = frame[distinct >= 2]
        group_id = np.full(n, -1, dtype=np.int64)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n, dtype=np.float64)
        numeric_groups = 0
        if len(members):
            gids = pd.factorize(members["g"], sort=True)[0]  # numbered by the group's first member position
            group_id[members["pos"].to_numpy()] = gids
            for _, sub in members.groupby(gids, sort=True):
                numeric_groups += self._score_group(sub["pos"].to_numpy(), responses, reason, score)
        issue = reason != ""
        return self.result(ctx, score=score, is_issue=issue, reason=reason, group_id=group_id, keep=None,
                           summary={"groups_numeric_conflict": numeric_groups,
                                    "rows_in_groups": int(issue.sum()), "prompt_threshold": p.prompt_threshold})

    def _prompt_groups(self, ctx: CheckContext, prompts: list[str], pos: np.ndarray) -> np.ndarray:
        """Group label (a representative position) per row; -1 for rows without prompt or response."""
        n = len(ctx)
        group_of = np.full(n, -1, dtype=np.int64)
        if not len(pos):
            return group_of
        codes = pd.factorize(pd.Series([prompts[i] for i in pos], dtype=object))[0]
        first = pd.Series(pos).groupby(codes).transform("min").to_numpy()
        group_of[pos] = first
        if self.params.prompt_threshold >= 1.0:
            return group_of
        reps = np.unique(first)
        hashes, offsets = shingle_sets([prompts[i] for i in reps], ngram=3)
        bands, rows = optimal_bands(self.params.prompt_threshold, NUM_PERM)
        pairs = lsh_candidates(minhash_signatures(hashes, offsets, NUM_PERM), bands, rows)
        if len(pairs):
            sims = true_jaccard(hashes, offsets, pairs)
            pairs = pairs[sims >= self.params.prompt_threshold - 1e-12]
        roots = union_find(len(reps), pairs)  # smallest local index = earliest representative
        rep_root = dict(zip(reps.tolist(), reps[roots].tolist(), strict=True))
        group_of[pos] = [rep_root[g] for g in first.tolist()]
        return group_of

    @staticmethod
    def _score_group(pos: np.ndarray, responses: list[str], reason: np.ndarray, score: np.ndarray) -> int:
        """Fill reason/score for one group's members; 1 when the group holds two different final numbers."""
        texts = [responses[i] for i in pos]
        nums = [final_number(t) for t in texts]
        distinct_nums = {x for x in nums if x is not None}
        uniq = list(dict.fromkeys(texts))[:MAX_COMPARE + 1]
        words = {t: _words(t) for t in uniq}
        for i, text, num in zip(pos.tolist(), texts, nums, strict=True):
            if num is not None and len(distinct_nums - {num}) > 0:
                reason[i], score[i] = "conflicting_answer", 1.0
                continue
            mine = words.get(text) or _words(text)
            others = [words[u] for u in uniq if u != text][:MAX_COMPARE]
            reason[i] = "conflicting_response"
            score[i] = 1.0 - min(_jaccard(mine, o) for o in others) if others else 1.0
        return int(len(distinct_nums) >= 2)
