"""Every container format and every record schema the loader knows, from small synthetic files.

Formats: JSONL, JSON array, `{"data": [...]}`, CSV, TSV with and without header, Parquet, each also gzipped.
Kinds: text, sft, chat, preference, scored, prompt, table (+ mapping), mixed shapes in one file, kind overrides;
every shape in docs/formats.md loads as the kind stated there. Canonical values are
asserted exactly, because every analysis downstream reads only these columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.io import CANONICAL_COLUMNS, LoadError, LoadOptions, load

FORMATS_MD = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def T(role: str, content: str, tool_call: bool = False) -> dict[str, Any]:  # noqa: N802 - reads like a literal
    return {"role": role, "content": content, "tool_call": tool_call}


PAIRS = [{"prompt": "What is 2 + 2?", "response": "It is 4."},
         {"prompt": "Name a colour, please", "response": "Blue, \"sky\" blue; or red,\ttoo"},
         {"prompt": "Say café in Japanese", "response": "カフェ"}]


def _delimited(records: list[dict[str, Any]], delimiter: str, header: bool) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(records[0].keys())
    writer.writerows([list(r.values()) for r in records])
    return buf.getvalue().encode("utf-8")


def _parquet(records: list[dict[str, Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(records), sink)
    return sink.getvalue()


WRITERS: dict[str, tuple[str, Callable[[list[dict[str, Any]]], bytes]]] = {
    "jsonl": (".jsonl", lambda rs: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs).encode()),
    "json_array": (".json", lambda rs: ("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rs)
                                        + "\n]\n").encode()),
    "json_wrapped": (".json", lambda rs: json.dumps({"version": 2, "data": rs}, indent=1).encode()),
    "csv": (".csv", lambda rs: _delimited(rs, ",", True)),
    "tsv_header": (".tsv", lambda rs: _delimited(rs, "\t", True)),
    "parquet": (".parquet", _parquet),
}
FORMAT_OF = {"jsonl": "jsonl", "json_array": "json", "json_wrapped": "json", "csv": "csv", "tsv_header": "tsv",
             "parquet": "parquet"}


def _write(tmp_path: Path, variant: str, records: list[dict[str, Any]], *, gz: bool = False) -> Path:
    suffix, writer = WRITERS[variant]
    data = writer(records)
    path = tmp_path / f"{variant}{suffix}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("variant", list(WRITERS))
def test_every_format_reads_the_same_rows(tmp_path: Path, variant: str, gz: bool) -> None:
    path = _write(tmp_path, variant, PAIRS, gz=gz)
    ds = load(path, LoadOptions(quoting=True) if variant == "tsv_header" else None)  # csv.writer quotes TSV too
    assert list(ds.rows.columns) == CANONICAL_COLUMNS
    assert (ds.info.format, ds.info.kind, len(ds)) == (FORMAT_OF[variant], "sft", 3)
    assert ds.rows["prompt"].tolist() == [r["prompt"] for r in PAIRS]
    assert ds.rows["response"].tolist() == [r["response"] for r in PAIRS]
    assert ds.rows["messages"][1] == [T("user", PAIRS[1]["prompt"]), T("assistant", PAIRS[1]["response"])]
    assert ds.rows["row_id"].tolist() == [0, 1, 2]
    assert ds.rows["source_index"].tolist() == [0, 1, 2]
    assert [json.loads(s) for s in ds.rows["source"]] == PAIRS
    assert ds.rows["source_file"].tolist() == [str(path)] * 3
    expected_lines = {"jsonl": [1, 2, 3], "json_array": [2, 3, 4], "csv": [2, 3, 4], "tsv_header": [2, 3, 4]}
    if variant in expected_lines:
        assert ds.rows["source_line"].tolist() == expected_lines[variant]
    else:  # a wrapped JSON object and Parquet have records, not lines
        assert ds.rows["source_line"].isna().all()


def test_tsv_is_read_without_quote_processing_by_default(tmp_path: Path) -> None:
    """TSV has no quoting: a field opening with `"` is text, so rows never merge; a quoted TSV (csv.writer, pandas)
    reads right with quoting on, and without it is a located error with the hint."""
    path = tmp_path / "quotes.tsv"
    path.write_text('prompt\tresponse\n"Hello\tshe said "hi\n"Bye\tok"\nlast\tone\n')
    ds = load(path)
    assert ds.rows["prompt"].tolist() == ['"Hello', '"Bye', "last"]
    assert ds.rows["response"].tolist() == ['she said "hi', 'ok"', "one"]
    assert ds.info.notices == []
    assert len(load(path, LoadOptions(quoting=True, skip_bad_lines=True))) < 3  # quoting merges the rows
    quoted = _write(tmp_path, "tsv_header", PAIRS)
    with pytest.raises(LoadError) as err:
        load(quoted)
    assert str(err.value).startswith(f"{quoted}, line 3: expected 2 fields, found 3; some fields open with '\"': if "
                                     "the file quotes its fields, load it with quoting on (--quoting yes)")
    assert load(quoted, LoadOptions(quoting=True)).rows["response"].tolist() == [r["response"] for r in PAIRS]
    csv_path = tmp_path / "quotes.csv"
    csv_path.write_text('prompt,response\n"a, b","say ""hi"""\n')
    assert load(csv_path).rows["response"].tolist() == ['say "hi"']  # CSV keeps quoting
    with pytest.raises(LoadError, match="line 2: expected 2 fields, found 3"):
        load(csv_path, LoadOptions(quoting=False))


