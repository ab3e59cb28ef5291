"""Export = source minus drops (and tag filters), with manifest, drop log and recipe; written atomically."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analysis.curation.export as export_mod
from analysis.curation.export import export_dataset
from analysis.curation.recipe import row_hash
from analysis.io import LoadError, LoadOptions, load
from analysis.workspace.folder import Workspace
from analysis.workspace.store import CurationStore

# Lines as a user might have written them: odd spacing, escapes, non-ASCII. Source export keeps them byte for byte.
SFT_LINES = [
    '{"instruction": "Add 1 and 1.", "input": "", "output": "2"}',
    '{"instruction":"Translate", "input":"caf\\u00e9", "output":"coffee"}',
    '{ "output": "Ünïcödé ✓", "instruction": "Echo", "input": "" , "extra": [1, {"a": null}] }',
    '{"instruction": "Quote", "input": "", "output": "He said \\"hi\\",\\nthen left."}',
    '{"instruction": "Tab", "input": "a\\tb", "output": "ok"}',
]
CHAT = [{"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "weather?"},
                      {"role": "assistant", "content": None,
                       "tool_calls": [{"function": {"name": "weather", "arguments": "{}"}}]},
                      {"role": "tool", "content": "sunny"}, {"role": "assistant", "content": "Sunny."}]},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
        {"messages": [{"role": "user", "content": "2+2"}, {"role": "assistant", "content": "4"}]}]
PREF = [{"prompt": "Best pet?", "chosen": "A cat.", "rejected": "A rock."},
        {"prompt": "hi", "chosen": "hello!", "rejected": "go away", "system": "Be kind."},
        {"prompt": "\n\nHuman: Joke?\n\nAssistant:", "chosen": " Knock knock.", "rejected": " No."}]
SCORED = [{"prompt": "p0", "response": "r0", "score": 0.5}, {"prompt": "p1", "response": "r1", "score": 2},
          {"prompt": "p2", "response": "r2", "score": None}, {"prompt": "p3", "response": "r3", "score": -1}]
CANON = ["messages", "prompt", "response", "chosen", "rejected", "score"]


def _write(tmp_path: Path, name: str, records: list[dict[str, Any]] | list[str]) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _canon(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Canonical values, with NaN/None made comparable."""
    out = []
    for rec in rows[CANON].to_dict("records"):
        out.append({k: (None if not isinstance(v, list) and pd.isna(v) else v) for k, v in rec.items()})
    return out


@pytest.fixture
def store(tmp_path: Path) -> CurationStore:
    s = CurationStore(tmp_path / "curation.sqlite", user="tester")
    yield s
    s.close()


DATASETS = {"sft": SFT_LINES, "chat": CHAT, "preference": PREF, "scored": SCORED}


@pytest.mark.parametrize("as_", ["source", "messages"])
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("kind", list(DATASETS))
def test_round_trip_is_source_minus_drops(tmp_path: Path, store: CurationStore, kind: str, fmt: str,
                                          as_: str) -> None:
    ds = load(_write(tmp_path, f"{kind}.jsonl", DATASETS[kind]))
    assert ds.info.kind == kind
    store.drop([1], reason="bad")
    res = export_dataset(ds, store, tmp_path / "out", fmt=fmt, as_=as_)
    assert (res.rows_written, res.rows_dropped, res.rows_excluded) == (len(ds) - 1, 1, 0)
    assert res.files == [str(tmp_path / "out" / f"{kind}.{fmt}")]  # named after the source file
    back = load(res.out)  # the export folder loads as exactly its data file
    kept = ds.rows[ds.rows["row_id"] != 1]
    expected = _canon(kept)
    got = _canon(back.rows)
    if as_ == "messages" and kind in ("sft", "chat"):
        assert back.info.kind == "chat"
    else:
        assert back.info.kind == kind
    assert got == expected
    if as_ == "messages":
        assert back.rows["source"].map(lambda s: json.loads(s)["row_id"]).tolist() == kept["row_id"].tolist()


