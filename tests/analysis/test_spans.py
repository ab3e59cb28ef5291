"""analysis/util/spans.py: finding a check's evidence in a row and cutting a plain-text snippet around it."""

from __future__ import annotations

from analysis.util.spans import MARK_CLOSE, MARK_OPEN, SpanHit, locate, snippet


def turns(*contents: str | None) -> list[dict]:
    return [{"role": "user" if k % 2 == 0 else "assistant", "content": c} for k, c in enumerate(contents)]


def test_exact_match_reports_turn_role_offsets_and_snippet():
    msgs = turns("What is my email?", "It is kim.lee@proton.me, as you said.")
    hits = locate(msgs, "kim.lee@proton.me")
    assert hits == [SpanHit(1, "assistant", 6, 23, f"It is {MARK_OPEN}kim.lee@proton.me{MARK_CLOSE}, as you said.")]
    text = msgs[1]["content"]
    assert text[hits[0].start:hits[0].end] == "kim.lee@proton.me"


def test_case_insensitive_match():
    hits = locate(turns("q", "As an AI Language Model, I cannot."), "as an ai language model")
    assert [(h.turn, h.start, h.end) for h in hits] == [(1, 0, 23)]
    assert hits[0].snippet == f"{MARK_OPEN}As an AI Language Model{MARK_CLOSE}, I cannot."  # the text as written


def test_case_insensitive_when_casefold_changes_length():
    # "ß" casefolds to "ss": offsets from a casefolded copy would be wrong, so the regex fallback finds it
    msgs = turns("Die Straße heißt HELLO world.")
    [hit] = locate(msgs, "hello WORLD")
    assert msgs[0]["content"][hit.start:hit.end] == "HELLO world"


def test_whitespace_insensitive_match():
    msgs = turns("q", "First line\n   Please note:\tthis is\n\ngeneral info.")
    [hit] = locate(msgs, "Please note: this is general info.")
    assert msgs[1]["content"][hit.start:hit.end] == "Please note:\tthis is\n\ngeneral info."
    assert hit.snippet == f"First line ⏎ {MARK_OPEN}Please note: this is ⏎ general info.{MARK_CLOSE}"


def test_snippet_context_ellipses_and_newlines():
    text = "a" * 100 + "\nSPAN\n" + "b" * 100
    start = text.index("SPAN")
    got = snippet(text, start, start + 4, context=5)
    assert got == f"…aaaa ⏎ {MARK_OPEN}SPAN{MARK_CLOSE} ⏎ bbbb…"
    assert snippet("xSPANy", 1, 5) == f"x{MARK_OPEN}SPAN{MARK_CLOSE}y"  # whole text fits: no ellipses
    assert snippet("SPAN", 0, 4) == f"{MARK_OPEN}SPAN{MARK_CLOSE}"
    hits = locate(turns("z" * 200 + " needle " + "z" * 200), "needle", context=10)
    assert hits[0].snippet == f"…zzzzzzzzz {MARK_OPEN}needle{MARK_CLOSE} zzzzzzzzz…"


def test_limit_across_and_within_turns():
    msgs = turns("<br> one <br> two <br>", "<br> three")
    assert [(h.turn, h.start) for h in locate(msgs, "<br>")] == [(0, 0), (0, 9), (0, 18)]  # default limit 3
    assert [(h.turn, h.start) for h in locate(msgs, "<br>", limit=10)] == [(0, 0), (0, 9), (0, 18), (1, 0)]
    assert len(locate(msgs, "<br>", limit=1)) == 1
    assert [(h.start, h.end) for h in locate(turns("aaaa"), "aa", limit=10)] == [(0, 2), (2, 4)]  # no overlaps


def test_source_fallback_only_when_no_turn_has_it():
    source = '{"prompt": "Contact?", "chosen": "Use the form.", "rejected": "Mail kim.lee@proton.me"}'
    msgs = turns("Contact?", "Use the form.")
    [hit] = locate(msgs, "kim.lee@proton.me", source=source)
    assert (hit.turn, hit.role) == (-1, "source") and source[hit.start:hit.end] == "kim.lee@proton.me"
    assert MARK_OPEN + "kim.lee@proton.me" + MARK_CLOSE in hit.snippet
    assert [h.turn for h in locate(msgs, "the form", source=source)] == [1]  # a turn has it: source not used
    assert locate(msgs, "kim.lee@proton.me") == []  # no source given


def test_empty_span_missing_span_and_odd_rows():
    msgs = turns("hello", None)
    assert locate(msgs, "") == []
    assert locate(msgs, "   ", source="no-spaces") == []  # whitespace only, and no such run: nothing to match
    assert locate(msgs, "absent", source="also not here") == []
    assert locate(None, "hello") == [] and locate([], "hello", source="hello")[0].turn == -1
    assert [h.turn for h in locate(msgs, "hello")] == [0]  # a None content is skipped like ""
