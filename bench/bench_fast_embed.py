"""Faster embeddings, measured in one run (issue 6): throughput, fidelity to fp32 MiniLM, downstream scores, memory.

    .venv/bin/python bench/bench_fast_embed.py                 # ~15-25 minutes on a busy 2-vCPU VM
    .venv/bin/python bench/bench_fast_embed.py --texts 1000 --skip-100k   # quick smoke run
    .venv/bin/python bench/bench_fast_embed.py --tiny   # 64 texts, 300 TruthfulQA rows / SICK pairs: it runs

Variants (analysis/space/fast_embedders.py), each loaded and warmed up (256 texts) before timing:

* baseline: plain ``SentenceTransformer(default_model_path()).encode(texts, batch_size=64)``;
* ``onnx``: the same MiniLM exported with ``torch.onnx.export`` (mean pooling + L2 norm in the graph), ONNX Runtime;
* ``onnx-int8``: that graph with ``quantize_dynamic(per_channel=True)`` int8 weights;
* ``onnx-int8 per-tensor``: the same with ``per_channel=False`` (to show why per-channel);
* ``static``: a model2vec model distilled locally from the packaged MiniLM (PCA to 256 dims).

Throughput: 5,000 mixed texts from ../shared/datasets (bench_embed.mixed_texts: GSM8K, Alpaca demo, FastChat dummy
turns, HH-RLHF prompts), split in halves timed in ABBA order (variants forward on half 1, reversed on half 2)
because the VM is shared. kNN@10 agreement: for each text, the share of fp32 MiniLM's 10 nearest neighbours
(cosine, self excluded) that the variant also ranks in its top 10; "in top 20": the share of fp32's top 10
inside the variant's top 20. Peak RSS: a fresh child process per variant that loads it and embeds 1,000 texts.

Downstream, each variant against the baseline's vectors: TruthfulQA topic NMI vs the 38 categories (default
k-means, and agglomerative k=38, as bench_topics.py); SICK test Spearman(cosine, relatedness) and the AUC of the
cosine for telling near-paraphrases (relatedness >= 4.5) from the other pairs; the coverage gap with each
TruthfulQA category of >= 20 questions held out (bench_topics.py's experiment): the Law row, the mean top-topic
purity and held-out share over all 15 categories, and how many categories keep the same top under-covered topic
keywords as fp32.

The first map of 100k rows: bench/data/chat_100k.jsonl (made by bench_load_browse.py) opened in a temporary
workspace and analysed with the static embedder: embed (scope "both") → kNN index → UMAP → topics, each timed,
in this process after the rest (numba compiles UMAP's kernels inside that time, as in a fresh app server).
Results: a markdown report on stdout and bench/data/results_fast_embed.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_embed import SHARED, machine, mixed_texts  # noqa: E402

OUT = ROOT / "bench" / "data" / "results_fast_embed.json"
DATA_100K = ROOT / "bench" / "data" / "chat_100k.jsonl"
VARIANTS = ("baseline", "onnx", "onnx-int8", "onnx-int8-per-tensor", "static")
LABELS = {"baseline": "`SentenceTransformer.encode` (baseline, fp32 MiniLM)", "onnx": "`onnx` (ONNX Runtime fp32)",
          "onnx-int8": "`onnx-int8` (int8, per-channel)", "onnx-int8-per-tensor": "int8, per-tensor (not offered)",
          "static": "`static` (model2vec, distilled, 256-d)"}
log = logging.getLogger("bench_fast_embed")
LIMIT: int | None = None  # --tiny: the first LIMIT TruthfulQA questions and SICK pairs only


def load_variant(name: str) -> Any:
    from analysis.space.embedders import default_model_path
    from analysis.space.fast_embedders import OnnxEmbedder, StaticEmbedder

    if name == "baseline":
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
        return lambda texts: np.asarray(model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                                     show_progress_bar=False),
                                        dtype=np.float32)
    if name == "static":
        return StaticEmbedder.load()
    quant = {"onnx": None, "onnx-int8": "int8", "onnx-int8-per-tensor": "int8-per-tensor"}[name]
    return OnnxEmbedder.load(int8=False, quantize=quant)


def _rss_child(name: str, texts: list[str], queue: mp.Queue) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    t = time.perf_counter()
    emb = load_variant(name)
    load_s = time.perf_counter() - t
    emb(texts)
    rss = _vm_hwm_mb()  # not ru_maxrss: Linux carries it across exec, so a spawned child reports its parent's
    queue.put({"name": name, "load_s": load_s, "peak_rss_mb": rss})


def _vm_hwm_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss(name: str, texts: list[str]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_rss_child, args=(name, texts, q))
    proc.start()
    out = q.get(timeout=900)
    proc.join()
    return out


def knn_agreement(ref: np.ndarray, other: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Mean |top-k(ref) ∩ top-k(other)| / k, and the share of ref's top-k inside other's top-2k (self excluded)."""
    def top(x: np.ndarray, m: int) -> np.ndarray:
        s = x @ x.T
        np.fill_diagonal(s, -np.inf)
        return np.argpartition(-s, m, axis=1)[:, :m]

    a, b, b2 = top(ref, k), top(other, k), top(other, 2 * k)
    agree = np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)])
    inside = np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b2, strict=True)])
    return float(agree), float(inside)


