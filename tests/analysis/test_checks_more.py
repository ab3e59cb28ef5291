"""Checks length, echo, repetition, encoding, outlier: every reason code on hand-written rows, the bundled sample,
real data as a false-positive bound, and (slow) a real-model outlier run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED

from analysis.checks import REGISTRY, CheckContext, run_checks
from analysis.io import load
from analysis.util.spans import locate

ROOT = Path(__file__).resolve().parents[2]
MORE = ["length", "echo", "repetition", "encoding"]
SPAN_CHECKS = {"echo", "repetition", "encoding"}  # every flagged row carries the offending span as evidence


def chat(*turns: str, system: str | None = None) -> dict:
    msgs = [{"role": "system", "content": system}] if system else []
    msgs += [{"role": "user" if k % 2 == 0 else "assistant", "content": t} for k, t in enumerate(turns)]
    return {"messages": msgs}


@pytest.fixture
def reasons(write_jsonl):
    counter = iter(range(10_000))

    def run(check: str, records: list[dict]) -> list[str]:
        rows = load(write_jsonl(f"t{next(counter)}.jsonl", records)).rows
        res = run_checks(rows, [check])[check]
        assert ((res.score > 0) == res.is_issue).all() and res.score.max() <= 1
        if check in SPAN_CHECKS:
            ev = res.evidence_or_empty()
            for i in np.flatnonzero(res.is_issue):
                assert ev[i] and len(ev[i]) <= 200, (i, ev[i])
                assert locate(rows["messages"].iloc[i], ev[i], source=str(rows["source"].iloc[i])), (i, ev[i])
            assert (ev[~res.is_issue] == "").all()
        return [str(r) for r in res.reason]

    return run


# ---------------------------------------------------------------------------------------------- length

def normal_rows(k: int, wide: bool = True) -> list[dict]:
    """k ordinary question/answer pairs of varied, normal lengths (the distribution the outliers stand out of)."""
    rng = np.random.default_rng(1)
    out = []
    for i in range(k):
        q = " ".join(["word"] * int(rng.integers(8, 20))) + f" question {i}?"
        hi = np.log(150) if wide else np.log(60)  # wide: 1-150 words, like real data; narrow: 1-60
        a = " ".join(["answer"] * int(np.exp(rng.uniform(0, hi)))) + "."
        out.append(chat(q, a))
    return out


def test_length_codes(reasons):
    got = reasons("length", normal_rows(60, wide=False) + [
        chat("Tell me about tides.", "   "),
        chat("Explain photosynthesis in detail.", "..."),
        chat("Summarise the article.", "<nooutput>"),
        chat("Write an essay on the history of Rome.", "N/A"),
        chat("Describe the ocean.", "Waves roll in. " * 3000),  # 45k chars > max_chars
        chat("Hi", " ".join(["a"] * 900) + "."),  # 900 words (1.8k chars, under long_min_chars) for "Hi"
    ])
    assert got[:60] == [""] * 60
    assert got[60:] == ["empty_response", "short_response", "short_response", "short_response", "long_response",
                        "length_ratio_outlier"]


def test_length_keeps_short_factual_answers_and_chat_closers(reasons):
    got = reasons("length", normal_rows(40) + [
        chat("What is the capital of France?", "Paris"),
        chat("Sentiment of 'I love it'? Answer Positive or Negative.", "Positive"),
        chat("What is 2 + 5?", "7"),
        chat("Long history " + "context " * 200, "Thanks, glad it helped.", "Thanks!", "You're welcome!"),
    ])
    assert got == [""] * len(got)


def test_length_min_words_opt_in(write_jsonl):
    rows = load(write_jsonl("s.jsonl", normal_rows(20) + [chat("Capital of France?", "Paris")])).rows
    res = run_checks(rows, ["length"], params={"length": {"min_words": 2}})["length"]
    assert res.reason[-1] == "short_response"


# ---------------------------------------------------------------------------------------------- echo

def test_echo_codes(reasons):
    prompt = "Please explain how the water cycle moves water between oceans, clouds and rivers."
    got = reasons("echo", [
        chat(prompt, prompt),
        chat(prompt, "Sure. " + prompt.lower()),
        chat("Summarise this text.\n\nThe committee met on Tuesday and agreed to delay the vote until spring.",
             "The committee met on Tuesday and agreed to delay the vote until spring."),
        chat("The river: when does it flood, and why?\n\nThe answer is that the river floods every year in May.",
             "The answer is that the river floods every year in May."),
        chat("Q1", "The answer is that the river floods every year in May.", "And then?",
             "The answer is  that the river floods every year in May."),
        chat("Total?", "It is $294 in all.", "TL;DR?", "It is $294 in all."),  # short, but a repeat of itself
        chat("Thanks", "No problem!", "Thanks again", "No problem!"),  # a pleasantry: under 3 words
    ])
    assert got == ["echo_prompt", "echo_prompt", "response_in_prompt", "response_in_prompt", "repeated_answer",
                   "repeated_answer", ""]


def test_echo_spares_quotes_restatements_and_edits(reasons):
    got = reasons("echo", [
        chat("Translate 'Good morning'", "Good morning in French is 'Bonjour'."),
        chat("Find the name of the tallest mountain in the world.",
             "The name of the tallest mountain in the world is Mount Everest."),
        chat("Fix this code.\n\nfor x in items\n    total = x\nprint(total)",
             "for x in items:\n    total += x\nprint(total)"),
        chat("Classify as Positive or Negative: the food was cold and bland.", "Negative"),
        chat("Uppercase the vowels.\n\nThe quick brown fox jumps over the lazy dog",
             "ThE qUIck brOwn fOx jUmps OvEr thE lAzy dOg"),
    ])
    assert got == [""] * len(got)


# ---------------------------------------------------------------------------------------------- repetition

def test_repetition_codes(reasons):
    got = reasons("repetition", [
        chat("Tell me a story.", "Once upon a time there was a cat. " + "and then the cat sat down " * 20),
        chat("List tips.", "Tips:\n" + "Remember to drink plenty of water every day.\n" * 3 + "Done."),
    ])
    assert got == ["repeated_ngrams", "repeated_lines"]


def test_repetition_spares_lists_tables_and_code(reasons):
    table = "| Item | Cost |\n|---|---|\n" + "".join(f"| Thing {i} | ${i} |\n" for i in range(12))
    items = "\n".join(f"- **Category {c}** (${i * 7}): item {i} costs ${i * 7} this month." for i, c in
                      enumerate("ABCDEFGHIJ"))
    code = "```python\n" + "print('hello world again and again')\n" * 10 + "```\nThat prints it ten times."
    html = "<table>\n" + "  <tr><td>Cell one here</td><td>Cell two here</td></tr>\n" * 6 + "</table>"
    refrain = "Row, row, row your boat gently down the stream, merrily merrily life is but a dream.\n" * 2
    got = reasons("repetition", [chat("Table", table), chat("Spend", items), chat("Code", code),
                                 chat("HTML table", html), chat("Song", refrain + "The end of the song.")])
    assert got == [""] * len(got)


# ---------------------------------------------------------------------------------------------- encoding

def test_encoding_codes(reasons):
    got = reasons("encoding", [
        chat("What is a cafÃ©?", "A small restaurant."),
        chat("Quote", "Itâ€™s fine, â€œreallyâ€\x9d."),
        chat("Area", "The area is 4 mÂ²."),
        chat("Name", "The city is M\ufffdnchen."),
        chat("Bell", "Ring\x07 the bell\x1b[0m."),
    ])
    assert got == ["mojibake", "mojibake", "mojibake", "replacement_char", "control_chars"]


def test_encoding_evidence_is_the_broken_word(write_jsonl):
    rows = load(write_jsonl("e.jsonl", [
        chat("What is a cafÃ©?", "A small restaurant."),
        chat("Quote", "Itâ€™s fine, â€œreallyâ€\x9d."),
        chat("Name", "The city is M\ufffd\ufffdnchen."),
        chat("Bell", "Ring the bell\x1b[0m now."),
        chat("Fine", "Un café crème."),
    ])).rows
    ev = run_checks(rows, ["encoding"])["encoding"].evidence_or_empty().tolist()
    assert ev == ["cafÃ©?", "Itâ€™s", "M\ufffd\ufffdnchen.", "bell\x1b[0m", ""]


def test_echo_and_repetition_evidence(write_jsonl):
    prompt = "Please explain how the water cycle moves water between oceans, clouds and rivers."
    rows = load(write_jsonl("r.jsonl", [
        chat(prompt, "Sure. " + prompt),
        chat("Summarise.\n\nThe committee met on Tuesday and agreed to delay the vote.",
             "The committee met on Tuesday and agreed to delay the vote."),
    ])).rows
    ev = run_checks(rows, ["echo"])["echo"].evidence_or_empty().tolist()
    assert ev == [prompt[:80], "The committee met on Tuesday and agreed to delay the vote."]
    rows = load(write_jsonl("p.jsonl", [
        chat("Story?", "Once upon a time there was a cat. " + "And then the cat sat down " * 20),
        chat("Tips?", "Tips:\n" + "  Drink plenty of  water every day.\n" * 3 + "Done."),
    ])).rows
    ev = run_checks(rows, ["repetition"])["repetition"].evidence_or_empty().tolist()
    assert ev == ["And then the", "Drink plenty of  water every day."]  # as written: case and spacing kept


def test_encoding_fix_snippets(write_jsonl):
    rows = load(write_jsonl("e.jsonl", [chat("What is a cafÃ©?", "A small restaurant.")])).rows
    fixes = run_checks(rows, ["encoding"])["encoding"].summary["fixes"]
    assert len(fixes) == 1 and "cafÃ©" in fixes[0]["before"] and "café" in fixes[0]["after"]
    assert fixes[0]["row_id"] == int(rows["row_id"].iloc[0])


def test_encoding_flags_bidi_controls_and_invisible_characters(reasons, write_jsonl):
    got = reasons("encoding", [
        chat("Check \u202eevil.exe\u202c now", "Done."),  # a right-to-left override in the prompt
        chat("Isolate", "The name is \u2067\u05e9\u05dc\u05d5\u05dd\u2069 here."),
        chat("Zero width", "pass\u200bword"),
        chat("Tags", "Hello\U000e0049\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065 world"),
        chat("BOM", "mid\ufefftext"),
        chat("Both", "a\u202eb\x07c"),  # bidi outranks a control character
    ])
    assert got == ["bidi_control", "bidi_control", "invisible_chars", "invisible_chars", "invisible_chars",
                   "bidi_control"]
    rows = load(write_jsonl("b.jsonl", [chat("Check \u202eevil.exe\u202c now", "Done.")])).rows
    assert run_checks(rows, ["encoding"])["encoding"].evidence_or_empty().tolist() == ["\u202eevil.exe\u202c"]


def test_encoding_spares_rtl_marks_joiners_and_a_leading_bom(reasons):
    got = reasons("encoding", [
        chat("RTL", "\u05e9\u05dc\u05d5\u05dd \u200fworld\u200e ok \u061c"),  # implicit marks: ordinary RTL text
        chat("Family", "Family: \U0001f468\u200d\U0001f469\u200d\U0001f467"),  # ZWJ emoji sequence
        chat("Persian", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),  # ZWNJ in Persian spelling
        chat("\ufeffBOM first", "fine"),
    ])
    assert got == [""] * len(got)


def test_encoding_spares_real_unicode(reasons):
    got = reasons("encoding", [
        chat("Café?", "Un café crème, s’il vous plaît — naïve résumé."),
        chat("中文", "你好，世界！日本語もOK。"),
        chat("Emoji", "Great job 🎉👍 “curly” ‘quotes’ … ﬁne ligature, ＡＢＣ width, e\u0301 combining."),
        chat("Tabs", "col1\tcol2\r\nline two\n"),
        chat("Math", "∑ x² ≤ π · ∞, 5 °C, ±3 µm, €10, £5, ¥100"),
    ])
    assert got == [""] * len(got)


# ---------------------------------------------------------------------------------------------- outlier

def outlier_ctx(n: int = 300, far: tuple[int, ...] = (10, 50, 200)) -> CheckContext:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=(1, 64))
    vectors = centre + 0.3 * rng.normal(size=(n, 64))
    vectors[list(far)] = rng.normal(size=(len(far), 64)) * 3
    return CheckContext(pd.DataFrame({"row_id": np.arange(n)}), extras={"vectors": vectors})


def test_outlier_flags_planted_far_vectors_exactly():
    res = REGISTRY["outlier"]().run(outlier_ctx())
    assert np.flatnonzero(res.is_issue).tolist() == [10, 50, 200]
    assert set(res.reason[res.is_issue]) == {"embedding_outlier"}
    assert ((res.score > 0) == res.is_issue).all() and res.score.max() <= 1
    assert res.summary["threshold"] > res.summary["median_distance"]


def test_outlier_needs_embeddings(tmp_path):
    ctx = CheckContext(pd.DataFrame({"row_id": np.arange(3)}), ws_dir=tmp_path)
    with pytest.raises(ValueError, match="outlier needs embeddings: run `sift analyze PATH --embed`"):
        REGISTRY["outlier"]().run(ctx)


@pytest.mark.slow
def test_outlier_truthfulqa_real_model(truthfulqa):
    from analysis.space.embedders import DEFAULT_MODEL

    rows = truthfulqa["rows"]
    res = run_checks(rows, ["outlier"], ws_dir=truthfulqa["ws"],
                     params={"outlier": {"scope": "prompt", "model": DEFAULT_MODEL}})["outlier"]
    # measured: 0 of 817 (mean 10-NN cosine distance: median ~0.50, max 0.80, threshold above it): a curated
    # benchmark of questions has no isolated rows; the bound only guards against a threshold gone wrong
    assert res.rows_flagged <= 0.01 * len(rows)
    assert res.summary["k"] == 10 and 0 < res.summary["median_distance"] < res.summary["threshold"]


# ---------------------------------------------------------------------------------------------- bundled sample

def test_sample_flags_exactly():
    rows = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    defects = json.loads((ROOT / "sample_data" / "defects.json").read_text())
    results = run_checks(rows, MORE)
    row_ids = rows["row_id"].to_numpy()

    def flagged(name: str) -> dict[int, str]:
        res = results[name]
        return {int(r): str(c) for r, c in zip(row_ids[res.is_issue], res.reason[res.is_issue], strict=True)}

    empty_final = [d["row_id"] for d in defects["empty_assistant_turn"]
                   if rows.loc[rows["row_id"] == d["row_id"], "response"].iloc[0].strip() == ""]
    assert empty_final == [142]  # row 36's empty turn is not its last one
    assert flagged("length") == {142: "empty_response"}  # and nothing else
    # The declared `repeated_answer` chats: the final answer repeats an earlier one word for word.
    repeated = {d["row_id"] for d in defects["repeated_answer"]}
    assert flagged("echo") == {r: "repeated_answer" for r in repeated}
    assert repeated == {29, 45, 130, 171, 264}
    assert flagged("repetition") == {}
    assert flagged("encoding") == {}


# ---------------------------------------------------------------------------------------------- real data

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared datasets not found at {SHARED}")


@needs_shared
def test_gsm8k_train_is_quiet():
    rows = load(SHARED / "gsm8k" / "train.jsonl").rows
    assert len(rows) == 7473
    res = run_checks(rows, MORE)
    # measured: length 9 (terse "Missed:60/4=15" solutions, ratio outliers), echo 0, repetition 0, encoding 1 (a
    # real zero-width space before "is" in row 7388)
    assert res["length"].rows_flagged <= 0.005 * len(rows)
    assert set(res["length"].reasons()) <= {"length_ratio_outlier"}
    assert res["echo"].rows_flagged <= 2
    assert res["repetition"].rows_flagged <= 2
    enc = res["encoding"]
    assert enc.reasons() == {"invisible_chars": 1}
    assert enc.evidence_or_empty()[enc.is_issue].tolist() == ["\u200bis"]


@needs_shared
def test_gsm8k_test_echo_is_quiet():
    rows = load(SHARED / "gsm8k" / "test.jsonl").rows
    assert run_checks(rows, ["echo"])["echo"].rows_flagged <= 1


@needs_shared
def test_codealpaca_is_quiet():
    rows = load(SHARED / "codealpaca" / "code_alpaca_2k.json").rows
    assert len(rows) == 2017
    res = run_checks(rows, MORE)
    # measured: length 2 (its two empty outputs), echo 4, repetition 1, encoding 0
    assert res["length"].reasons() == {"empty_response": 2}
    assert res["echo"].rows_flagged <= 0.005 * len(rows)
    assert res["repetition"].rows_flagged <= 0.005 * len(rows)
    assert res["encoding"].rows_flagged == 0
