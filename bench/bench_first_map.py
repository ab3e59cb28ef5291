"""The instant first map of 100k rows (issue 6): end to end in a fresh process, by stage, and what sampling costs.

    .venv/bin/python bench/bench_first_map.py            # ~3 min: the sampled (default) path + TruthfulQA NMI
    .venv/bin/python bench/bench_first_map.py --full     # + the same map fitted on every row (~3-7 min more)
    .venv/bin/python bench/bench_first_map.py --tiny     # 2,000 rows built in a temp folder, one seed: it runs
    .venv/bin/python bench/bench_first_map.py --cold-warm --sizes 10000,100000   # issue 13: cold vs warm start

`--cold-warm` (issue 13, "honest time") times what a new user waits for the first instant map of N rows (the first
N of chat_100k.jsonl), in a fresh process each: **cold** = an empty `$SIFT_HOME` and no prebuilt models
(`$SIFT_PREBUILT_MODELS` pointed at an empty folder), so the static model is distilled first, as a named step;
**warm** = an empty `$SIFT_HOME` with the models the install step builds (`--prebuilt DIR`, default the
environment's `share/sift/models`). Both include spawn, imports, the workspace open, the model load and
embed → kNN → map → topics. The 1-minute load average is recorded before and after each, since the machine is
shared. Results: a markdown table on stdout and bench/data/results_first_map_cold_<sizes>.json.

Each map is made in a child process started fresh (spawn), so numba's compilation of UMAP's kernels, the imports
and the model load are inside the time, as for a fresh app server: bench/data/chat_100k.jsonl (made by
bench_load_browse.py) opened in a temporary workspace (not timed), the `static` embedder loaded, then
`run_analysis(AnalyzeOptions(scope="both", map_sample=...))`: embed → kNN index → map → topics. The map's own log
lines give PCA / UMAP-on-the-sample / placement times.

Quality, on the same static vectors:

* map kNN@10 kept: for 2,000 random rows, the share of their 10 nearest rows by cosine that are also among their
  10 nearest on the map (and among the 30 nearest: "in 30"), for the sampled map and, with --full, the full one;
* topics: NMI between the sampled-fit k-means topics and the full-fit ones (with --full), beside the NMI of two
  full fits that differ only in the seed (how much k-means at k=60 moves by itself);
* TruthfulQA (817 questions, 38 categories): topic NMI of static vs MiniLM vectors, k-means fitted on all rows
  and on a 250-row sample (the fast path's sample-and-assign at TruthfulQA's scale), mean of 5 seeds.

Results: a markdown report on stdout and bench/data/results_first_map.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
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

from bench_embed import SHARED, machine  # noqa: E402

OUT = ROOT / "bench" / "data" / "results_first_map.json"
OUT_COLD = ROOT / "bench" / "data" / "results_first_map_cold_{sizes}.json"
DATA_100K = ROOT / "bench" / "data" / "chat_100k.jsonl"
QUERIES = 2000
NMI_SEEDS = 5


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _child(data: str, map_sample: int | None, save: str, queue: mp.Queue) -> None:
    """One first map in a fresh process; vectors, layout and topic ids saved to `save`."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    lines = _Lines()
    for name in ("analysis.space.projection", "analysis.space.topics"):
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).addHandler(lines)
    t0 = time.perf_counter()
    from analysis.space.fast_embedders import StaticEmbedder
    from analysis.space.pipeline import AnalyzeOptions, run_analysis
    from analysis.workspace.folder import Workspace

    t_imports = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_first_map_") as home:
        t = time.perf_counter()
        ws = Workspace.open(data, workspace=str(Path(home) / "ws"))
        open_s = time.perf_counter() - t
        t = time.perf_counter()
        emb = StaticEmbedder.load()
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        analysis, steps = run_analysis(ws, AnalyzeOptions(scope="both", map_sample=map_sample), embedder=emb)
        total = time.perf_counter() - t
        np.savez(save, vectors=analysis.vectors, xy=analysis.projection[["x", "y"]].to_numpy(),
                 topic_id=analysis.topics.topic_id)
        rows = len(ws.dataset.rows)
        ws.close()
    queue.put({"rows": rows, "open_s": open_s, "load_model_s": load_s, "analysis_s": total,
               "first_map_s": load_s + total, "imports_s": t_imports - t0,
               "steps": {s.name: s.seconds for s in steps},
               "fit": {s.name: s.detail.get("fit_sample") for s in steps if "fit_sample" in s.detail},
               "log": [ln for ln in lines.lines if "fitted" in ln or "topics" in ln]})