# ------------------------------------------------------------------------------------------------ downstream


def truthfulqa_data() -> tuple[list[str], np.ndarray, list[str]]:
    from analysis.io import LoadOptions, load

    ds = load(SHARED / "truthfulqa" / "TruthfulQA.csv",
              LoadOptions(mapping={"prompt": "Question", "response": "Best Answer"}))
    rows = ds.rows.head(LIMIT) if LIMIT else ds.rows
    return rows["prompt"].tolist(), rows["row_id"].to_numpy(), [json.loads(s)["Category"] for s in rows["source"]]


def topic_nmi(vectors: np.ndarray, texts: list[str], ids: np.ndarray, cats: list[str]) -> dict[str, float]:
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from analysis.space.topics import TopicParams, fit_topics

    out = {}
    for key, params in (("kmeans", TopicParams()), ("agglo38", TopicParams(method="agglomerative", k=38))):
        out[key] = float(nmi(cats, fit_topics(vectors, texts, ids, params).topic_id))
    # k-means alone moves by ~0.01 between seeds: the mean over 5 seeds separates the embedding from the seed
    seeds = [float(nmi(cats, fit_topics(vectors, texts, ids, TopicParams(seed=s)).topic_id)) for s in range(5)]
    out["kmeans5"], out["kmeans5_sd"] = float(np.mean(seeds)), float(np.std(seeds))
    return out


def coverage(vectors: np.ndarray, texts: list[str], ids: np.ndarray, cats: list[str]) -> dict[str, Any]:
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from analysis.space.coverage import coverage_gap

    cat_arr, tx = np.array(cats), np.array(texts, dtype=object)
    sizes = pd.Series(cats).value_counts()
    rows = {}
    for cat, _n in sizes[sizes >= 20].items():
        held = cat_arr == cat
        others = np.random.default_rng(0).choice(np.flatnonzero(~held), 50, replace=False)
        in_ref = held.copy()
        in_ref[others] = True
        tr, rf = np.flatnonzero(~in_ref), np.flatnonzero(in_ref)
        rep = coverage_gap(vectors[tr], tx[tr].tolist(), ids[tr], vectors[rf], tx[rf].tolist(), ids[rf])
        under = rep.under()
        far20 = float(held[rep.farthest["ref_row_id"].head(20).to_numpy()].mean())
        # the "collect next" ranking: reference rows by distance to their nearest training row; its AUC for
        # putting the held-out category above the 50 unseen in-distribution rows
        novelty = 1.0 - (vectors[rf] @ vectors[tr].T).max(axis=1)
        auc = float(roc_auc_score(held[rf], novelty))
        if under.empty:
            rows[cat] = {"purity": 0.0, "in_under": 0.0, "far20": far20, "auc": auc, "label": ""}
            continue
        top = under.iloc[0]
        purity = held[rf[rep.ref_topic_id == top["topic_id"]]].sum() / (top["train_rows"] + top["ref_rows"])
        in_under = held[rf[np.isin(rep.ref_topic_id, under["topic_id"])]].mean()
        rows[cat] = {"purity": float(purity), "in_under": float(in_under), "far20": far20, "auc": auc,
                     "label": str(top["label"])}
    return rows


