"""Turning question/answer pairs into rows of the three files, and keeping every row unlike every other.

Templates repeat themselves, so without care two rows could be near duplicates by accident, and a dedup tool run
on the sample would find more than the planted ones. Candidate rows are therefore drawn and rejected until they
are far (in word 3-gram Jaccard similarity) from everything accepted so far.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from .text import QA, chance, pick
from .topics import BUNDLES, COMMON

FILES = ("chat.jsonl", "preference.jsonl", "sft.jsonl")  # sorted order == global row_id order
TARGET_ROWS = {"chat.jsonl": 350, "preference.jsonl": 250, "sft.jsonl": 450}
Row = dict[str, Any]

# Candidate rows are rejected while generating if they look too much like an accepted row (REJECT_AT); the
# final check fails if an unplanted pair reaches CLEAN_MAX, or a planted near duplicate falls below NEAR_MIN.
REJECT_AT = 0.3
CLEAN_MAX = 0.5
NEAR_MIN = 0.7
# The main response of a row (last assistant turn, chosen, output) is also kept distinct on its own, so a tool
# that compares responses only does not find unplanted near duplicates either.
RESPONSE_REJECT_AT = 0.4
MAX_KEY_USES = 2
MAX_DRAWS = 5000  # candidate rows drawn per slot before giving up (the worst slot needs a few hundred)

# --- similarity --------------------------------------------------------------------------------------------

WORD = re.compile(r"\w+")


def row_text(file: str, row: Row) -> str:
    if file == "chat.jsonl":
        return "\n".join(m["content"] for m in row["messages"] if isinstance(m.get("content"), str))
    if file == "preference.jsonl":
        return "\n".join([row["prompt"], row["chosen"], row["rejected"]])
    return "\n".join([row["instruction"], row["input"], row["output"]])


def prompt_of(file: str, row: Row) -> str:
    """The opening request of a row: first user turn, preference prompt, or instruction plus input."""
    if file == "chat.jsonl":
        return next(m["content"] for m in row["messages"] if m["role"] == "user")
    if file == "preference.jsonl":
        return row["prompt"]
    return row["instruction"] + "\n" + row["input"]


def last_assistant(row: Row) -> int:
    return max(i for i, m in enumerate(row["messages"]) if m["role"] == "assistant" and m.get("content"))


def main_field(file: str, row: Row) -> tuple[dict[str, Any], str, str]:
    """(container, key, field path) of the response that defects are planted into."""
    if file == "chat.jsonl":
        i = last_assistant(row)
        return row["messages"][i], "content", f"messages[{i}].content"
    if file == "preference.jsonl":
        return row, "chosen", "chosen"
    return row, "output", "output"


def main_response(file: str, row: Row) -> str:
    """The final assistant turn with content (chat), chosen (preference) or output (sft)."""
    if file == "chat.jsonl":
        texts = [m["content"] for m in row["messages"] if m["role"] == "assistant" and m.get("content")]
        return texts[-1] if texts else ""
    c, k, _ = main_field(file, row)
    return c[k]


def similarity_views(file: str, row: Row) -> list[tuple[str, bool]]:
    """(text, lowercase words?) pairs that must all be free of unplanted near duplicates."""
    text, resp = row_text(file, row), main_response(file, row)
    pair = prompt_of(file, row) + "\n" + resp
    return [(text, True), (text, False), (resp, True), (resp, False), (pair, True)]


def shingles(text: str, lowercase_words: bool = True) -> frozenset[tuple[str, ...]]:
    toks = WORD.findall(text.lower()) if lowercase_words else text.split()
    return frozenset(zip(toks, toks[1:], toks[2:], strict=False))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class SimIndex:
    """Inverted index from shingle to row ids, for max-Jaccard queries."""

    def __init__(self) -> None:
        self.post: dict[tuple[str, ...], list[int]] = {}
        self.sizes: list[int] = []

    def add(self, sh: frozenset) -> int:
        rid = len(self.sizes)
        self.sizes.append(len(sh))
        for s in sh:
            self.post.setdefault(s, []).append(rid)
        return rid

    def overlaps(self, sh: frozenset) -> dict[int, int]:
        counts: dict[int, int] = {}
        for s in sh:
            for rid in self.post.get(s, ()):
                counts[rid] = counts.get(rid, 0) + 1
        return counts

    def max_sim(self, sh: frozenset) -> float:
        best = 0.0
        for rid, c in self.overlaps(sh).items():
            best = max(best, c / (len(sh) + self.sizes[rid] - c))
        return best


# --- rows --------------------------------------------------------------------------------------------------


def dress(rng: random.Random, body: str, p_open: float = 0.3, p_close: float = 0.25) -> str:
    """Sometimes open with "Sure!" or close with an offer, as assistants do (not before a lead-in of its own)."""
    parts = []
    lead_in = body.split("\n", 1)[0].rstrip().endswith(":") or body.startswith(("Sure", "Yes", "Not quite"))
    if chance(rng, p_open) and not lead_in:
        parts.append(pick(rng, COMMON["openers"]))
    parts.append(body)
    if chance(rng, p_close):
        parts.append(pick(rng, COMMON["closers"]))
    return "\n\n".join(parts)


def schedule(rng: random.Random, n: int) -> list[str]:
    """n topic names in proportion to the weights (largest remainder), shuffled."""
    names = list(COMMON["topics"])
    weights = [COMMON["topics"][t]["weight"] for t in names]
    exact = [n * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(names)), key=lambda i: -(exact[i] - counts[i]))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    out = [t for t, c in zip(names, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


class Builder:
    """Draws candidate rows for one topic at a time and keeps only those unlike everything accepted so far."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.key_uses: dict[str, int] = {}
        self.index = SimIndex()  # lowercase word 3-grams
        self.index_ws = SimIndex()  # whitespace-token 3-grams (case and punctuation kept)
        self.prompts: set[tuple[str, str]] = set()  # (file, prompt): no two rows of a file open with one prompt
        self.index_resp = SimIndex()  # main responses on their own
        self.index_resp_ws = SimIndex()
        self.index_pair = SimIndex()  # opening prompt + main response (what a prompt/response view shows)
        self.makers: dict[str, Callable[[str], tuple[Row | None, list[QA]]]] = {
            "chat.jsonl": self.chat_row, "preference.jsonl": self.preference_row, "sft.jsonl": self.sft_row}

    def draw(self, file: str, topic: str) -> Row:
        """A row for ``file`` about ``topic`` that passes `accept`."""
        for _ in range(MAX_DRAWS):
            data, qas = self.makers[file](topic)
            if data is not None and self.accept(file, data, qas):
                return data
        raise SystemExit(f"could not draw a distinct {topic} row for {file}; add more content")

    def choose_one(self, qas: list[QA]) -> QA | None:
        """A standalone QA, preferring one whose key has not been used yet."""
        fresh = [q for q in qas if q.standalone and self.key_uses.get(q.key, 0) == 0]
        pool = fresh or [q for q in qas if q.standalone and self.key_uses.get(q.key, 0) < MAX_KEY_USES]
        return pick(self.rng, pool) if pool else None

    def chat_row(self, topic: str) -> tuple[Row | None, list[QA]]:
        rng = self.rng
        qas = BUNDLES[topic](rng)
        msgs = []
        if chance(rng, 0.35):
            sys_text = COMMON["topics"][topic]["system"] if chance(rng, 0.5) else pick(rng, COMMON["generic_system"])
            msgs.append({"role": "system", "content": sys_text})
        turns = 1 if chance(rng, 0.55) else pick(rng, [2, 2, 2, 3, 3, 4])
        if turns == 1:
            qa = self.choose_one(qas)
            if qa is None:
                return None, []
            msgs += [{"role": "user", "content": qa.prompt},
                     {"role": "assistant", "content": dress(rng, qa.response)}]
            return {"messages": msgs}, [qa]
        first = qas[0]
        if self.key_uses.get(first.key, 0) >= MAX_KEY_USES:
            return None, []
        rest = [q for q in qas[1:] if self.key_uses.get(q.key, 0) < MAX_KEY_USES]
        idx = sorted(rng.sample(range(len(rest)), min(len(rest), turns - 1)))
        used = [first] + [rest[i] for i in idx]
        msgs += [{"role": "user", "content": first.prompt},
                 {"role": "assistant", "content": dress(rng, first.response)}]
        for q in used[1:]:
            msgs += [{"role": "user", "content": q.followup or q.prompt},
                     {"role": "assistant", "content": dress(rng, q.response, 0.15, 0.15)}]
        n_user = len(used)
        while n_user < turns:  # pad with "sum that up" follow-ups, or end politely
            if chance(rng, 0.5):
                msgs += [{"role": "user", "content": pick(rng, COMMON["summary_asks"])},
                         {"role": "assistant", "content": used[-1].short}]
            else:
                u, a = pick(rng, COMMON["thanks"])
                msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
                break
            n_user += 1
        return {"messages": msgs}, used

    def preference_row(self, topic: str) -> tuple[Row | None, list[QA]]:
        rng = self.rng
        qa = self.choose_one(BUNDLES[topic](rng))
        if qa is None or qa.rejected.strip() == qa.response.strip():
            return None, []
        return {"prompt": qa.prompt, "chosen": dress(rng, qa.response, 0.2, 0.15), "rejected": qa.rejected}, [qa]

    def sft_row(self, topic: str) -> tuple[Row | None, list[QA]]:
        rng = self.rng
        qa = self.choose_one(BUNDLES[topic](rng))
        if qa is None:
            return None, []
        if qa.instruction and chance(rng, 0.65):
            instruction, inp = qa.instruction, qa.input
        else:
            instruction, inp = qa.prompt, ""
        return {"instruction": instruction, "input": inp, "output": dress(rng, qa.response, 0.08, 0.08)}, [qa]

    def accept(self, file: str, row: Row, qas: list[QA]) -> bool:
        if (file, prompt_of(file, row)) in self.prompts:
            return False
        text = row_text(file, row)
        if (self.index.max_sim(shingles(text)) >= REJECT_AT
                or self.index_ws.max_sim(shingles(text, False)) >= REJECT_AT):
            return False
        if not self.add_response(main_response(file, row), prompt_of(file, row), check=True):
            return False
        self.add(text)
        self.prompts.add((file, prompt_of(file, row)))
        for q in qas:
            self.key_uses[q.key] = self.key_uses.get(q.key, 0) + 1
        return True

    def add(self, text: str) -> None:
        self.index.add(shingles(text))
        self.index_ws.add(shingles(text, False))

    def add_response(self, response: str, prompt: str, check: bool = False) -> bool:
        resp, resp_ws = shingles(response), shingles(response, False)
        pair = shingles(prompt + "\n" + response)
        if check and (self.index_resp.max_sim(resp) >= RESPONSE_REJECT_AT
                      or self.index_resp_ws.max_sim(resp_ws) >= RESPONSE_REJECT_AT
                      or self.index_pair.max_sim(pair) >= REJECT_AT):
            return False
        self.index_resp.add(resp)
        self.index_resp_ws.add(resp_ws)
        self.index_pair.add(pair)
        return True