def fresh_map(map_sample: int | None, save: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(str(DATA_100K), map_sample, save, q))
    start = time.perf_counter()
    proc.start()
    out = q.get(timeout=1800)
    proc.join()
    out["process_s"] = time.perf_counter() - start  # spawn + imports + open + load + analysis
    return out


def knn_kept(vectors: np.ndarray, xy: np.ndarray, k: int = 10) -> tuple[float, float]:
    """(share of the k cosine-nearest rows among the k map-nearest, ... among the 3k map-nearest), 2,000 rows."""
    qi = np.random.default_rng(0).choice(len(vectors), min(QUERIES, len(vectors)), replace=False)
    sims = vectors[qi] @ vectors.T
    sims[np.arange(len(qi)), qi] = -np.inf
    true = np.argpartition(-sims, k, axis=1)[:, :k]
    d = ((xy[qi][:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    d[np.arange(len(qi)), qi] = np.inf
    near, wide = np.argpartition(d, k, axis=1)[:, :k], np.argpartition(d, 3 * k, axis=1)[:, :3 * k]
    a = np.mean([len(set(t) & set(g)) / k for t, g in zip(true, near, strict=True)])
    b = np.mean([len(set(t) & set(g)) / k for t, g in zip(true, wide, strict=True)])
    return float(a), float(b)


def truthfulqa_nmi() -> dict[str, dict[str, float]]:
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from analysis.io import LoadOptions, load
    from analysis.space.embedders import load_embedder
    from analysis.space.fast_embedders import StaticEmbedder
    from analysis.space.topics import TopicParams, fit_topics

    ds = load(SHARED / "truthfulqa" / "TruthfulQA.csv",
              LoadOptions(mapping={"prompt": "Question", "response": "Best Answer"}))
    texts, ids = ds.rows["prompt"].tolist(), ds.rows["row_id"].to_numpy()
    cats = [json.loads(s)["Category"] for s in ds.rows["source"]]
    out = {}
    for name, emb in (("minilm", load_embedder()), ("static", StaticEmbedder.load())):
        v = emb(texts)
        row = {}
        for key, fit in (("all", None), ("sample250", 250)):
            scores = [nmi(cats, fit_topics(v, texts, ids, TopicParams(seed=s, fit_sample=fit)).topic_id)
                      for s in range(NMI_SEEDS)]
            row[key], row[f"{key}_sd"] = float(np.mean(scores)), float(np.std(scores))
        out[name] = row
    return out


def run(full: bool) -> dict[str, Any]:
    from sklearn.metrics import normalized_mutual_info_score as nmi

    res: dict[str, Any] = {"machine": machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "load_start": [round(v, 2) for v in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="bench_first_map_out_") as tmp:
        fast_file = str(Path(tmp) / "fast.npz")
        res["fast"] = fresh_map(None, fast_file)
        logging.info("fast: %s", res["fast"])
        fast = np.load(fast_file)
        res["fast"]["knn10"], res["fast"]["knn10_in30"] = knn_kept(fast["vectors"], fast["xy"])
        res["load_after_fast"] = [round(v, 2) for v in os.getloadavg()]
        if full:
            full_file = str(Path(tmp) / "full.npz")
            res["full"] = fresh_map(0, full_file)
            logging.info("full: %s", res["full"])
            whole = np.load(full_file)
            res["full"]["knn10"], res["full"]["knn10_in30"] = knn_kept(whole["vectors"], whole["xy"])
            res["topics_nmi_fast_vs_full"] = float(nmi(whole["topic_id"], fast["topic_id"]))
            from analysis.space.topics import TopicParams, cluster

            other, _ = cluster(whole["vectors"], TopicParams(seed=43))
            res["topics_nmi_full_seed42_vs_43"] = float(nmi(whole["topic_id"], other))
    res["truthfulqa"] = truthfulqa_nmi()
    res["load_end"] = [round(v, 2) for v in os.getloadavg()]
    return res


def _stages(m: dict[str, Any]) -> str:
    return ", ".join([f"load model {m['load_model_s']:.1f} s"] + [f"{k} {s:.1f} s" for k, s in m["steps"].items()])


def report(r: dict[str, Any]) -> str:
    f = r["fast"]
    lines = [f"Machine: {r['machine']}",
             f"{r['date']} · load average at start {r['load_start']}, after the sampled map "
             f"{r['load_after_fast']}, at end {r['load_end']}", "",
             f"**Sampled (default) first map of {f['rows']:,} rows, static embedder, fresh process: "
             f"{f['first_map_s']:.0f} s** (model load + embed + index + map + topics; the process with spawn, "
             f"imports and workspace open: {f['process_s']:.0f} s). Stages: {_stages(f)}. "
             f"Fit sizes: {f['fit']}. Log: {'; '.join(f['log'])}.", ""]
    rows = [("sampled (UMAP on 10k, placed; k-means on 20k, assigned)", f)]
    if "full" in r:
        g = r["full"]
        lines += [f"**Full fit** (`--map-sample 0`), same data, fresh process: **{g['first_map_s']:.0f} s**. "
                  f"Stages: {_stages(g)}.", ""]
        rows.append(("full (UMAP and k-means on every row)", g))
    lines += ["| map | first map s | kNN@10 kept on the map | cosine top-10 within map top-30 |",
              "|---|---:|---:|---:|"]
    lines += [f"| {name} | {m['first_map_s']:.0f} | {m['knn10']:.3f} | {m['knn10_in30']:.3f} |" for name, m in rows]
    if "topics_nmi_fast_vs_full" in r:
        lines += ["", f"Topics, same static vectors: NMI(sampled-fit topics, full-fit topics) = "
                  f"{r['topics_nmi_fast_vs_full']:.3f}; two full fits with seeds 42 and 43: "
                  f"{r['topics_nmi_full_seed42_vs_43']:.3f}."]
    t = r["truthfulqa"]
    lines += ["", f"| TruthfulQA topic NMI vs 38 categories (k-means auto, mean of {NMI_SEEDS} seeds ± sd) | "
              "fit on all 817 | fit on 250, assign all |", "|---|---:|---:|"]
    for name in ("minilm", "static"):
        x = t[name]
        lines.append(f"| {name} | {x['all']:.3f} ± {x['all_sd']:.3f} | {x['sample250']:.3f} ± "
                     f"{x['sample250_sd']:.3f} |")
    return "\n".join(lines)


def _cold_child(data: str, home: str, prebuilt: str, queue: mp.Queue) -> None:
    """One first instant map on a fresh SIFT_HOME; the model prepared first when `prebuilt` lacks it."""
    t0 = time.perf_counter()
    os.environ["SIFT_HOME"] = home
    os.environ["SIFT_PREBUILT_MODELS"] = prebuilt
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from analysis.space.fast_embedders import INSTANT, StaticEmbedder, model_ready, prepare_model
    from analysis.space.pipeline import AnalyzeOptions, run_analysis
    from analysis.workspace.folder import Workspace

    out: dict[str, Any] = {"imports_s": round(time.perf_counter() - t0, 1)}
    t = time.perf_counter()
    ws = Workspace.open(data, workspace=str(Path(home) / "ws"))
    out["open_s"] = round(time.perf_counter() - t, 1)
    out["model_prebuilt"] = model_ready(INSTANT)
    t = time.perf_counter()
    prepare_model(INSTANT)  # nothing to do when prebuilt
    out["prepare_model_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    emb = StaticEmbedder.load()
    out["load_model_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    _, steps = run_analysis(ws, AnalyzeOptions(scope="both"), embedder=emb)
    out["analysis_s"] = round(time.perf_counter() - t, 1)
    out["steps"] = {s.name: s.seconds for s in steps}
    out["rows"] = len(ws.dataset.rows)
    ws.close()
    queue.put(out)


def cold_warm(sizes: list[int], prebuilt: Path, modes: tuple[str, ...] = ("cold", "warm")) -> dict[str, Any]:
    """Cold and warm first instant maps at each size (see the module docstring)."""
    from analysis.space.fast_embedders import INSTANT, find_static

    os.environ["SIFT_PREBUILT_MODELS"] = str(prebuilt)
    if find_static() is None:
        sys.exit(f"no prebuilt {INSTANT} model in {prebuilt}: run python -m analysis.space.fast_embedders --prepare "
                 f"--to {prebuilt} (or make install) first")
    res: dict[str, Any] = {"machine": machine(), "prebuilt": str(prebuilt), "runs": []}
    lines = DATA_100K.read_text().splitlines(keepends=True)
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench_first_map_cold_") as tmp:
        for n in sizes:
            data = Path(tmp) / f"chat_{n}.jsonl"
            data.write_text("".join(lines[:n]))
            for mode in modes:
                home = Path(tmp) / f"home_{n}_{mode}"
                empty = Path(tmp) / f"no_models_{n}"
                empty.mkdir(exist_ok=True)
                q: mp.Queue = ctx.Queue()
                load_before = round(os.getloadavg()[0], 2)
                date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
                start = time.perf_counter()
                proc = ctx.Process(target=_cold_child, args=(str(data), str(home), str(empty if mode == "cold"
                                                                                      else prebuilt), q))
                proc.start()
                out = q.get(timeout=7200)
                proc.join()
                out.update(mode=mode, size=n, date=date, process_s=round(time.perf_counter() - start, 1),
                           load_before=load_before, load_after=round(os.getloadavg()[0], 2))
                logging.info("%s", out)
                res["runs"].append(out)
                out_file = Path(str(OUT_COLD).format(sizes="_".join(map(str, sizes)) + "_" + "_".join(modes)))
                out_file.parent.mkdir(parents=True, exist_ok=True)
                out_file.write_text(json.dumps(res, indent=2))  # each run kept as soon as it is measured
    return res


def report_cold(r: dict[str, Any]) -> str:
    lines = [f"Machine: {r['machine']}", "",
             "| rows | start | whole first map s (fresh process) | prepare model s | load model s | embed s | kNN s | "
             "map s | topics s | imports + open s | date | load avg 1 min before → after |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for x in r["runs"]:
        st = {k.split(":")[0]: v for k, v in x["steps"].items()}
        lines.append(f"| {x['size']:,} | {x['mode']} | {x['process_s']:.0f} | {x['prepare_model_s']:.1f} | "
                     f"{x['load_model_s']:.1f} | {st.get('embed', 0):.1f} | {st.get('knn_index', 0):.1f} | "
                     f"{st.get('projection', 0):.1f} | {st.get('topics', 0):.1f} | "
                     f"{x['imports_s'] + x['open_s']:.1f} | {x['date']} | {x['load_before']} → {x['load_after']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also make the full-fit map (slow) to compare with")
    ap.add_argument("--tiny", action="store_true", help="a 2,000-row file built in a temporary folder, one NMI "
                    "seed, nothing written (checks that the script runs)")
    ap.add_argument("--cold-warm", action="store_true", help="cold (no models, empty SIFT_HOME) vs warm first maps")
    ap.add_argument("--sizes", default="10000,100000", help="--cold-warm: row counts (first N rows of chat_100k)")
    ap.add_argument("--modes", default="cold,warm", help="--cold-warm: which starts, in this order")
    ap.add_argument("--prebuilt", type=Path, default=None, help="--cold-warm: the prebuilt models folder "
                    "(default: the environment's share/sift/models)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if args.tiny:
        import shutil

        from bench_load_browse import tiny_chat_file

        global DATA_100K, NMI_SEEDS
        DATA_100K, NMI_SEEDS = tiny_chat_file(), 1
        try:
            print(report(run(args.full)))
        finally:
            shutil.rmtree(DATA_100K.parent, ignore_errors=True)
        return
    if not DATA_100K.exists():
        sys.exit(f"{DATA_100K} is missing: run bench/bench_load_browse.py first")
    if args.cold_warm:
        from analysis.space.fast_embedders import prebuilt_dir

        res = cold_warm([int(x) for x in args.sizes.split(",")], args.prebuilt or prebuilt_dir(),
                        tuple(m.strip() for m in args.modes.split(",")))
        print(report_cold(res))
        return
    if not SHARED.is_dir():
        sys.exit(f"shared datasets not found at {SHARED}")
    res = run(args.full)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    print(report(res))


if __name__ == "__main__":
    main()
