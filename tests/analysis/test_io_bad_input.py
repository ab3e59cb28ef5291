"""Broken input: every failure names the file, line (or record) and field, exactly as asserted here.

Strict mode stops at the first bad record with a `LoadError`; `skip_bad_lines=True` loads the rest and
reports each skipped record with its line and error. The user's source files are never written.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.curation.export import export_dataset
from analysis.io import LoadError, LoadOptions, load
from analysis.io.errors import SKIP_HINT
from analysis.workspace.folder import Workspace
from analysis.workspace.store import CurationStore

ALPACA = {"instruction": "Add 1 and 1.", "input": "", "output": "2"}
CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
STRICT, SKIP = LoadOptions(), LoadOptions(skip_bad_lines=True)


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record)


def _error(path: Path, options: LoadOptions = STRICT) -> str:
    """The strict error, without the `--skip-bad-lines` hint, which it must carry whenever skipping gets past it."""
    with pytest.raises(LoadError) as err:
        load(path, options)
    msg = str(err.value)
    if not options.skip_bad_lines:
        try:
            load(path, LoadOptions(**{**options.to_dict(), "skip_bad_lines": True}))
        except LoadError:
            pass
        else:
            assert msg.endswith(SKIP_HINT), f"a skippable error must say how to skip: {msg}"
    return msg.removesuffix(SKIP_HINT)


def _skipped(ds: Any) -> list[dict[str, Any]]:
    return [s.to_dict() for s in ds.info.skipped]


# ------------------------------------------------------------------------------------------- truncation

def test_truncated_json_array(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text("[\n" + _line(ALPACA) + ",\n" + _line(ALPACA) + ',\n{"instruction": "x", "outp')
    assert _error(path) == (f"{path}, record 2 (line 4, byte 124): the file ends in the middle of this record "
                            "(truncated JSON)")
    ds = load(path, SKIP)
    assert len(ds) == 2 and ds.rows["source_line"].tolist() == [2, 3]
    assert _skipped(ds) == [{"file": str(path), "line": 4, "error": "record 2 (byte 124): the file ends in the "
                                                                    "middle of this record (truncated JSON)"}]


@pytest.mark.parametrize("tail", [',\n{"instruction": "x", "output": [', ",\n{", ",\n", ",", "\n"])
def test_truncated_json_array_any_cut(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "cut.json"
    path.write_text("[\n" + _line(ALPACA) + ",\n" + _line(ALPACA) + tail)
    msg = _error(path)
    assert "(truncated JSON)" in msg and msg.startswith(f"{path}, record 2 (line ")  # the record, not only a line
    assert len(load(path, SKIP)) == 2


def test_json_array_missing_close_bracket(tmp_path: Path) -> None:
    path = tmp_path / "open.json"
    path.write_text("[\n" + _line(ALPACA) + ",\n" + _line(ALPACA) + "\n")
    assert _error(path) == f"{path}, record 2 (line 4, byte 123): the file ends before the closing ']' (truncated JSON)"
    assert len(load(path, SKIP)) == 2


def test_json_array_syntax_error_says_the_rest_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[\n" + _line(ALPACA) + ',\n{"instruction": "x" "output": "y"},\n' + _line(ALPACA) + "\n]")
    expected = "invalid JSON at column 21: Expecting ',' delimiter; the records after it cannot be read"
    assert _error(path) == f"{path}, record 1 (line 3, byte 63): {expected}"
    ds = load(path, SKIP)
    assert len(ds) == 1 and _skipped(ds) == [{"file": str(path), "line": 3, "error": f"record 1 (byte 63): {expected}"}]


def test_truncated_json_object_document(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.json"
    path.write_text('{"data": [{"text": "a"}, {"text": "b"')
    assert _error(path) == f"{path}, line 1: the file ends in the middle of the JSON document (truncated JSON)"


def test_truncated_last_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text(_line(ALPACA) + "\n" + _line(ALPACA) + '\n{"instruction": "x", "outp')
    assert _error(path) == f"{path}, line 3: the line ends in the middle of a JSON record (truncated?)"
    ds = load(path, SKIP)
    assert len(ds) == 2
    assert _skipped(ds) == [{"file": str(path), "line": 3,
                             "error": "the line ends in the middle of a JSON record (truncated?)"}]


def test_jsonl_syntax_error_mid_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(_line(ALPACA) + '\n{"text": "a"}}\n' + _line(ALPACA) + "\n")
    assert _error(path) == f"{path}, line 2: invalid JSON at column 14: Extra data"
    ds = load(path, SKIP)
    assert ds.rows["source_line"].tolist() == [1, 3]
    assert ds.rows["row_id"].tolist() == [0, 2]  # row ids stay positions in the source file


# ------------------------------------------------------------------------------------------- encodings

def test_invalid_utf8_in_a_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    bad = b'{"instruction": "caf\xe9", "input": "", "output": "o"}'
    path.write_bytes(f"{_line(ALPACA)}\n".encode() + bad + f"\n{_line(ALPACA)}\n".encode())
    assert _error(path) == f"{path}, line 2: invalid UTF-8 at column 21 (byte 0xe9)"
    ds = load(path, SKIP)
    assert ds.rows["source_line"].tolist() == [1, 3]
    assert _skipped(ds) == [{"file": str(path), "line": 2, "error": "invalid UTF-8 at column 21 (byte 0xe9)"}]


def test_invalid_utf8_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"prompt,response\nhello,world\ncaf\xe9,x\nok,fine\n")
    assert _error(path) == f"{path}, line 3: invalid UTF-8 in column 'prompt' (byte 0xe9)"
    ds = load(path, SKIP)
    assert ds.rows["prompt"].tolist() == ["hello", "ok"]
    assert ds.rows["source_line"].tolist() == [2, 4]
    assert _skipped(ds) == [{"file": str(path), "line": 3,
                             "error": "invalid UTF-8 in column 'prompt' (byte 0xe9)"}]


def test_invalid_utf8_in_csv_header_and_json(tmp_path: Path) -> None:
    header = tmp_path / "header.csv"
    header.write_bytes(b"pr\xffompt,response\nhello,world\n")
    assert _error(header, SKIP) == f"{header}, line 1: invalid UTF-8 in column 1 (byte 0xff)"
    doc = tmp_path / "doc.json"
    doc.write_bytes(b'[\n{"text": "a"},\n{"text": "caf\xe9"}]')
    assert _error(doc, SKIP) == f"{doc}, line 3: invalid UTF-8 at column 14 (byte 0xe9)"


@pytest.mark.parametrize(("name", "body"), [
    ("bom.jsonl", _line(ALPACA) + "\n"), ("bom.json", "[" + _line(ALPACA) + "]"),
    ("bom.csv", "instruction,input,output\nAdd 1 and 1.,,2\n"), ("bom.tsv", "instruction\tinput\toutput\n"
                                                                            "Add 1 and 1.\t\t2\n")])
def test_utf8_bom_loads(tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    ds = load(path)
    assert (ds.info.kind, len(ds), ds.rows["prompt"][0], ds.rows["response"][0]) == ("sft", 1, "Add 1 and 1.", "2")
    assert set(ds.info.fields) == {"instruction", "input", "output"}  # no BOM glued to the first name


# ------------------------------------------------------------------------------------- schema problems

def test_records_of_another_clear_shape_load_with_their_own_kind(tmp_path: Path) -> None:
    """Alpaca lines and `messages` lines in one JSONL: each record has a clear reading, so the file loads as mixed
    kinds row by row (as a folder of files of different kinds does) instead of being refused."""
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in [ALPACA, ALPACA, CHAT, ALPACA]))
    ds = load(path)
    assert ds.rows["kind"].tolist() == ["sft", "sft", "chat", "sft"]
    assert ds.rows["response"].tolist() == ["2", "2", "hello", "2"]
    assert ds.info.kind == "mixed" and ds.info.files[0].kind == "mixed"
    assert ds.info.files[0].detection == ("records of several shapes, each read as its own (3 sft, 1 chat); "
                                          "most: Alpaca fields 'instruction'/'output'")
    assert ds.info.skipped == []


def test_a_record_lacking_a_field_of_the_files_shape_is_bad(tmp_path: Path) -> None:
    """An Alpaca record without `output` is a broken Alpaca record, not another shape (`instruction` alone has no
    reading): one clear message, skippable."""
    path = tmp_path / "missing.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in [ALPACA, {"instruction": "x", "input": ""}, ALPACA]))
    expected = ("field 'output': missing: the file was read as sft (Alpaca fields 'instruction'/'output') "
                "but this record has fields instruction, input and no other reading")
    assert _error(path) == f"{path}, line 2, {expected}"
    ds = load(path, SKIP)
    assert ds.rows["row_id"].tolist() == [0, 2]
    assert _skipped(ds) == [{"file": str(path), "line": 2, "error": expected}]


def test_one_odd_record_never_decides_a_file(tmp_path: Path) -> None:
    """Records without a clear reading (`messages` a string) do not vote: even two of them against one good
    chat record leave the file chat, and they are bad records of it, not a reason to read it as a table."""
    odd = {"messages": "hello"}
    path = tmp_path / "odd.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in [odd, CHAT, odd]))
    assert _error(path) == f"{path}, line 1, field 'messages': expected a list of turns, found a string"
    ds = load(path, SKIP)
    assert ds.info.kind == "chat" and ds.rows["kind"].tolist() == ["chat"]
    assert [s["line"] for s in _skipped(ds)] == [1, 3]


def test_every_skippable_record_error_says_how_to_skip(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(_line(ALPACA) + "\n{oops\n")
    with pytest.raises(LoadError) as err:
        load(path)
    assert "--skip-bad-lines" in str(err.value) and "Skip bad lines" in str(err.value)
    assert str(err.value).endswith(SKIP_HINT)


@pytest.mark.parametrize(("record", "field", "message"), [
    ({"instruction": "i", "input": "", "output": None}, "output", "expected a string, found null"),
    ({"instruction": "i", "input": "", "output": 42}, "output", "expected a string, found a number (42)"),
    ({"instruction": "i", "input": "", "output": {"a": 1}}, "output", "expected a string, found an object"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": None}]},
     "messages[1].content", "expected a string, found null"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": 3.5}]},
     "messages[1].content", "expected a string, found a number (3.5)"),
    ({"messages": [{"role": "user", "content": {"text": "q"}}, {"role": "assistant", "content": "a"}]},
     "messages[0].content", "expected a string, found an object"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}, {"role": "assistant", "content": "a"}]},
     "messages[0].content[0]", "a text part needs a string 'text' or 'value', found a number"),
    ({"messages": [{"role": "user", "content": "q"}, {"content": "a"}]}, "messages[1]",
     "turn has no 'role' (or ShareGPT 'from')"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant"}]}, "messages[1]",
     "turn has no 'content' (or ShareGPT 'value')"),
    ({"messages": [{"role": 1, "content": "q"}]}, "messages[0].role", "expected a string, found a number"),
    ({"messages": [{"role": "user", "content": "q"}, 7]}, "messages[1]",
     "expected a turn object with role and content, found a number"),
], ids=["output_null", "output_number", "output_object", "content_null", "content_number", "content_object",
        "part_not_string", "turn_no_role", "turn_no_content", "role_number", "turn_number"])
def test_bad_values_name_the_field(tmp_path: Path, record: dict[str, Any], field: str, message: str) -> None:
    good = ALPACA if "instruction" in record else CHAT
    path = tmp_path / "bad.jsonl"
    path.write_text(_line(good) + "\n" + _line(record) + "\n" + _line(good) + "\n")
    assert _error(path) == f"{path}, line 2, field '{field}': {message}"
    ds = load(path, SKIP)
    assert ds.rows["row_id"].tolist() == [0, 2]
    assert _skipped(ds) == [{"file": str(path), "line": 2, "error": f"field '{field}': {message}"}]


def test_null_content_with_tool_calls_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    call = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    path.write_text(_line({"messages": [{"role": "user", "content": "q"},
                                        {"role": "assistant", "content": None, "tool_calls": [call]}]}) + "\n")
    assert load(path).rows["messages"][0][1] == {"role": "assistant", "content": json.dumps(call["function"]),
                                                 "tool_call": True}


def test_bad_score(tmp_path: Path) -> None:
    path = tmp_path / "score.jsonl"
    path.write_text('{"prompt":"p","response":"r","score":1}\n{"prompt":"p","response":"r","score":"high"}\n')
    assert _error(path) == (f"{path}, line 2, field 'score': expected a number or a boolean, "
                            "found a string ('high')")


def test_non_object_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "arr.jsonl"
    path.write_text(_line(ALPACA) + "\n[1, 2]\n" + _line(ALPACA) + "\n")
    assert _error(path) == f"{path}, line 2: expected a JSON object per line, found an array"
    ds = load(path, SKIP)
    assert len(ds) == 2
    assert _skipped(ds) == [{"file": str(path), "line": 2, "error": "expected a JSON object per line, found an array"}]


def test_non_object_in_json_array(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text('[\n{"text": "a"},\n5,\n{"text": "b"}\n]')
    assert _error(path) == f"{path}, record 1 (line 3, byte 17): expected a JSON object, found a number"
    assert load(path, SKIP).rows["response"].tolist() == ["a", "b"]


def test_csv_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("prompt,response\na,b\nc,d,e\nf,g\n")
    assert _error(path) == f"{path}, line 3: expected 2 fields, found 3"
    assert load(path, SKIP).rows["prompt"].tolist() == ["a", "f"]


def test_every_record_bad_is_an_error_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "allbad.jsonl"
    path.write_text("[1]\n[2]\n")
    assert _error(path, SKIP) == f"{path}: no records could be loaded (2 skipped)"


# ------------------------------------------------------------------------------------------ whole files

@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.jsonl", b"", "the file is empty: no records to load"),
    ("blank.jsonl", b"  \n\n\t \r\n", "the file is empty: no records to load"),
    ("empty.csv", b"", "the file is empty: no records to load"),
    ("empty.json", b"[ \n ]", "the file is an empty JSON array: no records to load"),
    ("random.jsonl", bytes(range(256)) * 8, "this looks like a binary file (NUL bytes in the first 8 KB), "
                                            "not JSONL text"),
    ("image.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
     "this looks like a binary file (NUL bytes in the first 8 KB), not JSONL text"),
    ("scalar.json", b"42", "expected a JSON array of records or an object wrapping one, found a number"),
    ("broken.jsonl.gz", b"\x1f\x8b\x08\x00garbage", "cannot read file (Compressed file ended before the "
                                                    "end-of-stream marker was reached)"),
], ids=["empty", "whitespace", "empty_csv", "empty_array", "random_bytes", "png", "scalar", "broken_gzip"])
def test_unloadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for options in (STRICT, SKIP):
        assert _error(path, options) == f"{path}: {message}"


def test_empty_header_only_csv(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("prompt,response\n")
    assert _error(path) == f"{path}: no records could be loaded"


def test_missing_path(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.jsonl") == f"{tmp_path / 'nope.jsonl'}: no such file, folder or glob match"
    (tmp_path / "empty_dir").mkdir()
    assert _error(tmp_path / "empty_dir") == (f"{tmp_path / 'empty_dir'}: the folder has no data files (.jsonl, "
                                              ".ndjson, .json, .csv, .tsv, .parquet, .pq, optionally .gz)")


def test_gzip_of_a_broken_file_reports_lines(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress((_line(ALPACA) + "\n[1]\n").encode()))
    assert _error(path) == f"{path}, line 2: expected a JSON object per line, found an array"


# ------------------------------------------------------------------------------------- awkward but valid

def test_csv_embedded_newlines_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text('prompt,response\n"line one\nline two\nline three","ok ""quoted"""\nnext,row\n'
                    '"a\r\nb",c\nlast,one\n', newline="")
    ds = load(path)
    assert ds.rows["prompt"].tolist() == ["line one\nline two\nline three", "next", "a\r\nb", "last"]
    assert ds.rows["response"].tolist() == ['ok "quoted"', "row", "c", "one"]
    assert ds.rows["source_line"].tolist() == [2, 5, 6, 8]


