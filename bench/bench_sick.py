"""semantic_duplicate calibration on SICK: Spearman of MiniLM cosine vs human relatedness (1-5), and what the
0.95 threshold keeps. Run: .venv/bin/python bench/bench_sick.py (`--tiny`: the first 300 pairs, to check it runs)"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
              ROOT.parent / "shared" / "datasets")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="the first 300 pairs only (checks that the script runs)")
    args = ap.parse_args()
    from analysis.space.embedders import load_embedder

    path = SHARED / "sick" / "SICK_test_annotated.txt"
    with open(path, encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if len(r) == 5]
    rows = [r for r in rows if r[3].replace(".", "", 1).isdigit()][:300 if args.tiny else None]  # no header
    a, b = [r[1] for r in rows], [r[2] for r in rows]
    score = np.array([float(r[3]) for r in rows])
    emb = load_embedder()
    sentences = sorted(set(a) | set(b))
    t = time.perf_counter()
    vecs = emb(sentences)
    dt = time.perf_counter() - t
    index = {s: i for i, s in enumerate(sentences)}
    cos = np.einsum("ij,ij->i", vecs[[index[s] for s in a]], vecs[[index[s] for s in b]])
    rho = spearmanr(cos, score).statistic
    print(f"SICK test: {len(rows):,} pairs, {len(sentences):,} sentences embedded in {dt:.1f}s")
    print(f"Spearman(cosine, human relatedness) = {rho:.3f}\n")
    print("| cosine threshold | pairs at or above | mean relatedness | share rated >= 4.5 |")
    print("|---:|---:|---:|---:|")
    for thr in (0.8, 0.85, 0.9, 0.95, 0.98):
        m = cos >= thr
        if m.any():
            print(f"| {thr:.2f} | {int(m.sum()):,} | {score[m].mean():.2f} | {(score[m] >= 4.5).mean():.0%} |")
        else:
            print(f"| {thr:.2f} | 0 | – | – |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