def test_delimiter_is_sniffed_from_content(tmp_path: Path) -> None:
    tab_csv = tmp_path / "pairs.csv"
    tab_csv.write_text("1\tA man, a plan\t4.5\n2\tTwo dogs run\t3.25\n")
    comma_tsv = tmp_path / "pairs.tsv"
    comma_tsv.write_text("prompt,response\nhi,hello\nbye,ciao\n")
    assert (load(tab_csv).info.format, set(load(tab_csv).info.fields)) == ("tsv", {"col_0", "col_1", "col_2"})
    assert (load(comma_tsv).info.format, load(comma_tsv).info.kind) == ("csv", "sft")


def test_tsv_without_header_is_detected(tmp_path: Path) -> None:
    rows = [{"a": "1", "b": "A man is slicing a tomato on the board", "c": "4.5"},
            {"a": "2", "b": "Two dogs are running across a snowy field", "c": "3.25"}]
    path = tmp_path / "pairs.tsv"
    path.write_bytes(_delimited(rows, "\t", header=False))
    ds = load(path)
    assert ds.info.fields == {"col_0": 2, "col_1": 2, "col_2": 2}
    assert json.loads(ds.rows["source"][0]) == {"col_0": "1", "col_1": rows[0]["b"], "col_2": "4.5"}
    assert ds.rows["source_line"].tolist() == [1, 2]


def test_tsv_header_option_overrides_detection(tmp_path: Path) -> None:
    """Short labels look like a header; `header=False` says they are data (and `True` the reverse)."""
    path = tmp_path / "short.tsv"
    path.write_text("hello\tworld\nfoo\tbar\n")
    assert set(load(path).info.fields) == {"hello", "world"}
    ds = load(path, LoadOptions(header=False))
    assert [json.loads(s) for s in ds.rows["source"]] == [{"col_0": "hello", "col_1": "world"},
                                                          {"col_0": "foo", "col_1": "bar"}]
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("1,2\n3,4\n")
    assert set(load(numeric).info.fields) == {"col_0", "col_1"}
    assert set(load(numeric, LoadOptions(header=True)).info.fields) == {"1", "2"}


def test_txt_is_read_as_tsv_and_format_can_be_forced(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("prompt\tresponse\nsome question\tsome answer\n")
    assert (load(path).info.format, load(path).info.kind) == ("tsv", "sft")
    odd = tmp_path / "records.dat"
    odd.write_text('{"text": "a"}\n{"text": "b"}\n')
    assert (load(odd).info.format, len(load(odd))) == ("jsonl", 2)
    assert load(odd, LoadOptions(format="jsonl")).rows["response"].tolist() == ["a", "b"]


def test_json_lines_saved_as_json_still_load(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text('{"text": "a"}\n{"text": "b"}\n')
    ds = load(path)
    assert ds.rows["response"].tolist() == ["a", "b"]
    assert ds.rows["source"].tolist() == ['{"text": "a"}', '{"text": "b"}']


def test_single_json_object_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"prompt": "p", "response": "r"}))
    ds = load(path)
    assert (ds.info.kind, len(ds), ds.rows["prompt"][0]) == ("sft", 1, "p")