def sick_data() -> tuple[list[str], list[str], np.ndarray]:
    with open(SHARED / "sick" / "SICK_test_annotated.txt", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if len(r) == 5]
    rows = [r for r in rows if r[3].replace(".", "", 1).isdigit()][:LIMIT]  # drop the header
    return [r[1] for r in rows], [r[2] for r in rows], np.array([float(r[3]) for r in rows])


def sick_scores(emb: Any, a: list[str], b: list[str], score: np.ndarray) -> dict[str, float]:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    sentences = sorted(set(a) | set(b))
    vecs = emb(sentences)
    index = {s: i for i, s in enumerate(sentences)}
    cos = np.einsum("ij,ij->i", vecs[[index[s] for s in a]], vecs[[index[s] for s in b]])
    return {"spearman": float(spearmanr(cos, score).statistic), "auc": float(roc_auc_score(score >= 4.5, cos))}


# ------------------------------------------------------------------------------------------------ 100k map


def first_map_100k(sample_n: int, plain_emb: Any, int8_emb: Any) -> dict[str, Any]:
    """Static embedder end to end on 100k rows, and the measured rate of the others on a sample of the same texts."""
    from analysis.space.embedders import scope_texts
    from analysis.space.fast_embedders import StaticEmbedder
    from analysis.space.pipeline import AnalyzeOptions, run_analysis
    from analysis.workspace.folder import Workspace

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench_fast_100k_") as home:
        t = time.perf_counter()
        ws = Workspace.open(str(DATA_100K), workspace=str(Path(home) / "ws"))
        out["open_s"] = time.perf_counter() - t
        texts = scope_texts(ws.dataset.rows, "both")
        sample = [texts[i] for i in np.random.default_rng(0).choice(len(texts), sample_n, replace=False)]
        for key, emb in (("plain", plain_emb), ("onnx-int8", int8_emb)):
            t = time.perf_counter()
            emb(sample)
            out[f"{key}_sample_tps"] = sample_n / (time.perf_counter() - t)
        static = StaticEmbedder.load()
        t = time.perf_counter()
        _analysis, steps = run_analysis(ws, AnalyzeOptions(scope="both"), embedder=static)
        out["analysis_s"] = time.perf_counter() - t
        out["steps"] = {s.name: s.seconds for s in steps}
        out["rows"] = len(ws.dataset.rows)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ws.close()
    return out


# ------------------------------------------------------------------------------------------------ main


