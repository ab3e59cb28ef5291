"""The bundled sample dataset: reproducible, well-formed, and with exactly the documented planted defects."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
FILES = ("chat.jsonl", "preference.jsonl", "sft.jsonl")  # sorted: the order global row_ids follow
SIDE_FILES = ("topics.json", "defects.json", "README.md")
DEFECT_KEYS = {"exact_duplicate", "near_duplicate", "template_placeholder", "email_address", "api_key",
               "html_residue", "truncated_response", "refusal", "empty_assistant_turn",
               "chosen_equals_rejected", "repeated_answer"}
TABLE_ROW = re.compile(r"^\| `(?P<key>\w+)` \| .+ \| (?P<count>\d+) \| (?P<files>[^|]+) \|$")


def lines(name: str) -> list[str]:
    return (SAMPLE / name).read_text(encoding="utf-8").splitlines()


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in lines(name)]


def offsets() -> dict[str, int]:
    out, n = {}, 0
    for name in FILES:
        out[name] = n
        n += len(lines(name))
    return out


def readme_table() -> dict[str, tuple[int, dict[str, int]]]:
    table = {}
    for line in (SAMPLE / "README.md").read_text(encoding="utf-8").splitlines():
        m = TABLE_ROW.match(line)
        if m:
            per_file = {f: int(n) for f, n in re.findall(r"(\w+\.jsonl) \((\d+)\)", m["files"])}
            table[m["key"]] = (int(m["count"]), per_file)
    return table


@pytest.fixture(scope="module")
def defects() -> dict[str, list[dict]]:
    return json.loads((SAMPLE / "defects.json").read_text(encoding="utf-8"))


def words3(text: str) -> set:
    toks = re.findall(r"\w+", text.lower())
    return set(zip(toks, toks[1:], toks[2:], strict=False))


def row_text(name: str, row: dict) -> str:
    if name == "chat.jsonl":
        return "\n".join(m["content"] for m in row["messages"] if isinstance(m.get("content"), str))
    if name == "preference.jsonl":
        return "\n".join([row["prompt"], row["chosen"], row["rejected"]])
    return "\n".join([row["instruction"], row["input"], row["output"]])


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


# --- reproducibility ------------------------------------------------------------------------------------


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SAMPLE / "generate.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    for name in FILES + SIDE_FILES:
        fresh, committed = (tmp_path / name).read_bytes(), (SAMPLE / name).read_bytes()
        assert fresh == committed, f"{name} differs; rerun python sample_data/generate.py"


# --- format ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_every_line_is_a_json_object(name: str) -> None:
    raw = (SAMPLE / name).read_bytes()
    assert raw.endswith(b"\n")
    for i, line in enumerate(raw.decode("utf-8").split("\n")[:-1]):
        assert isinstance(json.loads(line), dict), f"{name}:{i}"


def test_row_counts() -> None:
    counts = {name: len(lines(name)) for name in FILES}
    assert sum(counts.values()) >= 1000
    assert counts["chat.jsonl"] >= 300 and counts["preference.jsonl"] >= 200 and counts["sft.jsonl"] >= 400
    table = (SAMPLE / "README.md").read_text(encoding="utf-8")
    for name, n in counts.items():
        assert re.search(rf"^\| `{re.escape(name)}` \|.*\| {n} \|$", table, flags=re.MULTILINE), name


def test_schemas() -> None:
    for row in rows("chat.jsonl"):
        msgs = row["messages"]
        assert msgs and {m["role"] for m in msgs} <= {"system", "user", "assistant", "tool"}
        assert msgs[-1]["role"] == "assistant"
        assert 1 <= sum(m["role"] == "user" for m in msgs) <= 4
    for row in rows("preference.jsonl"):
        assert set(row) == {"prompt", "chosen", "rejected"}
        assert all(isinstance(v, str) for v in row.values())
    for row in rows("sft.jsonl"):
        assert set(row) == {"instruction", "input", "output"}
        assert all(isinstance(v, str) for v in row.values())
    sft = rows("sft.jsonl")
    assert sum(r["input"] == "" for r in sft) > len(sft) / 2  # input is often empty


def test_exactly_one_openai_tool_call() -> None:
    with_tools = [r for r in rows("chat.jsonl") if any(m.get("tool_calls") for m in r["messages"])]
    assert len(with_tools) == 1
    msgs = with_tools[0]["messages"]
    i = next(i for i, m in enumerate(msgs) if m.get("tool_calls"))
    call = msgs[i]["tool_calls"][0]
    assert msgs[i]["role"] == "assistant" and msgs[i]["content"] is None
    assert call["id"] == "call_1" and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Lisbon"}
    assert msgs[i + 1]["role"] == "tool" and msgs[i + 1]["tool_call_id"] == "call_1"
    json.loads(msgs[i + 1]["content"])
    assert msgs[i + 2]["role"] == "assistant" and msgs[i + 2]["content"]
    with_tool_role = [r for r in rows("chat.jsonl") if any(m["role"] == "tool" for m in r["messages"])]
    assert with_tool_role == with_tools


def test_mix_of_single_and_multi_turn_chats() -> None:
    turns = Counter(sum(m["role"] == "user" for m in r["messages"]) for r in rows("chat.jsonl"))
    assert turns[1] > 100 and turns[2] + turns[3] + turns[4] > 100 and turns[4] > 0
    assert sum(r["messages"][0]["role"] == "system" for r in rows("chat.jsonl")) > 30


# --- topics ---------------------------------------------------------------------------------------------


def test_topics_cover_every_row() -> None:
    topics = json.loads((SAMPLE / "topics.json").read_text(encoding="utf-8"))
    expected = {f"{name}:{i}" for name in FILES for i in range(len(lines(name)))}
    assert set(topics) == expected
    counts = Counter(topics.values())
    assert len(counts) >= 8
    assert min(counts.values()) >= 40
    for name in FILES:  # every file mixes topics
        assert len({t for k, t in topics.items() if k.startswith(name + ":")}) >= 8


# --- planted defects ------------------------------------------------------------------------------------


def test_readme_table_matches_defects_json(defects: dict) -> None:
    table = readme_table()
    assert set(table) == set(defects) == DEFECT_KEYS
    for key, locs in defects.items():
        total, per_file = table[key]
        assert total == len(locs) == sum(per_file.values()), key
        assert dict(Counter(loc["file"] for loc in locs)) == per_file, key


def test_documented_counts(defects: dict) -> None:
    assert {k: len(v) for k, v in defects.items()} == {
        "exact_duplicate": 12, "near_duplicate": 10, "template_placeholder": 3, "email_address": 2,
        "api_key": 2, "html_residue": 4, "truncated_response": 3, "refusal": 3, "empty_assistant_turn": 2,
        "chosen_equals_rejected": 3, "repeated_answer": 5,
    }


def test_locations_are_consistent(defects: dict) -> None:
    off = offsets()
    seen = set()
    for key, locs in defects.items():
        for loc in locs:
            name, line = loc["file"], loc["line"]
            assert 0 <= line < len(lines(name))
            assert loc["row_id"] == off[name] + line
            assert (name, line) not in seen, "one defect per row"
            seen.add((name, line))
            if key in ("exact_duplicate", "near_duplicate"):
                assert off[name] <= loc["of"] < loc["row_id"], "original is earlier in the same file"


def test_exact_duplicates_are_byte_identical_and_far_apart(defects: dict) -> None:
    off = offsets()
    for loc in defects["exact_duplicate"]:
        name = loc["file"]
        assert lines(name)[loc["line"]] == lines(name)[loc["of"] - off[name]]
        assert loc["row_id"] - loc["of"] >= len(lines(name)) // 4
    # and there are no other exact duplicates
    extra = sum(n - 1 for name in FILES for n in Counter(lines(name)).values() if n > 1)
    assert extra == len(defects["exact_duplicate"])


def test_near_duplicates_are_close_to_their_originals(defects: dict) -> None:
    off = offsets()
    for loc in defects["near_duplicate"]:
        name = loc["file"]
        a = rows(name)[loc["line"]]
        b = rows(name)[loc["of"] - off[name]]
        assert a != b
        assert jaccard(words3(row_text(name, a)), words3(row_text(name, b))) >= 0.7


def main_response(name: str, row: dict) -> str:
    if name == "chat.jsonl":
        texts = [m["content"] for m in row["messages"] if m["role"] == "assistant" and m["content"]]
        return texts[-1] if texts else ""
    return row["chosen"] if name == "preference.jsonl" else row["output"]


@pytest.mark.parametrize("view", [row_text, main_response], ids=["whole_row", "main_response"])
def test_no_unplanted_near_duplicates(view, defects: dict) -> None:
    planted = {(loc["of"], loc["row_id"])
               for k in ("exact_duplicate", "near_duplicate") for loc in defects[k]}
    sets = [words3(view(name, r)) for name in FILES for r in rows(name)]  # global row_id order
    index: dict = {}
    for i, sh in enumerate(sets):
        shared = Counter(j for s in sh for j in index.get(s, ()))
        for j, c in shared.items():
            if (j, i) not in planted:
                assert c / (len(sh) + len(sets[j]) - c) < 0.5, f"rows {j} and {i}"
        for s in sh:
            index.setdefault(s, []).append(i)


# Independent, deliberately simple detectors: each must fire on exactly the planted rows.
RESPONSE_END = re.compile(r"(?:[.!?]|```)\s*$")
SIMPLE = {
    "template_placeholder": lambda name, r: "{{" in json.dumps(r, ensure_ascii=False),
    "email_address": lambda name, r: bool(re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", json.dumps(r))),
    "api_key": lambda name, r: bool(re.search(r"sk-proj-[A-Za-z0-9]{40}|AKIA[0-9A-Z]{16}", json.dumps(r))),
    "html_residue": lambda name, r: bool(re.search(r"</?(?:p|div|br)\b[^>]*>|&nbsp;", json.dumps(r))),
    "refusal": lambda name, r: bool(re.search(r"as an ai|i'm sorry|i cannot", json.dumps(r).lower())),
}


def responses(name: str, row: dict) -> list[str]:
    if name == "chat.jsonl":
        return [m["content"] for m in row["messages"]
                if m["role"] == "assistant" and m["content"] is not None]
    if name == "preference.jsonl":
        return [row["chosen"], row["rejected"]]
    return [row["output"]]


@pytest.mark.parametrize("key", [*SIMPLE, "truncated_response", "empty_assistant_turn",
                                 "chosen_equals_rejected", "repeated_answer"])
def test_simple_detectors_find_exactly_the_planted_rows(key: str, defects: dict) -> None:
    planted = {(loc["file"], loc["line"]) for loc in defects[key]}
    found = set()
    for name in FILES:
        for i, row in enumerate(rows(name)):
            if key in SIMPLE:
                hit = SIMPLE[key](name, row)
            elif key == "truncated_response":
                hit = any(t and not RESPONSE_END.search(t) for t in responses(name, row))
            elif key == "empty_assistant_turn":
                hit = any(t == "" for t in responses(name, row))
            elif key == "repeated_answer":
                answers = responses(name, row) if name == "chat.jsonl" else []
                hit = len(answers) > 1 and bool(answers[-1]) and answers[-1] in answers[:-1]
            else:
                hit = name == "preference.jsonl" and row["chosen"] == row["rejected"]
            if hit:
                found.add((name, i))
    assert found == planted