def test_source_is_the_exact_jsonl_line(write_jsonl: Callable[..., Path], tmp_path: Path) -> None:
    lines = ['{"text":  "caf\\u00e9" ,"z": 1}', '{ "z": 2, "text": "naïve\\nline" }', '{"text":"x"}\r']
    path = tmp_path / "exact.jsonl"
    path.write_bytes(("\n".join(lines) + "\n\n").encode("utf-8"))
    ds = load(path)
    assert ds.rows["source"].tolist() == [lines[0], lines[1], '{"text":"x"}']  # only the CR of CRLF goes
    assert ds.rows["response"].tolist() == ["café", "naïve\nline", "x"]
    assert ds.rows["source_line"].tolist() == [1, 2, 3]


def test_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text('\n{"text": "a"}\n\n\n{"text": "b"}\n')
    ds = load(path)
    assert ds.rows["source_line"].tolist() == [2, 5]
    assert ds.rows["row_id"].tolist() == [0, 1]


# ------------------------------------------------------------------------------------------------ kinds

def _one(write_jsonl: Callable[..., Path], record: dict[str, Any], **options: Any) -> dict[str, Any]:
    ds = load(write_jsonl("one.jsonl", [record]), LoadOptions(**options))
    row = ds.rows.iloc[0].to_dict()
    row["_kind"] = ds.info.kind
    return row


def _none(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


@pytest.mark.parametrize("field", ["text", "content"])
def test_text(write_jsonl: Callable[..., Path], field: str) -> None:
    row = _one(write_jsonl, {field: "Plain web text.", "url": "http://x"})
    assert row["_kind"] == "text"
    assert row["messages"] == [T("assistant", "Plain web text.")]
    assert (row["prompt"], row["response"]) == ("", "Plain web text.")
    assert _none(row["chosen"]) and _none(row["rejected"]) and math.isnan(row["score"])


@pytest.mark.parametrize(("record", "prompt", "response"), [
    ({"instruction": "Translate", "input": "bonjour", "output": "hello"}, "Translate\n\nbonjour", "hello"),
    ({"instruction": "Say hi", "input": "", "output": "hi"}, "Say hi", "hi"),
    ({"instruction": "Say hi", "input": "  ", "output": "hi"}, "Say hi", "hi"),
    ({"instruction": "Say hi", "output": "hi"}, "Say hi", "hi"),
    ({"prompt": "p", "response": "r"}, "p", "r"),
    ({"prompt": "p", "completion": "c"}, "p", "c"),
    ({"question": "q", "answer": "a"}, "q", "a"),
    ({"Question": "Q", "Answer": "A"}, "Q", "A"),
    ({"instruction": "Who wrote it?", "context": "Hamlet, by Shakespeare.", "response": "Shakespeare.",
      "category": "closed_qa"}, "Who wrote it?\n\nHamlet, by Shakespeare.", "Shakespeare."),
    ({"instruction": "Say hi", "context": "", "response": "hi"}, "Say hi", "hi"),
    ({"question": "q", "response": "r"}, "q", "r"),
    ({"query": "q", "answer": "a"}, "q", "a"),
], ids=["alpaca_input", "alpaca_empty_input", "alpaca_blank_input", "alpaca_no_input", "prompt_response",
        "prompt_completion", "question_answer", "capitalised", "dolly_context", "dolly_empty_context",
        "question_response", "query_answer"])
def test_sft(write_jsonl: Callable[..., Path], record: dict[str, str], prompt: str, response: str) -> None:
    row = _one(write_jsonl, record)
    assert row["_kind"] == "sft"
    assert row["messages"] == [T("user", prompt), T("assistant", response)]
    assert (row["prompt"], row["response"]) == (prompt, response)


def test_sft_with_system_and_history(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"instruction": "and 3?", "input": "", "output": "9", "system": "Be brief.",
                             "history": [["square of 2?", "4"]]})
    assert row["messages"] == [T("system", "Be brief."), T("user", "square of 2?"), T("assistant", "4"),
                               T("user", "and 3?"), T("assistant", "9")]
    assert row["prompt"] == "system: Be brief.\n\nuser: square of 2?\n\nassistant: 4\n\nuser: and 3?"
    assert row["response"] == "9"


