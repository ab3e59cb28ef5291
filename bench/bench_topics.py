"""Topic quality, coverage-gap recovery and UMAP time, with the real MiniLM.

    .venv/bin/python bench/bench_topics.py                 # about 6-8 minutes on 2 cores
    .venv/bin/python bench/bench_topics.py --budget 120    # UMAP part capped at 2 minutes (skips what won't fit)
    .venv/bin/python bench/bench_topics.py --tiny          # NMI + coverage only, embeddings in a temp folder

1. NMI of topics vs the human labels: TruthfulQA (817 questions, 38 `Category` labels) and MT-Bench (80 questions,
   8 categories, first turn embedded), for each clusterer, next to a random assignment with the same k.
2. Coverage gap: for every TruthfulQA category with >= 20 questions, hold it and 50 sampled other questions out of
   training, use them as the reference, and report the top under-covered topic's purity (held-out rows / rows in
   the topic), the held-out share of the under-covered topics' reference rows and of the 20 farthest rows.
3. UMAP time (`space.projection.project`) on clustered random unit vectors of dim 384 at 10k and 100k rows, seeded
   (single thread, reproducible) and unseeded (all cores). Each run is in a child process after a warm-up that
   compiles numba's kernels; a run that would pass `--budget` seconds is stopped and reported as such.

Prints a markdown report; embeddings are cached under bench/data/topics_ws (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing as mp
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

SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
              ROOT.parent / "shared" / "datasets")
WS = ROOT / "bench" / "data" / "topics_ws"
log = logging.getLogger("bench_topics")


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return f"{cpu}, {os.cpu_count()} CPUs, {mem:.1f} GB RAM · {platform.platform()}"


# ------------------------------------------------------------------------------------------------ data


def truthfulqa(embedder) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    from analysis.io import LoadOptions, load
    from analysis.space.embedders import embed_rows

    ds = load(SHARED / "truthfulqa" / "TruthfulQA.csv",
              LoadOptions(mapping={"prompt": "Question", "response": "Best Answer"}))
    vectors = embed_rows(WS / "truthfulqa", ds.rows, embedder, scope="prompt")
    cats = [json.loads(s)["Category"] for s in ds.rows["source"]]
    return vectors, ds.rows["prompt"].tolist(), ds.rows["row_id"].to_numpy(), cats


def mt_bench(embedder) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    recs = [json.loads(line) for line in (SHARED / "fastchat" / "mt_bench" / "question.jsonl").read_text().splitlines()
            if line.strip()]
    texts = [r["turns"][0] for r in recs]
    cache = WS / "mt_bench_turn1.npy"
    if cache.exists() and np.load(cache).shape[0] == len(texts):
        vectors = np.load(cache)
    else:
        vectors = embedder(texts)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return vectors, texts, np.arange(len(texts)), [r["category"] for r in recs]


# ------------------------------------------------------------------------------------------------- NMI


def nmi_table(name: str, vectors: np.ndarray, texts: list[str], ids: np.ndarray, labels: list[str],
              configs: list) -> list[str]:
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from analysis.space.topics import fit_topics

    out = [f"**{name}** ({len(texts)} rows, {len(set(labels))} human categories)", "",
           "| method | params | topics | NMI | NMI of a random assignment, same k | seconds |",
           "|---|---|---:|---:|---:|---:|"]
    rng = np.random.default_rng(0)
    for p in configs:
        start = time.perf_counter()
        res = fit_topics(vectors, texts, ids, p)
        secs = time.perf_counter() - start
        k = len(res.topics)
        rand = np.mean([nmi(labels, rng.integers(0, k, len(texts))) for _ in range(5)])
        auto = "auto ({})".format(res.params["k_used"])
        detail = f"min_cluster_size={p.min_cluster_size}" if p.method == "hdbscan" else f"k={p.k or auto}"
        out.append(f"| {p.method} | {detail} | {k} | {nmi(labels, res.topic_id):.3f} | {rand:.3f} | {secs:.1f} |")
    return out


def coverage_table(vectors: np.ndarray, texts: list[str], ids: np.ndarray, cats: list[str]) -> list[str]:
    import pandas as pd

    from analysis.space.coverage import coverage_gap

    cat_arr = np.array(cats)
    tx = np.array(texts, dtype=object)
    sizes = pd.Series(cats).value_counts()
    out = ["| held-out category | rows | under-covered topics | top topic (train + ref rows) | top topic purity "
           "| held-out share of under-covered ref rows | held-out share of 20 farthest (base rate) |",
           "|---|---:|---:|---|---:|---:|---:|"]
    for cat, n in sizes[sizes >= 20].items():
        held = cat_arr == cat
        others = np.random.default_rng(0).choice(np.flatnonzero(~held), 50, replace=False)
        in_ref = held.copy()
        in_ref[others] = True
        tr, rf = np.flatnonzero(~in_ref), np.flatnonzero(in_ref)
        rep = coverage_gap(vectors[tr], tx[tr].tolist(), ids[tr], vectors[rf], tx[rf].tolist(), ids[rf])
        under = rep.under()
        far20 = held[rep.farthest["ref_row_id"].head(20).to_numpy()].mean()
        if under.empty:
            out.append(f"| {cat} | {n} | 0 | – | – | – | {far20:.2f} ({n / (n + 50):.2f}) |")
            continue
        top = under.iloc[0]
        purity = held[rf[rep.ref_topic_id == top["topic_id"]]].sum() / (top["train_rows"] + top["ref_rows"])
        in_under = held[rf[np.isin(rep.ref_topic_id, under["topic_id"])]].mean()
        out.append(f"| {cat} | {n} | {len(under)} | {top['label']} ({top['train_rows']} + {top['ref_rows']}) "
                   f"| {purity:.2f} | {in_under:.2f} | {far20:.2f} ({n / (n + 50):.2f}) |")
    return out


# ------------------------------------------------------------------------------------------------ UMAP


def clustered(n: int, dim: int = 384, k: int = 200, seed: int = 0) -> np.ndarray:
    """n unit vectors around k random centres (noise comparable to the centre spread, like sentence embeddings)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)).astype(np.float32)
    x = centres[rng.integers(0, k, n)] + rng.normal(size=(n, dim)).astype(np.float32) * 0.8
    return x / np.linalg.norm(x, axis=1, keepdims=True)