def test_jsonl_source_export_is_byte_identical(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    store.drop([0, 3], reason="dup")
    out = tmp_path / "out" / "sft.jsonl"
    export_dataset(ds, store, out.parent)
    kept = [SFT_LINES[i] for i in (1, 2, 4)]
    assert out.read_bytes() == "".join(line + "\n" for line in kept).encode("utf-8")


def test_jsonl_source_export_of_a_json_array(tmp_path: Path, store: CurationStore) -> None:
    src = tmp_path / "src.json"
    src.write_text(json.dumps(PREF, indent=2), encoding="utf-8")
    ds = load(src)
    store.drop([2])
    out = tmp_path / "out" / "src.jsonl"
    export_dataset(ds, store, out.parent)
    assert [json.loads(line) for line in out.read_text().splitlines()] == PREF[:2]


def test_csv_export_source_and_messages(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "scored.jsonl", SCORED))
    store.drop([0], reason="low")
    src_out = tmp_path / "out_src" / "scored.csv"
    export_dataset(ds, store, src_out.parent, fmt="csv")
    with open(src_out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"prompt": "p1", "response": "r1", "score": "2"}, {"prompt": "p2", "response": "r2", "score": ""},
                    {"prompt": "p3", "response": "r3", "score": "-1"}]
    back = load(src_out)
    assert back.info.kind == "scored"
    assert _canon(back.rows) == _canon(ds.rows[ds.rows["row_id"] != 0])

    msg_out = tmp_path / "msg" / "scored.csv"
    export_dataset(ds, store, msg_out.parent, fmt="csv", as_="messages")
    with open(msg_out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["row_id"]) for r in rows] == [1, 2, 3]
    assert [json.loads(r["messages"]) for r in rows] == ds.rows["messages"].tolist()[1:]
    assert [r["score"] for r in rows] == ["2.0", "", "-1.0"]


def test_csv_source_export_of_csv_input_keeps_text(tmp_path: Path, store: CurationStore) -> None:
    src = tmp_path / "in.csv"
    src.write_text('question,answer\n"multi\nline","a, ""quoted"""\nq2,a2\n', newline="")
    ds = load(src)
    out = tmp_path / "out" / "in.csv"
    export_dataset(ds, store, out.parent, fmt="csv")
    back = load(out)
    assert _canon(back.rows) == _canon(ds.rows)
    assert back.rows["prompt"][0] == "multi\nline" and back.rows["response"][0] == 'a, "quoted"'


def test_export_from_a_reopened_workspace(tmp_path: Path) -> None:
    path = _write(tmp_path, "chat.jsonl", CHAT)
    ws = Workspace.open(path)
    ws.store.drop([2], reason="short")
    ws.close()
    again = Workspace.open(path)
    res = export_dataset(again.dataset, again.store, tmp_path / "out", fmt="parquet", as_="messages")
    table = pq.read_table(res.files[0]).to_pylist()
    assert [r["row_id"] for r in table] == [0, 1]
    assert table[0]["messages"][2] == {"role": "assistant", "content": '{"name": "weather", "arguments": "{}"}',
                                       "tool_call": True}
    again.close()


