"""exact_duplicate, chat_structure, truncation and preference: every reason code, and the acceptance numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.checks import CheckContext, run_checks
from analysis.checks.exact_duplicate import ExactDuplicate
from analysis.checks.truncation import tail
from analysis.io import load
from analysis.util.spans import locate

SAMPLE = ROOT / "sample_data"
DEFECTS = json.loads((SAMPLE / "defects.json").read_text())


def rows_of(write_jsonl, name, records):
    return load(write_jsonl(name, records)).rows


def one(rows, name, **params):
    return run_checks(rows, [name], params={name: params} if params else None)[name]


def flagged(rows, result):
    return {int(rows["row_id"].iloc[i]): str(result.reason[i]) for i in np.flatnonzero(result.is_issue)}


@pytest.fixture(scope="module")
def sample():
    return load(str(SAMPLE / "*.jsonl")).rows


def shared_rows(rel):
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{path} not found")
    return load(path).rows


def msg(role, content):
    return {"role": role, "content": content}


# --- exact_duplicate -------------------------------------------------------------------------------------------

def test_exact_duplicate_reason_and_normalisation(write_jsonl):
    rows = rows_of(write_jsonl, "d.jsonl", [
        {"instruction": "Say hi", "output": "Hi there."},
        {"instruction": "say  HI ", "output": "Hi\tthere."},  # same after whitespace + casefold
        {"instruction": "Say hi", "output": "Hello."},
        {"instruction": "Ｓay hi", "output": "Hi there."},  # NFKC folds the full-width S
    ])
    r = one(rows, "exact_duplicate")
    assert flagged(rows, r) == {1: "dup_of:0", 3: "dup_of:0"}
    assert r.keep.tolist() == [True, False, False, False]
    assert r.summary["groups"] == 1 and r.summary["rows_in_groups"] == 3 and r.summary["rows_removable"] == 2
    assert one(rows, "exact_duplicate", case_sensitive=True).rows_flagged == 1  # only the full-width copy
    assert one(rows, "exact_duplicate", scope="prompt").rows_flagged == 3


def test_exact_duplicate_empty_texts_are_not_duplicates(write_jsonl):
    rows = rows_of(write_jsonl, "e.jsonl", [{"instruction": "a", "output": ""}, {"instruction": "b", "output": " "}])
    assert one(rows, "exact_duplicate", scope="response").rows_flagged == 0


def test_exact_duplicate_rejects_bad_params():
    with pytest.raises(ValueError, match="scope"):
        ExactDuplicate.Params(scope="everything")
    with pytest.raises(ValueError, match="keep"):
        ExactDuplicate.Params(keep="random")


def test_exact_duplicate_sample_planted(sample):
    r = one(sample, "exact_duplicate")
    expected = {d["row_id"]: f"dup_of:{d['of']}" for d in DEFECTS["exact_duplicate"]}
    assert flagged(sample, r) == expected
    assert r.summary["groups"] == len(expected) and r.summary["rows_removable"] == len(expected)


def test_exact_duplicate_alpaca_demo():
    r = one(shared_rows("llamafactory_demo/alpaca_en_demo.json"), "exact_duplicate")
    assert r.summary["rows_removable"] == 14 == r.rows_flagged


TEXTS = ["alpha", "Alpha ", "beta", "gamma", "delta"]


@settings(max_examples=40, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(0, len(TEXTS) - 1), st.integers(0, 3),
                                st.one_of(st.none(), st.floats(0, 1))), min_size=1, max_size=14),
       rule=st.sampled_from(["first", "longest", "shortest", "highest_score", "most_turns"]))
def test_exact_duplicate_groups_property(tmp_path_factory, picks, rule):
    records = []
    for text, extra, score in picks:
        msgs = [msg("user", "q")] + [msg("assistant", "ok"), msg("user", "more")] * extra
        msgs.append(msg("assistant", TEXTS[text]))
        records.append({"messages": msgs, **({"score": score} if score is not None else {})})
    path = tmp_path_factory.mktemp("hyp") / "h.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = load(path).rows
    r = one(rows, "exact_duplicate", scope="response", keep=rule)
    key = [TEXTS[t].strip().casefold() for t, _, _ in picks]
    n = len(picks)
    expected_groups = {k for k in key if key.count(k) >= 2}
    in_group = r.group_id >= 0
    assert set(np.flatnonzero(in_group)) == {i for i in range(n) if key[i] in expected_groups}
    assert set(np.flatnonzero(r.is_issue | r.keep)) == set(np.flatnonzero(in_group))
    assert not (r.is_issue & r.keep).any()
    both = CheckContext(rows).texts("both")
    scores = rows["score"].to_numpy(dtype=float)  # as loaded: a file may be read as chat, without scores
    for g in np.unique(r.group_id[in_group]):
        members = np.flatnonzero(r.group_id == g)
        assert len({key[i] for i in members}) == 1
        kept = members[r.keep[members]]
        assert len(kept) == 1
        rank = {"first": lambda i: 0, "longest": lambda i: len(both[i]), "shortest": lambda i: -len(both[i]),
                "most_turns": lambda i: len(records[i]["messages"]),
                "highest_score": lambda i: -np.inf if np.isnan(scores[i]) else scores[i]}[rule]
        best = max(rank(i) for i in members)
        assert kept[0] == min(i for i in members if rank(i) == best)
        for i in members:
            if i != kept[0]:
                assert r.reason[i] == f"dup_of:{kept[0]}"
    assert r.summary["rows_removable"] == int(in_group.sum()) - len(expected_groups) == r.rows_flagged


# --- chat_structure --------------------------------------------------------------------------------------------

CALL = {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {
    "name": "f", "arguments": "{}"}}]}
STRUCTURE_CASES = [
    ([msg("user", "q"), msg("system", "s"), msg("assistant", "a")], "system_not_first"),
    ([msg("user", "q"), msg("narrator", "x"), msg("assistant", "a")], "unknown_role"),
    ([msg("user", "q"), msg("assistant", "  "), msg("user", "q2"), msg("assistant", "a")], "empty_turn"),
    ([msg("assistant", "hello"), msg("user", "q"), msg("assistant", "a")], "first_turn_not_user"),
    ([msg("user", "q"), msg("user", "q again"), msg("assistant", "a")], "consecutive_same_role"),
    ([msg("user", "q"), {"role": "assistant", "content": "{not json", "tool_call": True}, msg("tool", "r"),
      msg("assistant", "a")], "tool_call_invalid_json"),
    ([msg("user", "q"), CALL, msg("assistant", "a")], "tool_call_unanswered"),
    ([msg("user", "q"), msg("tool", "r"), msg("assistant", "a")], "tool_result_orphan"),
    ([msg("system", "s"), msg("user", "q")], "no_assistant_turn"),
    ([msg("user", "q"), msg("assistant", "a"), msg("user", "thanks")], "ends_without_assistant"),
    ([], "empty_conversation"),
]


def test_chat_structure_every_reason(write_jsonl):
    good = [msg("system", "s"), msg("user", "q"), CALL, msg("tool", "{}"), msg("assistant", "a")]
    rows = rows_of(write_jsonl, "c.jsonl", [{"messages": m} for m, _ in STRUCTURE_CASES] + [{"messages": good}])
    r = one(rows, "chat_structure")
    assert flagged(rows, r) == {i: code for i, (_, code) in enumerate(STRUCTURE_CASES)}
    assert r.score[8] == 1.0 and r.score[9] == 0.5
    assert r.summary["details"]["4"] == ["1:consecutive_same_role"]


def test_chat_structure_evidence_only_for_tool_problems(write_jsonl):
    rows = rows_of(write_jsonl, "c.jsonl", [{"messages": m} for m, _ in STRUCTURE_CASES])
    r = one(rows, "chat_structure")
    ev = dict(zip(r.reason.tolist(), r.evidence_or_empty().tolist(), strict=True))
    call = rows["messages"].iloc[6][1]["content"]  # the tool call as the loader wrote it (JSON)
    assert ev == {**{code: "" for _, code in STRUCTURE_CASES}, "tool_call_invalid_json": "{not json",
                  "tool_call_unanswered": call, "tool_result_orphan": "r"}
    for i, e in enumerate(r.evidence_or_empty()):
        assert not e or locate(rows["messages"].iloc[i], e)
    long_call = {"role": "assistant", "content": "{" + "x" * 500, "tool_call": True}
    rows = rows_of(write_jsonl, "l.jsonl", [{"messages": [msg("user", "q"), long_call, msg("tool", "r"),
                                                          msg("assistant", "a")]}])
    assert one(rows, "chat_structure").evidence_or_empty().tolist() == ["{" + "x" * 199]


def test_chat_structure_first_problem_wins_and_details(write_jsonl):
    rows = rows_of(write_jsonl, "m.jsonl", [{"messages": [msg("user", ""), msg("user", "q")]}])
    r = one(rows, "chat_structure")
    assert r.reason[0] == "empty_turn"
    assert r.summary["details"]["0"] == ["0:empty_turn", "1:consecutive_same_role", "1:no_assistant_turn"]
    assert r.summary["problems"] == {"consecutive_same_role": 1, "empty_turn": 1, "no_assistant_turn": 1}


def test_chat_structure_skips_sft_and_checks_preference_prompt(write_jsonl):
    sft = rows_of(write_jsonl, "s.jsonl", [{"instruction": "q", "output": ""}])
    assert one(sft, "chat_structure").rows_flagged == 0
    pref = rows_of(write_jsonl, "p.jsonl", [
        {"prompt": [msg("user", "q"), msg("user", "q")], "chosen": "a", "rejected": "b"},
        {"prompt": "q", "chosen": "a", "rejected": "b"}])
    assert flagged(pref, one(pref, "chat_structure")) == {0: "consecutive_same_role"}


def test_chat_structure_flags_empty_sharegpt_conversations(write_jsonl):
    """`conversations: []` loads (not a load error) and is a finding with score 1.0."""
    conv = [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]
    rows = rows_of(write_jsonl, "sg.jsonl", [{"conversations": conv}, {"conversations": []}, {"conversations": []}])
    r = one(rows, "chat_structure")
    assert flagged(rows, r) == {1: "empty_conversation", 2: "empty_conversation"}
    assert r.score.tolist() == [0.0, 1.0, 1.0] and r.summary["problems"] == {"empty_conversation": 2}


def test_prompt_rows_are_not_judged_as_conversations_or_empty_answers(write_jsonl):
    """MT-Bench questions (user turns only, no answer by design) are neither `consecutive_same_role` nor
    `no_assistant_turn`, nor `empty_response` for the length check."""
    rows = rows_of(write_jsonl, "q.jsonl", [{"question_id": 1, "turns": ["Write a poem.", "Now shorter."]},
                                            {"question_id": 2, "turns": ["2 + 2?"]}])
    assert rows["kind"].tolist() == ["prompt", "prompt"]
    assert one(rows, "chat_structure").rows_flagged == 0
    assert one(rows, "length").rows_flagged == 0


@pytest.mark.parametrize("rel", ["fastchat/mt_bench/question.jsonl", "fastchat/vicuna_bench/question.jsonl"])
def test_structure_and_length_pass_real_benchmark_questions(rel):
    rows = shared_rows(rel)
    assert set(rows["kind"]) == {"prompt"}
    assert one(rows, "chat_structure").rows_flagged == 0 and one(rows, "length").rows_flagged == 0


def test_chat_structure_sample_flags_only_planted_empty_turns(sample):
    r = one(sample, "chat_structure")
    assert flagged(sample, r) == {d["row_id"]: "empty_turn" for d in DEFECTS["empty_assistant_turn"]}


@pytest.mark.parametrize("rel", ["llamafactory_demo/glaive_toolcall_en_demo.json",
                                 "fastchat/dummy_conversation.json"])
def test_chat_structure_clean_real_conversations(rel):
    assert one(shared_rows(rel), "chat_structure").rows_flagged == 0


# --- truncation ------------------------------------------------------------------------------------------------

LONG = "This answer explains the idea in several words before it"


@pytest.mark.parametrize(("response", "code"), [
    (LONG + " stops in the midd", "mid_sentence"),
    (LONG + " ends on a comma,", "mid_sentence"),
    ("Steps:\n- Boil the water first.\n- Add the pasta now.\n- **Drain", "mid_sentence"),
    ("Here is the code:\n```python\nprint('hi')\n", "open_code_fence"),
    ("word " * 102 + "an", "round_length"),  # 512 characters, cut on a word
])
def test_truncation_reasons(write_jsonl, response, code):
    rows = rows_of(write_jsonl, "t.jsonl", [{"instruction": "q", "output": response}])
    if code == "round_length":
        assert len(response) == 512
    r = one(rows, "truncation")
    assert r.reason[0] == code
    ev = r.evidence_or_empty()[0]  # the end of the response, where it was cut
    assert 20 <= len(ev) <= 40 and response.rstrip().endswith(ev) and locate(rows["messages"].iloc[0], ev)


def test_truncation_evidence_starts_at_a_word():
    assert tail(LONG + " stops in the midd") == "words before it stops in the midd"
    assert tail("short and cut off,  \n") == "short and cut off,"
    assert tail("x" * 60) == "x" * 40  # no space to start at: the last 40 characters


@pytest.mark.parametrize("response", [
    LONG + " ends cleanly.",
    "Natalia sold 48 clips in April and half as many in May.\n#### 72",
    "Shopping list for the whole week ahead:\n- apples\n- bananas\n- bread",
    "Here is the code:\n```python\nprint('hi')\n```",
    "def square(a):\n    return a**2",
    LONG + " ends with an emoji 🎉",
    "Positive",
    "",
    LONG + ' (and a closing quote)"',
])
def test_truncation_not_flagged(write_jsonl, response):
    rows = rows_of(write_jsonl, "t.jsonl", [{"instruction": "q", "output": response}])
    assert one(rows, "truncation").rows_flagged == 0


def test_truncation_sample(sample):
    r = one(sample, "truncation")
    assert flagged(sample, r) == {d["row_id"]: "mid_sentence" for d in DEFECTS["truncated_response"]}
    for i in np.flatnonzero(r.is_issue):
        assert sample["response"].iloc[i].rstrip().endswith(r.evidence_or_empty()[i])


# --- preference ------------------------------------------------------------------------------------------------

def test_preference_every_reason(write_jsonl):
    near_a = " ".join(f"w{i}" for i in range(17))
    near_b = near_a + " w17"
    rows = rows_of(write_jsonl, "p.jsonl", [
        {"prompt": "p1", "chosen": "Same  answer.", "rejected": "Same answer. "},
        {"prompt": "p2", "chosen": near_a, "rejected": near_b},
        {"prompt": "p3", "chosen": "A is right.", "rejected": "B is wrong."},
        {"prompt": "p3 ", "chosen": "B is wrong.", "rejected": "A is right."},
        {"prompt": "p4", "chosen": "A is right.", "rejected": "B is wrong."},
    ])
    r = one(rows, "preference")
    assert flagged(rows, r) == {0: "chosen_equals_rejected", 1: "chosen_near_rejected", 2: "contradicting_pair",
                                3: "contradicting_pair"}
    assert r.group_id.tolist() == [-1, -1, 0, 0, -1]
    assert r.summary["contradicting_prompts"] == 1


def test_preference_ignores_other_kinds(write_jsonl):
    rows = rows_of(write_jsonl, "s.jsonl", [{"instruction": "q", "output": "a"}, {"instruction": "q", "output": "a"}])
    r = one(rows, "preference")
    assert r.rows_flagged == 0 and r.summary["preference_rows"] == 0


def test_preference_sample(sample):
    r = one(sample, "preference")
    assert flagged(sample, r) == {d["row_id"]: "chosen_equals_rejected" for d in DEFECTS["chosen_equals_rejected"]}


def test_preference_dpo_demo_length_bias():
    path = SHARED / "llamafactory_demo/dpo_en_demo.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    rows = load(path).rows
    r = one(rows, "preference")
    raw = json.loads(Path(path).read_text())

    def text(v):
        return v if isinstance(v, str) else v["value"] if isinstance(v, dict) else "\n\n".join(
            f"{t['role']}: {t['content']}" for t in v)

    longer = sum(len(text(x["chosen"])) > len(text(x["rejected"])) for x in raw) / len(raw)
    bias = r.summary["length_bias"]
    assert bias["share_chosen_longer"] == pytest.approx(longer)
    assert sum(bias["log2_ratio_counts"]) == len(raw)
    assert "chosen_equals_rejected" not in r.reasons()
    json.dumps(r.summary, allow_nan=False)


def test_first_turn_scope_finds_the_templated_openings_of_dummy_conversation() -> None:
    """FastChat's dummy conversations: 52 distinct first user turns in 500 rows (PROVENANCE.md)."""
    path = SHARED / "fastchat" / "dummy_conversation.json"
    if not path.is_file():
        pytest.skip("shared datasets not found")
    rows = load(path).rows
    result = run_checks(rows, ["exact_duplicate"], params={"exact_duplicate": {"scope": "first_turn",
                                                                               "case_sensitive": True}})
    r = result["exact_duplicate"]
    assert r.summary["rows_removable"] == 500 - 52
    assert len(rows) - r.rows_flagged == 52