def test_chat_openai_strings(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"},
                                          {"role": "assistant", "content": "hello"},
                                          {"role": "user", "content": "bye"},
                                          {"role": "assistant", "content": "ciao"}]})
    assert row["_kind"] == "chat"
    assert row["messages"] == [T("system", "S"), T("user", "hi"), T("assistant", "hello"), T("user", "bye"),
                               T("assistant", "ciao")]
    assert row["prompt"] == "system: S\n\nuser: hi\n\nassistant: hello\n\nuser: bye"
    assert row["response"] == "ciao"
    assert _none(row["tools"])


def test_chat_typed_parts(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "look at"}, {"type": "image_url", "image_url": "u"},
                                     {"type": "text", "value": "this"}]},
        {"role": "assistant", "content": [{"type": "text", "value": "a cat"}], "loss_weight": 1.0}]})
    assert row["messages"] == [T("user", "look at\n[image_url]\nthis"), T("assistant", "a cat")]
    assert (row["prompt"], row["response"]) == ("look at\n[image_url]\nthis", "a cat")


def test_chat_openai_tool_calls(write_jsonl: Callable[..., Path]) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}}
    row = _one(write_jsonl, {"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny, 21C"},
        {"role": "assistant", "content": "Sunny and 21C."}]})
    assert row["_kind"] == "chat"
    assert row["messages"] == [
        T("user", "Weather in Paris?"),
        T("assistant", json.dumps(call["function"]), True),
        T("tool", "sunny, 21C"),
        T("assistant", "Sunny and 21C.")]
    assert row["response"] == "Sunny and 21C."


def test_chat_sharegpt_tools(write_jsonl: Callable[..., Path]) -> None:
    tools = json.dumps([{"name": "add", "parameters": {"a": "int", "b": "int"}}])
    row = _one(write_jsonl, {"conversations": [
        {"from": "system", "value": "You can call tools."}, {"from": "human", "value": "1+2?"},
        {"from": "function_call", "value": "{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}"},
        {"from": "observation", "value": "{\"result\": 3}"}, {"from": "gpt", "value": "3"}], "tools": tools})
    assert row["_kind"] == "chat"
    assert row["messages"] == [T("system", "You can call tools."), T("user", "1+2?"),
                               T("assistant", "{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}", True),
                               T("tool", "{\"result\": 3}"), T("assistant", "3")]
    assert row["tools"] == tools
    assert row["response"] == "3"


def test_chat_tools_as_a_list_are_kept_as_json(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                             "tools": [{"name": "f"}]})
    assert json.loads(row["tools"]) == [{"name": "f"}]


def test_chat_system_field_is_prepended(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"system": "Be nice.", "conversations": [{"from": "human", "value": "q"},
                                                                     {"from": "gpt", "value": "a"}]})
    assert row["messages"] == [T("system", "Be nice."), T("user", "q"), T("assistant", "a")]


def test_preference_strings(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"prompt": "Best pet?", "chosen": "A cat.", "rejected": "A rock."})
    assert row["_kind"] == "preference"
    assert row["messages"] == [T("user", "Best pet?"), T("assistant", "A cat.")]
    assert (row["prompt"], row["response"], row["chosen"], row["rejected"]) == ("Best pet?", "A cat.", "A cat.",
                                                                               "A rock.")


def test_preference_message_lists_share_their_prefix(write_jsonl: Callable[..., Path]) -> None:
    ctx = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
           {"role": "user", "content": "joke?"}]
    row = _one(write_jsonl, {"chosen": ctx + [{"role": "assistant", "content": "Knock knock."}],
                             "rejected": ctx + [{"role": "assistant", "content": "No."}]})
    assert row["_kind"] == "preference"
    assert row["prompt"] == "user: hi\n\nassistant: hello\n\nuser: joke?"
    assert (row["chosen"], row["rejected"]) == ("Knock knock.", "No.")
    assert row["messages"] == [T("user", "hi"), T("assistant", "hello"), T("user", "joke?"),
                               T("assistant", "Knock knock.")]


