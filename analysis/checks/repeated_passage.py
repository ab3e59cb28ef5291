"""`repeated_passage`: a passage repeated inside one response, or boilerplate shared by many rows (issue 4)."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import islice

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.exact_duplicate import normalize
from analysis.checks.formatting import EVIDENCE_CHARS, strip_code, verbatim
from analysis.checks.near_duplicate import window_hash, word_hashes

_SEP = "\x00"
_WORD = re.compile(r"\w+")
_UNITS = re.compile(r"\n+|(?<=[.!?])\s+")  # lines/paragraphs, and sentences inside them
MIN_ROWS_FLOOR = 3  # the cross-row threshold never drops below this, however small the dataset
TOP_PASSAGES = 20
SLICE_ROWS = 100_000  # rows tokenised at a time when counting n-grams: bounds the temporaries
SCOPES = ("prompt", "response")


def _tokens(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(word hashes uint64 over all rows, row of each word, per-row word counts); words are NFKC-casefolded `\\w+`,
    cut from the UTF-8 bytes as near_duplicate does (a Python string per distinct word, not per word: at 1M
    responses a list of every word held ~4 GB)."""
    words, counts = word_hashes(texts)
    return words, np.repeat(np.arange(len(texts), dtype=np.int64), counts), counts


def _ngram_hashes(words: np.ndarray, row_of: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(start positions, hash) of every word n-gram that lies inside one row."""
    m = len(words) - n + 1
    if m <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    starts = np.flatnonzero(row_of[:m] == row_of[n - 1:])
    return starts, window_hash(words.astype(np.uint64), n)[starts]  # (the same chain, in place and blocked)


def _in_sorted(values: np.ndarray, ref: np.ndarray, block: int = 1 << 22) -> np.ndarray:
    """`np.isin(values, ref)` for a sorted `ref`, by binary search in blocks: np.isin sorts both arrays together,
    ~1.5 GB of temporaries for 40M n-gram hashes."""
    out = np.zeros(len(values), dtype=bool)
    if not len(ref):
        return out
    for lo in range(0, len(values), block):
        part = values[lo:lo + block]
        out[lo:lo + len(part)] = ref[np.minimum(np.searchsorted(ref, part), len(ref) - 1)] == part
    return out


def intra_repeats(text: str, min_words: int) -> tuple[int, int]:
    """(repeated words, total words) of one text: sentences/lines of >= min_words words seen earlier in it.

    Fenced and inline code are blanked first (repeated code lines are normal)."""
    prose = strip_code(text)
    seen: Counter[str] = Counter()
    repeated = 0
    for unit in _UNITS.split(prose):
        words = _WORD.findall(unit.casefold())
        if len(words) < min_words:
            continue
        key = " ".join(words)
        if seen[key]:
            repeated += len(words)
        seen[key] += 1
    return repeated, len(_WORD.findall(prose))


def first_repeat(text: str, min_words: int) -> str:
    """The first sentence/line of >= min_words words that repeats an earlier one (what `intra_repeats` counts),
    as written in `text`."""
    prose = strip_code(text)
    seen: set[str] = set()
    for unit in _UNITS.split(prose):
        words = _WORD.findall(unit.casefold())
        if len(words) < min_words:
            continue
        key = " ".join(words)
        if key in seen:
            return verbatim(unit, text)
        seen.add(key)
    return ""


@register
class RepeatedPassage(Check):
    """Repeated passages, inside one example and across examples. `intra_repeat`: a sentence, line or paragraph
    of at least `min_unit_words` words (default 8: a real sentence, not a list label) occurs twice or more in one
    text (code blanked first), usually a generation or merge glitch; score = the share of the text's words in
    the repeats. `boilerplate_passage`: a passage of at least `passage_words` words (default 12) appears in many
    rows, e.g. a disclaimer, a signature or a prompt template pasted into every answer; the model learns to emit
    it everywhere. Found with word `passage_words`-gram hashing (words are NFKC-casefolded `\\w+` runs): an n-gram
    is boilerplate when it occurs in at least min(`min_rows`, ceil(`min_share` x rows)) distinct texts, never
    fewer than 3 (defaults 20 rows or 1% of rows, whichever is smaller: 20 catches boilerplate in a large set,
    1% keeps a 500-row set sensitive); distinct texts are counted so exact duplicate rows do not make their whole
    text boilerplate (that is `exact_duplicate`'s finding). A row's boilerplate n-grams are merged into maximal
    spans (overlapping or adjacent n-grams join); score = the share of the row's words inside such spans; a row
    with both findings reports `boilerplate_passage`. group_id = the row's most widespread passage, and
    summary["passages"] lists the top 20 passages (text, rows). Evidence: the repeated sentence, or the row's
    most widespread passage, as written (its first 200 characters). Checked on the `scope` text (default
    `response`; `prompt` finds templates). Measured: GSM8K train 0 rows; the bundled sample 107 rows
    `boilerplate_passage` (9 canned sign-offs, the top one in 29 rows); GSM8K test_socratic 145 `intra_repeat`
    (sub-questions asked twice).
    """

    name = "repeated_passage"
    description = "A passage repeated inside one text, or boilerplate shared by many rows."

    bounds = {"scope": Bound(choices=SCOPES), "passage_words": Bound(2, 1000), "min_rows": Bound(1, 10**12),
              "min_share": Bound(0, 1), "min_unit_words": Bound(1, 1000)}

    @dataclass(frozen=True)
    class Params:
        scope: str = "response"  # prompt | response
        passage_words: int = 12  # words per n-gram for the cross-row boilerplate search
        min_rows: int = 20  # an n-gram in this many distinct texts is boilerplate...
        min_share: float = 0.01  # ...or in this share of rows, whichever is smaller (never below 3 rows)
        min_unit_words: int = 8  # a repeated sentence/line needs this many words to count as intra_repeat

        def __post_init__(self) -> None:
            if self.scope not in SCOPES:
                raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")
            if self.passage_words < 2 or self.min_rows < 1 or self.min_unit_words < 1:
                raise ValueError("passage_words must be >= 2, min_rows and min_unit_words >= 1")
            if not 0 < self.min_share <= 1:
                raise ValueError("min_share must be in (0, 1]")

    def threshold(self, n: int) -> int:
        p = self.params
        return max(MIN_ROWS_FLOOR, min(p.min_rows, math.ceil(p.min_share * n)))

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        texts = ctx.texts(p.scope)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n, dtype=np.float64)
        group_id = np.full(n, -1, dtype=np.int64)
        evidence = np.full(n, "", dtype=object)
        for i, t in enumerate(ctx.track(texts)):
            if t:
                rep, total = intra_repeats(t, p.min_unit_words)
                if rep:
                    reason[i], score[i] = "intra_repeat", rep / max(total, 1)
                    evidence[i] = first_repeat(t, p.min_unit_words)
        intra_rows = int((reason == "intra_repeat").sum())
        passages, min_texts = self._boilerplate(texts, reason, score, group_id, evidence)
        issue = reason != ""
        return self.result(ctx, score=score, is_issue=issue, reason=reason, group_id=group_id, keep=None,
                           evidence=evidence,
                           summary={"passages": passages, "min_texts": min_texts, "intra_repeat_rows": intra_rows,
                                    "scope": p.scope})

    def _boilerplate(self, texts: list[str], reason: np.ndarray, score: np.ndarray, group_id: np.ndarray,
                     evidence: np.ndarray) -> tuple[list[dict[str, object]], int]:
        n = len(texts)
        need = self.threshold(n)
        # count each n-gram once per distinct text: rows whose normalised text repeats an earlier row's are skipped
        text_code = pd.factorize(pd.Series([normalize(t) for t in texts], dtype=object))[0]
        first_of_text = np.zeros(n, dtype=bool)
        first_of_text[np.unique(text_code, return_index=True)[1]] = True
        common, holders = self._common_ngrams(texts, first_of_text, need)
        if not len(common):
            return [], need
        # only the rows that hold a common n-gram (their distinct text did, in the count) are tokenised again
        sub = np.flatnonzero(np.isin(text_code, text_code[holders]))
        sub_texts = [texts[i] for i in sub.tolist()]
        parts = [self._spans(sub_texts[lo:lo + SLICE_ROWS], common, lo) for lo in range(0, len(sub), SLICE_ROWS)]
        span_frame = pd.concat([f for f, _, _ in parts], ignore_index=True)
        cov_words = np.concatenate([c for _, c, _ in parts])
        counts = np.concatenate([w for _, _, w in parts])
        del parts
        rows_per = span_frame.drop_duplicates(["k", "row"]).groupby("k", sort=False)["row"].size()
        order = rows_per.sort_values(ascending=False, kind="stable")
        rank = pd.Series(np.arange(len(order)), index=order.index)
        span_frame["rank"] = span_frame["k"].map(rank)
        best = span_frame.groupby("row")["rank"].min()
        flagged_local = best.index.to_numpy()
        flagged_rows = sub[flagged_local]
        group_id[flagged_rows] = best.to_numpy()
        reason[flagged_rows] = "boilerplate_passage"
        score[flagged_rows] = cov_words[flagged_local] / np.maximum(counts[flagged_local], 1)
        own = span_frame.loc[span_frame.groupby("row")["rank"].idxmin()]  # each row's most widespread passage
        for row, a, m in zip(own["row"].tolist(), own["a"].tolist(), own["len"].tolist(), strict=True):
            evidence[sub[row]] = self._span_text(sub_texts[row], a, m, collapse=False)[:EVIDENCE_CHARS]
        first_span = span_frame.drop_duplicates("k").set_index("k")
        passages = []
        for k in order.index[:TOP_PASSAGES]:
            row, a, m = first_span.loc[k, ["row", "a", "len"]]
            passages.append({"text": self._span_text(sub_texts[int(row)], int(a), int(m)), "rows": int(order[k]),
                             "words": int(m), "group_id": int(rank[k])})
        return passages, need

    def _spans(self, texts: list[str], common: np.ndarray, row_base: int
               ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The maximal runs of words covered by common n-grams in one slice of rows: (frame of span key, row
        (`row_base` + index in the slice), first word within the row, length in words), covered words per row,
        words per row. A span's key is a 64-bit hash of its words, so equal passages meet across slices."""
        n = self.params.passage_words
        words, row_of, counts = _tokens(texts)
        starts, h = _ngram_hashes(words, row_of, n)
        hit_starts = starts[_in_sorted(h, common)]
        size = len(words) + 1
        covered = np.cumsum(np.bincount(hit_starts, minlength=size) - np.bincount(hit_starts + n, minlength=size)
                            )[:-1] > 0
        edge = np.ones(len(words), dtype=bool)
        edge[1:] = (~covered[:-1]) | (row_of[1:] != row_of[:-1])
        span_start = np.flatnonzero(covered & edge)
        end_mark = np.ones(len(words), dtype=bool)
        end_mark[:-1] = (~covered[1:]) | (row_of[1:] != row_of[:-1])
        span_end = np.flatnonzero(covered & end_mark) + 1
        span_row = row_of[span_start]
        first_word = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(counts, out=first_word[1:])
        keys = np.fromiter((int.from_bytes(hashlib.blake2b(words[a:b].tobytes(), digest_size=8).digest(), "little")
                            for a, b in zip(span_start.tolist(), span_end.tolist(), strict=True)),
                           dtype=np.uint64, count=len(span_start))
        frame = pd.DataFrame({"k": keys, "row": span_row + row_base, "a": span_start - first_word[span_row],
                              "len": span_end - span_start})
        return frame, np.bincount(row_of[covered], minlength=len(texts)), counts

    def _common_ngrams(self, texts: list[str], first_of_text: np.ndarray, need: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted hashes of the n-grams found in >= `need` distinct texts, the rows that hold one), counted
        `SLICE_ROWS` rows at a time with a sort instead of a hash table: at 1M responses the all-at-once count
        held ~4 GB of temporaries."""
        p = self.params
        hashes, holders = [], []
        for lo in range(0, len(texts), SLICE_ROWS):
            words, row_of, _ = _tokens(texts[lo:lo + SLICE_ROWS])
            starts, h = _ngram_hashes(words, row_of, p.passage_words)
            rows = row_of[starts] + lo
            sel = first_of_text[rows]
            h, rows = h[sel], rows[sel]
            order = np.argsort(h, kind="stable")  # rows stay ascending within a hash: a row's repeats are adjacent
            h, rows = h[order], rows[order]
            new = np.ones(len(h), dtype=bool)
            new[1:] = (h[1:] != h[:-1]) | (rows[1:] != rows[:-1])
            hashes.append(h[new])
            holders.append(rows[new].astype(np.int32))
        all_h = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
        del hashes
        ordered = np.sort(all_h)
        if len(ordered) < need:
            return np.zeros(0, np.uint64), np.zeros(0, np.int64)
        common = np.unique(ordered[:len(ordered) - need + 1][ordered[:len(ordered) - need + 1] == ordered[need - 1:]])
        del ordered
        rows = np.concatenate(holders)[_in_sorted(all_h, common)] if len(common) else np.zeros(0, np.int32)
        return common, np.unique(rows).astype(np.int64)

    @staticmethod
    def _span_text(text: str, first_word: int, n_words: int, collapse: bool = True) -> str:
        """The original text of words [first_word, first_word + n_words) of `text`, whitespace runs collapsed
        unless `collapse` is off (casefolded words if the original's word split differs from the normalised
        one)."""
        if text.isascii():  # casefold is lower() here and splits no word differently: stop at the span's end
            found = list(islice(_WORD.finditer(text), first_word + n_words))
            if len(found) == first_word + n_words:
                span = text[found[first_word].start():found[-1].end()]
                return " ".join(span.split()) if collapse else span
        norm = text.replace(_SEP, " ") if text.isascii() else unicodedata.normalize("NFKC", text.replace(_SEP, " "))
        found = list(_WORD.finditer(norm))
        if len(found) >= first_word + n_words and len(found) == len(_WORD.findall(norm.casefold())):
            span = norm[found[first_word].start():found[first_word + n_words - 1].end()]
            return " ".join(span.split()) if collapse else span
        return " ".join(_WORD.findall(norm.casefold())[first_word:first_word + n_words])
