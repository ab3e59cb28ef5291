#!/usr/bin/env python3
"""Deterministic generator for the sample dataset bundled with Sift.

Writes three JSONL files in the formats Sift understands (OpenAI chat, preference pairs and Alpaca SFT)
filled with synthetic, template-built assistant-training data across eleven topics. A known, exact number
of data-quality defects is planted on purpose so the dashboard has something to find; their locations are
written to ``defects.json`` and every row's topic to ``topics.json``.

Before anything is written the script verifies its own output (defect counts, and that no two rows are
near duplicates unless that pair was planted) and exits non-zero if a check fails.

Usage::

    python sample_data/generate.py            # writes next to this file
    python sample_data/generate.py --out DIR  # writes into DIR

Standard library only; the output depends on nothing but ``--seed`` (default below). The wording and the fact
tables are data, in ``templates/`` (see ``samplegen/text.py`` for how a template reads); the code is in
``samplegen/``: ``topics`` (what each topic asks and answers), ``rows`` (rows, kept unlike each other) and
``defects`` (planting and the final checks).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from samplegen.defects import DEFECTS, Base, plant_defects, plant_duplicates, repeats_answer, verify
from samplegen.rows import CLEAN_MAX, FILES, TARGET_ROWS, Builder, main_response, prompt_of, row_text, schedule
from samplegen.text import TEMPLATES, render
from samplegen.topics import tool_call_conversation

SEED = 1729
HERE = Path(__file__).resolve().parent


def build(seed: int) -> Base:
    """All rows, file by file, with their topics and planted defects, in their final order."""
    rng = random.Random(seed)
    builder = Builder(rng)
    jobs = []
    for file in FILES:
        n = TARGET_ROWS[file] - sum(DEFECTS[k]["files"].get(file, 0) for k in ("exact_duplicate", "near_duplicate"))
        if file == "chat.jsonl":
            n -= 1  # the tool-call conversation
        jobs += [(file, t) for t in schedule(rng, n)]
    rng.shuffle(jobs)
    base: Base = {f: [] for f in FILES}
    tool = {"messages": tool_call_conversation()}
    builder.add(row_text("chat.jsonl", tool))
    builder.add_response(main_response("chat.jsonl", tool), prompt_of("chat.jsonl", tool))
    for file, topic in jobs:
        base[file].append({"data": builder.draw(file, topic), "topic": topic, "defect": None})
    base["chat.jsonl"].insert(rng.randrange(len(base["chat.jsonl"]) // 4, len(base["chat.jsonl"])),
                              {"data": tool, "topic": "travel", "defect": None, "tool": True})
    taken = plant_defects(rng, base)
    plant_duplicates(rng, base, taken)
    for r in base["chat.jsonl"]:  # follow-ups the templates answer with a copy: real defects, so declared
        if r["defect"] is None and repeats_answer(r["data"]):
            r["defect"] = ("repeated_answer", "messages")
    return base


def serialise(base: Base) -> tuple[dict[str, str], dict[str, str], dict[str, list[dict[str, Any]]]]:
    """The JSONL text of each file, the topic of every row and the defect locations."""
    files, topics, defects = {}, {}, {k: [] for k in DEFECTS}
    row_ids, rid = {}, 0
    for file in FILES:
        for r in base[file]:
            row_ids[id(r)] = rid
            rid += 1
    for file in FILES:
        files[file] = "".join(json.dumps(r["data"], ensure_ascii=False) + "\n" for r in base[file])
        for line, r in enumerate(base[file]):
            topics[f"{file}:{line}"] = r["topic"]
            if r["defect"]:
                kind, field = r["defect"]
                loc = {"file": file, "line": line, "row_id": row_ids[id(r)]}
                if "orig" in r:
                    loc["of"] = row_ids[id(r["orig"])]
                if field:
                    loc["field"] = field
                defects[kind].append(loc)
    return files, topics, defects


def readme(files: dict[str, str], topics: dict[str, str], defects: dict[str, list[dict[str, Any]]]) -> str:
    counts = {f: files[f].count("\n") for f in FILES}
    by_topic: dict[str, dict[str, int]] = {}
    for loc, topic in topics.items():
        by_topic.setdefault(topic, {x: 0 for x in FILES})[loc.split(":")[0]] += 1
    topic_rows = "\n".join(
        f"| {t} | {c['chat.jsonl']} | {c['preference.jsonl']} | {c['sft.jsonl']} | {sum(c.values())} |"
        for t, c in sorted(by_topic.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
    defect_rows = "\n".join(
        f"| `{k}` | {d['label']} | {len(defects[k])} | " + ", ".join(f"{f} ({n})" for f, n in d["files"].items())
        + " |" for k, d in DEFECTS.items())
    template = (TEMPLATES / "sample_readme.md").read_text(encoding="utf-8")
    return render(template, dict(SEED=SEED, CLEAN_MAX=CLEAN_MAX, counts=counts, total=sum(counts.values()),
                                 topic_rows=topic_rows, defect_rows=defect_rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: this folder)")
    ap.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    files, topics, defects = serialise(build(args.seed))
    errors = verify(files, topics, defects)
    if errors:
        for e in errors[:50]:
            print("FAIL:", e, file=sys.stderr)
        print(f"{len(errors)} verification errors; nothing written", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
    for name, obj in (("topics.json", topics), ("defects.json", defects)):
        (args.out / name).write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8",
                                     newline="\n")
    (args.out / "README.md").write_text(readme(files, topics, defects), encoding="utf-8", newline="\n")
    print(f"wrote {sum(t.count(chr(10)) for t in files.values())} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