def test_preference_sharegpt_conversations(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"conversations": [{"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"},
                                               {"from": "human", "value": "Q2"}],
                             "chosen": {"from": "gpt", "value": "good"}, "rejected": {"from": "gpt", "value": "bad"}})
    assert row["_kind"] == "preference"
    assert row["messages"] == [T("user", "Q1"), T("assistant", "A1"), T("user", "Q2"), T("assistant", "good")]
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("user: Q1\n\nassistant: A1\n\nuser: Q2", "good",
                                                               "bad")


def test_preference_chosen_rejected_messages(write_jsonl: Callable[..., Path]) -> None:
    ctx = [{"role": "system", "content": [{"type": "text", "value": "sys"}]},
           {"role": "user", "content": [{"type": "text", "value": "translate: da"}]}]
    row = _one(write_jsonl, {
        "chosen_messages": ctx + [{"role": "assistant", "content": [{"type": "text", "value": "yes"}]}],
        "rejected_messages": ctx + [{"role": "assistant", "content": [{"type": "text", "value": "maybe"}]}]})
    assert row["_kind"] == "preference"
    assert row["messages"] == [T("system", "sys"), T("user", "translate: da"), T("assistant", "yes")]
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("system: sys\n\nuser: translate: da", "yes", "maybe")


def test_preference_hh_transcripts(write_jsonl: Callable[..., Path]) -> None:
    ctx = "\n\nHuman: How do I bake bread?\n\nAssistant: Flour, water, yeast.\n\nHuman: How long?"
    row = _one(write_jsonl, {"chosen": ctx + "\n\nAssistant: About an hour.",
                             "rejected": ctx + "\n\nAssistant: Forever."})
    assert row["_kind"] == "preference"
    assert row["messages"] == [T("user", "How do I bake bread?"), T("assistant", "Flour, water, yeast."),
                               T("user", "How long?"), T("assistant", "About an hour.")]
    assert row["prompt"] == "user: How do I bake bread?\n\nassistant: Flour, water, yeast.\n\nuser: How long?"
    assert (row["chosen"], row["rejected"]) == ("About an hour.", "Forever.")


def test_preference_hh_prompt_field(write_jsonl: Callable[..., Path]) -> None:
    """The derived HH layout: prompt ends with "Assistant:", answers carry the separator space."""
    row = _one(write_jsonl, {"prompt": "\n\nHuman: Hi?\n\nAssistant: Hello.\n\nHuman: Bye?\n\nAssistant:",
                             "chosen": " Goodbye!", "rejected": " No."})
    assert row["messages"] == [T("user", "Hi?"), T("assistant", "Hello."), T("user", "Bye?"),
                               T("assistant", "Goodbye!")]
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("user: Hi?\n\nassistant: Hello.\n\nuser: Bye?",
                                                               "Goodbye!", "No.")


@pytest.mark.parametrize(("field", "value", "score"), [("score", 0.25, 0.25), ("rating", 4, 4.0),
                                                        ("reward", "-1.5", -1.5)])
def test_scored_sft(write_jsonl: Callable[..., Path], field: str, value: Any, score: float) -> None:
    row = _one(write_jsonl, {"prompt": "p", "response": "r", field: value})
    assert row["_kind"] == "scored"
    assert row["messages"] == [T("user", "p"), T("assistant", "r")]
    assert row["score"] == score


@pytest.mark.parametrize(("label", "score"), [(True, 1.0), (False, 0.0), ("true", 1.0)])
def test_scored_messages_with_boolean_label(write_jsonl: Callable[..., Path], label: Any, score: float) -> None:
    row = _one(write_jsonl, {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                             "label": label})
    assert (row["_kind"], row["score"], row["response"]) == ("scored", score, "a")


def test_missing_score_is_nan(write_jsonl: Callable[..., Path]) -> None:
    ds = load(write_jsonl("s.jsonl", [{"prompt": "p", "response": "r", "score": 1},
                                      {"prompt": "p", "response": "r", "score": None}]))
    assert ds.rows["score"].tolist()[0] == 1.0 and math.isnan(ds.rows["score"][1])


