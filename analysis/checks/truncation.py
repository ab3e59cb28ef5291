"""`truncation`: responses cut off mid-sentence, inside a code block or at a max-length boundary (issue 5)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register

# Endings that close a thought: sentence punctuation (Latin, CJK, ellipsis), closing brackets and quotes, markdown
# emphasis / inline-code closers, a table pipe, and `:`/`;`-free. Digits, emoji and other symbols are accepted by
# category below (answers like `#### 42`, `42 km`, `👍`).
_CLEAN_END = set(".!?…。！？)]}\"'»”’`*_|>~")
_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_CODE_CHARS = re.compile(r"[=;{}<>$\\]|\w\(|^\s{2,}\S|\t")
# A trailing function word means the sentence certainly continues.
_FUNCTION_WORDS = frozenset(re.findall(r"\w+", "a an the and or but of to in on at for with by from as is are was "
                                         "were be that which this these those if than then so because while into "
                                         "your our their its my"))


def _unbalanced(line: str) -> bool:
    """Markdown emphasis or brackets opened on the last prose line and never closed: the cut happened inside."""
    return line.count("**") % 2 == 1 or line.count("`") % 2 == 1 or line.count("(") > line.count(")")


def clean_end(ch: str) -> bool:
    """A last character that closes a thought: punctuation, a closer, a digit, an emoji or another symbol."""
    return ch in _CLEAN_END or ch.isdigit() or unicodedata.category(ch)[0] in ("S", "N")


def ending_problem(text: str, min_words: int) -> str:
    """"" when the response ends cleanly, else "open_code_fence" or "mid_sentence" (see the check's docstring)."""
    body = text.rstrip()
    if not body:
        return ""
    if len(_FENCE.findall(body)) % 2 == 1:
        return "open_code_fence"
    last_line = body.rsplit("\n", 1)[-1]
    ch = body[-1]
    if clean_end(ch):
        return ""
    lines = [ln for ln in body.split("\n") if ln.strip()]
    if _LIST_ITEM.match(last_line):
        # A list whose other items end with punctuation while the last does not was cut inside that item;
        # lists of bare items ("- apples") are fine.
        items = [ln.rstrip() for ln in lines[:-1] if _LIST_ITEM.match(ln)]
        if len(items) >= 2 and all(it[-1] in _CLEAN_END or it[-1].isdigit() for it in items):
            return "mid_sentence"
        return ""
    if _CODE_CHARS.search(last_line):
        return ""  # unfenced code (`return x`, `x = y`): no sentence punctuation expected
    if _unbalanced(last_line):
        return "mid_sentence"
    words = body.split()
    last = words[-1]
    if last[0] in "#@" or "://" in last or last.startswith("www."):
        return ""  # a closing hashtag, handle or URL (social-media posts, references)
    if ch in ",-–—" or (last.lower() in _FUNCTION_WORDS and len(words) >= 2):
        return "mid_sentence"
    if len(words) < min_words or len(lines) > 1 and len(last_line.split()) < min_words:
        return ""  # short answers and labels ("Positive", "Paris"), headings or sign-offs on their own line
    return "mid_sentence"


TAIL_CHARS = 40  # the evidence: about this many final characters of the response, where it was cut


def tail(text: str, chars: int = TAIL_CHARS) -> str:
    """The last `chars` characters of `text` (trailing whitespace dropped), verbatim; a partial first word is
    dropped when that still leaves half of them."""
    body = text.rstrip()
    out = body[-chars:]
    if len(body) > chars and not body[-chars - 1].isspace():
        cut = out.find(" ")
        if 0 <= cut < chars // 2:
            out = out[cut + 1:]
    return out.lstrip()


@register
class Truncation(Check):
    """Truncated responses: text cut off mid-sentence or mid-word (`mid_sentence`: it ends on a letter, a comma or
    a function word with no terminal punctuation, closing bracket/quote, digit, emoji or code fence, or inside
    unclosed `**`/backticks/parentheses; a list is cut when its earlier items end with punctuation and the last
    does not), inside an unclosed code fence (`open_code_fence`: an odd number of ``` / ~~~ fence lines), or at
    a suspiciously round length (`round_length`: exactly one of `round_lengths` characters and not ending on
    punctuation, a closer, a digit or a symbol — the signature of a generation or export cut at a max-length;
    unlike `mid_sentence` it also catches cut lists and unfenced code). A model trained on truncated
    answers learns to stop mid-thought. Not flagged: empty responses (the `length` check's finding), answers
    ending in a number (`#### 42`), a symbol or emoji, lists of bare items, unfenced code, and answers shorter
    than `min_words` whitespace-separated words (default 8, as is a last line of a multi-line answer: labels,
    titles and one-line answers like "Positive", "Y is greater than X" or a transformed string legitimately lack
    punctuation; the default was set on alpaca_en_demo and code_alpaca_2k, whose short unpunctuated outputs are
    all complete). Score: 1.0 for an open fence or a round length, 0.8 for mid-sentence. Evidence: the last
    ~40 characters of the response, verbatim (where it was cut). Checked on the
    `response` (the last assistant turn; for preference rows the chosen answer).
    """

    name = "truncation"
    row_local = True
    description = "Responses cut off mid-sentence, inside an open code block, or at a round max-length."

    bounds = {"min_words": Bound(0, 10_000_000), "round_lengths": Bound(1, 10**12)}

    @dataclass(frozen=True)
    class Params:
        min_words: int = 8  # shorter answers (labels, one phrase) are never `mid_sentence`
        # Character counts that are common generation / export limits (powers of two and round thousands).
        round_lengths: tuple[int, ...] = (256, 512, 1000, 1024, 2000, 2048, 4000, 4096, 8192)

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        texts = ctx.responses
        n = len(texts)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        evidence = np.full(n, "", dtype=object)
        round_set = set(p.round_lengths)
        for i, t in enumerate(ctx.track(texts)):
            if not t.strip():
                continue
            code = ending_problem(t, p.min_words)
            if code == "open_code_fence":
                reason[i], score[i] = code, 1.0
            elif len(t) in round_set and not clean_end(t.rstrip()[-1]):
                reason[i], score[i] = "round_length", 1.0
            elif code:
                reason[i], score[i] = code, 0.8
            if reason[i]:
                evidence[i] = tail(t)
        return self.result(ctx, score=score, reason=reason, evidence=evidence, summary={"min_words": p.min_words})
