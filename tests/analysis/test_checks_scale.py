"""The 1M-row code paths give the same answers as the small-data ones (bench/README.md, 1M rows).

At 1M rows near_duplicate and repeated_passage work in slices of rows and the regex checks skip rows an RE2
pre-filter rules out. Each of these is only right if it changes nothing, so each is compared here with the
unsliced / unfiltered computation on real data, with slices small enough that every boundary case is crossed.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, SHARED

import analysis.checks.near_duplicate as nd
import analysis.checks.repeated_passage as rp
from analysis.checks import CheckContext, CheckResult
from analysis.checks._re2 import may_match
from analysis.checks.pii import PII_PREFILTER, pii_hits
from analysis.checks.refusal import BOILERPLATE, PREFILTER, REFUSAL
from analysis.io import load
from analysis.util.memory import release_free_memory

SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def rows():
    """The sample (planted near duplicates and boilerplate) plus real chats with non-ASCII text."""
    parts = [load(str(SAMPLE / "*.jsonl")).rows]
    hh = SHARED / "hh_rlhf_harmless_test" / "harmless-base_test.jsonl.gz"
    if hh.exists():
        parts.append(load(str(hh)).rows.head(600))
    import pandas as pd

    out = pd.concat(parts, ignore_index=True)
    out["row_id"] = np.arange(len(out))
    return out


def same(a: CheckResult, b: CheckResult) -> None:
    assert np.array_equal(a.reason.astype(str), b.reason.astype(str))
    assert np.array_equal(a.is_issue, b.is_issue)
    assert np.allclose(a.score, b.score)
    assert np.array_equal(a.group_id, b.group_id)
    assert np.array_equal(a.evidence_or_empty().astype(str), b.evidence_or_empty().astype(str))
    drop = {"seconds"}
    assert {k: v for k, v in a.summary.items() if k not in drop} == {k: v for k, v in b.summary.items()
                                                                      if k not in drop}


@pytest.mark.parametrize("slice_rows", [7, 64])
def test_near_duplicate_in_slices_equals_one_pass(rows, monkeypatch, slice_rows):
    whole = nd.NearDuplicate().run(CheckContext(rows))
    assert whole.rows_flagged > 0
    monkeypatch.setattr(nd, "SHINGLE_ROWS", slice_rows)
    monkeypatch.setattr(nd, "JACCARD_CACHE", 3)  # the verification cache is cleared all the time
    same(whole, nd.NearDuplicate().run(CheckContext(rows)))


def test_shingle_sets_in_slices_equal_one_pass(rows, monkeypatch):
    texts = CheckContext(rows).responses
    h1, o1 = nd.shingle_sets(texts, 3)
    monkeypatch.setattr(nd, "SHINGLE_ROWS", 11)
    h2, o2 = nd.shingle_sets(texts, 3)
    assert np.array_equal(h1, h2) and np.array_equal(o1, o2)
    w1, c1 = nd.word_hashes(texts)
    assert c1.sum() == len(w1) and len(c1) == len(texts)


@pytest.mark.parametrize("slice_rows", [5, 97])
def test_repeated_passage_in_slices_equals_one_pass(rows, monkeypatch, slice_rows):
    whole = rp.RepeatedPassage().run(CheckContext(rows))
    assert whole.summary["passages"] and whole.rows_flagged > 0
    monkeypatch.setattr(rp, "SLICE_ROWS", slice_rows)
    same(whole, rp.RepeatedPassage().run(CheckContext(rows)))


def test_repeated_passage_words_match_the_regex_tokeniser():
    """Words cut from the UTF-8 bytes are `\\w+` of the NFKC-casefolded text, row by row."""
    import re
    import unicodedata

    texts = ["Don\u2019t ﬁne ＡＢＣ straße", "", "İstanbul ǅemal x\x00y", "a_b 12 ß", "日本語のテキスト です"]
    words, row_of, counts = rp._tokens(texts)
    expect = [re.findall(r"\w+", unicodedata.normalize("NFKC", t).casefold()) for t in texts]
    assert counts.tolist() == [len(e) for e in expect]
    assert np.array_equal(row_of, np.repeat(np.arange(len(texts)), counts))
    flat = [w for e in expect for w in e]
    # equal words get equal ids, different words different ids
    assert len(set(zip(flat, words.tolist(), strict=True))) == len(set(flat)) == len(set(words.tolist()))


def test_in_sorted_equals_isin():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 50, 1000).astype(np.uint64)
    ref = np.unique(rng.integers(0, 50, 20).astype(np.uint64))
    assert np.array_equal(rp._in_sorted(values, ref, block=37), np.isin(values, ref))
    assert not rp._in_sorted(values, ref[:0]).any()


PII_TEXTS = ["mail me at jane.roe@gmail.com", "call +44 20 7946 0958 now", "(555) 123-4567", "555-123-4567",
             "card 4111 1111 1111 1111", "4111-1111-1111-1111", "from 8.8.8.8 today",
             "IBAN GB82 WEST 1234 5698 7654 32",
             "٥٥٥-١٢٣-٤٥٦٧", "no numbers here", "3 + 4 = 7", "3+4=7", "version 1.2.3.4", "+1 (555) 010-9999",
             "x\n+33 1 23 45 67 89"]


def test_pii_prefilter_is_a_superset_of_the_hits():
    hits = [bool(pii_hits(t)) for t in PII_TEXTS]
    assert sum(hits) >= 7  # the examples do hold PII
    passed = may_match(PII_TEXTS, PII_PREFILTER)
    assert all(p for p, h in zip(passed, hits, strict=True) if h)
    assert not passed[PII_TEXTS.index("no numbers here")] and not passed[PII_TEXTS.index("3 + 4 = 7")]
    assert not passed[PII_TEXTS.index("3+4=7")]  # arithmetic is not a phone: the look-behind carries over


def test_refusal_prefilter_is_a_superset_of_the_patterns():
    texts = ["I\u2019m sorry, but I can\u2019t help with that.", "AS AN AI LANGUAGE MODEL, I think", "My training data",
             "I must respectfully decline.", "Your request goes against policy", "Sure! Here it is.",
             "İ cannot help"]
    py = [bool(REFUSAL.search(t) or BOILERPLATE.search(t)) for t in texts]
    assert sum(py) >= 5
    passed = may_match(texts, PREFILTER)
    assert all(p for p, h in zip(passed, py, strict=True) if h)
    assert not passed[texts.index("Sure! Here it is.")]


def test_may_match_falls_back_to_python_on_text_arrow_cannot_hold():
    assert may_match(["plain", "lone \ud800 surrogate 555-123-4567"], r"\p{Nd}{3}-").tolist() == [True, True]
    assert may_match([], "x").tolist() == []


def test_release_free_memory_is_safe_to_call():
    assert release_free_memory() in (True, False)


def test_mojibake_prefilter_passes_every_text_ftfy_would_change(rows):
    from analysis.checks.encoding import MOJIBAKE_PREFILTER, fix_encoding

    texts = [t for t in CheckContext(rows).texts("both") if not t.isascii()][:400]
    broken = [t.encode("utf-8").decode(enc, errors="ignore") for t in texts for enc in ("cp1252", "latin-1")]
    broken += ["sÃ³", "voilÃ  le travail", "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "caf\x8e"]
    allt = texts + broken
    changed = np.array([fix_encoding(t) != t for t in allt])
    assert changed.sum() >= len(broken) // 2  # the mojibake is real
    passed = may_match(allt, MOJIBAKE_PREFILTER)
    assert not (changed & ~passed).any()
    assert passed[: len(texts)].sum() <= changed[: len(texts)].sum() + 5  # and clean text mostly skips ftfy


def test_verbose_pattern_conversion_keeps_classes_and_widens_word_classes():
    from analysis.checks.encoding import _re2_from_verbose

    assert _re2_from_verbose("  a [ b]  # comment\n | \\w c") == "a[ b]|[\\pL\\pN\\pM_]c"
    assert _re2_from_verbose("[]x ] y") == "[]x ]y"
    assert _re2_from_verbose("[\\s#] z") == "[\\s\\pZ\\x{1c}-\\x{1f}\\x{85}#]z"
