"""`echo`: responses that copy the prompt back, or that are copied out of the prompt (issue 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-cased letter/digit runs: punctuation, markdown and whitespace differences do not hide a copy."""
    return _WORD.findall(text.lower())


def squash(text: str) -> str:
    """Whitespace runs collapsed (case kept: a case change is an edit), for "contained in the prompt"."""
    return " ".join(text.split())


def shingles(tokens: list[str], n: int) -> set[int]:
    """Hashes of the word n-grams (hashing keeps 100k rows' sets small; a collision only ever adds overlap)."""
    return {hash(tuple(tokens[i:i + n])) for i in range(len(tokens) - n + 1)}


ECHO_CHARS = 80  # the evidence: about this many characters of the copied text


def copied_start(prompt_words: list[str], response: str, n: int, chars: int = ECHO_CHARS) -> str:
    """`chars` characters of `response` from its first word n-gram that also occurs in the prompt, as written."""
    ps = shingles(prompt_words, n)
    low = response.lower()
    found = list(_WORD.finditer(low))
    j = next((k for k in range(len(found) - n + 1) if hash(tuple(m.group() for m in found[k:k + n])) in ps), 0)
    start = found[j].start() if found else 0
    return (response if len(low) == len(response) else low)[start:start + chars].rstrip()


@register
class EchoCheck(Check):
    """Responses that parrot the prompt (`echo_prompt`: at least `min_containment` of the prompt's word `ngram`-grams
    reappear in the response and at most `max_new_share` of the response's words lie outside those shared
    n-grams, for prompts of at least `min_prompt_words` words) or that are lifted verbatim out of it
    (`response_in_prompt`: the response, whitespace collapsed, is a substring of the prompt,
    for responses of at least `min_response_words` words). A model finetuned on echoes learns to repeat the
    question instead of answering it; a response copied from the prompt (often a data-assembly bug that put the
    input in the output column, or a chat where the assistant repeats an earlier turn word for word) teaches
    copying. For `echo_prompt` words are lower-cased letter/digit runs, so formatting does not hide a copy;
    `response_in_prompt` keeps punctuation, so an edited copy (a code fix that adds a `:` or braces, a cleaned
    sentence) is an answer, not a copy. Legitimate quoting is spared: short prompts (under 8 words:
    "Translate 'Hello'") are never `echo_prompt`, short responses (under 8 words: a label, a name, an option
    picked from a list) are never `response_in_prompt`, and an answer that restates the question adds the answer
    itself (more than a fifth new words) and is not an echo. Defaults: 5-grams (long enough that shared phrasing
    — "how many", "the number of" — rarely matches by chance), containment 0.8 (the issue's bound: nearly all of
    the prompt, tolerating small edits). Score: 1.0 for `response_in_prompt`, the containment for `echo_prompt`.
    Checked on the `prompt` (the whole conversation before the final assistant turn) and the `response`.
    `repeated_answer` (checked first): the final assistant turn equals an earlier assistant turn of the same chat
    (whitespace collapsed) and has at least `min_repeat_words` words — a "sum it up" follow-up answered with a copy
    teaches the model to repeat itself; score 1.0.
    Evidence: ~80 characters of the response from where the copied text starts, as written.
    Measured on the defaults: GSM8K train 0 of 7,473, CodeAlpaca-2k and alpaca_en_demo see the tests.
    """

    name = "echo"
    row_local = True
    description = "Responses that copy the prompt, or that are copied from it"

    bounds = {"ngram": Bound(1, 64), "min_containment": Bound(0, 1), "min_prompt_words": Bound(0, 1_000_000),
              "min_response_words": Bound(0, 1_000_000), "max_new_share": Bound(0, 1),
              "min_repeat_words": Bound(1, 1_000_000)}

    @dataclass(frozen=True)
    class Params:
        ngram: int = 5  # word n-gram size; 5 rarely matches by chance across two texts
        min_containment: float = 0.8  # share of one side's n-grams found in the other: "nearly all of it"
        min_prompt_words: int = 8  # shorter prompts are legitimately quoted whole ("Translate 'Good morning'")
        min_response_words: int = 8  # shorter answers are often picked from the prompt (labels, options, names)
        # An echo adds at most a "Sure:"; an answer that restates the question adds the answer itself
        # (alpaca_en_demo's "The tallest mountain in the world is Mount Everest.": 25-40 % new words).
        max_new_share: float = 0.2
        min_repeat_words: int = 3  # a repeated "OK." or "Thanks!" is a pleasantry, a repeated sentence is not

    def _echo(self, pw: list[str], rw: list[str]) -> float:
        """The prompt's n-gram containment in the response when it is an echo, else 0."""
        p = self.params
        if len(pw) < max(p.min_prompt_words, p.ngram) or len(rw) < p.ngram:
            return 0.0
        # A covered response word is a prompt word: when too few response words occur in the prompt at all, the
        # covered share cannot reach 1 - max_new_share (exact, and far cheaper than the n-gram sets below).
        vocab = set(pw)
        if sum(w in vocab for w in rw) < (1 - p.max_new_share) * len(rw) - 1e-9:
            return 0.0
        ps = shingles(pw, p.ngram)
        hits = [hash(tuple(rw[j:j + p.ngram])) in ps for j in range(len(rw) - p.ngram + 1)]
        if not any(hits):
            return 0.0
        containment = len(ps & shingles(rw, p.ngram)) / len(ps)  # how much of the prompt the response repeats
        covered = np.zeros(len(rw), dtype=bool)
        for j in np.flatnonzero(hits):
            covered[j:j + p.ngram] = True
        return containment if containment >= p.min_containment and 1 - covered.mean() <= p.max_new_share else 0.0

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        evidence = np.full(n, "", dtype=object)
        for i, (prompt, response) in enumerate(ctx.track(zip(ctx.prompts, ctx.responses, strict=True), total=n)):
            if not prompt or not response:
                continue
            rw = words(response)
            pw = words(prompt)
            if len(rw) >= p.min_repeat_words:  # (most rows have one assistant turn: nothing to squash)
                answers = [t for t in ctx.messages[i] if t.get("role") == "assistant"]
                earlier = [squash(str(t.get("content") or "")) for t in answers] if len(answers) > 1 else []
                if earlier and earlier[-1] in earlier[:-1]:
                    reason[i], score[i] = "repeated_answer", 1.0
                    evidence[i] = response.strip()[:ECHO_CHARS].rstrip()
                    continue
            code = self._echo(pw, rw)
            if code:
                reason[i], score[i] = "echo_prompt", code
                evidence[i] = copied_start(pw, response, p.ngram)
            elif len(rw) >= p.min_response_words and squash(response) in squash(prompt):
                reason[i], score[i] = "response_in_prompt", 1.0
                evidence[i] = response.strip()[:ECHO_CHARS].rstrip()
        return self.result(ctx, score=score, reason=reason, evidence=evidence, summary={"ngram": p.ngram})
