"""Every real file in ../shared/datasets loads with the kind and row count its PROVENANCE.md states.

The PROVENANCE files are the ground truth (rows, fields, known facts); these tests only read the shared
folder and skip when it is absent. Copies for folder/glob tests go to tmp_path, never into the repo.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED

from analysis.explore.stats import row_stats, summary
from analysis.io import CANONICAL_COLUMNS, Dataset, LoadOptions, load, parse_mapping
from analysis.space.embedders import keyword_texts, scope_texts

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared datasets not found at {SHARED}")

ALPACA = {"instruction", "input", "output"}
REF_ANSWER = {"question_id", "answer_id", "model_id", "choices", "tstamp"}
SICK = {"col_0", "col_1", "col_2", "col_3", "col_4"}
STSB = {f"col_{i}" for i in range(9)}  # genre, file, year, id, score, sentence1, sentence2 (+ 2 trailing on a few)
TRUTHFULQA = {"Type", "Category", "Question", "Best Answer", "Correct Answers", "Incorrect Answers", "Source"}

# (file under shared/datasets, format, kind, rows, fields) -- rows and fields from each PROVENANCE.md
EXPECTED = [
    ("codealpaca/code_alpaca_2k.json", "json", "sft", 2017, ALPACA),
    ("codealpaca/new_codealpaca.json.gz", "json", "sft", 4535, ALPACA | {"response"}),
    ("codealpaca/seed_tasks.jsonl", "jsonl", "table", 21, {"id", "name", "instruction", "instances",
                                                           "is_classification"}),
    ("fastchat/dummy_conversation.json", "json", "chat", 500, {"id", "conversations"}),
    ("fastchat/judge_prompts.jsonl", "jsonl", "table", 8, {"name", "type", "system_prompt", "prompt_template",
                                                           "description", "category", "output_format"}),
    ("fastchat/mt_bench/question.jsonl", "jsonl", "prompt", 80, {"question_id", "category", "turns", "reference"}),
    ("fastchat/mt_bench/reference_answer_gpt-4.jsonl", "jsonl", "table", 30, REF_ANSWER),
    ("fastchat/vicuna_bench/question.jsonl", "jsonl", "prompt", 80, {"question_id", "category", "turns"}),
    ("fastchat/vicuna_bench/reference_answer_gpt-4.jsonl", "jsonl", "table", 10, REF_ANSWER),
    ("gsm8k/train.jsonl", "jsonl", "sft", 7473, {"question", "answer"}),
    ("gsm8k/test.jsonl", "jsonl", "sft", 1319, {"question", "answer"}),
    ("gsm8k/test_socratic.jsonl", "jsonl", "sft", 1319, {"question", "answer"}),
    ("gsm8k/example_model_solutions.jsonl", "jsonl", "table", 1319,
     {"question", "ground_truth", "6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"}),
    ("hh_rlhf_harmless_test/harmless-base_test.jsonl.gz", "jsonl", "preference", 2312, {"chosen", "rejected"}),
    ("hh_rlhf_harmless_test/harmless-base_test.prompt_chosen_rejected.jsonl.gz", "jsonl", "preference", 2308,
     {"row", "prompt", "chosen", "rejected"}),
    ("llamafactory_demo/alpaca_en_demo.json", "json", "sft", 999, ALPACA),
    ("llamafactory_demo/c4_demo.jsonl", "jsonl", "text", 300, {"text"}),
    ("llamafactory_demo/dpo_en_demo.json", "json", "preference", 300, {"conversations", "chosen", "rejected"}),
    ("llamafactory_demo/glaive_toolcall_en_demo.json", "json", "chat", 300, {"conversations", "tools"}),
    ("llamafactory_demo/identity.json", "json", "sft", 91, ALPACA),
    ("llamafactory_demo/kto_en_demo.json", "json", "scored", 300, {"messages", "label"}),
    ("llamafactory_demo/v1_sft_demo.jsonl", "jsonl", "chat", 500, {"messages"}),
    ("llamafactory_demo/v1_dpo_demo.jsonl", "jsonl", "preference", 10, {"chosen_messages", "rejected_messages"}),
    ("sick/SICK_train.txt", "tsv", "table", 4500, SICK),
    ("sick/SICK_trial.txt", "tsv", "table", 500, SICK),
    ("sick/SICK_test_annotated.txt", "tsv", "table", 4927, SICK),
    ("truthfulqa/TruthfulQA.csv", "csv", "table", 817, TRUTHFULQA),
    ("stsb/sts-dev.csv", "tsv", "table", 1250, STSB),  # tab-separated despite the name: sniffed from content
    ("stsb/sts-test.csv", "tsv", "table", 1129, STSB),
]
NOT_DATA = {"llamafactory_demo/dataset_info.json", "stsb/LICENSE.txt"}


@cache
def _load(rel: str, mapping: str | None = None) -> Dataset:
    """Each shared file is parsed once per test session (the tests only read the result)."""
    return load(SHARED / rel, LoadOptions(mapping=parse_mapping(mapping) if mapping else None))


def _rows(rel: str):  # noqa: ANN202 - a DataFrame
    return _load(rel).rows


def test_every_data_file_is_listed() -> None:
    """A new file in the shared folder must get its expected kind and count here."""
    data = {str(p.relative_to(SHARED)) for p in SHARED.rglob("*") if p.is_file() and p.suffix != ".md"}
    listed = {e[0] for e in EXPECTED} | NOT_DATA
    assert data == listed


@pytest.mark.parametrize(("rel", "fmt", "kind", "rows", "fields"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_shared_file_kind_rows_fields(rel: str, fmt: str, kind: str, rows: int, fields: set[str]) -> None:
    ds = _load(rel)
    assert (ds.info.format, ds.info.kind, len(ds), ds.info.rows) == (fmt, kind, rows, rows)
    assert set(ds.info.fields) == fields
    assert ds.info.skipped == []
    assert list(ds.rows.columns) == CANONICAL_COLUMNS
    assert ds.rows["row_id"].tolist() == list(range(rows))
    assert set(ds.rows["kind"]) == {kind}
    if kind != "table":
        assert all(len(m) >= 1 for m in ds.rows["messages"])


def test_benchmark_questions_are_user_turns() -> None:
    """PROVENANCE.md: MT-Bench has 80 two-turn questions (8 categories x 10, 39 with a `reference`), Vicuna-Bench
    80 single-turn ones; each string of `turns` is a user turn, and no row has a response."""
    mt, vicuna = _rows("fastchat/mt_bench/question.jsonl"), _rows("fastchat/vicuna_bench/question.jsonl")
    assert [len(m) for m in mt["messages"]] == [2] * 80 and [len(m) for m in vicuna["messages"]] == [1] * 80
    assert {t["role"] for m in pd.concat([mt["messages"], vicuna["messages"]]) for t in m} == {"user"}
    assert set(mt["response"]) == set(vicuna["response"]) == {""}
    first = json.loads(mt["source"][0])
    assert [t["content"] for t in mt["messages"][0]] == first["turns"]
    assert mt["prompt"][0] == f"user: {first['turns'][0]}\n\nuser: {first['turns'][1]}"
    assert sum("reference" in json.loads(s) for s in mt["source"]) == 39
    assert Counter(json.loads(s)["category"] for s in mt["source"]) == dict.fromkeys(
        {json.loads(s)["category"] for s in mt["source"]}, 10)
    assert vicuna["prompt"][0] == json.loads(vicuna["source"][0])["turns"][0]
    assert summary(mt, row_stats(mt), {})["empty_response"] == 0  # no answer by design is not an empty answer
    # as a coverage reference, every question has its own text to embed and to label topics with
    for scope in ("prompt", "both"):
        texts = scope_texts(mt, scope)
        assert all(t.strip() for t in texts) and len(set(texts)) == 80
    assert all(t.strip() for t in keyword_texts(mt, "both"))


def test_dataset_info_is_a_keyed_object_not_a_row_list() -> None:
    ds = _load("llamafactory_demo/dataset_info.json")
    assert (ds.info.kind, len(ds)) == ("table", 104)
    assert ds.info.fields["key"] == 104
    assert json.loads(ds.rows["source"][0])["key"] == "identity"


def test_jsonl_source_is_the_exact_line() -> None:
    lines = (SHARED / "gsm8k/test.jsonl").read_text(encoding="utf-8").splitlines()
    ds = _load("gsm8k/test.jsonl")
    assert ds.rows["source"].tolist() == lines
    assert ds.rows["source_line"].tolist() == list(range(1, 1320))


def test_gsm8k_questions_and_answers() -> None:
    test, socratic, train = _rows("gsm8k/test.jsonl"), _rows("gsm8k/test_socratic.jsonl"), _rows("gsm8k/train.jsonl")
    first = json.loads(test["source"][0])
    assert (test["prompt"][0], test["response"][0]) == (first["question"], first["answer"])
    assert test["messages"][0] == [{"role": "user", "content": first["question"], "tool_call": False},
                                   {"role": "assistant", "content": first["answer"], "tool_call": False}]
    # test_socratic repeats every test question in the same order; the answers all differ.
    assert (test["prompt"].to_numpy() == socratic["prompt"].to_numpy()).all()
    assert (test["response"].to_numpy() != socratic["response"].to_numpy()).all()
    assert not set(train["prompt"]) & set(test["prompt"])
    assert test["prompt"].nunique() == 1319 and train["prompt"].nunique() == 7473
    assert all(r.rsplit("\n", 1)[-1].startswith("#### ") for r in test["response"])


def test_hh_transcripts_split_into_turns() -> None:
    rows = _rows("hh_rlhf_harmless_test/harmless-base_test.jsonl.gz")
    human_turns = Counter(sum(t["role"] == "user" for t in m) for m in rows["messages"])
    assert (human_turns[1], human_turns[2], human_turns[3], human_turns[4]) == (662, 584, 590, 354)
    assert sum(v for k, v in human_turns.items() if k >= 5) == 2312 - 662 - 584 - 590 - 354
    assert all(m[0]["role"] == "user" and m[-1]["role"] == "assistant" for m in rows["messages"])
    assert (rows["chosen"] != rows["rejected"]).all()
    assert (rows["response"] == rows["chosen"]).all()
    first = rows.iloc[0]
    assert first["prompt"].startswith("user: what are some pranks with a pen i can do?\n\nassistant: ")
    assert first["chosen"].startswith("No, sorry!  All of these involve a pen")
    assert first["rejected"].startswith("There are lots of funny things you can do with pens")


def test_hh_derived_file_reads_like_the_transcripts() -> None:
    """prompt/chosen/rejected with an HH prompt gives the same canonical rows as the full transcripts."""
    full = _rows("hh_rlhf_harmless_test/harmless-base_test.jsonl.gz").set_index("row_id")
    derived = _rows("hh_rlhf_harmless_test/harmless-base_test.prompt_chosen_rejected.jsonl.gz")
    same = full.loc[[json.loads(s)["row"] for s in derived["source"]]]
    assert (same["prompt"].to_numpy() == derived["prompt"].to_numpy()).all()
    assert (same["chosen"].to_numpy() == derived["chosen"].to_numpy()).all()
    assert list(same["messages"]) == list(derived["messages"])
    # One rejected answer itself contains "\n\nAssistant:": the transcript reading splits it into two turns.
    assert int((same["rejected"].to_numpy() != derived["rejected"].to_numpy()).sum()) == 1


def test_dpo_demo_contexts_and_pairs() -> None:
    rows = _rows("llamafactory_demo/dpo_en_demo.json")
    assert (rows["chosen"] != rows["rejected"]).all()
    context_turns = [len(m) - 1 for m in rows["messages"]]
    assert min(context_turns) == 1 and max(context_turns) == 13
    first = json.loads(rows["source"][0])
    assert rows["chosen"][0] == first["chosen"]["value"]
    assert rows["rejected"][0] == first["rejected"]["value"]
    assert rows["prompt"][0] == first["conversations"][0]["value"]


def test_glaive_toolcall_roles() -> None:
    rows = _rows("llamafactory_demo/glaive_toolcall_en_demo.json")
    source_roles = Counter(t["from"] for s in rows["source"] for t in json.loads(s)["conversations"])
    assert source_roles == {"human": 746, "gpt": 746, "function_call": 211, "observation": 211}
    turns = Counter((t["role"], t["tool_call"]) for m in rows["messages"] for t in m)
    assert turns == {("user", False): 746, ("assistant", False): 746, ("assistant", True): 211,
                     ("tool", False): 211}
    assert rows["tools"].notna().all()
    assert rows["tools"][0] == json.loads(rows["source"][0])["tools"]


def test_identity_placeholders() -> None:
    rows = _rows("llamafactory_demo/identity.json")
    assert int(rows["response"].str.contains("{{", regex=False).sum()) == 85


def test_kto_labels_become_scores() -> None:
    rows = _rows("llamafactory_demo/kto_en_demo.json")
    assert rows["score"].value_counts().to_dict() == {1.0: 150, 0.0: 150}
    labels = [json.loads(s)["label"] for s in rows["source"]]
    assert rows["score"].tolist() == [1.0 if v else 0.0 for v in labels]


def test_v1_typed_content_and_identity_overlap() -> None:
    v1 = _rows("llamafactory_demo/v1_sft_demo.jsonl")
    assert all(isinstance(t["content"], str) for m in v1["messages"] for t in m)
    assert v1["messages"][0][:2] == [
        {"role": "user", "content": "hi", "tool_call": False},
        {"role": "assistant", "content": "Hello! I am {{name}}, an AI assistant developed by {{author}}. "
                                         "How can I assist you today?", "tool_call": False}]
    identity = set(_rows("llamafactory_demo/identity.json")["prompt"])
    assert sum(m[0]["content"] in identity for m in v1["messages"]) == 50


def test_v1_dpo_shared_prefix_is_the_prompt() -> None:
    rows = _rows("llamafactory_demo/v1_dpo_demo.jsonl")
    assert rows["prompt"][0].startswith("system: You are an AI assistant.")
    assert rows["chosen"][0].startswith("Abdulah Hasanagic is the proud owner of AS Company in Gorazde")
    assert rows["rejected"][0].startswith(" Abdulah Hasanagic is the proud owner of AS Company, a small town")
    assert (rows["chosen"] != rows["rejected"]).all()


def test_alpaca_and_codealpaca_facts() -> None:
    alpaca = _rows("llamafactory_demo/alpaca_en_demo.json")
    instructions = [json.loads(s)["instruction"] for s in alpaca["source"]]
    assert len(instructions) - len(set(instructions)) == 14
    code = _rows("codealpaca/code_alpaca_2k.json")
    assert len({json.loads(s)["instruction"] for s in code["source"]}) == 2017
    new = [json.loads(s) for s in _rows("codealpaca/new_codealpaca.json.gz")["source"]]
    assert all(r["output"] == r["response"] for r in new)
    # Alpaca input, when present, is appended to the instruction in the prompt.
    rec = next(json.loads(s) for s in code["source"] if json.loads(s)["input"].strip())
    row = code[code["source"] == json.dumps(rec, ensure_ascii=False)].iloc[0]
    assert row["prompt"] == f"{rec['instruction']}\n\n{rec['input']}"


def test_fastchat_dummy_conversations() -> None:
    rows = _rows("fastchat/dummy_conversation.json")
    first = [m[0]["content"] for m in rows["messages"]]
    assert len(set(first)) == 52
    assert Counter(first)["What is up?"] == 167
    assert Counter(len(m) for m in rows["messages"]) == {2: 167, 4: 166, 6: 167}
    assert _load("fastchat/mt_bench/question.jsonl").info.fields["reference"] == 39


@pytest.mark.parametrize(("name", "rows", "first"), [("SICK_train.txt", 4500, "1"), ("SICK_trial.txt", 500, "4"),
                                                     ("SICK_test_annotated.txt", 4927, "6")])
def test_sick_has_no_header_and_maps_to_sft(name: str, rows: int, first: str) -> None:
    ds = _load(f"sick/{name}")
    assert ds.info.fields == {f"col_{i}": rows for i in range(5)}
    assert json.loads(ds.rows["source"][0])["col_0"] == first  # the first line is data, not a header
    assert ds.rows["source_line"].tolist() == list(range(1, rows + 1))
    mapped = _load(f"sick/{name}", "prompt=col_1,response=col_2")
    assert (mapped.info.kind, len(mapped)) == ("sft", rows)
    src = json.loads(mapped.rows["source"][0])
    assert (mapped.rows["prompt"][0], mapped.rows["response"][0]) == (src["col_1"], src["col_2"])


def test_truthfulqa_header_detected_and_mapped() -> None:
    ds = _load("truthfulqa/TruthfulQA.csv")
    src = [json.loads(s) for s in ds.rows["source"]]
    assert len({r["Category"] for r in src}) == 38
    assert Counter(r["Type"] for r in src) == {"Adversarial": 437, "Non-Adversarial": 380}
    mapped = _load("truthfulqa/TruthfulQA.csv", "prompt=Question,response=Best Answer")
    assert (mapped.info.kind, len(mapped)) == ("sft", 817)
    assert mapped.rows["prompt"][0] == "What happens to you if you eat watermelon seeds?"
    assert mapped.rows["response"][0] == "The watermelon seeds pass through your digestive system"
    assert mapped.rows["prompt"].tolist() == [r["Question"] for r in src]


def test_folder_gives_one_dataset_with_source_file_per_row(tmp_path: Path) -> None:
    names = ["llamafactory_demo/identity.json", "llamafactory_demo/v1_dpo_demo.jsonl", "codealpaca/seed_tasks.jsonl"]
    for rel in names:
        (tmp_path / "data" / Path(rel).parent).mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED / rel, tmp_path / "data" / rel)
    (tmp_path / "data" / "NOTES.md").write_text("not data")
    ds = load(tmp_path / "data")
    assert len(ds) == 91 + 10 + 21
    assert ds.rows["row_id"].tolist() == list(range(len(ds)))
    # files in sorted order, each row naming its file relative to the folder
    assert Counter(ds.rows["source_file"]) == {"codealpaca/seed_tasks.jsonl": 21,
                                               "llamafactory_demo/identity.json": 91,
                                               "llamafactory_demo/v1_dpo_demo.jsonl": 10}
    assert ds.rows["source_file"].iloc[0] == "codealpaca/seed_tasks.jsonl"
    assert ds.info.kind == "mixed"
    assert [f.kind for f in ds.info.files] == ["table", "sft", "preference"]
    assert ds.rows.groupby("source_file")["source_index"].min().eq(0).all()


def test_glob_over_shared_files() -> None:
    ds = load(str(SHARED / "gsm8k" / "test*.jsonl"))
    assert len(ds) == 2 * 1319
    assert ds.rows["row_id"].tolist() == list(range(2 * 1319))
    assert ds.rows["row_id"].is_unique
    assert Counter(ds.rows["source_file"]) == {"test.jsonl": 1319, "test_socratic.jsonl": 1319}
    assert ds.info.kind == "sft"


def test_glob_across_folders_names_files_apart() -> None:
    ds = load(str(SHARED / "fastchat" / "*" / "question.jsonl"))
    assert Counter(ds.rows["source_file"]) == {"mt_bench/question.jsonl": 80, "vicuna_bench/question.jsonl": 80}
    assert ds.rows["row_id"].tolist() == list(range(160))


@pytest.mark.parametrize(("name", "rows", "ragged", "high", "low"), [("sts-dev.csv", 1250, 22, 202, 621),
                                                                     ("sts-test.csv", 1129, 284, 290, 501)])
def test_stsb_tab_separated_without_quoting(name: str, rows: int, ragged: int, high: int, low: int) -> None:
    """STS-B: TSV named .csv, literal quotes in sentences, a few lines with 2 extra trailing fields (PROVENANCE.md)."""
    ds = _load(f"stsb/{name}")
    lines = (SHARED / "stsb" / name).read_text(encoding="utf-8").split("\n")[:-1]
    assert ds.rows["source_line"].tolist() == list(range(1, rows + 1))  # one row per line: no quote merged rows
    src = [json.loads(s) for s in ds.rows["source"]]
    assert [[r[f"col_{i}"] for i in range(len(r))] for r in src] == [ln.split("\t") for ln in lines]
    assert sum('"' in r["col_5"] + r["col_6"] for r in src) > 0  # literal quotes kept as text
    assert ds.info.fields["col_7"] == ds.info.fields["col_8"] == ragged
    first = ", ".join(str(i + 1) for i, ln in enumerate(lines) if ln.count("\t") > 6)
    assert ds.info.notices == [f"{SHARED / 'stsb' / name}: {ragged} rows have more fields than the 7 of the first "
                               f"row; their extra trailing fields are kept as col_7, col_8 (lines "
                               f"{', '.join(first.split(', ')[:5])}, ...)"]
    scores = [float(r["col_4"]) for r in src]
    assert (sum(s >= 4 for s in scores), sum(s <= 2 for s in scores)) == (high, low)
    assert Counter(r["col_1"] for r in src).keys() >= {"MSRvid", "images", "headlines"}
    assert "MSRpar" not in {r["col_1"] for r in src}
    mapped = _load(f"stsb/{name}", "prompt=col_5,response=col_6,score=col_4")
    assert (mapped.info.kind, len(mapped)) == ("scored", rows)
    assert mapped.rows["score"].tolist() == scores


def test_stsb_with_quoting_forced_merges_rows_which_is_why_it_is_off() -> None:
    """Quote processing on (the old behaviour) misreads the file; off by default for TSV."""
    ds = load(SHARED / "stsb" / "sts-dev.csv", LoadOptions(quoting=True, skip_bad_lines=True))
    assert len(ds) + len(ds.info.skipped) < 1250