def test_table_without_a_known_schema(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"id": 1, "name": "x"})
    assert row["_kind"] == "table"
    assert row["messages"] == [] and (row["prompt"], row["response"]) == ("", "")
    assert json.loads(row["source"]) == {"id": 1, "name": "x"}


def test_table_with_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Sys,Q,A,Grade\nbe short,What?,This.,3\n")
    ds = load(path, LoadOptions(mapping={"system": "Sys", "prompt": "q", "response": "A"}))
    assert (ds.info.kind, ds.info.files[0].detection) == ("sft", "column mapping system=Sys, prompt=Q, response=A")
    assert ds.rows["messages"][0] == [T("system", "be short"), T("user", "What?"), T("assistant", "This.")]
    scored = load(path, LoadOptions(mapping={"prompt": "Q", "response": "A", "score": "Grade"}))
    assert (scored.info.kind, scored.rows["score"][0]) == ("scored", 3.0)
    text = load(path, LoadOptions(mapping={"text": "Q"}))
    assert (text.info.kind, text.rows["response"][0]) == ("text", "What?")
    pref = load(path, LoadOptions(mapping={"prompt": "Q", "chosen": "A", "rejected": "Sys"}))
    assert (pref.info.kind, pref.rows["chosen"][0], pref.rows["rejected"][0]) == ("preference", "This.",
                                                                                  "be short")


def test_mapping_list_of_turn_strings(write_jsonl: Callable[..., Path]) -> None:
    """MT-Bench style `turns: [..]` mapped to prompt: the turns are joined."""
    row = _one(write_jsonl, {"turns": ["first", "second"], "id": 7}, mapping={"prompt": "turns"})
    assert (row["_kind"], row["prompt"], row["messages"]) == ("sft", "first\n\nsecond", [T("user", "first\n\nsecond")])


def test_mapping_errors(write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl("m.jsonl", [{"a": "x", "b": "y"}])
    with pytest.raises(LoadError) as err:
        load(path, LoadOptions(mapping={"prompt": "a", "response": "zz"}))
    assert str(err.value) == f"{path}: the mapping response=zz names no column of this file (columns: a, b)"
    with pytest.raises(LoadError) as err:
        load(path, LoadOptions(mapping={"answer": "a"}))
    assert str(err.value) == (f"{path}: unknown role 'answer' in the column mapping; roles are prompt, response, "
                              "system, chosen, rejected, score, text, messages")
    with pytest.raises(LoadError) as err:
        load(path, LoadOptions(mapping={"system": "a"}))
    assert str(err.value) == (f"{path}: the column mapping needs at least one of prompt, response, text, messages, "
                              "or chosen+rejected")


def test_kind_override(write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl("scored.jsonl", [{"prompt": "p", "response": "r", "score": 0.5}])
    assert load(path).info.kind == "scored"
    ds = load(path, LoadOptions(kind="sft"))
    assert (ds.info.kind, ds.rows["prompt"][0], ds.rows["response"][0]) == ("sft", "p", "r")
    assert math.isnan(ds.rows["score"][0])
    assert load(path, LoadOptions(kind="table")).rows["messages"][0] == []


def test_impossible_kind_override_is_a_clear_error(write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl("scored.jsonl", [{"prompt": "p", "response": "r", "score": 0.5}])
    with pytest.raises(LoadError) as err:
        load(path, LoadOptions(kind="preference"))
    assert str(err.value) == (f"{path}: cannot read this file as 'preference' (fields: prompt, response, score); "
                              "it can be read as: sft, scored, table. Map its columns to roles instead.")
    with pytest.raises(LoadError) as err:
        LoadOptions(kind="dpo")
    assert str(err.value) == "unknown kind 'dpo'; expected one of text, sft, chat, preference, scored, prompt, table"
    with pytest.raises(LoadError) as err:
        LoadOptions(format="xml")
    assert str(err.value) == "unknown format 'xml'; expected one of jsonl, json, csv, tsv, parquet"


def test_detection_follows_the_majority(write_jsonl: Callable[..., Path]) -> None:
    recs = [{"prompt": f"p{i}", "response": "r"} for i in range(5)] + [{"prompt": "p", "response": "r", "score": 1}]
    ds = load(write_jsonl("maj.jsonl", recs))
    assert (ds.info.kind, len(ds)) == ("sft", 6)


def test_parquet_with_nested_messages(tmp_path: Path) -> None:
    records = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "label": True},
               {"messages": [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "b"}],
                "label": False}]
    for gz in (False, True):
        path = _write(tmp_path, "parquet", records, gz=gz)
        ds = load(path)
        assert (ds.info.format, ds.info.kind) == ("parquet", "scored")
        assert ds.rows["messages"][1] == [T("user", "q2"), T("assistant", "b")]
        assert ds.rows["score"].tolist() == [1.0, 0.0]
        assert [json.loads(s) for s in ds.rows["source"]] == records


