"""near_duplicate vs datasketch MinHashLSH: throughput and pair F1 on a labelled set built from ../shared/datasets.

Labelled set (deterministic, seed 1234):
* positives: GSM8K test and test_socratic, question + answer ("both" scope): 1,319 known near-duplicate pairs (same
  question; the socratic answer adds sub-questions, true word-trigram Jaccard median 0.77, 5th percentile 0.66);
* distractors to 10k rows: GSM8K train (real, same domain and style as the positives);
* distractors to 100k rows: the 10k set plus synthetic rows, each a user turn of 1-3 and an answer of 3-8 sentences
  drawn at random from a pool of every sentence of the other shared SFT sources (GSM8K train, Code Alpaca, the
  LLaMA-Factory Alpaca and C4 demos, HH-RLHF harmless test, TruthfulQA): the shared data holds ~20k distinct
  records, not 100k, so the rest are distinct-by-construction recombinations of real text.

Both methods start from the same raw texts (Sift's scope `both`) and the same word-trigram shingles, num_perm 128,
threshold 0.7. Two timings per method, each the best of `--repeats` runs:
* end to end (raw texts -> pairs): Sift is the whole check, `NearDuplicate.run` (shingling, vectorised MinHash, LSH
  tuned at 0.5 for the threshold curve, true-Jaccard verification, union-find, keep rule). datasketch's time also
  starts from the raw texts and includes its shingling, done with Sift's vectorised `shingle_sets` (the fastest
  shingler at hand: a per-row Python shingler, what a datasketch user usually writes, is slower, so this favours
  datasketch), the shingles as bytes (the decimal string of each shingle hash, what `update_batch` hashes with its
  default SHA-1), `MinHash.bulk(..., num_perm, seed)` (datasketch's documented fast path: ~2x faster than a
  `MinHash()` per row), `MinHashLSH(threshold, num_perm)` filled through `insertion_session`, then `query` per row;
  its candidates are used as they are (datasketch has no verification step);
* hashing + LSH only (shingles -> pairs): both exclude the shingling. Sift runs the same check on the precomputed
  shingle hashes (`NearDuplicate.run_from_shingles`); datasketch gets the per-row byte lists prepared beforehand.
Both methods' pairs go through the same union-find. Scoring: pairs of rows that end up in the same group vs the
labelled pairs (precision, recall, F1). The recall ceiling at 0.7 is the share of labelled pairs whose true Jaccard
is >= 0.7 (printed), the same for both.

Usage: .venv/bin/python bench/bench_dedup.py [--sizes 10000 100000] [--datasketch-max 100000] [--repeats 2]
       .venv/bin/python bench/bench_dedup.py --tiny   # 3,000 rows, one repeat: checks that it runs
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
from analysis.checks.exact_duplicate import scope_texts  # noqa: E402
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


def run_sift(rows: pd.DataFrame, shingles: tuple[np.ndarray, np.ndarray] | None = None
             ) -> tuple[float, np.ndarray, dict]:
    """The whole check from the raw rows or, given `shingles` (hashes, offsets), from the precomputed shingles
    through the check's public `run_from_shingles` (the hashing + LSH-only timing)."""
    check = NearDuplicate(NearDuplicate.Params(threshold=THRESHOLD, num_perm=NUM_PERM))
    ctx = CheckContext(rows)
    t = time.perf_counter()
    res = check.run(ctx) if shingles is None else check.run_from_shingles(ctx, *shingles)
    secs = time.perf_counter() - t
    g = res.group_id
    pos = np.flatnonzero(g >= 0)
    # group membership as pairs (each member joined to its group's first member), so the same scorer applies
    first = pd.Series(pos).groupby(g[pos]).transform("first").to_numpy()
    pairs = np.stack([first, pos], axis=1)
    return secs, pairs[pairs[:, 0] != pairs[:, 1]], res.summary


def shingle_bytes(texts: list[str]) -> list[list[bytes]]:
    """Each row's shingles as the bytes datasketch hashes: the decimal string of Sift's shingle hash."""
    hashes, offsets = shingle_sets(texts, 3)
    hl = hashes.tolist()
    return [[str(x).encode() for x in hl[offsets[i]:offsets[i + 1]]] for i in range(len(texts))]


def datasketch_lsh(data: list[list[bytes]]) -> np.ndarray:
    """datasketch's normal bulk idiom: MinHash.bulk, MinHashLSH via an insertion session, query per row."""
    from datasketch import MinHash, MinHashLSH

    sigs = MinHash.bulk(data, num_perm=NUM_PERM, seed=1)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, m in enumerate(sigs):
            if data[i]:  # a row without shingles has no MinHash
                session.insert(i, m)
    found = []
    for i, m in enumerate(sigs):
        if data[i]:
            found += [(min(i, j), max(i, j)) for j in lsh.query(m) if j != i]
    return np.array(sorted(set(found)), dtype=np.int64).reshape(-1, 2)