def test_csv_later_error_has_the_right_line(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text('prompt,response\n"multi\nline",x\nbad,row,extra\n', newline="")
    assert _error(path) == f"{path}, line 4: expected 2 fields, found 3"


def test_50mb_field(tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    path = tmp_path / "huge.jsonl"
    with open(path, "w", encoding="ascii") as fh:
        fh.write(_line(ALPACA) + "\n")
        fh.write('{"instruction": "Repeat x.", "input": "", "output": "')
        fh.write("x" * size)
        fh.write('"}\n')
    start = time.monotonic()
    ds = load(path)
    assert time.monotonic() - start < 20
    assert len(ds) == 2
    assert len(ds.rows["response"][1]) == size
    assert len(ds.rows["source"][1]) == size + len('{"instruction": "Repeat x.", "input": "", "output": ""}')


# --------------------------------------------------------------------------- sources are never written

def test_sources_are_never_written(tmp_path: Path, snapshot: Callable[..., dict[Path, tuple[bytes, int]]]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    files = [data / "a.jsonl", data / "b.csv", data / "c.json.gz"]
    files[0].write_text(_line(ALPACA) + "\n" + _line(ALPACA) + "\n")
    files[1].write_text("prompt,response\np,r\n")
    files[2].write_bytes(gzip.compress(json.dumps([{"text": "t"}]).encode()))
    past = time.time() - 3600
    for f in files:
        os.utime(f, (past, past))  # an old mtime: any rewrite, even of the same bytes, shows
    before = snapshot(files)
    modes = {f: f.stat().st_mode for f in files}
    for f in files:
        load(f)
    load(data)
    ws = Workspace.open(data)
    ws.store.drop([0], reason="test")
    for fmt in ("jsonl", "parquet", "csv"):
        export_dataset(ws.dataset, ws.store, tmp_path / "out" / f"clean_{fmt}", fmt=fmt)
    ws.close()
    Workspace.open(data).close()
    assert snapshot(files) == before
    assert {f: f.stat().st_mode for f in files} == modes
    assert sorted(p.name for p in data.iterdir()) == ["a.jsonl", "b.csv", "c.json.gz"]


@pytest.mark.parametrize("target", ["source", "sidecar"])
def test_export_refuses_to_overwrite_a_source(tmp_path: Path, target: str,
                                              snapshot: Callable[..., dict[Path, tuple[bytes, int]]]) -> None:
    src = tmp_path / ("data.jsonl" if target == "source" else "manifest.json")
    src.write_text(_line(ALPACA) + "\n")
    before = snapshot([src])
    ds = load(src)
    out = src if target == "source" else tmp_path
    with CurationStore(tmp_path / "cur.sqlite") as store, pytest.raises(LoadError) as err:
        export_dataset(ds, store, out)
    assert str(err.value) == f"{out}: refusing to overwrite a source file of this dataset; choose another --out"
    assert snapshot([src]) == before


def test_empty_conversations_load_as_rows(tmp_path: Path) -> None:
    """Real ShareGPT dumps hold hundreds of `conversations: []`: they load (strict mode too) as rows without turns,
    for the chat_structure check to flag as `empty_conversation`, instead of refusing the file."""
    sharegpt = {"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}
    path = tmp_path / "sharegpt.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in [sharegpt, {"id": "b", "conversations": []}, sharegpt]))
    ds = load(path)
    assert ds.rows["kind"].tolist() == ["chat"] * 3 and ds.info.skipped == []
    assert [len(m) for m in ds.rows["messages"]] == [2, 0, 2]
    assert ds.rows.loc[1, ["prompt", "response"]].tolist() == ["", ""]


def test_file_kind_is_that_of_the_rows_loaded(tmp_path: Path) -> None:
    """The sample's majority reading is chat, but every chat record is bad: the one row loaded is sft, and so is
    the file (never a kind no row has)."""
    path = tmp_path / "bad_chats.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in [{"messages": [1]}, {"messages": [2]}, ALPACA]))
    ds = load(path, SKIP)
    assert ds.rows["kind"].tolist() == ["sft"] and (ds.info.kind, ds.info.files[0].kind) == ("sft", "sft")
    assert ds.info.files[0].detection.startswith("all 1 loaded records read as sft")


# ------------------------------------------------- nothing silent (issue 14.5): trailing text, concatenation,
# ------------------------------------------------- surrogates, nesting, symlink loops, odd names, folders

def _array(records: list[dict[str, Any]], *, pretty: bool = False) -> str:
    sep = ",\n" if pretty else ","
    return ("[\n" if pretty else "[") + sep.join(_line(r) for r in records) + ("\n]\n" if pretty else "]")


def _alpaca(i: int) -> dict[str, str]:
    return {"instruction": f"q{i}", "input": "", "output": f"a{i}"}


def test_text_after_a_json_array_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "trail.json"
    body = _array([_alpaca(i) for i in range(5)])
    path.write_text(body + "}}}")
    assert _error(path) == (f"{path}, record 5 (line 1, byte {len(body)}): unexpected text after the closing ']' "
                            "of the JSON array: '}}}'")
    ds = load(path, SKIP)
    assert len(ds) == 5
    assert [s["error"] for s in _skipped(ds)] == [f"record 5 (byte {len(body)}): unexpected text after the closing "
                                                  "']' of the JSON array: '}}}'"]


def test_concatenated_json_arrays_are_an_error_and_all_load_when_skipping(tmp_path: Path) -> None:
    """`cat a.json b.json > c.json` used to load only a.json's records, exit 0."""
    a, b = _array([_alpaca(i) for i in range(3)]) + "\n", _array([_alpaca(i) for i in range(3, 7)], pretty=True)
    path = tmp_path / "c.json"
    path.write_text(a + b)
    msg = _error(path)
    assert msg == (f"{path}, record 3 (line 2, byte {len(a)}): JSON array 2 starts here, after the end of array 1 "
                   "(concatenated files?); only one array per file is read, unless skipping bad records, which "
                   "reads them all")
    ds = load(path, SKIP)
    assert ds.rows["prompt"].tolist() == [f"q{i}" for i in range(7)]
    assert ds.rows["row_id"].tolist() == list(range(7))
    assert ds.rows["source_line"].tolist() == [1, 1, 1, 3, 4, 5, 6]
    assert len(_skipped(ds)) == 1


def test_concatenated_json_object_documents(tmp_path: Path) -> None:
    one = json.dumps({"data": [_alpaca(0), _alpaca(1)]}, indent=1)
    two = json.dumps({"data": [_alpaca(2)]}, indent=1)
    path = tmp_path / "docs.json"
    path.write_text(one + "\n" + two + "\n")
    msg = _error(path)
    assert msg.startswith(f"{path}, record 2 (line {one.count(chr(10)) + 2}, byte {len(one) + 1}): JSON document 2 "
                          "starts here, after the end of document 1 (concatenated files?)")
    assert load(path, SKIP).rows["prompt"].tolist() == ["q0", "q1", "q2"]
    junk = tmp_path / "junk.json"
    junk.write_text(one + "\n}}")
    assert _error(junk).endswith("unexpected text after the JSON document: '}}'")
    assert len(load(junk, SKIP)) == 2


@pytest.mark.parametrize(("name", "body", "where"), [
    ("value.jsonl", '{"instruction": "x\\ud800", "input": "", "output": "y"}', "field 'instruction'"),
    ("nested.jsonl", '{"messages": [{"role": "user", "content": "hi \\udbff"}]}', "field 'messages[0].content'"),
    ("key.jsonl", '{"instruction": "x", "input": "", "output": "y", "k\\udc00": 1}', "key k\\udc00"),
], ids=["value", "nested", "key"])
def test_lone_surrogates_are_located(tmp_path: Path, name: str, body: str, where: str) -> None:
    good = _line(_alpaca(0)) if "messages" not in body else _line(CHAT)
    path = tmp_path / name
    path.write_text(good + "\n" + body + "\n" + good + "\n")
    cp = f"\\u{body.split(chr(92) + 'u')[1][:4]}"
    expected = (f"lone surrogate {cp} in {where}: not valid Unicode (half of an escaped emoji pair?); "
                "fix the escape or skip the record")
    assert _error(path) == f"{path}, line 2: {expected}"
    ds = load(path, SKIP)
    assert ds.rows["source_line"].tolist() == [1, 3]
    assert _skipped(ds) == [{"file": str(path), "line": 2, "error": expected}]
    as_array = tmp_path / (name + ".json")
    as_array.write_text("[" + good + ",\n" + body + "]")
    assert _error(as_array) == f"{as_array}, record 1 (line 2, byte {len(good) + 3}): {expected}"
    assert len(load(as_array, SKIP)) == 1


def test_a_valid_surrogate_pair_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "emoji.jsonl"
    path.write_text('{"instruction": "smile \\ud83d\\ude00", "input": "", "output": "ok"}\n')
    assert load(path).rows["prompt"].tolist() == ["smile \U0001F600"]


@pytest.mark.parametrize(("name", "body", "where"), [
    ("deep.jsonl", _line(ALPACA) + '\n{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "line 2"),
    ("deep.json", "[" + _line(ALPACA) + ",\n" + "[" * 100_000 + "]" * 100_000 + "]",
     f"record 1 (line 2, byte {len(_line(ALPACA)) + 3})"),
    ("deep_doc.json", '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", None),
], ids=["jsonl", "json_array", "json_document"])
def test_deep_nesting_is_a_located_error(tmp_path: Path, name: str, body: str, where: str | None) -> None:
    path = tmp_path / name
    path.write_text(body)
    msg = _error(path)
    assert "the JSON nests deeper than the parser's recursion limit" in msg
    assert msg.startswith(f"{path}, {where}: " if where else f"{path}: ")
    if name == "deep.jsonl":
        assert len(load(path, SKIP)) == 1


def test_a_symlink_loop_loads_each_file_once(tmp_path: Path) -> None:
    """`dir/**/*.jsonl` through `d/loop -> ..` used to load the same file 41 times."""
    d = tmp_path / "dir" / "d"
    d.mkdir(parents=True)
    (d / "a.jsonl").write_text(_line(ALPACA) + "\n")
    (d / "loop").symlink_to("..")
    (d / "again.jsonl").symlink_to(d / "a.jsonl")
    ds = load(str(tmp_path / "dir" / "**" / "*.jsonl"))
    assert len(ds) == 1
    assert ds.info.notices == ["d/again.jsonl: left out: the same file as d/a.jsonl (read once)"]
    folder = load(tmp_path / "dir")
    assert len(folder) == 1 and folder.info.notices == ds.info.notices


def test_a_non_utf8_file_name_is_named_safely(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.jsonl"
    with open(raw, "w", encoding="utf-8") as fh:
        fh.write(_line(ALPACA) + "\n")
    shown = f"{tmp_path}/caf\\xe9.jsonl"
    msg = "the file name is not valid UTF-8; rename it (e.g. `convmv -f latin1 -t utf8`)"
    assert _error(Path(os.fsdecode(raw))) == f"{shown}: {msg}"
    assert _error(tmp_path) == f"{shown}: {msg}"  # inside a folder too
    assert _error(Path(os.fsdecode(raw)), SKIP) == f"{shown}: {msg}"


def test_an_empty_file_beside_an_export_is_left_out_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "export.jsonl").write_text(_line(ALPACA) + "\n" + _line(ALPACA) + "\n")
    (tmp_path / "dropped.jsonl").write_text("")
    (tmp_path / "empty.json").write_text("[]")
    (tmp_path / "LICENSE.txt").write_text("Permission is hereby granted, free of charge\n")  # not a data suffix
    (tmp_path / "README.csv").write_text("Column,Meaning\nprompt,the question\n")  # a data suffix, still docs
    ds = load(tmp_path)
    assert len(ds) == 2 and [f.path for f in ds.info.files] == ["export.jsonl"]
    assert ds.info.notices == ["README.csv: left out: documentation, not data",
                               "dropped.jsonl: left out: the file is empty: no records to load",
                               "empty.json: left out: the file is an empty JSON array: no records to load"]
    assert _error(tmp_path / "dropped.jsonl") == f"{tmp_path / 'dropped.jsonl'}: the file is empty: no records to load"
    (tmp_path / "export.jsonl").unlink()
    assert _error(tmp_path) == (f"{tmp_path}: none of the files holds records: dropped.jsonl: left out: the file is "
                                "empty: no records to load; empty.json: left out: the file is an empty JSON array: "
                                "no records to load")


def test_the_bundled_sample_folder_loads_and_says_what_it_left_out() -> None:
    ds = load(Path(__file__).resolve().parents[2] / "sample_data")
    assert len(ds) == 1050
    assert [f.path for f in ds.info.files] == ["chat.jsonl", "preference.jsonl", "sft.jsonl"]
    assert [n.split(": left out: ")[0] for n in ds.info.notices] == ["defects.json", "topics.json"]
    assert "several record lists" in ds.info.notices[0]
    assert ds.info.notices[1].endswith("one JSON object with 1,050 keys, not a list of records (metadata beside the "
                                       "data?)")


def test_a_lone_object_alone_is_still_one_record(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(ALPACA))
    assert load(path).rows["prompt"].tolist() == ["Add 1 and 1."]


def test_one_line_json_array_errors_name_the_record(tmp_path: Path) -> None:
    records = [_alpaca(i) for i in range(4)]
    body = "[" + ",".join(_line(r) for r in records[:2]) + ',{"instruction": 5 "x"}' + "]"
    path = tmp_path / "minified.json"
    path.write_text(body)
    at = len("[" + ",".join(_line(r) for r in records[:2]) + ",")
    assert _error(path).startswith(f"{path}, record 2 (line 1, byte {at}): invalid JSON at column ")


def test_cli_bad_input_is_one_line_on_stderr_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main

    cases = {
        "trail.json": _array([_alpaca(0)]) + "}}}",
        "cat.json": _array([_alpaca(0)]) + _array([_alpaca(1)]),
        "surrogate.jsonl": '{"instruction": "\\ud800", "input": "", "output": "y"}\n',
        "surrogate_key.jsonl": '{"\\ud800": 1}\n',
        "deep.jsonl": '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
        "deep.json": "[" * 100_000 + "]" * 100_000,
    }
    for name, body in cases.items():
        (tmp_path / name).write_text(body)
        assert main(["info", str(tmp_path / name)]) == 2, name
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err, (name, err)
        assert err.startswith(f"sift info: error: {tmp_path / name}"), (name, err)
    raw = os.fsencode(tmp_path) + b"/n\xff.jsonl"
    with open(raw, "w", encoding="utf-8") as fh:
        fh.write(_line(ALPACA) + "\n")
    assert main(["info", os.fsdecode(raw)]) == 2
    err = capsys.readouterr().err
    assert err == f"sift info: error: {tmp_path}/n\\xff.jsonl: the file name is not valid UTF-8; rename it (e.g. " \
                  "`convmv -f latin1 -t utf8`)\n"
    folder = tmp_path / "sample"
    folder.mkdir()
    (folder / "rows.jsonl").write_text(_line(ALPACA) + "\n")
    (folder / "dropped.jsonl").write_text("")
    assert main(["info", str(folder)]) == 0
    assert "  note: dropped.jsonl: left out: the file is empty: no records to load\n" in capsys.readouterr().out


def test_cli_analyze_the_bundled_sample_folder(capsys: pytest.CaptureFixture[str]) -> None:
    """`sift analyze sample_data` failed on the defects.json sidecar; it loads the data and says what it left out."""
    from analysis.cli import main

    assert main(["analyze", str(Path(__file__).resolve().parents[2] / "sample_data"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert ": 1,050 rows\n" in out
    assert "  note: defects.json: left out: the JSON object holds several record lists" in out
    assert "  note: topics.json: left out: one JSON object with 1,050 keys" in out