def run(n_texts: int, skip_100k: bool, skip_rss: bool) -> dict[str, Any]:
    res: dict[str, Any] = {"machine": machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "load_start": [round(v, 2) for v in os.getloadavg()]}
    texts, res["sources"] = mixed_texts(n_texts)
    from tokenizers import Tokenizer

    from analysis.space.embedders import default_model_path

    tok = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tok.no_padding()  # the file pads to 128 by default
    lens = [len(e.ids) for e in tok.encode_batch(texts)]
    res["tokens_median"], res["tokens_mean"] = float(np.median(lens)), float(np.mean(lens))
    models = {}
    for name in VARIANTS:
        t = time.perf_counter()
        models[name] = load_variant(name)
        res.setdefault("first_load_s", {})[name] = time.perf_counter() - t  # includes export/distill if not cached
        models[name](texts[:256])
        log.info("loaded %s", name)
    half = len(texts) // 2
    parts = [texts[:half], texts[half:]]
    secs = dict.fromkeys(VARIANTS, 0.0)
    vecs: dict[str, list[np.ndarray]] = {v: [None, None] for v in VARIANTS}  # type: ignore[misc]
    for part, order in ((0, VARIANTS), (1, VARIANTS[::-1])):
        for name in order:
            t = time.perf_counter()
            vecs[name][part] = models[name](parts[part])
            secs[name] += time.perf_counter() - t
            log.info("%s half %d: %.1f s", name, part, secs[name])
    full = {v: np.concatenate(vecs[v]) for v in VARIANTS}
    ref = full["baseline"]
    res["variants"] = {}
    for name in VARIANTS:
        agree, inside = knn_agreement(ref, full[name])
        v = full[name]
        res["variants"][name] = {"seconds": secs[name], "tps": len(texts) / secs[name],
                                 "ratio": secs["baseline"] / secs[name], "knn10": agree, "top10_in_top20": inside,
                                 "dim": int(v.shape[1]),
                                 "mean_cos_to_fp32": float(np.mean(np.sum(v * ref, 1))) if v.shape[1] == 384
                                 else None}
    res["load_mid"] = [round(v, 2) for v in os.getloadavg()]
    tqa_texts, tqa_ids, cats = truthfulqa_data()
    sa, sb, sscore = sick_data()
    for name in VARIANTS:
        r = res["variants"][name]
        t = time.perf_counter()
        tv = models[name](tqa_texts)
        r["nmi"] = topic_nmi(tv, tqa_texts, tqa_ids, cats)
        r["coverage"] = coverage(tv, tqa_texts, tqa_ids, cats)
        r["sick"] = sick_scores(models[name], sa, sb, sscore)
        log.info("downstream %s: %.0f s", name, time.perf_counter() - t)
    if not skip_rss:
        for name in VARIANTS:
            res["variants"][name].update({k: v for k, v in peak_rss(name, texts[:1000]).items() if k != "name"})
            log.info("rss %s: %.0f MB", name, res["variants"][name]["peak_rss_mb"])
    if not skip_100k and DATA_100K.exists():
        res["map_100k"] = first_map_100k(500, models["baseline"], models["onnx-int8"])
        log.info("100k: %s", res["map_100k"])
    res["load_end"] = [round(v, 2) for v in os.getloadavg()]
    return res