def run_datasketch(rows: pd.DataFrame) -> tuple[float, np.ndarray]:
    """End to end: from the rows' raw texts (the same scope as Sift's) to candidate pairs."""
    t = time.perf_counter()
    pairs = datasketch_lsh(shingle_bytes(scope_texts(CheckContext(rows), "both")))
    return time.perf_counter() - t, pairs


def best(runs: list[float]) -> str:
    return f"best {min(runs):.2f} s of " + ", ".join(f"{r:.2f}" for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--datasketch-max", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=2, help="runs per timing; the table shows the best")
    ap.add_argument("--tiny", action="store_true", help="3,000 rows (the labelled pairs need 2,638), one repeat")
    args = ap.parse_args()
    if args.tiny:
        args.sizes, args.repeats = [3_000], 1
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    lines = ["| rows | method | seconds end to end | rows/s | seconds hashing + LSH only | pairs | precision | recall "
             "| F1 |", "|---|---|---|---|---|---|---|---|---|"]
    for size in args.sizes:
        texts, labels = build_set(size)
        rows = rows_frame(texts)
        scoped = scope_texts(CheckContext(rows), "both")
        h, o = shingle_sets(scoped, 3)
        ceiling = float((true_jaccard(h, o, labels) >= THRESHOLD).mean())
        print(f"\n{size:,} rows: recall ceiling at Jaccard {THRESHOLD}: {ceiling:.3f}", flush=True)
        sh_runs = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            shingle_sets(scoped, 3)
            sh_runs.append(time.perf_counter() - t)
        print(f"  shingling alone (Sift's shingle_sets, used by both): {best(sh_runs)}", flush=True)
        runs, core_runs = [], []
        for _ in range(args.repeats):
            secs, pairs, summary = run_sift(rows)
            runs.append(secs)
            core_secs, core_pairs, _ = run_sift(rows, (h, o))
            core_runs.append(core_secs)
            assert np.array_equal(core_pairs, pairs)
        secs, core = min(runs), min(core_runs)
        s = score(grouped_pairs(size, pairs), labels)
        print(f"  sift: end to end {best(runs)}, hashing + LSH only {best(core_runs)}; {size / secs:,.0f} rows/s {s} "
              f"bands={summary['bands']}x{summary['rows_per_band']} candidates={summary['candidate_pairs']:,}",
              flush=True)
        lines.append(f"| {size:,} | Sift near_duplicate | {secs:.2f} | {size / secs:,.0f} | {core:.2f} | "
                     f"{s['pairs']:,} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |")
        if size <= args.datasketch_max:
            druns, dcore_runs = [], []
            for _ in range(args.repeats):
                dsecs, dpairs = run_datasketch(rows)
                druns.append(dsecs)
                data = shingle_bytes(scoped)  # (not alive during the end-to-end run)
                t = time.perf_counter()
                dcore_pairs = datasketch_lsh(data)
                dcore_runs.append(time.perf_counter() - t)
                del data
                assert np.array_equal(dcore_pairs, dpairs)
            dsecs, dcore = min(druns), min(dcore_runs)
            ds = score(grouped_pairs(size, dpairs), labels)
            print(f"  datasketch: end to end {best(druns)}, hashing + LSH only {best(dcore_runs)}; "
                  f"{size / dsecs:,.0f} rows/s {ds}", flush=True)
            print(f"  speed ratio end to end {dsecs / secs:.1f}x (per run: "
                  + ", ".join(f"{d / r:.1f}x" for d, r in zip(druns, runs, strict=True))
                  + f"), hashing + LSH only {dcore / core:.1f}x (per run: "
                  + ", ".join(f"{d / r:.1f}x" for d, r in zip(dcore_runs, core_runs, strict=True)) + ")", flush=True)
            lines.append(f"| {size:,} | datasketch MinHashLSH | {dsecs:.2f} | {size / dsecs:,.0f} | {dcore:.2f} | "
                         f"{ds['pairs']:,} | {ds['precision']:.3f} | {ds['recall']:.3f} | {ds['f1']:.3f} |")
            lines.append(f"| {size:,} | ratio (Sift / datasketch throughput) | | {dsecs / secs:.1f}x | "
                         f"{dcore / core:.1f}x | | | | |")
        lines.append(f"| {size:,} | shared shingling alone (in both end-to-end times) | {min(sh_runs):.2f} "
                     "| | | | | | |")
        lines.append(f"| {size:,} | recall ceiling (labelled pairs with true Jaccard >= {THRESHOLD}) | | | | | | "
                     f"{ceiling:.3f} | |")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
