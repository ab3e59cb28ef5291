"""What each selection strategy buys on TruthfulQA, and how long k-center takes at 10k / 100k rows.

    .venv/bin/python bench/bench_select.py            # ~1-2 minutes on 2 cores (first run embeds TruthfulQA)
    .venv/bin/python bench/bench_select.py --quick    # skip the 100k timing
    .venv/bin/python bench/bench_select.py --tiny     # 3 seeds, timings at 2,000 rows, embeddings in a temp folder

1. TruthfulQA (817 questions, 38 human `Category` labels), real MiniLM embeddings of the question (prompt scope),
   N=50: categories covered, k-means topics covered (auto k=20), coverage radius (max cosine distance from any
   question to its nearest selected one), mean distance to the nearest selected question, and mean nearest-neighbour
   distance among the selected. random and balanced: mean ± sd over 20 seeds; k-center: seed 0 and mean ± sd over
   20 seeds (the start point is the only random part).
2. Nested subsets 25/50%: the largest deviation of a topic's / a category's share from the full data.
3. Timings on clustered random unit vectors (dim 384): k-center k=1,000 at 10k and 100k rows, the report's coverage
   search, nested subsets and the grouped train/eval split.

Prints a markdown report; embeddings are cached under bench/data/select_ws (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.prepare.selection import (  # noqa: E402 - after the sys.path line, so `python bench/bench_select.py` works
    nested_subsets,
    select_balanced,
    select_kcenter,
    select_random,
    selection_report,
    split_train_eval,
)

SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
              ROOT.parent / "shared" / "datasets")
WS = ROOT / "bench" / "data" / "select_ws"
N, SEEDS = 50, 20


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return f"{cpu}, {os.cpu_count()} CPUs · {platform.platform()}"


def truthfulqa() -> tuple[np.ndarray, np.ndarray]:
    from analysis.io import LoadOptions, load
    from analysis.space.embedders import embed_rows, load_embedder

    ds = load(SHARED / "truthfulqa" / "TruthfulQA.csv",
              LoadOptions(mapping={"prompt": "Question", "response": "Best Answer"}))
    vectors = embed_rows(WS, ds.rows, load_embedder(), scope="prompt")
    cats = np.array([json.loads(s)["Category"] for s in ds.rows["source"]])
    return vectors, cats


def _ms(values: list[float], fmt: str = ".3f") -> str:
    return f"{np.mean(values):{fmt}} ± {np.std(values):{fmt}}"


def quality() -> list[str]:
    from analysis.space.topics import TopicParams, cluster

    vectors, cats = truthfulqa()
    topics, k = cluster(vectors, TopicParams())
    n = len(cats)
    runs: dict[str, list[np.ndarray]] = {
        "random": [select_random(n, N, s) for s in range(SEEDS)],
        "balanced (by topic)": [select_balanced(topics, N, s) for s in range(SEEDS)],
        "kcenter": [select_kcenter(vectors, N, s) for s in range(SEEDS)],
    }
    rows = [f"| strategy | categories covered (of 38) | topics covered (of {k}) | coverage radius | mean distance to "
            "nearest selected | mean NN distance among selected |", "|---|---:|---:|---:|---:|---:|"]
    full = selection_report(vectors, topics, {}).summary.iloc[0]
    rows.append(f"| full data ({n} rows) | 38 | {k} | 0 | 0 | {full['mean_nn_distance']:.3f} |")

    def line(name: str, sets: list[np.ndarray]) -> str:
        reps = [selection_report(vectors, topics, {"s": p}, include_full=False).summary.iloc[0] for p in sets]
        cat = [len(set(cats[p])) for p in sets]
        cols = [_ms(cat, ".1f"), _ms([r["topics_covered"] for r in reps], ".1f")]
        cols += [_ms([r[c] for r in reps]) for c in ("coverage_radius", "mean_coverage", "mean_nn_distance")]
        return f"| {name} | " + " | ".join(cols) + " |"

    for name, sets in runs.items():
        rows.append(line(name + f" ({SEEDS} seeds)", sets))
    rows.append(line("kcenter, seed 0", runs["kcenter"][:1]).replace(" ± 0.000", "").replace(" ± 0.0", ""))
    kc = [len(set(cats[p])) for p in runs["kcenter"]]
    rnd_mean = np.mean([len(set(cats[p])) for p in runs["random"]])
    rows.append("")
    rows.append(f"k-center beats the random mean ({rnd_mean:.1f}) on {sum(c > rnd_mean for c in kc)} of {SEEDS} "
                f"seeds; per seed: {', '.join(map(str, kc))}.")
    dev = []
    for f, pos in nested_subsets(topics, (0.25, 0.5, 1), 42).items():
        if f < 1:
            t = np.abs(np.bincount(topics[pos], minlength=k) / len(pos) - np.bincount(topics) / n).max()
            codes = np.unique(cats, return_inverse=True)[1]
            c = np.abs(np.bincount(codes[pos], minlength=38) / len(pos) - np.bincount(codes) / n).max()
            dev.append(f"{f:g}: topics {100 * t:.2f} points, categories {100 * c:.2f} points")
    rows += ["", "Nested subsets stratified by topic (seed 42), largest share deviation from the full data: "
             + "; ".join(dev) + "."]
    return rows


def clustered(n: int, d: int = 384, centres: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, d)).astype(np.float32)
    x = c[rng.integers(centres, size=n)] + 0.5 * rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timings(sizes: list[int], k: int = 1000) -> list[str]:
    rows = [f"| rows | k-center k={k:,} | coverage radius + mean distance (faiss flat) | nested 25/50/100% (200 "
            "strata) | train/eval split (10% in 2-row groups) |", "|---:|---:|---:|---:|---:|"]
    select_kcenter(clustered(2_000), 50, 0)  # warm-up: the first BLAS call pays for starting its threads (~2 s)
    for n in sizes:
        x = clustered(n)
        t = time.perf_counter()
        chosen = select_kcenter(x, k, 0)
        t_kc = time.perf_counter() - t
        t = time.perf_counter()
        selection_report(x, None, {"kcenter": chosen}, include_full=False)
        t_rep = time.perf_counter() - t
        strata = np.random.default_rng(0).integers(200, size=n)
        t = time.perf_counter()
        nested_subsets(strata, (0.25, 0.5, 1), 0)
        t_nest = time.perf_counter() - t
        groups = np.full(n, -1)
        groups[: n // 10 * 2] = np.repeat(np.arange(n // 10), 2)
        t = time.perf_counter()
        split_train_eval(n, groups, 0.1, 0)
        t_split = time.perf_counter() - t
        rows.append(f"| {n:,} | {t_kc:.1f} s | {t_rep:.2f} s | {t_nest:.3f} s | {t_split:.3f} s |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="time 10k rows only")
    ap.add_argument("--tiny", action="store_true", help="3 seeds, k-center k=100 at 2,000 rows, TruthfulQA embedded "
                    "into a temporary folder (checks that the script runs)")
    args = ap.parse_args()
    if args.tiny:
        import shutil
        import tempfile

        global WS, SEEDS
        WS, SEEDS = Path(tempfile.mkdtemp(prefix="sift-bench-select-")), 3
        try:
            out = [f"Machine: {machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (--tiny).", "", *quality(), "",
                   *timings([2_000], k=100)]
        finally:
            shutil.rmtree(WS, ignore_errors=True)
        sys.stdout.write("\n".join(out) + "\n")
        return
    out = [f"Machine: {machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", "", *quality(), "",
           *timings([10_000] if args.quick else [10_000, 100_000])]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
