"""`echo`: responses that copy the prompt back, or that are copied out of the prompt (issue 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from analysis.checks.base import Check, CheckContext, CheckResult, register

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-cased letter/digit runs: punctuation, markdown and whitespace differences do not hide a copy."""
    return _WORD.findall(text.lower())


def shingles(tokens: list[str], n: int) -> set[int]:
    """Hashes of the word n-grams (hashing keeps 100k rows' sets small; a collision only ever adds overlap)."""
    return {hash(tuple(tokens[i:i + n])) for i in range(len(tokens) - n + 1)}


@register
class EchoCheck(Check):
    """Responses that parrot the prompt (`echo_prompt`: at least `min_containment` of the prompt's word `ngram`-grams
    reappear in the response, for prompts of at least `min_prompt_words` words) or that are lifted out of it
    (`response_in_prompt`: at least `min_containment` of the response's n-grams occur in the prompt, for
    responses of at least `min_response_words` words). A model finetuned on echoes learns to repeat the
    question instead of answering it; a response copied from the prompt (often a data-assembly bug that put the
    input in the output column, or a chat where the assistant repeats an earlier turn) teaches copying. Words are
    lower-cased letter/digit runs, so formatting differences do not hide a copy. Legitimate quoting is spared:
    short prompts (under 8 words: "Translate 'Hello'") are never `echo_prompt`, and short responses (under 8
    words: a label, a name, an option picked from a list) are never `response_in_prompt`; a response that quotes
    a long prompt but adds at least as much new text again (`max_new_share`: more than half of its n-grams new)
    is an answer that restates the question, not an echo. Defaults: 5-grams (long enough that shared
    phrasing — "how many", "the number of" — rarely matches by chance), containment 0.8 (the issue's bound:
    nearly all of the text copied, tolerating small edits). Score: the containment. Checked on the `prompt` (the
    whole conversation before the final assistant turn) and the `response`. Measured: GSM8K 0, CodeAlpaca-2k
    (see tests).
    """

    name = "echo"
    description = "Responses that copy the prompt, or that are copied from it"

    @dataclass(frozen=True)
    class Params:
        ngram: int = 5  # word n-gram size; 5 rarely matches by chance across two texts
        min_containment: float = 0.8  # share of one side's n-grams found in the other: "nearly all of it"
        min_prompt_words: int = 8  # shorter prompts are legitimately quoted whole ("Translate 'Good morning'")
        min_response_words: int = 8  # shorter answers are often picked from the prompt (labels, options, names)
        max_new_share: float = 0.5  # a response whose n-grams are mostly new restates the prompt and then answers

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        for i, (prompt, response) in enumerate(zip(ctx.prompts, ctx.responses, strict=True)):
            if not prompt or not response:
                continue
            pw, rw = words(prompt), words(response)
            long_prompt = len(pw) >= max(p.min_prompt_words, p.ngram)
            long_resp = len(rw) >= max(p.min_response_words, p.ngram)
            if not (long_resp or long_prompt) or len(rw) < p.ngram:
                continue
            ps, rs = shingles(pw, p.ngram), shingles(rw, p.ngram)
            common = len(ps & rs)
            if not common:
                continue
            in_response = common / len(ps) if ps else 0.0  # how much of the prompt the response repeats
            in_prompt = common / len(rs)  # how much of the response comes from the prompt
            if long_resp and in_prompt >= p.min_containment:
                reason[i], score[i] = "response_in_prompt", in_prompt
            elif long_prompt and in_response >= p.min_containment and 1 - in_prompt <= p.max_new_share:
                reason[i], score[i] = "echo_prompt", in_response
        return self.result(ctx, score=score, reason=reason, summary={"ngram": p.ngram})
