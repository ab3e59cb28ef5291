"""contamination: reason codes, short-item fallback, evidence spans, the cache key, real GSM8K / MT-Bench data, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from analysis.checks import CheckContext, run_checks
from analysis.checks.contamination import NEEDS, Contamination, words
from analysis.cli import main
from analysis.io import load
from analysis.util.spans import locate

GSM8K = SHARED / "gsm8k"
MT_BENCH = SHARED / "fastchat" / "mt_bench" / "question.jsonl"
QUESTION = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
            "How many clips did Natalia sell altogether in April and May?")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    return path


def contam(rows, *benchmarks, ws_dir=None, **params):
    params = {"benchmarks": [str(b) for b in benchmarks], **params}
    return run_checks(rows, ["contamination"], ws_dir=ws_dir, params={"contamination": params})["contamination"]


def flagged(rows, result):
    return {int(rows["row_id"].iloc[i]): str(result.reason[i]) for i in np.flatnonzero(result.is_issue)}


def sft(prompt: str, response: str = "ok") -> dict:
    return {"instruction": prompt, "output": response}


# --- mechanics -------------------------------------------------------------------------------------------------

def test_words_normalisation():
    assert words("Janet’s  DUCKS lay 16-3-4 eggs, $2!") == ["janet", "s", "ducks", "lay", "16", "3", "4", "eggs", "2"]
    assert words("ｆｕｌｌ width") == ["full", "width"]  # NFKC


def test_every_reason_code_and_evidence(write_jsonl):
    bench_a = write_jsonl("math.jsonl", [{"question": QUESTION, "answer": "72"},
                                         {"question": "What is the capital city of France?", "answer": "Paris"}])
    bench_b = write_jsonl("chat.jsonl", [{"question_id": 7, "category": "writing",
                                          "turns": ["Write a haiku about the autumn moon over a quiet lake.",
                                                    "Now rewrite it."]}])
    rows = load(write_jsonl("d.jsonl", [
        sft("Solve: " + QUESTION.upper().replace(",", "") + " Show your work."),  # case/punctuation changed
        sft("Completely unrelated text about cooking pasta with garlic, olive oil and fresh basil leaves."),
        sft("Please write a haiku about the autumn moon over a quiet lake, thanks"),
        sft("Quick one: what is the capital city of France"),  # 7 words < ngram 8: must appear whole
        sft("What is the capital of France?"),  # not the whole short item
        sft("Natalia sold clips to 48 of her friends in April."),  # 10 of ~27 words: below min_overlap
    ])).rows
    r = contam(rows, bench_a, bench_b)
    assert flagged(rows, r) == {0: "benchmark_overlap:math.jsonl", 2: "benchmark_overlap:chat.jsonl",
                                3: "benchmark_overlap:math.jsonl"}
    assert r.score[0] == 1.0 and r.score[3] == 1.0 and r.score[5] == 3 / 24 and r.score[1] == 0
    assert r.summary["reasons"] == {"benchmark_overlap:math.jsonl": 2, "benchmark_overlap:chat.jsonl": 1}
    ev = {e["row_id"]: e for e in r.summary["evidence"]}
    assert ev[0]["span"] == " ".join(words(QUESTION)) and ev[0]["benchmark_row_id"] == 0
    assert ev[0]["benchmark"] == "math.jsonl" and ev[0]["overlap"] == 1.0
    assert ev[2]["span"] == "write a haiku about the autumn moon over a quiet lake" and ev[2]["benchmark_row_id"] == 0
    assert ev[3]["span"] == "what is the capital city of france" and ev[3]["benchmark_row_id"] == 1
    assert ev[0]["benchmark_text"] == QUESTION and ev[0]["method"] == "ngram"
    # per-row evidence: the span as written in the row, so the Findings page can mark it
    assert r.evidence[0] == QUESTION.upper().replace(",", "").rstrip("?")
    assert r.evidence[2] == "write a haiku about the autumn moon over a quiet lake"
    assert r.evidence[3] == "what is the capital city of France" and r.evidence[1] == ""
    for i in np.flatnonzero(r.is_issue):
        hits = locate(rows["messages"].iloc[i], r.evidence[i])
        assert hits and hits[0].role == "user", i
    # "writing" (1 word < min_words) and "Now rewrite it." (3 words) are not benchmark items
    assert [b["segments"] for b in r.summary["benchmarks"]] == [2, 1]
    assert [b["rows_flagged"] for b in r.summary["benchmarks"]] == [2, 1]
    # a lower bar lets the partial row 5 in; scope response finds nothing (the answers are not in the responses)
    assert 5 in flagged(rows, contam(rows, bench_a, min_overlap=0.1))  # 3 of its 24 8-grams
    assert contam(rows, bench_a, scope="response").rows_flagged == 0


def test_needs_benchmarks_and_bad_params():
    assert Contamination.missing_inputs(None, None) == NEEDS
    with pytest.raises(ValueError, match="needs --benchmark FILE"):
        Contamination().run(None)
    with pytest.raises(ValueError, match="scope"):
        Contamination.Params(benchmarks=("x",), scope="title")
    with pytest.raises(ValueError, match="min_overlap"):
        Contamination.Params(min_overlap=0)
    assert Contamination.Params(benchmarks=["a.jsonl"]).benchmarks == ("a.jsonl",)  # lists from JSON / the CLI


def test_changed_benchmark_invalidates_cache(write_jsonl, tmp_path):
    rows = load(write_jsonl("d.jsonl", [sft(QUESTION), sft("something else entirely, nothing to see here")])).rows
    bench = write_jsonl("bench.jsonl", [{"question": "An unrelated question about trains leaving two stations "
                                                     "at different speeds", "answer": "3"}])
    ws = tmp_path / "ws"
    first = contam(rows, bench, ws_dir=ws)
    assert first.rows_flagged == 0 and "seconds" in first.summary
    again = contam(rows, bench, ws_dir=ws)
    assert again.summary["seconds"] == first.summary["seconds"]  # served from the cache
    write_jsonl("bench.jsonl", [{"question": QUESTION, "answer": "72"}])  # same path, new content
    changed = contam(rows, bench, ws_dir=ws)
    assert changed.rows_flagged == 1 and changed.reason[0] == "benchmark_overlap:bench.jsonl"
    assert changed.params["benchmark_sha256"][str(bench)] != first.params["benchmark_sha256"][str(bench)]
    assert changed.summary["benchmarks"][0]["sha256"] == changed.params["benchmark_sha256"][str(bench)]


# --- real data ---------------------------------------------------------------------------------------------------

def test_gsm8k_socratic_against_test():
    rows = load(need(GSM8K / "test_socratic.jsonl")).rows
    r = contam(rows, need(GSM8K / "test.jsonl"))
    assert len(rows) == 1319 and r.rows_flagged >= 1300  # measured: 1,319 of 1,319
    assert set(r.reasons()) == {"benchmark_overlap:test.jsonl"}
    ev = r.summary["evidence"]
    assert len(ev) == 1319 and sum(e["benchmark_row_id"] == e["row_id"] for e in ev) >= 1300  # same order
    found = sum(bool(locate(rows["messages"].iloc[i], r.evidence[i])) for i in np.flatnonzero(r.is_issue))
    assert found == r.rows_flagged  # every row's span is found verbatim in its turns


def test_gsm8k_train_against_test():
    rows = load(need(GSM8K / "train.jsonl")).rows
    r = contam(rows, need(GSM8K / "test.jsonl"))
    assert r.rows_flagged <= 10  # measured: 2 (rows 1314 and 5162, a templated question like test row 602)


def test_mt_bench_question_pasted_into_chat(write_jsonl):
    bench = need(MT_BENCH)
    question = json.loads(bench.read_text().splitlines()[5])["turns"][0]  # question_id 86, benchmark row 5
    rows = load(write_jsonl("chat.jsonl", [
        {"messages": [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "Hello!"},
                      {"role": "user", "content": f"My teacher gave us this: «{question}» Can you do it?"},
                      {"role": "assistant", "content": "Sure, here it is."}]},
        {"messages": [{"role": "user", "content": "Write a paragraph about a market."},
                      {"role": "assistant", "content": "The market was busy."}]},
    ])).rows
    r = contam(rows, bench)
    assert flagged(rows, r) == {0: "benchmark_overlap:question.jsonl"}
    (ev,) = r.summary["evidence"]
    assert ev["benchmark_row_id"] == 5 and ev["span"] == " ".join(words(question)) and ev["overlap"] == 1.0


# --- CLI ---------------------------------------------------------------------------------------------------------

def test_cli_analyze_with_benchmark_then_findings(write_jsonl, tmp_path, capsys):
    data = write_jsonl("train.jsonl", [sft(QUESTION, "72"), sft(QUESTION, "72"),
                                       sft("Tell me a joke about cats and dogs living together"),
                                       sft("Explain photosynthesis in simple terms for a ten year old child")])
    bench = write_jsonl("eval.jsonl", [{"question": QUESTION, "answer": "72"}])
    ws = tmp_path / "ws"
    code = main(["analyze", str(data), "--workspace", str(ws), "--checks",
                 "exact_duplicate,near_duplicate,contamination", "--benchmark", str(bench), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["checks"] == {"exact_duplicate": 1, "near_duplicate": 1, "contamination": 2}
    assert main(["findings", str(ws), "--json"]) == 0
    found = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    c = found["contamination"]
    assert c["rows_flagged"] == 2 and c["reasons"] == {"benchmark_overlap:eval.jsonl": 2}
    assert c["params"]["benchmarks"] == [str(bench)] and str(bench) in c["params"]["benchmark_sha256"]
    # without --benchmark, naming contamination is a one-line error
    code = main(["analyze", str(data), "--workspace", str(ws), "--checks", "contamination", "--json"])
    _, err = capsys.readouterr()
    assert code == 2 and "needs --benchmark FILE" in err and err.count("\n") == 1


def test_cli_checks_all_runs_contamination_only_with_a_benchmark(write_jsonl, tmp_path, capsys):
    data = write_jsonl("train.jsonl", [sft(QUESTION, "72"), sft("Tell me a joke about cats and dogs living together")])
    bench = write_jsonl("eval.jsonl", [{"question": QUESTION, "answer": "72"}])
    assert main(["analyze", str(data), "--workspace", str(tmp_path / "a"), "--checks", "all", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped_checks"]["contamination"] == NEEDS and "contamination" not in doc["checks"]
    assert main(["analyze", str(data), "--workspace", str(tmp_path / "b"), "--checks", "all",
                 "--benchmark", str(bench), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "contamination" not in doc.get("skipped_checks", {}) and doc["checks"]["contamination"] == 1


# --- paraphrase match (real model) ------------------------------------------------------------------------------

@pytest.mark.slow
def test_paraphrase_match_finds_reworded_gsm8k_questions(real_embedder, write_jsonl, tmp_path):
    test_q = [json.loads(line)["question"] for line in need(GSM8K / "test.jsonl").read_text().splitlines()]
    para = json.loads((Path(__file__).parents[1] / "data" / "gsm8k_test_paraphrases.json").read_text())
    train_q = [json.loads(line)["question"] for line in need(GSM8K / "train.jsonl").read_text().splitlines()][:200]
    rows = load(write_jsonl("d.jsonl", [sft(p["paraphrase"]) for p in para] + [sft(q) for q in train_q]
                            + [sft("Copied: " + test_q[100])])).rows
    ctx = CheckContext(rows, tmp_path / "ws", extras={"embedder": real_embedder})
    bench = tmp_path / "test.jsonl"  # the first 200 test items (every paraphrased one among them): ~10 s to embed
    bench.write_text("".join((GSM8K / "test.jsonl").read_text().splitlines(keepends=True)[:200]))
    bench = str(bench)
    plain = run_checks(rows, ["contamination"], ctx=ctx, params={"contamination": {"benchmarks": [bench]}})
    assert flagged(rows, plain["contamination"]) == {len(rows) - 1: "benchmark_overlap:test.jsonl"}  # n-grams miss them
    r = run_checks(rows, ["contamination"], ctx=ctx,
                   params={"contamination": {"benchmarks": [bench], "paraphrase": 0.88}})["contamination"]
    got = flagged(rows, r)
    # measured (bench/bench_paraphrase.py): 10 of the 11 rewordings reach 0.88, the loosest is 0.843; no train row
    assert got[len(rows) - 1] == "benchmark_overlap:test.jsonl"
    para_rows = {i for i, code in got.items() if code == "benchmark_paraphrase:test.jsonl"}
    assert len(para_rows) == 10 and para_rows <= set(range(len(para)))
    ev = {e["row_id"]: e for e in r.summary["evidence"]}
    for i in para_rows:
        assert ev[i]["method"] == "paraphrase" and ev[i]["benchmark_row_id"] == para[i]["test_row"]
        assert ev[i]["benchmark_text"] == test_q[para[i]["test_row"]] and r.evidence[i] == ""
        assert 0.88 <= r.score[i] <= 1
    assert (tmp_path / "ws" / "benchmarks").is_dir()  # benchmark vectors cached for the next run


def test_paraphrase_params_are_checked():
    with pytest.raises(ValueError, match="paraphrase must be a cosine"):
        Contamination.Params(benchmarks=("x",), paraphrase=1.5)
    with pytest.raises(ValueError, match="embeds scope"):
        Contamination.Params(benchmarks=("x",), paraphrase=0.9, scope="record")
