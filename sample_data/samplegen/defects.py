"""Planting the documented defects, and checking the finished files before anything is written.

Each defect is planted exactly the documented number of times (``[defects]`` in ``templates/common.toml``), each
in its own row, and must occur nowhere else: `verify` runs simple regex detectors over every row and fails the
run if one fires on an unplanted row or misses a planted one, and also rejects any unplanted near-duplicate pair.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Iterator
from typing import Any

from .rows import (
    CLEAN_MAX,
    FILES,
    NEAR_MIN,
    REJECT_AT,
    RESPONSE_REJECT_AT,
    TARGET_ROWS,
    WORD,
    Row,
    SimIndex,
    jaccard,
    main_field,
    prompt_of,
    row_text,
    shingles,
    similarity_views,
)
from .text import pick
from .topics import COMMON

DEFECTS: dict[str, dict[str, Any]] = COMMON["defects"]  # key: {label (for the README), files: {file: count}}
SYNONYMS: dict[str, str] = COMMON["synonyms"]
Base = dict[str, list[dict[str, Any]]]  # file -> rows as {"data", "topic", "defect"; "orig" for copies}

RESPONSE_END = re.compile(r"(?:[.!?]|```)\s*$")


def responses(file: str, row: Row) -> Iterator[tuple[str, str]]:
    """(field path, text) for every response-like string in a row."""
    if file == "chat.jsonl":
        for i, m in enumerate(row["messages"]):
            if m["role"] == "assistant" and isinstance(m.get("content"), str):
                yield f"messages[{i}].content", m["content"]
    elif file == "preference.jsonl":
        yield "chosen", row["chosen"]
        yield "rejected", row["rejected"]
    else:
        yield "output", row["output"]


def truncate_mid_word(rng: random.Random, text: str) -> str:
    """Cut between 50% and 80% of the way through, inside a word, so no sentence end survives by luck."""
    lo, hi = int(len(text) * 0.5), int(len(text) * 0.8)
    spots = [i for i in range(lo, hi) if text[i - 1].isalpha() and text[i].isalpha() and text[i + 1].isalpha()
             and text[i - 2].isalpha()]
    return text[: pick(rng, spots)]


def near_copy(rng: random.Random, text: str) -> str | None:
    """Change 2-3 words via SYNONYMS, plus casing/punctuation or an extra sentence."""
    words = list(re.finditer(r"\b[a-z]+\b", text))
    spots = [m for m in words if m.group(0) in SYNONYMS]
    if len(spots) < 3:
        return None
    chosen = sorted(rng.sample(spots, pick(rng, [2, 3])), key=lambda m: m.start())
    out, pos = [], 0
    for m in chosen:
        out += [text[pos:m.start()], SYNONYMS[m.group(0)]]
        pos = m.end()
    out.append(text[pos:])
    new = "".join(out)
    r = rng.random()
    if r < 0.4:
        sep = "\n\n" if new.rstrip().endswith("```") else " "
        new = new.rstrip() + sep + pick(rng, COMMON["extra_sentences"])
    elif r < 0.7:
        new = new.replace(", ", " ", 1)
    else:
        new = new[:1].swapcase() + new[1:]
    return new


def fake_openai_key(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "sk-proj-" + "".join(rng.choice(alphabet) for _ in range(40))


def fake_aws_key(rng: random.Random) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "AKIA" + "".join(rng.choice(alphabet) for _ in range(16))


def has_code(text: str) -> bool:
    return "```" in text


def word_count(text: str) -> int:
    return len(WORD.findall(text))


SIGNATURE = re.compile(r"\n([A-Z][a-z]+) ([A-Z][a-z]+)$")
GREETING = re.compile(r"(?m)^Hi ([A-Z][a-z]+),$")


def plant_defects(rng: random.Random, base: Base) -> set[tuple[str, int]]:
    """Plant the content defects, each in its own row; returns the set of (file, line) carriers.

    Every mutation is tried on a copy first and kept only if the changed row is still unlike every other
    row (shrinking a row, e.g. by emptying a turn, could otherwise turn it into an accidental near duplicate).
    """
    taken: set = set()
    limits = [REJECT_AT + 0.05] * 2 + [RESPONSE_REJECT_AT + 0.05] * 2 + [REJECT_AT + 0.05]

    def both(file, data):
        return [shingles(text, lw) for text, lw in similarity_views(file, data)]

    cache = {(f, i): both(f, r["data"]) for f in FILES for i, r in enumerate(base[f])}

    def distinct(file, i, data) -> bool:
        mine = both(file, data)
        return all(jaccard(a, b) < limit for key, theirs in cache.items() if key != (file, i)
                   for a, b, limit in zip(mine, theirs, limits, strict=True))

    def plant(file, k, kind, pred, mutate):
        cands = [i for i, r in enumerate(base[file])
                 if (file, i) not in taken and not r.get("tool") and pred(r["data"], r["topic"])]
        rng.shuffle(cands)
        for i in cands:
            if k == 0:
                break
            trial = json.loads(json.dumps(base[file][i]["data"]))
            field = mutate(trial)
            if not distinct(file, i, trial):
                continue
            base[file][i]["data"] = trial
            base[file][i]["defect"] = (kind, field)
            cache[(file, i)] = both(file, trial)
            taken.add((file, i))
            k -= 1
        if k:
            raise SystemExit(f"not enough candidate rows in {file} for {kind}")

    def main_text(file, d):
        c, k, _ = main_field(file, d)
        return c[k]

    def plain(file, d):
        t = main_text(file, d)
        return not has_code(t) and word_count(t) >= 25 and "\n\n" in t.strip()

    def first_user(d):
        return next(i for i, m in enumerate(d["messages"]) if m["role"] == "user")

    def short_chat(d):
        return len(d["messages"]) <= 3

    # template placeholders -------------------------------------------------------------------------------
    def customer_name(d):
        c, k, field = main_field("chat.jsonl", d)
        c[k] = GREETING.sub("Hi {{customer_name}},", c[k], count=1)
        return field

    def assistant_name(d):
        c, k, field = main_field("chat.jsonl", d)
        c[k] = "Hi! I'm {{assistant_name}}, your assistant from {{company_name}}.\n\n" + c[k]
        return field

    def agent_name(d):
        d["output"] = GREETING.sub("Hi {{first_name}},", d["output"], count=1)
        d["output"] = re.sub(r"Best regards,\n\w+\n", "Best regards,\n{{agent_name}}\n", d["output"])
        return "output"

    plant("chat.jsonl", 1, "template_placeholder",
          lambda d, t: t == "customer_support" and GREETING.search(main_text("chat.jsonl", d)), customer_name)
    plant("chat.jsonl", 1, "template_placeholder",
          lambda d, t: t != "customer_support" and short_chat(d) and plain("chat.jsonl", d), assistant_name)
    plant("sft.jsonl", 1, "template_placeholder",
          lambda d, t: t == "customer_support" and bool(GREETING.search(d["output"]))
          and "Best regards,\n" in d["output"], agent_name)

    # personal email addresses ----------------------------------------------------------------------------
    def email_in_chat(d):
        j = first_user(d)
        first, last = SIGNATURE.search(d["messages"][j]["content"]).groups()
        d["messages"][j]["content"] += f"\n{first.lower()}.{last.lower()}@gmail.com"
        return f"messages[{j}].content"

    def email_in_input(d):
        first, last = SIGNATURE.search(d["input"]).groups()
        d["input"] += f"\n{first.lower()}{last.lower()[0]}{rng.randrange(70, 99)}@outlook.com"
        return "input"

    plant("chat.jsonl", 1, "email_address",
          lambda d, t: t == "customer_support" and SIGNATURE.search(d["messages"][first_user(d)]["content"]),
          email_in_chat)
    plant("sft.jsonl", 1, "email_address",
          lambda d, t: t == "customer_support" and SIGNATURE.search(d["input"]), email_in_input)

    # API keys --------------------------------------------------------------------------------------------
    def openai_key(d):
        j = first_user(d)
        d["messages"][j]["content"] += ("\n\nIn case it matters, the script starts like this:\n\n```python\n"
                                        "from openai import OpenAI\n\n"
                                        f"client = OpenAI(api_key=\"{fake_openai_key(rng)}\")\n```")
        return f"messages[{j}].content"

    def aws_key(d):
        d["input"] = f"AWS_ACCESS_KEY_ID = \"{fake_aws_key(rng)}\"  # TODO: read from env\n\n" + d["input"]
        return "input"

    plant("chat.jsonl", 1, "api_key",
          lambda d, t: t == "python_programming" and "```python" in d["messages"][first_user(d)]["content"],
          openai_key)
    plant("sft.jsonl", 1, "api_key",
          lambda d, t: t == "python_programming" and d["input"].startswith(("def ", "import ")), aws_key)

    # HTML residue ----------------------------------------------------------------------------------------
    def p_tags(t):
        head, rest = t.split("\n\n", 1)
        return f"<p>{head}</p>\n\n{rest}"

    def br_tags(t):
        return "<br><br>\n".join(t.split("\n\n"))

    def div_tags(t):
        head, rest = t.split("\n\n", 1)
        return f"<div class=\"answer\">{head}</div>\n\n{rest}"

    def nbsp(t):
        return t.replace(" ", "&nbsp;", 3)

    forms = [p_tags, br_tags, div_tags, nbsp]
    rng.shuffle(forms)
    for file, k in [("chat.jsonl", 1), ("preference.jsonl", 1), ("sft.jsonl", 2)]:
        for _ in range(k):
            form = forms.pop()

            def html(d, file=file, form=form):
                c, key, field = main_field(file, d)
                c[key] = form(c[key])
                return field

            plant(file, 1, "html_residue",
                  lambda d, t, f=file: plain(f, d) and (f != "chat.jsonl" or short_chat(d)), html)

    # truncated responses ---------------------------------------------------------------------------------
    for file, k in [("chat.jsonl", 1), ("sft.jsonl", 2)]:
        def truncate(d, file=file):
            c, key, field = main_field(file, d)
            c[key] = truncate_mid_word(rng, c[key])
            return field

        plant(file, k, "truncated_response", lambda d, t, f=file: plain(f, d), truncate)

    # refusals --------------------------------------------------------------------------------------------
    harmless = ("cooking", "gardening", "math_word_problems", "home_maintenance", "astronomy", "travel")
    refusals = list(COMMON["refusals"])
    rng.shuffle(refusals)
    for file in FILES:
        text = refusals.pop()

        def refuse(d, file=file, text=text):
            c, key, field = main_field(file, d)
            c[key] = text
            return field

        plant(file, 1, "refusal",
              lambda d, t, f=file: t in harmless and (f != "chat.jsonl" or short_chat(d)), refuse)

    # empty assistant turns -------------------------------------------------------------------------------
    def empty_last(d):
        d["messages"][-1]["content"] = ""
        return f"messages[{len(d['messages']) - 1}].content"

    def empty_middle(d):
        j = next(k for k, m in enumerate(d["messages"]) if m["role"] == "assistant")
        d["messages"][j]["content"] = ""
        return f"messages[{j}].content"

    plant("chat.jsonl", 1, "empty_assistant_turn", lambda d, t: d["messages"][-1]["role"] == "assistant",
          empty_last)
    plant("chat.jsonl", 1, "empty_assistant_turn",
          lambda d, t: sum(m["role"] == "assistant" for m in d["messages"]) >= 2, empty_middle)

    # chosen == rejected ----------------------------------------------------------------------------------
    def same(d):
        d["rejected"] = d["chosen"]
        return "rejected"

    plant("preference.jsonl", 3, "chosen_equals_rejected", lambda d, t: True, same)
    return taken


def plant_duplicates(rng: random.Random, base: Base, taken: set[tuple[str, int]]) -> None:
    """Insert exact and near copies of clean rows, far from their originals."""
    for file in FILES:
        rows = base[file]
        final_n = TARGET_ROWS[file]
        early = int(len(rows) * 0.45)
        clean = [i for i in range(early) if (file, i) not in taken and not rows[i].get("tool")]
        rng.shuffle(clean)
        copies = []
        for _ in range(DEFECTS["exact_duplicate"]["files"].get(file, 0)):
            i = clean.pop()
            copies.append({"data": rows[i]["data"], "topic": rows[i]["topic"],
                           "defect": ("exact_duplicate", None), "orig": rows[i]})
        need = DEFECTS["near_duplicate"]["files"].get(file, 0)
        while need:
            i = clean.pop()
            d = rows[i]["data"]
            c, key, _ = main_field(file, d)
            if has_code(c[key]) or word_count(row_text(file, d)) < 60:
                continue
            new_text = near_copy(rng, c[key])
            if new_text is None:
                continue
            copy = json.loads(json.dumps(d))
            c2, key2, field = main_field(file, copy)
            c2[key2] = new_text
            a, b = row_text(file, d), row_text(file, copy)
            sim = min(jaccard(shingles(a), shingles(b)), jaccard(shingles(a, False), shingles(b, False)))
            if sim < NEAR_MIN + 0.05:
                continue
            copies.append({"data": copy, "topic": rows[i]["topic"], "defect": ("near_duplicate", field),
                           "orig": rows[i]})
            need -= 1
        gap = final_n // 3
        for cp in copies:
            pos = next(k for k, r in enumerate(rows) if r is cp["orig"])
            rows.insert(rng.randrange(pos + gap, len(rows) + 1), cp)


def repeats_answer(row: Row) -> bool:
    """The final assistant turn equals an earlier assistant turn."""
    answers = [m.get("content") for m in row.get("messages", []) if m["role"] == "assistant"]
    return len(answers) > 1 and bool(answers[-1]) and answers[-1] in answers[:-1]


PLACEHOLDER = re.compile(r"\{\{\s*\w+\s*\}\}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
API_KEY = re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}|\bAKIA[0-9A-Z]{16}\b")
HTML = re.compile(r"</?(?:p|div|br|span|a|b|i|u|ul|ol|li|table|tr|td|th|h[1-6]|strong|em|img|font)\b[^<>]*>"
                  r"|&(?:nbsp|amp|lt|gt|quot|apos|#\d+);", re.I)
REFUSAL = re.compile(r"\bas an ai\b|\blanguage model\b|\bsorry\b|\bi (?:cannot|can't|can not|am unable to)\b"
                     r"|\bi'm unable to\b|\bi apologi[sz]e\b", re.I)


def all_strings(obj: Any) -> Iterator[str]:
    """Every string in a row, at any depth: a detector must not miss a defect in an unusual field."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from all_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_strings(v)