def report(r: dict[str, Any]) -> str:
    import onnxruntime
    import torch

    v = r["variants"]
    base = v["baseline"]
    lines = [f"Machine: {r['machine']}",
             f"{r['date']} · torch {torch.__version__} · onnxruntime {onnxruntime.__version__} · load average at "
             f"start {r['load_start']}, after throughput {r['load_mid']}, at end {r['load_end']}", "",
             f"**Throughput and fidelity** ({sum(r['sources'].values()):,} mixed texts, median "
             f"{r['tokens_median']:.0f} tokens, mean {r['tokens_mean']:.0f}; ABBA halves; kNN vs fp32 MiniLM):", "",
             "| variant | dim | texts/s | vs baseline | kNN@10 agreement | fp32 top-10 in its top-20 | "
             "mean cosine to fp32 | peak RSS MB (load + 1,000 texts) | first load s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in VARIANTS:
        x = v[name]
        cos = f"{x['mean_cos_to_fp32']:.4f}" if x["mean_cos_to_fp32"] is not None else "–"
        rss = f"{x['peak_rss_mb']:.0f}" if "peak_rss_mb" in x else "–"
        lines.append(f"| {LABELS[name]} | {x['dim']} | {x['tps']:.0f} | {x['ratio']:.2f}× | {x['knn10']:.3f} | "
                     f"{x['top10_in_top20']:.3f} | {cos} | {rss} | {r['first_load_s'][name]:.1f} |")
    lines += ["", "**Downstream** (difference to the baseline in brackets; the issue's bound for the accurate path "
              "is 0.01):", "",
              "| variant | TruthfulQA NMI, k-means auto (seed 42) | NMI, k-means, mean of 5 seeds (sd) | "
              "NMI, agglomerative k=38 | SICK Spearman | SICK AUC (relatedness >= 4.5) | coverage ranking AUC, "
              "mean of 15 held-out categories | coverage ranking AUC, Law | Law: top-topic purity / held-out "
              "share of under-covered | 15 categories: mean purity / held-out share / share of 20 farthest | "
              "same top gap topic label as fp32 |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def d(x: float, b: float) -> str:
        return f"{x:.3f} ({x - b:+.3f})"

    for name in VARIANTS:
        x = v[name]
        cov, bcov = x["coverage"], base["coverage"]
        mp_, bmp = np.mean([c["purity"] for c in cov.values()]), np.mean([c["purity"] for c in bcov.values()])
        mi, bmi = np.mean([c["in_under"] for c in cov.values()]), np.mean([c["in_under"] for c in bcov.values()])
        same = sum(cov[c]["label"] == bcov[c]["label"] for c in cov)
        mf, bmf = np.mean([c["far20"] for c in cov.values()]), np.mean([c["far20"] for c in bcov.values()])
        ma, bma = np.mean([c["auc"] for c in cov.values()]), np.mean([c["auc"] for c in bcov.values()])
        law, blaw = cov.get("Law", {}), bcov.get("Law", {})
        lines.append(f"| {LABELS[name]} | {d(x['nmi']['kmeans'], base['nmi']['kmeans'])} | "
                     f"{d(x['nmi']['kmeans5'], base['nmi']['kmeans5'])} ±{x['nmi']['kmeans5_sd']:.3f} | "
                     f"{d(x['nmi']['agglo38'], base['nmi']['agglo38'])} | "
                     f"{d(x['sick']['spearman'], base['sick']['spearman'])} | "
                     f"{d(x['sick']['auc'], base['sick']['auc'])} | {d(ma, bma)} | "
                     f"{d(law.get('auc', 0), blaw.get('auc', 0))} | "
                     f"{law.get('purity', 0):.2f} / {law.get('in_under', 0):.2f} "
                     f"({law.get('purity', 0) - blaw.get('purity', 0):+.2f} / "
                     f"{law.get('in_under', 0) - blaw.get('in_under', 0):+.2f}) | "
                     f"{mp_:.2f} / {mi:.2f} / {mf:.2f} ({mp_ - bmp:+.2f} / {mi - bmi:+.2f} / {mf - bmf:+.2f}) | "
                     f"{same} of {len(cov)} |")
    m = r.get("map_100k")
    if m:
        emb_umap = m["steps"].get("embed:both", 0.0) + m["steps"].get("projection:both", 0.0)
        lines += ["", f"**First map of {m['rows']:,} rows** (bench/data/chat_100k.jsonl, scope both, static "
                  f"embedder; workspace open {m['open_s']:.0f} s, not counted): "
                  + ", ".join(f"{k} {s:.1f} s" for k, s in m["steps"].items())
                  + f"; **total {m['analysis_s']:.0f} s** (embed + UMAP {emb_umap:.0f} s), "
                  f"peak RSS {m['peak_rss_mb']:.0f} MB. On 500 of the same texts the baseline embeds "
                  f"{m['plain_sample_tps']:.0f} texts/s (100k ≈ {m['rows'] / m['plain_sample_tps'] / 60:.0f} min) and "
                  f"onnx-int8 {m['onnx-int8_sample_tps']:.0f} texts/s "
                  f"(≈ {m['rows'] / m['onnx-int8_sample_tps'] / 60:.0f} min)."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=5000)
    ap.add_argument("--skip-100k", action="store_true")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--rss-only", action="store_true", help="only the peak-RSS children, merged into the last "
                    "results file")
    ap.add_argument("--tiny", action="store_true", help="64 texts, the first 300 TruthfulQA questions and SICK "
                    "pairs, no RSS children, no 100k map, nothing written (checks that the script runs)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)  # onnxruntime's quantiser logs every tensor at INFO on the root logger
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not SHARED.is_dir():
        sys.exit(f"shared datasets not found at {SHARED}")
    t = time.perf_counter()
    if args.rss_only:
        res = json.loads(OUT.read_text())
        texts, _ = mixed_texts(args.texts)
        for name in VARIANTS:
            res["variants"][name].update({k: v for k, v in peak_rss(name, texts[:1000]).items() if k != "name"})
        res["rss_rerun"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        OUT.write_text(json.dumps(res, indent=2))
        print(report(res))
        return
    if args.tiny:
        global LIMIT
        LIMIT = 300
        res = run(64, True, True)
        print(report(res))
        print(f"\ntotal {time.perf_counter() - t:.1f} s (--tiny: results not written)")
        return
    res = run(args.texts, args.skip_100k, args.skip_rss)
    res["total_s"] = round(time.perf_counter() - t, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    print(report(res))
    print(f"\ntotal {res['total_s']} s; results in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
