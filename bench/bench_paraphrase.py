"""Calibrate `contamination`'s embedding paraphrase match on GSM8K (the `paraphrase` cosine).

Positives: hand-reworded GSM8K test questions (tests/data/gsm8k_test_paraphrases.json, written for Sift: same
problem, different words, so few 8-grams survive). Negatives: GSM8K train questions, which share the test set's
style and templates but not its problems. For each, the cosine to the nearest test question (packaged MiniLM).

    .venv/bin/python bench/bench_paraphrase.py [--train-rows 3000]
    .venv/bin/python bench/bench_paraphrase.py --tiny   # 50 train rows, 200 test questions + the reworded ones
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import SHARED  # noqa: E402

from analysis.checks.contamination import words  # noqa: E402
from analysis.space.embedders import load_embedder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-rows", type=int, default=3000)
    ap.add_argument("--tiny", action="store_true", help="50 train rows and 200 test questions besides the reworded "
                    "ones (checks that the script runs)")
    args = ap.parse_args()
    test, train = ([json.loads(line)["question"] for line in (SHARED / "gsm8k" / f).read_text().splitlines()]
                   for f in ("test.jsonl", "train.jsonl"))
    para = json.loads((ROOT / "tests" / "data" / "gsm8k_test_paraphrases.json").read_text())
    if args.tiny:  # keep the reworded questions' originals and 200 others; test_row indexes the kept list
        keep = sorted({p["test_row"] for p in para} | set(range(200)))
        at = {old: new for new, old in enumerate(keep)}
        test = [test[i] for i in keep]
        para = [{**p, "test_row": at[p["test_row"]]} for p in para]
        args.train_rows = 50
    train = train[:args.train_rows]
    emb = load_embedder()
    t = time.perf_counter()
    test_v, para_v, train_v = (np.asarray(emb(x)) for x in (test, [p["paraphrase"] for p in para], train))
    print(f"embedded {len(test) + len(para) + len(train):,} texts in {time.perf_counter() - t:.0f} s")
    print("| paraphrase of test row | cosine to original | nearest is the original | shared 8-grams |")
    print("|---|---|---|---|")
    sims = para_v @ test_v.T
    for p, row in zip(para, sims, strict=True):
        a, b = words(p["paraphrase"]), words(test[p["test_row"]])
        grams = {tuple(a[i:i + 8]) for i in range(len(a) - 7)} & {tuple(b[i:i + 8]) for i in range(len(b) - 7)}
        print(f"| {p['test_row']} | {row[p['test_row']]:.3f} | {row.argmax() == p['test_row']} | {len(grams)} |")
    best = (train_v @ test_v.T).max(1)
    print(f"\ntrain questions ({len(train):,}): nearest-test cosine median {np.median(best):.3f}, "
          f"p99 {np.quantile(best, 0.99):.3f}, p99.9 {np.quantile(best, 0.999):.3f}, max {best.max():.3f}")
    pos = sims[np.arange(len(para)), [p["test_row"] for p in para]]
    for th in (0.80, 0.85, 0.88, 0.90, 0.92, 0.95):
        print(f"cosine >= {th:.2f}: paraphrases caught {int((pos >= th).sum())}/{len(para)}, "
              f"train rows flagged {int((best >= th).sum())}/{len(train)}")


if __name__ == "__main__":
    main()