UMAP_RUNS = ((10_000, None), (10_000, 42), (100_000, None), (100_000, 42))


def _umap_child(queue: mp.Queue) -> None:
    """All timings in one process, after one warm-up per code path (numba compiles each kernel once)."""
    from analysis.space.projection import ProjectionParams, project

    warm = clustered(5_000, seed=1)  # > 4096 rows: compiles the NN-descent path too
    for seed in (None, 42):
        project(warm, ProjectionParams(seed=seed))
    queue.put({"warm": True})
    for n, seed in UMAP_RUNS:
        x = clustered(n)
        start = time.perf_counter()
        xy = project(x, ProjectionParams(seed=seed))
        queue.put({"n": n, "seed": seed, "seconds": time.perf_counter() - start, "finite": bool(np.isfinite(xy).all())})


def umap_runs(budget: float) -> list[str]:
    """Run `_umap_child` for at most `budget` seconds; a run still going then is reported as stopped."""
    import queue as queue_mod

    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_umap_child, args=(results,))
    start = time.monotonic()
    deadline = start + budget
    proc.start()
    got: dict[tuple[int, int | None], dict] = {}
    warm_s = None
    while len(got) < len(UMAP_RUNS) and time.monotonic() < deadline and (proc.is_alive() or not results.empty()):
        try:
            msg = results.get(timeout=min(5.0, max(deadline - time.monotonic(), 0.1)))
        except queue_mod.Empty:
            continue
        if msg.get("warm"):
            warm_s = time.monotonic() - start
            continue
        got[(msg["n"], msg["seed"])] = msg
        log.info("UMAP %s rows, seed %s: %.1f s", msg["n"], msg["seed"], msg["seconds"])
    stopped_at = time.monotonic()
    if proc.is_alive():
        proc.terminate()
    proc.join()
    out = [f"Warm-up (numba compilation, both code paths, 5k rows): {warm_s:.0f} s." if warm_s else
           "Warm-up did not finish.", "", "| rows | seed | PCA first | seconds |", "|---:|---|---|---:|"]
    elapsed_done: float | None = sum(m["seconds"] for m in got.values()) + (warm_s or 0.0)
    for n, seed in UMAP_RUNS:
        pca = "yes (384 → 50)" if n > 20_000 else "no"
        seed_s = "none (all cores)" if seed is None else f"{seed} (1 thread)"
        if (n, seed) in got:
            out.append(f"| {n:,} | {seed_s} | {pca} | {got[(n, seed)]['seconds']:.1f} |")
        elif elapsed_done is not None:
            ran = stopped_at - start - elapsed_done  # time spent on the run that was stopped
            out.append(f"| {n:,} | {seed_s} | {pca} | > {ran:.0f} (stopped at the budget) |")
            elapsed_done = None  # runs after the stopped one never started
        else:
            out.append(f"| {n:,} | {seed_s} | {pca} | not run (budget spent) |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=420.0, help="seconds for the UMAP timings (default 420)")
    ap.add_argument("--skip-umap", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="--skip-umap (numba's compilation alone takes ~1 min) with "
                    "the embeddings in a temporary folder (checks that the script runs)")
    args = ap.parse_args()
    if args.tiny:
        import shutil
        import tempfile

        global WS
        WS, args.skip_umap = Path(tempfile.mkdtemp(prefix="sift-bench-topics-")), True
        try:
            return run(args)
        finally:
            shutil.rmtree(WS, ignore_errors=True)
    run(args)


def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from analysis.space.embedders import load_embedder
    from analysis.space.topics import TopicParams

    started = time.perf_counter()
    embedder = load_embedder()
    report = ["## Topics, projection and coverage (bench_topics.py)", "",
              f"Machine: {machine()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", ""]
    tqa = truthfulqa(embedder)
    report += nmi_table("TruthfulQA", *tqa, [
        TopicParams(), TopicParams(k=38), TopicParams(method="agglomerative"),
        TopicParams(method="agglomerative", k=38), TopicParams(method="hdbscan"),
        TopicParams(method="hdbscan", min_cluster_size=5)]) + [""]
    report += nmi_table("MT-Bench", *mt_bench(embedder), [
        TopicParams(), TopicParams(k=8), TopicParams(method="agglomerative", k=8),
        TopicParams(method="hdbscan", min_cluster_size=5), TopicParams(method="hdbscan")]) + [""]
    report += ["**Coverage gap**, TruthfulQA, default `coverage_gap` (joint k-means topics, auto k):", ""]
    report += coverage_table(*tqa) + [""]
    if not args.skip_umap:
        report += [f"**UMAP** (`project`, n_neighbors=15, min_dist=0.1) on clustered random unit vectors, dim 384; "
                   f"budget {args.budget:.0f} s:", ""]
        report += umap_runs(args.budget) + [""]
    report.append(f"Total bench time: {time.perf_counter() - started:.0f} s.")
    sys.stdout.write("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