@pytest.mark.parametrize(("only", "except_", "rows", "excluded"), [
    ((), (), [0, 2, 3, 4], 0),
    (("good",), (), [0, 2], 2),
    (("good", "check"), (), [0, 2, 4], 1),
    ((), ("check",), [0, 2, 3], 1),
    (("good",), ("check",), [0, 2], 2),
    (("nobody",), (), [], 4),
])
def test_tag_filters(tmp_path: Path, store: CurationStore, only: tuple[str, ...], except_: tuple[str, ...],
                     rows: list[int], excluded: int) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    store.tag([0, 1, 2], "good")
    store.tag([4], "check")
    store.drop([1], reason="dup")
    out = tmp_path / "out" / "sft.jsonl"
    res = export_dataset(ds, store, out.parent, as_="messages", only_tags=only, except_tags=except_)
    if not rows:
        assert res.files == [] and not out.exists()
        return
    assert [json.loads(line)["row_id"] for line in out.read_text().splitlines()] == rows
    assert (res.rows_written, res.rows_dropped, res.rows_excluded) == (len(rows), 1, excluded)
    manifest = json.loads((out.parent / "manifest.json").read_text())
    assert manifest["filters"] == {"only_tags": list(only), "except_tags": list(except_)}
    assert manifest["counts"] == {"rows_total": 5, "rows_dropped": 1, "rows_excluded_by_tags": excluded,
                                  "rows_written": len(rows)}