def detect(file: str, row: Row) -> set[str]:
    """Regex detectors used to verify the planted counts; every row is checked with all of them."""
    text = "\n".join(all_strings(row))
    found = set()
    if PLACEHOLDER.search(text) or "{{" in text or "}}" in text:
        found.add("template_placeholder")
    if EMAIL.search(text) or "@" in text:
        found.add("email_address")
    if API_KEY.search(text):
        found.add("api_key")
    if HTML.search(text):
        found.add("html_residue")
    if REFUSAL.search(text):
        found.add("refusal")
    for _, resp in responses(file, row):
        if resp == "":
            found.add("empty_assistant_turn")
        elif not RESPONSE_END.search(resp):
            found.add("truncated_response")
    if file == "chat.jsonl":
        for m in row["messages"]:
            if m["role"] != "assistant" and not (m.get("content") or "").strip():
                found.add("empty_non_assistant_turn")
    if file == "preference.jsonl" and row["chosen"] == row["rejected"]:
        found.add("chosen_equals_rejected")
    if file == "chat.jsonl" and repeats_answer(row):
        found.add("repeated_answer")
    return found


def verify(files: dict[str, str], topics: dict[str, str], defects: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Everything wrong with the finished files (empty when they are as documented)."""
    errors = []
    rows = {}
    for file in FILES:
        text = files[file]
        if not text.endswith("\n"):
            errors.append(f"{file}: not newline-terminated")
        rows[file] = [json.loads(line) for line in text.splitlines()]
        if len(rows[file]) != TARGET_ROWS[file]:
            errors.append(f"{file}: {len(rows[file])} rows, expected {TARGET_ROWS[file]}")
    total = sum(len(v) for v in rows.values())
    if total < 1000:
        errors.append(f"only {total} rows")
    if len(topics) != total or len(set(topics.values())) < 10:
        errors.append("topics.json does not cover every row with at least 10 topics")

    planted = {}
    for kind, locs in defects.items():
        expected = DEFECTS[kind]["files"]
        for file in FILES:
            n = sum(1 for loc in locs if loc["file"] == file)
            if n != expected.get(file, 0):
                errors.append(f"{kind}: {n} planted in {file}, expected {expected.get(file, 0)}")
        for loc in locs:
            planted.setdefault((loc["file"], loc["line"]), set()).add(kind)

    # regex detectors must fire on exactly the planted rows
    content_kinds = set(DEFECTS) - {"exact_duplicate", "near_duplicate"}
    for file in FILES:
        for line, row in enumerate(rows[file]):
            found = detect(file, row)
            want = planted.get((file, line), set()) & content_kinds
            if found != want:
                errors.append(f"{file}:{line}: detectors found {sorted(found)}, planted {sorted(want)}")
        chat_tools = sum(1 for r in rows[file] if file == "chat.jsonl"
                         and any(m.get("tool_calls") for m in r["messages"]))
        if file == "chat.jsonl" and chat_tools != 1:
            errors.append(f"{chat_tools} tool-call conversations, expected 1")

    # duplicates: exact copies and similarity
    pairs = set()
    for kind in ("exact_duplicate", "near_duplicate"):
        for loc in defects[kind]:
            pairs.add((loc["of"], loc["row_id"]))
    offsets, rid = {}, 0
    for file in FILES:
        offsets[file] = rid
        rid += len(rows[file])
    for file in FILES:
        seen, seen_prompt = {}, {}
        for line, row in enumerate(rows[file]):
            r = offsets[file] + line
            p = prompt_of(file, row)
            if p in seen_prompt and (seen_prompt[p], r) not in pairs:
                errors.append(f"{file}:{line}: unplanted repeat of the prompt of row {seen_prompt[p]}")
            seen_prompt.setdefault(p, r)
            key = json.dumps(row, ensure_ascii=False, sort_keys=True)
            if key in seen and (seen[key], r) not in pairs:
                errors.append(f"{file}:{line}: unplanted exact duplicate of row {seen[key]}")
            seen.setdefault(key, r)
        for loc in defects["exact_duplicate"]:
            if loc["file"] == file:
                a, b = rows[file][loc["line"]], rows[file][loc["of"] - offsets[file]]
                if a != b or abs(loc["row_id"] - loc["of"]) < TARGET_ROWS[file] // 4:
                    errors.append(f"{file}:{loc['line']}: exact duplicate not identical or too close")

    all_rows = [(file, row) for file in FILES for row in rows[file]]
    for view in range(5):  # whole row, main response alone, prompt + response (see similarity_views)
        index = SimIndex()
        for r, (file, row) in enumerate(all_rows):
            text, lowercase = similarity_views(file, row)[view]
            sh = shingles(text, lowercase)
            for other, c in index.overlaps(sh).items():
                j = c / (len(sh) + index.sizes[other] - c)
                if (other, r) in pairs:
                    if view < 2 and j < NEAR_MIN:
                        errors.append(f"planted pair {other}-{r} has Jaccard {j:.2f} < {NEAR_MIN}")
                elif j >= CLEAN_MAX:
                    errors.append(f"view {view}: unplanted pair {other}-{r} has Jaccard {j:.2f}")
            index.add(sh)
    return errors


