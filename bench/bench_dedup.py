"""near_duplicate vs datasketch MinHashLSH: throughput and pair F1 on a labelled set built from ../shared/datasets.

Labelled set (deterministic, seed 1234):
* positives: GSM8K test and test_socratic, question + answer ("both" scope): 1,319 known near-duplicate pairs (same
  question; the socratic answer adds sub-questions, true word-trigram Jaccard median 0.77, 5th percentile 0.66);
* distractors to 10k rows: GSM8K train (real, same domain and style as the positives);
* distractors to 100k rows: the 10k set plus synthetic rows, each a user turn of 1-3 and an answer of 3-8 sentences
  drawn at random from a pool of every sentence of the other shared SFT sources (GSM8K train, Code Alpaca, the
  LLaMA-Factory Alpaca and C4 demos, HH-RLHF harmless test, TruthfulQA): the shared data holds ~20k distinct
  records, not 100k, so the rest are distinct-by-construction recombinations of real text.

Both methods see the same texts (Sift's scope `both`), the same word-trigram shingles (datasketch gets Sift's
shingle hashes' decimal strings as bytes, so shingling is identical), num_perm 128 and threshold 0.7:
* Sift: `NearDuplicate.run` (shingling, vectorised MinHash, LSH tuned at 0.5 for the threshold curve, true-Jaccard
  verification, union-find, keep rule) - the whole check;
* datasketch: `MinHash(num_perm).update_batch` per row, `MinHashLSH(threshold, num_perm).insert`, then `query` per row;
  its candidates are used as they are (datasketch has no verification step); the pairs go through the same union-find.
Scoring: pairs of rows that end up in the same group vs the labelled pairs (precision, recall, F1). The recall
ceiling at 0.7 is the share of labelled pairs whose true Jaccard is >= 0.7 (printed), the same for both.

Usage: .venv/bin/python bench/bench_dedup.py [--sizes 10000 100000] [--datasketch-max 100000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.checks import CheckContext  # noqa: E402
from analysis.checks.near_duplicate import NearDuplicate, shingle_sets, true_jaccard, union_find  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"
SEED = 1234
NUM_PERM = 128
THRESHOLD = 0.7
_SENT = re.compile(r"(?<=[.!?])\s+|\n+")


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _json(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def build_set(size: int) -> tuple[list[str], np.ndarray]:
    """(texts, labelled pairs [m, 2] of positions)."""
    test = _jsonl(SHARED / "gsm8k" / "test.jsonl")
    socratic = _jsonl(SHARED / "gsm8k" / "test_socratic.jsonl")
    train = _jsonl(SHARED / "gsm8k" / "train.jsonl")
    texts = [r["question"] + "\n" + r["answer"] for r in test] + [r["question"] + "\n" + r["answer"] for r in socratic]
    n = len(test)
    pairs = np.stack([np.arange(n), np.arange(n) + n], axis=1)
    texts += [r["question"] + "\n" + r["answer"] for r in train[:max(size - len(texts), 0)]]
    if len(texts) < size:
        rng = np.random.default_rng(SEED)
        pool: list[str] = []
        for r in train:
            pool += _SENT.split(r["question"] + "\n" + r["answer"])
        for r in _json(SHARED / "codealpaca" / "new_codealpaca.json.gz") + _json(SHARED / "codealpaca"
                                                                                  / "code_alpaca_2k.json"):
            pool += _SENT.split(" ".join(str(r.get(k) or "") for k in ("instruction", "input", "output")))
        for r in _json(SHARED / "llamafactory_demo" / "alpaca_en_demo.json"):
            pool += _SENT.split(" ".join(str(r.get(k) or "") for k in ("instruction", "input", "output")))
        for r in _jsonl(SHARED / "llamafactory_demo" / "c4_demo.jsonl"):
            pool += _SENT.split(r["text"])
        for r in _jsonl(SHARED / "hh_rlhf_harmless_test" / "harmless-base_test.jsonl.gz"):
            pool += _SENT.split(r["chosen"])
        tqa = pd.read_csv(SHARED / "truthfulqa" / "TruthfulQA.csv")
        for col in ("Question", "Best Answer", "Correct Answers", "Incorrect Answers"):
            for v in tqa[col].astype(str):
                pool += _SENT.split(v)
        pool_arr = np.array(sorted({s.strip() for s in pool if len(s.split()) >= 4}), dtype=object)
        while len(texts) < size:
            q = " ".join(pool_arr[rng.integers(0, len(pool_arr), rng.integers(1, 4))])
            a = " ".join(pool_arr[rng.integers(0, len(pool_arr), rng.integers(3, 9))])
            texts.append(q + "\n" + a)
    return texts[:size], pairs


def rows_frame(texts: list[str]) -> pd.DataFrame:
    msgs = [[{"role": "user", "content": t.split("\n", 1)[0]},
             {"role": "assistant", "content": t.split("\n", 1)[1] if "\n" in t else ""}] for t in texts]
    return pd.DataFrame({"row_id": np.arange(len(texts), dtype=np.int64), "kind": "chat", "messages": msgs,
                         "prompt": [m[0]["content"] for m in msgs], "response": [m[1]["content"] for m in msgs],
                         "rejected": None, "score": np.nan, "source": texts})


def grouped_pairs(n: int, pairs: np.ndarray) -> set[tuple[int, int]]:
    """Every pair of rows that share a union-find group."""
    if not len(pairs):
        return set()
    roots = union_find(n, pairs)
    members = np.unique(pairs.ravel())
    out: set[tuple[int, int]] = set()
    for _, grp in pd.Series(members).groupby(roots[members]):
        g = grp.to_numpy()
        out.update((int(a), int(b)) for k, a in enumerate(g) for b in g[k + 1:])
    return out


def score(found: set[tuple[int, int]], labels: np.ndarray) -> dict[str, float]:
    truth = {(int(a), int(b)) for a, b in labels}
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth)
    return {"pairs": len(found), "tp": tp, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def run_sift(rows: pd.DataFrame) -> tuple[float, np.ndarray, dict]:
    t = time.perf_counter()
    res = NearDuplicate(NearDuplicate.Params(threshold=THRESHOLD, num_perm=NUM_PERM)).run(CheckContext(rows))
    secs = time.perf_counter() - t
    g = res.group_id
    pos = np.flatnonzero(g >= 0)
    # group membership as pairs (each member joined to its group's first member), so the same scorer applies
    first = pd.Series(pos).groupby(g[pos]).transform("first").to_numpy()
    pairs = np.stack([first, pos], axis=1)
    return secs, pairs[pairs[:, 0] != pairs[:, 1]], res.summary


def run_datasketch(rows: pd.DataFrame) -> tuple[float, np.ndarray]:
    from datasketch import MinHash, MinHashLSH

    from analysis.checks.exact_duplicate import scope_texts

    t = time.perf_counter()
    texts = scope_texts(CheckContext(rows), "both")
    hashes, offsets = shingle_sets(texts, 3)  # identical shingles; datasketch hashes their bytes itself
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    sigs = []
    for i in range(len(texts)):
        sh = hashes[offsets[i]:offsets[i + 1]]
        m = MinHash(num_perm=NUM_PERM)
        if len(sh):
            m.update_batch([str(x).encode() for x in sh.tolist()])
            lsh.insert(i, m)
        sigs.append(m if len(sh) else None)
    found = []
    for i, m in enumerate(sigs):
        if m is not None:
            found += [(min(i, j), max(i, j)) for j in lsh.query(m) if j != i]
    secs = time.perf_counter() - t
    return secs, np.array(sorted(set(found)), dtype=np.int64).reshape(-1, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--datasketch-max", type=int, default=100_000)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    lines = ["| rows | method | seconds | rows/s | pairs | precision | recall | F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for size in args.sizes:
        texts, labels = build_set(size)
        rows = rows_frame(texts)
        h, o = shingle_sets(texts, 3)
        ceiling = float((true_jaccard(h, o, labels) >= THRESHOLD).mean())
        t = time.perf_counter()
        shingle_sets([str(x) for x in texts], 3)  # the shingling both methods share, timed alone
        t_sh = time.perf_counter() - t
        print(f"\n{size:,} rows: recall ceiling at Jaccard {THRESHOLD}: {ceiling:.3f}", flush=True)
        secs, pairs, summary = run_sift(rows)
        s = score(grouped_pairs(size, pairs), labels)
        print(f"  sift: {secs:.1f}s {size / secs:,.0f} rows/s {s} bands={summary['bands']}x{summary['rows_per_band']}"
              f" candidates={summary['candidate_pairs']:,}", flush=True)
        lines.append(f"| {size:,} | Sift near_duplicate | {secs:.1f} | {size / secs:,.0f} | {s['pairs']:,} | "
                     f"{s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |")
        if size <= args.datasketch_max:
            dsecs, dpairs = run_datasketch(rows)
            ds = score(grouped_pairs(size, dpairs), labels)
            print(f"  datasketch: {dsecs:.1f}s {size / dsecs:,.0f} rows/s {ds}; speed ratio {dsecs / secs:.1f}x",
                  flush=True)
            lines.append(f"| {size:,} | datasketch MinHashLSH | {dsecs:.1f} | {size / dsecs:,.0f} | {ds['pairs']:,} | "
                         f"{ds['precision']:.3f} | {ds['recall']:.3f} | {ds['f1']:.3f} |")
            lines.append(f"| {size:,} | ratio (Sift / datasketch throughput) | | {dsecs / secs:.1f}x | | | | |")
            lines.append(f"| {size:,} | ratio without the shared shingling ({t_sh:.1f} s) | | "
                         f"{(dsecs - t_sh) / max(secs - t_sh, 1e-9):.1f}x | | | | |")
        lines.append(f"| {size:,} | recall ceiling (labelled pairs with true Jaccard >= {THRESHOLD}) | | | | | "
                     f"{ceiling:.3f} | |")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