def test_manifest_drop_log_and_recipe(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    store.drop([3, 0], reason="duplicate")
    store.drop([4], reason="manual: off-topic")
    store.flag([2], reason="look")
    store.restore([0])
    out = tmp_path / "out" / "sft.jsonl"
    res = export_dataset(ds, store, out.parent)
    assert (res.manifest, res.dropped_log, res.recipe) == tuple(str(out.parent / n) for n in
                                                              ("manifest.json", "dropped.jsonl", "recipe.json"))
    manifest = json.loads(Path(res.manifest).read_text())
    assert manifest["source"]["fingerprint"] == ds.info.fingerprint
    assert manifest["source"]["path"] == ds.info.path
    assert (manifest["source"]["format"], manifest["source"]["kind"], manifest["source"]["skipped_lines"]) == (
        "jsonl", "sft", 0)
    assert manifest["source"]["options"] == LoadOptions().to_dict()
    assert manifest["output"] == {"path": str(out.parent), "format": "jsonl", "as": "source",
                                  "dropped_log": "dropped.jsonl", "recipe": "recipe.json",
                                  "csv_formulas": "neutralised", "csv_formulas_neutralised": 0}
    assert manifest["sift_export"] == 1
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == {"sft.jsonl", "dropped.jsonl", "recipe.json"}
    for name, entry in listed.items():  # each file's hash, so a reader can verify the set
        assert entry["sha256"] == hashlib.sha256((out.parent / name).read_bytes()).hexdigest()
    assert (listed["sft.jsonl"]["role"], listed["sft.jsonl"]["rows"], listed["sft.jsonl"]["kinds"]) == (
        "data", 3, ["sft"])
    assert manifest["counts"] == {"rows_total": 5, "rows_dropped": 2, "rows_excluded_by_tags": 0, "rows_written": 3}
    assert manifest["filters"] == {"only_tags": [], "except_tags": []}
    assert [(a["action"], a["row_ids"], a["reason"], a["user"]) for a in manifest["actions"]] == [
        ("drop", [0, 3], "duplicate", "tester"), ("drop", [4], "manual: off-topic", "tester"),
        ("flag", [2], "look", "tester"), ("restore", [0], "", "tester")]
    assert all(a["time"] and a["id"] for a in manifest["actions"])
    assert manifest["created_at"] and manifest["sift_version"]

    dropped = [json.loads(line) for line in Path(res.dropped_log).read_text().splitlines()]
    assert [(d["row_id"], d["reason"], d["user"]) for d in dropped] == [(3, "duplicate", "tester"),
                                                                        (4, "manual: off-topic", "tester")]
    assert all(set(d) == {"row_id", "reason", "user", "time", "source_file", "source_line", "record"} and d["time"]
               for d in dropped)
    # the removed records themselves, as JSON objects (not a repr), with where they came from
    assert [d["record"] for d in dropped] == [json.loads(SFT_LINES[3]), json.loads(SFT_LINES[4])]
    assert [d["source_line"] for d in dropped] == [4, 5]

    recipe = json.loads(Path(res.recipe).read_text())
    assert recipe == {"version": 2, "source_fingerprint": ds.info.fingerprint, "load_options": LoadOptions().to_dict(),
                      "steps": [
        {"op": "drop", "reason": "duplicate", "rows": [{"row_id": 3, "hash": row_hash(SFT_LINES[3])}]},
        {"op": "drop", "reason": "manual: off-topic", "rows": [{"row_id": 4, "hash": row_hash(SFT_LINES[4])}]}]}


def test_row_hash_ignores_key_order_and_spacing() -> None:
    assert row_hash('{"a": 1, "b": "x"}') == row_hash('{ "b":"x","a":1 }')
    assert row_hash('{"a": 1}') != row_hash('{"a": 2}')
    assert row_hash("not json") == row_hash("not json")


def test_export_with_nothing_dropped_writes_empty_drop_log(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    res = export_dataset(ds, store, tmp_path / "new" / "dir" / "clean")
    assert res.rows_written == 5
    assert Path(res.dropped_log).read_text() == ""
    assert json.loads(Path(res.recipe).read_text())["steps"] == []


def test_bad_export_arguments(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    with pytest.raises(LoadError) as err:
        export_dataset(ds, store, tmp_path / "o.jsonl", fmt="xml")
    assert str(err.value) == "unknown export format 'xml'; expected one of jsonl, parquet, csv"
    with pytest.raises(LoadError) as err:
        export_dataset(ds, store, tmp_path / "o.jsonl", as_="sharegpt")
    assert str(err.value) == "unknown export shape 'sharegpt'; expected one of source, messages"
    with pytest.raises(LoadError) as err:
        export_dataset(ds, store, tmp_path / "clean.jsonl")
    assert "--out names the export folder" in str(err.value) and "--format" in str(err.value)
    assert not (tmp_path / "clean.jsonl").exists()


def test_format_default_and_choice(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    export_dataset(ds, store, tmp_path / "a", fmt="parquet")
    assert pq.read_table(tmp_path / "a" / "sft.parquet").num_rows == 5
    export_dataset(ds, store, tmp_path / "b", fmt="csv")
    assert (tmp_path / "b" / "sft.csv").read_text().startswith("instruction,input,output")
    export_dataset(ds, store, tmp_path / "c")  # default: JSONL
    assert len((tmp_path / "c" / "sft.jsonl").read_text().splitlines()) == 5


def test_exported_files_are_readable_by_others(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    res = export_dataset(ds, store, tmp_path / "out")
    for p in (*res.files, res.out, res.manifest, res.dropped_log, res.recipe):
        assert Path(p).stat().st_mode & 0o044 == 0o044  # not mkstemp's 0600


def test_hf_datasets_reads_the_exports(tmp_path: Path, store: CurationStore, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    datasets = pytest.importorskip("datasets")
    for kind, records in (("chat", CHAT), ("preference", PREF), ("sft", SFT_LINES)):
        ds = load(_write(tmp_path, f"{kind}.jsonl", records))
        store.drop([0], reason="x")
        for fmt, builder in (("jsonl", "json"), ("parquet", "parquet")):
            for as_ in ("source", "messages"):
                res = export_dataset(ds, store, tmp_path / "out" / kind / f"{as_}_{fmt}", fmt=fmt, as_=as_)
                hf = datasets.load_dataset(builder, data_files=res.files[0], split="train",
                                           cache_dir=str(tmp_path / "hf_cache"))
                assert hf.num_rows == len(ds) - 1
                if as_ == "messages":
                    assert hf["row_id"] == list(range(1, len(ds)))
                    answers = hf["chosen"] if kind == "preference" else [m[-1]["content"] for m in hf["messages"]]
                    assert answers == ds.rows["response"].tolist()[1:]
        store.restore([0])


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_failed_write_keeps_the_previous_export(tmp_path: Path, store: CurationStore, monkeypatch: pytest.MonkeyPatch,
                                                fmt: str) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    out = tmp_path / "out" / "clean"
    export_dataset(ds, store, out, fmt=fmt)
    before = _tree(out.parent)
    real_write = export_mod.write_rows

    def write_then_fail(subset: pd.DataFrame, tmp: Path, fmt_: str, as_: str, **kw: Any) -> int:
        real_write(subset.iloc[:2], tmp, fmt_, as_, **kw)  # a partial file in the temp folder...
        raise OSError("disk full")  # ...then the crash

    monkeypatch.setattr(export_mod, "write_rows", write_then_fail)
    store.drop([0, 1, 2], reason="x")
    with pytest.raises(OSError, match="disk full"):
        export_dataset(ds, store, out, fmt=fmt, force=True)
    assert _tree(out.parent) == before  # no temp folder, nothing changed


def test_failed_drop_log_write_leaves_no_temp_folder(tmp_path: Path, store: CurationStore,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ds = load(_write(tmp_path, "sft.jsonl", SFT_LINES))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine\n")

    def lines_then_fail(tmp: Path, lines: Any) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            for i, line in enumerate(lines):
                if i == 2:
                    raise KeyboardInterrupt
                fh.write(line + "\n")

    store.drop([0, 1, 2, 3], reason="x")
    monkeypatch.setattr(export_mod, "write_jsonl", lines_then_fail)
    with pytest.raises(KeyboardInterrupt):
        export_dataset(ds, store, tmp_path / "out" / "clean")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


_IDS = st.sets(st.integers(min_value=0, max_value=29), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dropped=_IDS, restored=_IDS)
def test_export_is_all_minus_dropped(tmp_path: Path, dropped: set[int], restored: set[int]) -> None:
    src = tmp_path / "h.jsonl"
    if not src.exists():
        src.write_text("".join(json.dumps({"prompt": f"p{i}", "response": f"r{i}"}) + "\n" for i in range(30)))
    ds = load(src)
    lines = src.read_text().splitlines()
    with tempfile.TemporaryDirectory(dir=tmp_path) as d, CurationStore(Path(d) / "c.sqlite", user="h") as store:
        if dropped:
            store.drop(dropped, reason="h")
        if restored:
            store.restore(restored)
        kept = sorted(set(range(30)) - (dropped - restored))
        res = export_dataset(ds, store, Path(d) / "m", as_="messages")
        got = [json.loads(x)["row_id"] for f in res.files for x in Path(f).read_text().splitlines()]
        assert got == kept
        assert (res.rows_written, res.rows_dropped) == (len(kept), 30 - len(kept))
        res = export_dataset(ds, store, Path(d) / "s")
        assert [x for f in res.files for x in Path(f).read_text().splitlines()] == [lines[i] for i in kept]
        logged = [json.loads(x)["row_id"] for x in Path(res.dropped_log).read_text().splitlines()]
        assert logged == sorted(dropped - restored)


def test_scores_survive_messages_export(tmp_path: Path, store: CurationStore) -> None:
    ds = load(_write(tmp_path, "scored.jsonl", SCORED))
    out = tmp_path / "m" / "scored.jsonl"
    export_dataset(ds, store, out.parent, as_="messages")
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("score") for r in recs] == [0.5, 2.0, None, -1.0]
    assert all(not isinstance(r.get("score"), float) or not math.isnan(r["score"]) for r in recs)


def test_export_of_a_loaded_skip_mode_dataset(tmp_path: Path, store: CurationStore,
                                              write_jsonl: Callable[..., Path]) -> None:
    src = tmp_path / "skip.jsonl"
    src.write_text(SFT_LINES[0] + "\n[1]\n" + SFT_LINES[1] + "\n")
    ds = load(src, LoadOptions(skip_bad_lines=True))
    out = tmp_path / "o" / "skip.jsonl"
    export_dataset(ds, store, out.parent)
    assert out.read_text() == SFT_LINES[0] + "\n" + SFT_LINES[1] + "\n"
    assert json.loads((out.parent / "manifest.json").read_text())["source"]["skipped_lines"] == 1