def test_csv_nulls_are_empty_strings(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("instruction,input,output\ndo it,,done\n")
    ds = load(path)
    assert (ds.rows["prompt"][0], ds.rows["response"][0]) == ("do it", "done")


def test_optional_fields_on_a_minority_of_records_are_kept(tmp_path: Path) -> None:
    """`tools` on one record of three must not be lost to the schema vote (regression)."""
    path = tmp_path / "tools.jsonl"
    turns = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in [
        {"messages": turns}, {"messages": turns, "system": "be brief"},
        {"messages": turns, "tools": [{"name": "f"}]}]), encoding="utf-8")
    rows = load(path).rows
    assert rows["tools"].isna().tolist() == [True, True, False]
    assert json.loads(rows["tools"].iloc[2]) == [{"name": "f"}]
    assert rows["messages"].iloc[1][0] == {"role": "system", "content": "be brief", "tool_call": False}
    assert rows["messages"].iloc[0][0]["role"] == "user"


def test_load_reports_progress_monotonically(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"q{i}", "response": f"a{i}"}) + "\n" for i in range(45_000)),
                    encoding="utf-8")
    seen: list[tuple[str, float]] = []
    load(path, progress=lambda message, fraction: seen.append((message, fraction)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 <= fractions[0] < 0.5
    assert any(m.startswith("parsing big.jsonl: 40,000 records") for m, _ in seen)
    assert any(m.startswith("normalising big.jsonl: 40,000 of 45,000 records") for m, _ in seen)


# ------------------------------------------------------------------------------ shapes of public post-training data

def _documented_shapes() -> list[tuple[str, dict[str, Any], str]]:
    """(heading, example record, kind) for each `### shape` of docs/formats.md."""
    text = FORMATS_MD.read_text(encoding="utf-8")
    found = re.findall(r"^### (.+?)\n.*?^```json\n(.+?)\n```\nKind: `(\w+)`", text, flags=re.M | re.S)
    return [(name, json.loads(example), kind) for name, example, kind in found]


def test_formats_md_lists_the_shapes() -> None:
    shapes = _documented_shapes()
    assert len(shapes) == FORMATS_MD.read_text(encoding="utf-8").count("\n### ") >= 24
    assert {k for _, _, k in shapes} == {"text", "sft", "chat", "preference", "scored", "prompt", "table"}


@pytest.mark.parametrize(("name", "record", "kind"), _documented_shapes(), ids=[s[0] for s in _documented_shapes()])
def test_every_documented_shape_loads_as_its_kind(write_jsonl: Callable[..., Path], name: str,
                                                 record: dict[str, Any], kind: str) -> None:
    row = _one(write_jsonl, record)
    assert (row["_kind"], row["kind"]) == (kind, kind)
    if kind not in ("table", "text"):
        assert row["prompt"].strip(), name
    if kind in ("sft", "chat", "preference", "scored"):
        assert row["response"].strip(), name


def test_mt_bench_questions_are_prompts(write_jsonl: Callable[..., Path]) -> None:
    """FastChat's question.jsonl: each string of `turns` is a user turn; no response, by design."""
    row = _one(write_jsonl, {"question_id": 81, "category": "math", "turns": ["2 + 2?", "And 3 + 3?"],
                             "reference": ["4", "6"]})
    assert row["_kind"] == "prompt"
    assert row["messages"] == [T("user", "2 + 2?"), T("user", "And 3 + 3?")]
    assert (row["prompt"], row["response"]) == ("user: 2 + 2?\n\nuser: And 3 + 3?", "")
    assert _none(row["chosen"]) and math.isnan(row["score"])


@pytest.mark.parametrize(("record", "messages"), [
    ({"prompt": "The sky is"}, [T("user", "The sky is")]),
    ({"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Sky?"}]},
     [T("system", "Be brief."), T("user", "Sky?")]),
    ({"prompt": "Sky?", "system": "Be brief."}, [T("system", "Be brief."), T("user", "Sky?")]),
], ids=["standard", "conversational", "system_field"])
def test_trl_prompt_only(write_jsonl: Callable[..., Path], record: dict[str, Any], messages: list[Any]) -> None:
    row = _one(write_jsonl, record)
    assert (row["_kind"], row["messages"], row["response"]) == ("prompt", messages, "")


