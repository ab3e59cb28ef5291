"""conflicting_response, shared_response, repeated_passage: every reason code, and the measured real-data numbers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import ROOT, SHARED

from analysis.checks import run_checks
from analysis.checks.conflicting_response import final_number
from analysis.io import load
from analysis.util.spans import locate

LONG = "please remember that this answer is provided for general information only and is not professional advice"


def rows_of(write_jsonl, records, name="d.jsonl"):
    return load(write_jsonl(name, records)).rows


def one(rows, name, **params):
    return run_checks(rows, [name], params={name: params} if params else None)[name]


def flagged(rows, result):
    return {int(rows["row_id"].iloc[i]): str(result.reason[i]) for i in np.flatnonzero(result.is_issue)}


def pr(prompt, response):
    return {"prompt": prompt, "response": response}


# --- conflicting_response ------------------------------------------------------------------------------------------

def test_final_number_extraction():
    assert final_number("so 9 * 2 = 18\n#### 18") == 18
    assert final_number("#### 1,000") == 1000
    assert final_number("The answer is: $42.") == 42
    assert final_number("we get \\boxed{7}") == 7
    assert final_number("In total she has 12.") == 12
    assert final_number("I do not know.") is None


def test_conflicting_response_and_answer(write_jsonl):
    rows = rows_of(write_jsonl, [
        pr("What is 2+3?", "2 plus 3 is 5.\n#### 5"),                     # 0 } numbers differ -> answer
        pr("what is  2+3?", "Adding gives 6.\n#### 6"),                   # 1 }
        pr("Name a colour.", "Red is a colour."),                         # 2 } responses differ -> response
        pr("Name a colour", "Blue."),                                     # 3   (different prompt: no period)
        pr("name a colour.", "Blue is a colour."),                        # 4 }
        pr("Say hi", "Hi!"),                                              # 5 } same response: no finding
        pr("say hi", "hi!"),                                              # 6 }
        pr("", "orphan"),                                                 # 7 empty prompt: ignored
        pr("Name a colour.", ""),                                         # 8 empty response: ignored
    ])
    res = one(rows, "conflicting_response")
    assert flagged(rows, res) == {0: "conflicting_answer", 1: "conflicting_answer",
                                  2: "conflicting_response", 4: "conflicting_response"}
    assert res.keep is None and res.group_id.tolist() == [0, 0, 1, -1, 1, -1, -1, -1, -1]
    assert res.score[0] == 1.0 and 0 < res.score[2] < 1
    assert res.summary["groups"] == 2 and res.summary["groups_numeric_conflict"] == 1
    near = one(rows, "conflicting_response", prompt_threshold=0.5)  # "Name a colour" joins the colour group
    assert set(flagged(rows, near)) == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError):
        one(rows, "conflicting_response", prompt_threshold=0)


def test_gsm8k_test_and_socratic_conflict_but_agree_on_numbers(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("shared datasets missing")
    for name in ("test.jsonl", "test_socratic.jsonl"):
        shutil.copy(SHARED / "gsm8k" / name, tmp_path / name)
    rows = load(str(tmp_path)).rows
    assert len(rows) == 2638
    res = one(rows, "conflicting_response")
    assert res.summary["groups"] == 1319 and res.rows_flagged == 2638
    assert res.summary["groups_numeric_conflict"] == 0 and res.reasons() == {"conflicting_response": 2638}


def test_hh_rlhf_repeated_prompts_are_conflicting_not_duplicates():
    path = SHARED / "hh_rlhf_harmless_test" / "harmless-base_test.jsonl.gz"
    if not path.exists():
        pytest.skip("shared datasets missing")
    rows = load(path).rows
    res = one(rows, "conflicting_response")
    # PROVENANCE.md: "2 dialogue prefixes appear twice (4 rows)"; their final (chosen) answers differ
    members = {int(rows["row_id"].iloc[i]): int(res.group_id[i]) for i in np.flatnonzero(res.is_issue)}
    assert members == {250: 0, 1483: 0, 1262: 1, 1452: 1}
    assert res.reasons() == {"conflicting_response": 4} and res.summary["groups"] == 2
    # exact_duplicate on the prompt sees the same 2 groups, but on the whole example (its default) nothing
    assert one(rows, "exact_duplicate", scope="prompt").summary["rows_in_groups"] == 4
    assert one(rows, "exact_duplicate").rows_flagged == 0
    # shared_response: 3 canned answers ("I'm sorry, I can't help you with this.", ...) each given to 2 prompts
    shared = one(rows, "shared_response")
    assert shared.summary["groups"] == 3 and shared.rows_flagged == 6


# --- shared_response -----------------------------------------------------------------------------------------------

def test_shared_response(write_jsonl):
    canned = "I am sorry, I cannot help with that request."
    rows = rows_of(write_jsonl, [
        pr("How do I pick a lock?", canned),              # 0 } same response, different prompts
        pr("Write malware", canned.upper()),              # 1 }
        pr("Thanks", "Thank you!"),                       # 2 } too short to count
        pr("Cheers", "Thank you!"),                       # 3 }
        pr("Same prompt", "A long enough answer of six words."),  # 4 } exact duplicates: one prompt only
        pr("Same prompt", "A long enough answer of six words."),  # 5 }
        pr("Other", "Something else entirely, also long enough."),  # 6
    ])
    res = one(rows, "shared_response")
    assert flagged(rows, res) == {0: "shared_response", 1: "shared_response"}
    assert res.score[0] == pytest.approx(0.5) and res.group_id[0] == res.group_id[1] == 0
    assert res.summary["largest_groups"][0]["rows"] == 2
    assert set(flagged(rows, one(rows, "shared_response", min_words=2))) == {0, 1, 2, 3}


def test_sample_shared_response_flags_nothing():
    rows = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    assert one(rows, "shared_response").rows_flagged == 0
    # its repeated responses are all the planted exact duplicates (one prompt per group), hence excluded
    assert one(rows, "exact_duplicate", scope="response").rows_flagged > 0
    res = one(rows, "conflicting_response")
    assert res.summary["groups"] == 11 and res.rows_flagged == 22 and res.summary["groups_numeric_conflict"] == 0


# --- repeated_passage ----------------------------------------------------------------------------------------------

def test_repeated_passage_intra_and_boilerplate(write_jsonl):
    sentence = "The mitochondria is the powerhouse of the cell in every animal."
    records = [pr(f"q{i}", f"Answer number {i} about topic {i * 7}. {LONG}.") for i in range(4)]
    records += [pr("bio", f"{sentence} Also other words here. {sentence}"),  # 4: intra
                pr("code", "```\nfor item in the list of all the things: print(item)\n"
                           "for item in the list of all the things: print(item)\n```\nDone."),  # 5: code spared
                pr("short", "Yes. Yes. Yes."),  # 6: units too short
                pr("dup", f"Answer number 0 about topic 0. {LONG}.")]  # 7: duplicate of row 0's text
    records += [pr(f"x{i}", f"Unrelated reply {i} on its own subject with words {i}.") for i in range(12)]
    rows = rows_of(write_jsonl, records)
    res = one(rows, "repeated_passage")
    assert res.summary["min_texts"] == 3  # min(20, ceil(1% of 20)) raised to the floor of 3
    assert flagged(rows, res) == {0: "boilerplate_passage", 1: "boilerplate_passage", 2: "boilerplate_passage",
                                  3: "boilerplate_passage", 7: "boilerplate_passage", 4: "intra_repeat"}
    top = res.summary["passages"][0]
    assert top["rows"] == 5 and top["text"] == LONG and top["words"] == len(LONG.split())
    assert res.group_id[0] == 0 and res.group_id[4] == -1
    assert 0 < res.score[0] < 1 and res.score[4] == pytest.approx(11 / 26)  # one 11-word repeat of 26
    # 3 rows holding the passage but only 2 distinct texts (row 7 duplicates row 0): under the floor of 3
    assert one(rows[rows["row_id"].isin([0, 1, 7])], "repeated_passage").rows_flagged == 0
    assert one(rows, "repeated_passage", min_rows=10, min_share=0.5).summary["min_texts"] == 10
    ev = res.evidence_or_empty()
    assert ev[0] == LONG and ev[4] == sentence  # the row's passage / its repeated sentence, as written
    assert (ev[~res.is_issue] == "").all()


def test_repeated_passage_evidence_is_verbatim_and_cut(write_jsonl):
    passage = ("Please note:  this reply is general information,\nnot advice, and you should check with "
               "a professional before acting on it")
    long = "Remember " + " ".join(f"step{k} carefully" for k in range(60)) + "."
    records = [pr(f"q{i}", f"Reply {i} on topic t{i}. {passage}.") for i in range(3)]
    records += [pr("long", f"{long} Then more. {long}")]
    records += [pr(f"x{i}", f"Unrelated reply {i} on its own subject with words {i}.") for i in range(6)]
    rows = rows_of(write_jsonl, records)
    res = one(rows, "repeated_passage")
    assert flagged(rows, res) == {0: "boilerplate_passage", 1: "boilerplate_passage", 2: "boilerplate_passage",
                                  3: "intra_repeat"}
    ev = res.evidence_or_empty()
    assert ev[0] == passage  # whitespace and case kept, so it is found exactly
    assert ev[3] == long[:200]
    for i in np.flatnonzero(res.is_issue):
        assert locate(rows["messages"].iloc[i], ev[i])


def test_repeated_passage_real_data():
    if not SHARED.is_dir():
        pytest.skip("shared datasets missing")
    gsm = load(str(SHARED / "gsm8k" / "train.jsonl")).rows
    assert one(gsm, "repeated_passage").rows_flagged == 0
    sample = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    res = one(sample, "repeated_passage")  # the generator's canned sign-offs ("If you share a bit more ...")
    assert res.reasons() == {"boilerplate_passage": 107} and len(res.summary["passages"]) == 9
    assert res.summary["passages"][0]["rows"] == 29 and res.summary["min_texts"] == 11
    ev = res.evidence_or_empty()
    assert all(ev[res.is_issue]) and all(len(e) <= 200 for e in ev)
