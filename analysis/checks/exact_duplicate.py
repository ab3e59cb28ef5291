"""`exact_duplicate`: rows whose normalised text in a field scope is identical (issue 4)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register

SCOPES = ("prompt", "response", "both", "first_turn", "record")
KEEP_RULES = ("first", "longest", "shortest", "highest_score", "most_turns")


def normalize(text: str, *, case_sensitive: bool = False) -> str:
    """Unicode NFKC, every whitespace run collapsed to one space, stripped, and casefolded unless case-sensitive."""
    out = " ".join(unicodedata.normalize("NFKC", text).split())
    return out if case_sensitive else out.casefold()


def scope_texts(ctx: CheckContext, scope: str) -> list[str]:
    """The scope's text per row; for preference rows `both` also includes the rejected answer, so two pairs that
    share prompt and chosen but differ in the rejected answer are different examples."""
    texts = ctx.texts(scope)
    if scope != "both":
        return texts
    kinds = ctx.rows["kind"].astype(str).tolist()
    rejected = ctx.rows["rejected"].tolist()
    return [t + "\n" + str(r) if k == "preference" and isinstance(r, str) else t
            for t, k, r in zip(texts, kinds, rejected, strict=True)]


def check_scope_keep(scope: str, keep: str, scopes: tuple[str, ...] = SCOPES) -> None:
    """The parameter checks every duplicate check shares: a known scope and a known keep rule."""
    if scope not in scopes:
        raise ValueError(f"scope must be one of {', '.join(scopes)}, not {scope!r}")
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}, not {keep!r}")


@register
class ExactDuplicate(Check):
    """Exact duplicates: rows whose text in the chosen scope is identical after normalisation (Unicode NFKC,
    whitespace runs collapsed and stripped, casefolded unless `case_sensitive`). Duplicates over-weight one
    example in the training mix, so the model memorises it and the loss is skewed towards it, and duplicates
    across a train/eval split leak the evaluation. Rows with the same hash form a group; the `keep` rule picks
    one member per group (default `first`, the earliest row, the usual dedup convention; `longest`/`shortest`
    compare the whole example's raw length, `most_turns` the number of turns, `highest_score` the `score` column,
    ties to the earliest row); the other members are
    flagged `dup_of:<row_id of the kept member>`. Empty texts (after normalisation) are never duplicates of each
    other: an empty field is the `length` check's finding, not a duplicate cluster. Scope default `both` (every
    turn's content; for preference rows also the rejected answer), so two rows count as duplicates only when the
    whole example is repeated.
    """

    name = "exact_duplicate"
    description = "Rows whose normalised text (NFKC, whitespace, case) is identical; all but one kept per group."

    bounds = {"scope": Bound(choices=SCOPES), "keep": Bound(choices=KEEP_RULES)}

    @dataclass(frozen=True)
    class Params:
        scope: str = "both"  # prompt | response | both | record
        case_sensitive: bool = False  # False: casefold before hashing
        keep: str = "first"  # first | longest | shortest | highest_score | most_turns

        def __post_init__(self) -> None:
            check_scope_keep(self.scope, self.keep)

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        norm = [normalize(t, case_sensitive=p.case_sensitive) for t in ctx.track(scope_texts(ctx, p.scope))]
        digests = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() if t else None for t in norm]
        frame = pd.DataFrame({"h": digests, "pos": np.arange(n)})
        frame = frame[frame["h"].notna()]
        sizes = frame.groupby("h", sort=False)["pos"].transform("size")
        members = frame[sizes.to_numpy() >= 2].copy()
        group_id = np.full(n, -1, dtype=np.int64)
        keep = np.zeros(n, dtype=bool)
        reason = np.full(n, "", dtype=object)
        if len(members):
            # Groups numbered by their first member's position, so ids are stable and read top to bottom.
            members["gid"] = pd.factorize(members["h"], sort=False)[0]
            members["rank"] = keep_rank(ctx, members["pos"].to_numpy(), self.params.keep)
            # Kept member: best rank, ties broken by the earliest position.
            ordered = members.sort_values(["gid", "rank", "pos"], ascending=[True, False, True], kind="stable")
            kept_pos = ordered.groupby("gid", sort=True)["pos"].first().to_numpy()
            pos = members["pos"].to_numpy()
            gids = members["gid"].to_numpy()
            group_id[pos] = gids
            keep[kept_pos] = True
            row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
            kept_row = row_ids[kept_pos]
            for i, g in zip(pos, gids, strict=True):
                if not keep[i]:
                    reason[i] = f"dup_of:{kept_row[g]}"
        issue = reason != ""
        in_groups = int((group_id >= 0).sum())
        return self.result(ctx, score=issue.astype(float), is_issue=issue, reason=reason, group_id=group_id,
                           keep=keep, summary={"rows_in_groups": in_groups, "scope": p.scope, "keep_rule": p.keep})


def keep_rank(ctx: CheckContext, pos: np.ndarray, rule: str) -> np.ndarray:
    """Higher = preferred by the keep rule (ties go to the earliest row); shared by every duplicate check."""
    if rule == "first":
        return np.zeros(len(pos))
    if rule in ("longest", "shortest"):
        # The whole example's length (all turns, raw): within a group the scope texts are equal once
        # normalised, so the rule is about what else the rows carry (e.g. a longer answer to the same prompt).
        both = scope_texts(ctx, "both")
        lengths = np.array([len(both[i]) for i in pos], dtype=float)
        return lengths if rule == "longest" else -lengths
    if rule == "highest_score":
        scores = ctx.rows["score"].to_numpy(dtype=float)[pos]
        return np.where(np.isnan(scores), -np.inf, scores)
    msgs = ctx.messages
    return np.array([len(msgs[i]) for i in pos], dtype=float)
