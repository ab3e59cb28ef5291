"""`length`: empty, content-free, overly long responses and response/prompt length-ratio outliers (issue 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register

_ALNUM = re.compile(r"[^\W_]")
# Whole-response non-answers seen in public SFT data (Alpaca's `<nooutput>`, spreadsheet exports' `N/A`, `nan`).
NON_ANSWERS = frozenset({"n/a", "na", "nan", "tbd", "todo", "<nooutput>", "<no output>", "<noinput>", "<empty>"})
MAD_SCALE = 1.4826  # MAD * 1.4826 estimates the standard deviation of a normal distribution


def robust_z(x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """(x - median) / (1.4826 * MAD), median and MAD taken over `mask` rows; 0 where the MAD is 0."""
    ref = x[mask] if mask is not None else x
    if len(ref) == 0:
        return np.zeros_like(x, dtype=np.float64)
    med = float(np.median(ref))
    mad = float(np.median(np.abs(ref - med))) * MAD_SCALE
    if mad <= 1e-12:
        return np.zeros_like(x, dtype=np.float64)
    return (x - med) / mad


def grouped_robust_z(x: np.ndarray, mask: np.ndarray, groups: np.ndarray | None, min_rows: int) -> np.ndarray:
    """`robust_z` within each group (source file) that has at least `min_rows` rows under `mask`; smaller groups
    use the whole dataset's median and MAD. Files of different styles (terse math solutions beside essays) each
    keep their own notion of normal length."""
    z = robust_z(x, mask)
    if groups is None:
        return z
    codes, uniques = pd.factorize(groups)
    if len(uniques) < 2:
        return z
    for g in range(len(uniques)):
        member = codes == g
        if int((member & mask).sum()) >= min_rows:
            z[member] = robust_z(x, member & mask)[member]
    return z


def last_user_texts(ctx: CheckContext) -> list[str]:
    """The user turn the response answers (the last user turn before the final assistant turn), not the whole
    history: in a chat a short "You're welcome!" after a long conversation is no ratio outlier. Rows without a
    user turn fall back to the prompt field."""
    out = []
    for turns, prompt in ctx.track(zip(ctx.messages, ctx.prompts, strict=True), total=len(ctx)):
        last = len(turns)
        while last > 0 and turns[last - 1].get("role") != "assistant":
            last -= 1
        users = [str(t.get("content") or "") for t in turns[:max(last - 1, 0)] if t.get("role") == "user"]
        out.append(users[-1] if users else prompt)
    return out


@register
class LengthCheck(Check):
    """Responses of the wrong length: empty (`empty_response`: nothing but whitespace in the final assistant turn),
    content-free (`short_response`: no letter or digit — ".", "...", "-" — or a known non-answer such as
    Alpaca's `<nooutput>`, "N/A", "nan"; and, only when `min_words` > 1, any answer of fewer words), very long
    (`long_response`: more than `max_chars` characters, or a log-length robust z-score above `long_z` while longer
    than `long_min_chars`) and response/prompt length-ratio outliers (`length_ratio_outlier`: the robust z-score of
    log((response words + 1) / (request words + 1)), the request being the last user turn; beyond ±`ratio_z`).
    Medians and MADs are taken over the non-empty responses of each source file with at least `min_file_rows`
    rows (smaller files use the whole dataset's): when a folder mixes styles, terse GSM8K solutions are not
    outliers next to chat essays (GSM8K train, CodeAlpaca-2k, alpaca_en_demo and dummy_conversation in one folder:
    367 rows flagged with dataset-wide statistics, 11 per file — exactly the files' flags when checked alone).
    A model finetuned on empty or content-free targets learns to stop immediately; very long targets are silently
    cut by the trainer's max length (the model then learns truncated text) and dominate the loss; ratio
    outliers (a page of text for "Hi", one line for a long essay request) are often mismatched pairs.
    Short answers are deliberately not flagged by default (`min_words` = 1): one-word answers to short factual and
    classification questions ("Capital of France?" → "Paris", sentiment labels, `7`) are correct, and they are
    4.4 % of CodeAlpaca-2k and 1.4 % of alpaca_en_demo, all legitimate on inspection. Defaults: `max_chars`
    32,000 (~8k tokens at ~4 chars/token, above the common 4k/8k training context), `long_z` 5 with
    `long_min_chars` 2,000 (far beyond the dataset's own distribution, but never a paragraph), `ratio_z` 4
    (a conventional robust-outlier cut: a normal sample exceeds it ~1 in 16,000). Score: 1.0 empty, 0.9
    content-free, 0.6-1.0 long and 0.5-1.0 ratio (growing with the z-score). One reason per row, in that order.
    Rows of kind `prompt` (prompts without answers by design) are not judged.
    Measured on the defaults: GSM8K train 9 of 7,473 (terse "Label:60/4=15" solutions, ratio outliers),
    CodeAlpaca-2k 2 of 2,017 (its two empty outputs), alpaca_en_demo 0, the bundled sample 1 (the empty turn).
    """

    name = "length"
    description = "Empty, content-free or overly long responses, and response/prompt length-ratio outliers"

    bounds = {"min_words": Bound(0, 10_000_000), "max_chars": Bound(1, 10**12), "long_z": Bound(0, 10_000),
              "long_min_chars": Bound(0, 10**12), "ratio_z": Bound(0, 10_000), "min_file_rows": Bound(1, 10**12)}

    @dataclass(frozen=True)
    class Params:
        min_words: int = 1  # >1 also flags every answer with fewer words (off: short factual answers are fine)
        max_chars: int = 32_000  # ~8k tokens: longer than the usual training context, the trainer cuts it
        long_z: float = 5.0  # log-length robust z above this is far outside the dataset's own lengths
        long_min_chars: int = 2_000  # ...but a response shorter than this is never "very long"
        ratio_z: float = 4.0  # |robust z| of the log length ratio; ~1 in 16,000 for normal data
        per_file: bool = True  # median/MAD per source file (mixed folders), else over the whole dataset
        min_file_rows: int = 50  # files with fewer judged rows use the dataset-wide median/MAD

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        responses = ctx.responses
        n = len(responses)
        r_words = np.fromiter((len(t.split()) for t in responses), dtype=np.int64, count=n)
        p_words = np.fromiter((len(t.split()) for t in last_user_texts(ctx)), dtype=np.int64, count=n)
        r_chars = np.fromiter((len(t) for t in responses), dtype=np.int64, count=n)
        # Prompt rows (eval questions, RL prompts) have no answer by design: nothing to judge.
        answerless = ctx.rows["kind"].astype(str).to_numpy() == "prompt" if "kind" in ctx.rows.columns \
            else np.zeros(n, dtype=bool)
        empty = (r_words == 0) & ~answerless
        content_free = np.fromiter(
            (w > 0 and (w < p.min_words or _ALNUM.search(t) is None or t.strip().lower() in NON_ANSWERS)
             for t, w in zip(responses, r_words, strict=True)), dtype=bool, count=n) & ~answerless
        ok = ~empty & ~content_free & ~answerless
        files = (ctx.rows["source_file"].astype(str).to_numpy()
                 if p.per_file and "source_file" in ctx.rows.columns else None)
        len_z = grouped_robust_z(np.log1p(r_chars.astype(np.float64)), ok, files, p.min_file_rows)
        long = ok & ((r_chars > p.max_chars) | ((len_z > p.long_z) & (r_chars > p.long_min_chars)))
        ratio_z = grouped_robust_z(np.log((r_words + 1.0) / (p_words + 1.0)), ok, files, p.min_file_rows)
        ratio = ok & ~long & (np.abs(ratio_z) > p.ratio_z)

        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        reason[ratio] = "length_ratio_outlier"
        score[ratio] = np.minimum(1.0, 0.5 * np.abs(ratio_z[ratio]) / p.ratio_z)
        reason[long] = "long_response"
        score[long] = np.where(r_chars[long] > p.max_chars, 1.0,
                               np.minimum(1.0, 0.6 * np.maximum(len_z[long], 0) / p.long_z))
        reason[content_free] = "short_response"
        score[content_free] = 0.9
        reason[empty] = "empty_response"
        score[empty] = 1.0
        summary = {"response_words": {"median": float(np.median(r_words)) if n else 0.0,
                                      "p99": float(np.percentile(r_words, 99)) if n else 0.0,
                                      "max": int(r_words.max()) if n else 0},
                   "ratio_z_range": [round(float(ratio_z[ok].min()), 2), round(float(ratio_z[ok].max()), 2)]
                   if ok.any() else [0.0, 0.0]}
        return self.result(ctx, score=score, reason=reason, summary=summary)