def test_a_prompt_file_never_hides_a_records_answer(write_jsonl: Callable[..., Path]) -> None:
    recs = [{"prompt": "a"}, {"prompt": "b"}, {"prompt": "c", "completion": "d"}]
    ds = load(write_jsonl("prompts.jsonl", recs))
    assert ds.rows["kind"].tolist() == ["prompt", "prompt", "sft"] and ds.info.kind == "mixed"
    assert ds.rows["response"].tolist() == ["", "", "d"]


def test_stepwise_supervision_is_not_read_as_prompts(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"prompt": "p", "completions": ["s1", "s2"], "labels": [True, False]})
    assert row["_kind"] == "table"


def test_trl_conversational_prompt_completion(write_jsonl: Callable[..., Path]) -> None:
    row = _one(write_jsonl, {"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
                             "completion": [{"role": "assistant", "content": "A"}]})
    assert row["_kind"] == "sft"
    assert row["messages"] == [T("system", "S"), T("user", "Q"), T("assistant", "A")]
    assert (row["prompt"], row["response"]) == ("system: S\n\nuser: Q", "A")


def test_ultrafeedback_binarized_prompt_is_read_once(write_jsonl: Callable[..., Path]) -> None:
    conv = [{"role": "user", "content": "Sky?"}, {"role": "assistant", "content": "Blue."}]
    row = _one(write_jsonl, {"prompt": "Sky?", "chosen": conv,
                             "rejected": [conv[0], {"role": "assistant", "content": "Green."}],
                             "messages": conv, "score_chosen": 8.0})
    assert row["_kind"] == "preference"
    assert row["messages"] == [T("user", "Sky?"), T("assistant", "Blue.")]
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("Sky?", "Blue.", "Green.")


def test_trl_unpaired_preference_is_scored(write_jsonl: Callable[..., Path]) -> None:
    ds = load(write_jsonl("kto.jsonl", [{"prompt": "Sky is", "completion": " blue.", "label": True},
                                        {"prompt": "Sky is", "completion": " green.", "label": False}]))
    assert ds.info.kind == "scored" and ds.rows["score"].tolist() == [1.0, 0.0]


def test_sifts_messages_export_of_prompt_rows_reads_back_as_prompts(tmp_path: Path) -> None:
    from analysis.curation.export import export_dataset
    from analysis.workspace.store import CurationStore

    src = tmp_path / "q.jsonl"
    src.write_text(json.dumps({"question_id": 1, "turns": ["Hi?", "And then?"]}) + "\n")
    ds = load(src)
    out = tmp_path / "clean"  # an export is a new folder; loading it reads the data files its manifest lists
    with CurationStore(tmp_path / "cur.sqlite") as store:
        export_dataset(ds, store, out, as_="messages")
    back = load(out)
    assert back.rows["kind"].tolist() == ["prompt"]
    assert back.rows["messages"][0] == ds.rows["messages"][0]


def test_a_parquet_of_several_shapes_reads_each_row_as_its_own(tmp_path: Path) -> None:
    """A columnar file has every column in every row (null where a row's shape has no such field): the nulls of
    another shape's columns never make a row a bad record of the majority's shape."""
    msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    table = pa.table({"instruction": ["i1", None, "i2"], "output": ["o1", None, "o2"],
                      "messages": [None, msgs, None]})
    path = tmp_path / "mixed.parquet"
    pq.write_table(table, path)
    ds = load(path)
    assert ds.rows["kind"].tolist() == ["sft", "chat", "sft"] and ds.info.kind == "mixed"
    assert ds.rows["response"].tolist() == ["o1", "a", "o2"]
