"""`repetition`: degenerate loops inside one response — repeated word n-grams or repeated lines (issue 5)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.formatting import strip_code, verbatim

_WORD = re.compile(r"[^\W_]+")
# Lines that legitimately repeat: markdown table rules, horizontal rules, separators and bare list markers.
_STRUCTURAL = re.compile(r"^[\s|:+\-=*_#>`~.•]*$")
_CODE_SYMBOLS = re.compile(r"[{}()\[\];=<>$\\/]")


def looks_like_code(prose: str, n_words: int, max_symbols_per_word: float) -> bool:
    """Unfenced code, markup, regexes and matrices: many code symbols per word (prose has ~0.05)."""
    return len(_CODE_SYMBOLS.findall(prose)) > max_symbols_per_word * max(n_words, 1)


def line_key(line: str) -> str:
    return " ".join(line.split()).lower()


def repeated_line(prose: str, text: str, key: str) -> str:
    """The first line of `prose` that normalises to `key`, as written in `text`."""
    return next((verbatim(ln, text) for ln in prose.split("\n") if line_key(ln) == key), "")


def repeated_ngram(prose: str, text: str, n: int) -> str:
    """The most repeated word n-gram of `prose` (first seen wins a tie) at its first occurrence, as written."""
    low = prose.lower()
    found = list(_WORD.finditer(low))
    grams = [tuple(m.group() for m in found[j:j + n]) for j in range(len(found) - n + 1)]
    if not grams:
        return ""
    counts = Counter(grams)
    top = max(counts.values())
    j = next(k for k, g in enumerate(grams) if counts[g] == top)
    a, b = found[j].start(), found[j + n - 1].end()
    return verbatim((prose if len(low) == len(prose) else low)[a:b], text)


@register
class RepetitionCheck(Check):
    """Degenerate loops inside one response, the signature of a generation that got stuck: many repeated word
    trigrams (`repeated_ngrams`: at least `max_dup_share` of the response's word `ngram`-grams are repeats of an
    earlier one, for responses of at least `min_words` words) or the same non-trivial line over and over
    (`repeated_lines`: one line of at least `min_line_words` words occurs `max_line_repeats` times or more).
    A model finetuned on loops learns to loop. Structured text is spared: fenced code and inline code are blanked
    first and a response with more than `max_code_symbols` code symbols per word is unfenced code or markup
    and is skipped (loops, table cells and boilerplate are normal in code), lines are compared stripped, and
    table rules, separators
    and lines of under 4 words (list labels, table rows like "| Yes | No |", "Step 1:") never count; a list whose
    items share a template ("- **Eating out** ($71): ...") differs in its words, so its trigram repeat share
    stays low. Defaults: trigrams with a 0.5 repeat share (half of all word triples already seen: ordinary prose
    and worked maths stay under ~0.2; the issue's bound), 30 words minimum (shorter answers have too few
    trigrams for a share to mean anything), 3 repeats of a line (twice can be a deliberate refrain). Score: the
    repeat share for `repeated_ngrams` (1.0 for repeated lines), the higher wins. Checked on the `response`.
    Evidence: the repeated line, or the most repeated n-gram at its first occurrence, as written.
    Measured on the defaults: GSM8K train, CodeAlpaca-2k and the bundled sample flag 0 (see tests).
    """

    name = "repetition"
    row_local = True
    description = "Responses stuck in a loop: repeated word n-grams or the same line again and again"

    bounds = {"ngram": Bound(1, 64), "max_dup_share": Bound(0, 1), "min_words": Bound(0, 10_000_000),
              "max_line_repeats": Bound(1, 10_000_000), "min_line_words": Bound(0, 10_000),
              "max_code_symbols": Bound(0, 10_000)}

    @dataclass(frozen=True)
    class Params:
        ngram: int = 3  # word trigrams: a loop of any phrase of 3+ words repeats them
        max_dup_share: float = 0.5  # half of all trigrams already seen earlier in the response (issue 5's bound)
        min_words: int = 30  # fewer words give too few trigrams for a share to be meaningful
        max_line_repeats: int = 3  # the same line 3 times; twice can be a deliberate refrain
        min_line_words: int = 4  # shorter lines (labels, "Step 1:", small table rows) repeat legitimately
        # More `{}()[];=<>$\\/` per word than this is unfenced code/markup (CodeAlpaca-2k's HTML tables, matrices
        # and regexes repeat by design); prose has ~0.05, GSM8K's `<<48/2=24>>` calculator notes ~0.2.
        max_code_symbols: float = 0.4

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        share = np.zeros(n)
        evidence = np.full(n, "", dtype=object)
        for i, text in enumerate(ctx.track(ctx.responses)):
            if len(text) < 40:
                continue
            prose = strip_code(text)
            words = _WORD.findall(prose.lower())
            if looks_like_code(prose, len(words), p.max_code_symbols):
                continue
            if len(words) >= max(p.min_words, p.ngram):
                grams = [tuple(words[j:j + p.ngram]) for j in range(len(words) - p.ngram + 1)]
                share[i] = 1 - len(set(grams)) / len(grams)
            lines = Counter(line_key(ln) for ln in prose.split("\n")
                            if not _STRUCTURAL.match(ln) and len(ln.split()) >= p.min_line_words)
            if lines and max(lines.values()) >= p.max_line_repeats:
                reason[i], score[i] = "repeated_lines", 1.0
                evidence[i] = repeated_line(prose, text, lines.most_common(1)[0][0])
            elif share[i] >= p.max_dup_share:
                reason[i], score[i] = "repeated_ngrams", share[i]
                evidence[i] = repeated_ngram(prose, text, p.ngram)
        return self.result(ctx, score=score, reason=reason, evidence=evidence,
                           summary={"dup_share_p99": round(float(np.percentile(share, 99)), 3) if n else 0.0})
