"""Embedding throughput against plain sentence-transformers, and faiss kNN index timings, in one run.

    .venv/bin/python bench/bench_embed.py                # ~2.5-3 minutes on 2 vCPUs
    .venv/bin/python bench/bench_embed.py --texts 500 --skip-100k-hnsw   # quick smoke run
    .venv/bin/python bench/bench_embed.py --tiny   # 64 texts, kNN at 2,000 rows, results not written: it runs

Embeddings: 2,000 mixed texts from ../shared/datasets (GSM8K questions, Alpaca-demo instructions, FastChat dummy
conversation turns, HH-RLHF harmless prompts; 500 each, seeded), embedded by

* the baseline: ``SentenceTransformer(default_model_path()).encode(texts, batch_size=64)``;
* Sift: ``space.embedders.embed_rows`` through ``load_embedder()``, i.e. with the chunking, the per-chunk atomic
  ``.npy`` writes and the final array + metadata in a fresh temporary workspace.

Both models are loaded and warmed up (256 texts) before timing. The texts are split in two halves timed in ABBA
order (plain 1, Sift 1, Sift 2, plain 2) because this VM is shared and its background load drifts; each method
embeds all texts once, and the ratio is Sift's texts/s over the baseline's.

kNN: random 384-d unit vectors at 10k and 100k rows (random vectors are the worst case for HNSW, see
space/knn.py): ``KnnIndex.build`` exact and HNSW, 1,000 batched queries (k=10, the rows themselves, which is how
the kNN graph queries), one-at-a-time query latency (semantic search), save + load, and HNSW recall@10 against the
exact answer. Results: a markdown report on stdout and ``bench/data/results_embed.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
              ROOT.parent / "shared" / "datasets")
OUT = ROOT / "bench" / "data" / "results_embed.json"
SEED = 1234
DIM = 384
N_QUERIES = 1000
N_SINGLE = 20

log = logging.getLogger("bench_embed")

# ---------------------------------------------------------------------------------------------- texts


def _read_json(rel: str) -> Any:
    return json.loads((SHARED / rel).read_text(encoding="utf-8"))


def _read_jsonl(rel: str) -> list[dict[str, Any]]:
    path = SHARED / rel
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def mixed_texts(n: int) -> tuple[list[str], dict[str, int]]:
    """n texts, a quarter from each source, seeded; returns the texts and the count per source."""
    pools = {
        "gsm8k question": [r["question"] for r in _read_jsonl("gsm8k/test.jsonl")],
        "alpaca instruction": [r["instruction"] for r in _read_json("llamafactory_demo/alpaca_en_demo.json")],
        "dummy_conversation turn": [t["value"] for r in _read_json("fastchat/dummy_conversation.json")
                                    for t in r["conversations"] if t["value"].strip()],
        "hh prompt": [r["chosen"].split("\n\nAssistant:")[0].replace("\n\nHuman:", "", 1).strip()
                      for r in _read_jsonl("hh_rlhf_harmless_test/harmless-base_test.jsonl.gz")],
    }
    rng = random.Random(SEED)
    per = [n // len(pools) + (i < n % len(pools)) for i in range(len(pools))]
    texts: list[str] = []
    counts = {}
    for (name, pool), m in zip(pools.items(), per, strict=True):
        picked = rng.sample(pool, m) if m <= len(pool) else [pool[i % len(pool)] for i in range(m)]
        texts += picked
        counts[name] = len(picked)
    rng.shuffle(texts)
    return texts, counts


# ---------------------------------------------------------------------------------------------- embeddings


def bench_embeddings(texts: list[str]) -> dict[str, Any]:
    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from analysis.space.embedders import default_model_path, embed_rows, load_embedder

    warm = texts[:256]  # a spread of lengths, so neither side pays first-shape costs in its timing
    plain = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    plain.encode(warm, batch_size=64)
    embedder = load_embedder()
    embedder(warm)

    # ABBA over two halves: the VM is shared, so drift in background load hits both methods alike
    half = len(texts) // 2
    parts = [texts[:half], texts[half:]]
    base_s = ours_s = cached_s = 0.0
    base_parts: list[np.ndarray] = []
    ours_parts: list[np.ndarray] = []
    with tempfile.TemporaryDirectory(prefix="bench_embed_") as tmp:
        for method, part in (("plain", 0), ("sift", 0), ("sift", 1), ("plain", 1)):
            chunk = parts[part]
            if method == "plain":
                t0 = time.perf_counter()
                base_parts.append(plain.encode(chunk, batch_size=64))
                base_s += time.perf_counter() - t0
            else:
                ws = Path(tmp) / f"ws{part}"
                rows = pd.DataFrame({"row_id": np.arange(len(chunk), dtype=np.int64), "prompt": chunk})
                t0 = time.perf_counter()
                ours_parts.append(embed_rows(ws, rows, embedder, scope="prompt", chunk_size=512))
                ours_s += time.perf_counter() - t0
                t0 = time.perf_counter()
                embed_rows(ws, rows, embedder, scope="prompt")  # reopen: cached, no model call
                cached_s += time.perf_counter() - t0
            log.info("%s, half %d: done", method, part)
    base = np.concatenate(base_parts)
    ours = np.concatenate(ours_parts)
    base_unit = base / np.linalg.norm(base, axis=1, keepdims=True)
    return {"n": len(texts), "plain_s": base_s, "plain_tps": len(texts) / base_s, "sift_s": ours_s,
            "sift_tps": len(texts) / ours_s, "ratio": (len(texts) / ours_s) / (len(texts) / base_s),
            "cached_reopen_s": cached_s, "max_abs_diff": float(np.abs(np.asarray(ours) - base_unit).max()),
            "torch_threads": _torch_threads()}


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


# ---------------------------------------------------------------------------------------------- kNN


def _unit_vectors(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_knn(n: int, *, hnsw: bool) -> dict[str, Any]:
    from analysis.space.knn import KnnIndex, vectors_digest

    x = _unit_vectors(n, SEED + n)
    queries = x[:N_QUERIES]
    out: dict[str, Any] = {"n": n}
    digest_s, _ = _timed(lambda: vectors_digest(x))
    out["digest_s"] = digest_s
    kinds = [("exact", n + 1)] + ([("hnsw", 0)] if hnsw else [])
    exact_pos = None
    for kind, exact_max in kinds:
        build_s, index = _timed(lambda em=exact_max: KnnIndex.build(x, exact_max=em))
        index.search(queries[:10], 10)  # warm
        query_s, (pos, _) = _timed(lambda idx=index: idx.search(queries, 10))
        singles = []
        for q in queries[:N_SINGLE]:
            t, _ = _timed(lambda idx=index, q=q: idx.search(q[None, :], 10))
            singles.append(t)
        with tempfile.TemporaryDirectory(prefix="bench_knn_") as d:
            path = Path(d) / "i.faiss"
            save_s, _ = _timed(lambda idx=index, p=path: idx.save(p))
            mb = os.path.getsize(path) / 2**20
            load_s, _ = _timed(lambda p=path: KnnIndex.load(p))
        res = {"build_s": build_s, "query_1000_s": query_s, "single_query_ms": statistics.median(singles) * 1e3,
               "save_s": save_s, "load_s": load_s, "file_mb": mb,
               "graph_k15_est_s": query_s / N_QUERIES * n * 16 / 11}  # k+1=16 per row vs k=10 here
        if kind == "exact":
            exact_pos = pos
        else:
            res["recall_at_10"] = float(np.mean([len(set(a) & set(b)) / 10
                                                 for a, b in zip(exact_pos, pos, strict=True)]))
        out[kind] = res
        log.info("kNN %s n=%d: build %.2f s, 1000 queries %.2f s", kind, n, build_s, query_s)
    return out


# ---------------------------------------------------------------------------------------------- report


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    mem = next((int(ln.split()[1]) / 2**20 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0.0) if Path("/proc/meminfo").exists() else 0.0
    return f"{cpu}, {os.cpu_count()} CPUs, {mem:.1f} GB RAM · {platform.platform()}"


def report(r: dict[str, Any]) -> str:
    import faiss
    import sentence_transformers
    import torch

    e = r["embed"]
    lines = [f"Machine: {r['machine']}",
             f"Python {platform.python_version()} · torch {torch.__version__} ({e['torch_threads']} threads) · "
             f"sentence-transformers {sentence_transformers.__version__} · faiss {faiss.__version__} · {r['date']}",
             f"Load average at start {r['load_start']}, at end {r['load_end']}", "",
             f"### Embedding throughput ({e['n']:,} mixed texts: "
             + ", ".join(f"{v} {k}" for k, v in r["sources"].items()) + ")", "",
             "| method | seconds | texts/s | vs baseline |", "|---|---:|---:|---:|",
             f"| `SentenceTransformer(...).encode(texts, batch_size=64)` (baseline) | {e['plain_s']:.1f} | "
             f"{e['plain_tps']:.1f} | 1.00× |",
             f"| `embed_rows` via `load_embedder()` (chunks of 512, atomic writes) | {e['sift_s']:.1f} | "
             f"{e['sift_tps']:.1f} | {e['ratio']:.2f}× |",
             f"| `embed_rows` again, both halves (cached, no model call) | {e['cached_reopen_s']:.3f} | | |", "",
             f"Max |difference| between the two arrays (after unit-normalising the baseline): {e['max_abs_diff']:.1e}.",
             "", f"### kNN index ({DIM}-d random unit vectors; {N_QUERIES:,} batched queries with k=10; "
             f"single-query latency is the median of {N_SINGLE})", "",
             "| rows | index | build s | 1,000 queries s | 1 query ms | save s | load s | file MB | "
             "recall@10 | kNN graph k=15 (est.) s |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in r["knn"]:
        for kind in ("exact", "hnsw"):
            if kind not in k:
                continue
            x = k[kind]
            recall = f"{x['recall_at_10']:.3f}" if "recall_at_10" in x else "1 (exact)"
            label = "`IndexFlatIP`" if kind == "exact" else "`IndexHNSWFlat` M=32, efC=100, efS=128"
            lines.append(f"| {k['n']:,} | {label} | {x['build_s']:.2f} | {x['query_1000_s']:.2f} | "
                         f"{x['single_query_ms']:.2f} | {x['save_s']:.2f} | {x['load_s']:.2f} | {x['file_mb']:.0f} | "
                         f"{recall} | {x['graph_k15_est_s']:.0f} |")
    lines += ["", "Digest of the vectors (workspace cache key): "
              + ", ".join(f"{k['digest_s'] * 1e3:.0f} ms at {k['n']:,}" for k in r["knn"]) + "."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--skip-100k-hnsw", action="store_true", help="skip the ~80-110 s HNSW build at 100k")
    ap.add_argument("--skip-knn", action="store_true", help="embedding throughput only")
    ap.add_argument("--tiny", action="store_true", help="64 texts, kNN (exact and HNSW) at 2,000 rows only, "
                    "nothing written (checks that the script runs)")
    args = ap.parse_args()
    if args.tiny:
        args.texts = 64
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if not SHARED.is_dir():
        sys.exit(f"shared datasets not found at {SHARED}")
    t_start = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                               "load_start": [round(v, 2) for v in os.getloadavg()]}
    texts, results["sources"] = mixed_texts(args.texts)
    results["embed"] = bench_embeddings(texts)
    results["knn"] = ([] if args.skip_knn else [bench_knn(2_000, hnsw=True)] if args.tiny
                      else [bench_knn(10_000, hnsw=True), bench_knn(100_000, hnsw=not args.skip_100k_hnsw)])
    results["load_end"] = [round(v, 2) for v in os.getloadavg()]
    results["total_s"] = round(time.perf_counter() - t_start, 1)
    print(report(results))
    if args.tiny:
        print(f"\ntotal {results['total_s']} s (--tiny: results not written)")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    print(f"\ntotal {results['total_s']} s; results in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
