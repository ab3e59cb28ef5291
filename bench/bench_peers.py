"""Sift side by side with the peers a user would pick instead, one command, one run (issue 16).

    .venv/bin/python bench/bench_peers.py                  # 10k rows (~a few minutes on 2 busy cores)
    .venv/bin/python bench/bench_peers.py --sizes 100000   # the README figures
    .venv/bin/python bench/bench_peers.py --tiny           # 3,000 rows: checks that it runs
    make bench-peers                                       # installs the peers (.[bench]) and runs the default

The peers are bench-only extras (`pip install -e '.[bench]'`: rensa, semhash, datasketch), never runtime
dependencies; a peer that is not installed is reported as such and its rows are left out.

Data: bench_dedup.py's labelled set (GSM8K test questions + answers paired with their socratic versions, 1,319
known near-duplicate pairs, then GSM8K train and recombined sentences of the other shared sets up to the size),
written once to a temporary folder as OpenAI chat JSONL (one user + one assistant turn per row).

Every method runs in its own fresh child process, which reads its input, imports what it needs and then times its
work; the table shows that work time and the child's peak RSS (VmHWM: the whole process, interpreter and imports
included, so both sides pay the same fixed costs). "ratio" is the peer's time over Sift's (above 1: Sift is faster)
and Sift's peak RSS over the peer's (above 1: Sift uses more memory). The 1-minute load average is read before and
after each child: on a shared machine figures move with the load, so compare ratios from the same run.

1. **Near-duplicate MinHash**, threshold 0.7 (true Jaccard of word-trigram shingle sets), num_perm 128, from the
   rows' raw texts (scope "both") to duplicate pairs, F1 against the labelled pairs (the pairs of rows that end up
   in one group, as bench_dedup.py scores them):
   * Sift: `NearDuplicate.run` (shingles, MinHash, LSH, true-Jaccard verification, groups);
   * rensa 0.5 (Rust): the same shingles (Sift's `shingle_sets`, each shingle's 64-bit hash as its decimal string,
     as bench_dedup.py feeds datasketch), `RMinHash.from_token_sets`, `RMinHashLSH(0.7, 128, 32 bands)` (4 rows
     per band: rensa's default of 16 bands x 8 rows misses many pairs at 0.7), `insert_pairs` + `query_all`, then
     the same exact verification (true Jaccard >= 0.7 with Sift's `true_jaccard`) so that both report verified
     pairs;
   * datasketch: bench_dedup.py's `MinHash.bulk` + `MinHashLSH` idiom on the same shingle strings, unverified (as
     there).
2. **Semantic dedup** at cosine 0.95, both with the same static model (Sift's model2vec model distilled from the
   packaged MiniLM: `fast_embedders.distill_static`, made once per machine before the timings):
   * Sift: `analysis.io.load` of the JSONL, `StaticEmbedder.load`, embed scope "both", `KnnIndex` (exact below
     `knn.EXACT_MAX` rows, HNSW above) and the `semantic_duplicate` check (k = 10 neighbours, union-find groups);
   * SemHash 0.5: `StaticModel.from_pretrained(<the same folder>)`, `SemHash.from_records` over the same scope
     texts (Sift's rendering of the turns, read from a JSON list) with its default usearch ANN backend, then
     `self_deduplicate(threshold=0.95)`.
   Agreement: Jaccard of the two sets of removed rows (rows Sift flags `dup_of:` vs rows SemHash filters).
3. **Contamination**: the rows' prompts against GSM8K test (1,319 questions) as the benchmark, word 8-grams,
   flagged when >= 50% of a benchmark item's distinct 8-grams occur in the row:
   * Sift: the `contamination` check (`benchmarks=(test.jsonl,)`, scope prompt, defaults), benchmark load included;
   * a plain n-gram baseline as a user would write it in Python: lower-case `\\w+` words, a dict from each 8-gram
     (tuple) to its benchmark items, a `Counter` of hit items per row (items shorter than 8 words must appear whole).
   Reported in documents/s; agreement: Jaccard of the flagged row sets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
              ROOT.parent / "shared" / "datasets")
BENCHMARK = SHARED / "gsm8k" / "test.jsonl"
NUM_PERM, THRESHOLD, RENSA_BANDS = 128, 0.7, 32
SEM_THRESHOLD = 0.95
NGRAM, MIN_OVERLAP, MIN_WORDS = 8, 0.5, 4
TINY_ROWS = 3_000  # bench_dedup's labelled pairs need 2,638 rows


# ------------------------------------------------------------------------------------------------ children

def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_rows(folder: Path) -> Any:
    """The rows as bench_dedup.rows_frame builds them (Sift's canonical columns), from the texts file."""
    from bench_dedup import rows_frame

    return rows_frame(json.loads((folder / "texts.json").read_text()))


def _labels(folder: Path) -> Any:
    import numpy as np

    return np.asarray(json.loads((folder / "labels.json").read_text()), dtype=np.int64).reshape(-1, 2)


def near_sift(folder: Path) -> dict[str, Any]:
    from bench_dedup import grouped_pairs, run_sift, score

    rows = _read_rows(folder)
    secs, pairs, summary = run_sift(rows)
    return {"seconds": secs, "candidates": summary["candidate_pairs"],
            **score(grouped_pairs(len(rows), pairs), _labels(folder))}


def near_rensa(folder: Path) -> dict[str, Any]:
    import numpy as np
    from bench_dedup import grouped_pairs, score, shingle_bytes
    from rensa import RMinHash, RMinHashLSH

    from analysis.checks import CheckContext
    from analysis.checks.exact_duplicate import scope_texts
    from analysis.checks.near_duplicate import shingle_sets, true_jaccard

    rows = _read_rows(folder)
    t = time.perf_counter()
    texts = scope_texts(CheckContext(rows), "both")
    data = shingle_bytes(texts)
    keep = [i for i, d in enumerate(data) if d]  # a row without shingles has no MinHash
    sigs = RMinHash.from_token_sets([data[i] for i in keep], NUM_PERM, 1)
    lsh = RMinHashLSH(THRESHOLD, NUM_PERM, RENSA_BANDS)
    lsh.insert_pairs(list(zip(keep, sigs, strict=True)))
    found = {(min(i, j), max(i, j)) for i, hits in zip(keep, lsh.query_all(sigs), strict=True) for j in hits if j != i}
    cand = np.array(sorted(found), dtype=np.int64).reshape(-1, 2)
    h, o = shingle_sets(texts, 3)  # the verification's shingles (rensa keeps only signatures)
    pairs = cand[true_jaccard(h, o, cand) >= THRESHOLD - 1e-12] if len(cand) else cand
    secs = time.perf_counter() - t
    return {"seconds": secs, "candidates": len(cand), **score(grouped_pairs(len(rows), pairs), _labels(folder))}


def near_datasketch(folder: Path) -> dict[str, Any]:
    from bench_dedup import grouped_pairs, run_datasketch, score

    rows = _read_rows(folder)
    secs, pairs = run_datasketch(rows)
    return {"seconds": secs, **score(grouped_pairs(len(rows), pairs), _labels(folder))}


def semantic_sift(folder: Path) -> dict[str, Any]:
    import numpy as np

    t = time.perf_counter()
    from analysis.checks import CheckContext
    from analysis.checks.semantic_duplicate import SemanticDuplicate
    from analysis.io import load
    from analysis.space.fast_embedders import StaticEmbedder

    rows = load(str(folder / "chat.jsonl")).rows
    emb = StaticEmbedder.load()
    check = SemanticDuplicate(SemanticDuplicate.Params(scope="both", threshold=SEM_THRESHOLD, model=emb.name))
    res = check.run(CheckContext(rows, extras={"embedder": emb}))
    secs = time.perf_counter() - t
    removed = np.flatnonzero(res.reason.astype(str) != "").tolist()
    return {"seconds": secs, "removed": removed}


def semantic_semhash(folder: Path) -> dict[str, Any]:
    t = time.perf_counter()
    from model2vec import StaticModel
    from semhash import SemHash

    from analysis.space.fast_embedders import distill_static

    texts = json.loads((folder / "scope_both.json").read_text())
    model = StaticModel.from_pretrained(str(distill_static()))  # made before the timings: only its path here
    records = [{"id": i, "text": s} for i, s in enumerate(texts)]
    result = SemHash.from_records(records, columns=["text"], model=model).self_deduplicate(threshold=SEM_THRESHOLD)
    secs = time.perf_counter() - t
    return {"seconds": secs, "removed": sorted(int(d.record["id"]) for d in result.filtered)}


def contamination_sift(folder: Path) -> dict[str, Any]:
    import numpy as np

    from analysis.checks import CheckContext
    from analysis.checks.contamination import Contamination

    rows = _read_rows(folder)
    t = time.perf_counter()
    check = Contamination(Contamination.Params(benchmarks=(str(BENCHMARK),), scope="prompt", ngram=NGRAM,
                                               min_overlap=MIN_OVERLAP, min_words=MIN_WORDS))
    res = check.run(CheckContext(rows))
    secs = time.perf_counter() - t
    return {"seconds": secs, "flagged": np.flatnonzero(res.is_issue).tolist(), "docs": len(rows)}


def contamination_plain(folder: Path) -> dict[str, Any]:
    """The plain Python n-gram matcher a user would write (no Sift code on the hot path)."""
    import re
    from collections import Counter, defaultdict

    rows = _read_rows(folder)
    prompts = rows["prompt"].fillna("").astype(str).tolist()
    t = time.perf_counter()
    word = re.compile(r"\w+")
    with open(BENCHMARK, encoding="utf-8") as fh:
        items = [json.loads(line)["question"] for line in fh if line.strip()]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    size: dict[int, int] = {}
    short_lengths: set[int] = set()
    for k, text in enumerate(items):
        w = word.findall(text.lower())
        if len(w) < MIN_WORDS:
            continue
        n = min(NGRAM, len(w))
        grams = {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}
        if n < NGRAM:
            short_lengths.add(n)
        size[k] = len(grams)
        for g in grams:
            index[g].append(k)
    flagged = []
    for r, text in enumerate(prompts):
        w = word.findall(text.lower())
        hits: Counter[int] = Counter()
        for n in {NGRAM, *short_lengths}:
            for g in {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}:
                hits.update(index.get(g, ()))
        if any(c / size[k] >= MIN_OVERLAP for k, c in hits.items()):
            flagged.append(r)
    secs = time.perf_counter() - t
    return {"seconds": secs, "flagged": flagged, "docs": len(prompts)}


METHODS = {"near:sift": near_sift, "near:rensa": near_rensa, "near:datasketch": near_datasketch,
           "semantic:sift": semantic_sift, "semantic:semhash": semantic_semhash,
           "contamination:sift": contamination_sift, "contamination:plain": contamination_plain}
PEER_MODULES = {"near:rensa": "rensa", "near:datasketch": "datasketch", "semantic:semhash": "semhash"}


def _child(method: str, folder: Path) -> None:
    out = METHODS[method](folder)
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


# ------------------------------------------------------------------------------------------------ parent

def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure(method: str, folder: Path) -> dict[str, Any]:
    """`method` in a fresh child process: its result, with the load average before and after."""
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", method, str(folder)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(process_s=wall, load=(load0, os.getloadavg()[0]))
    print(f"  {method}: {res['seconds']:.2f} s work, {wall:.1f} s process, peak RSS {res['peak_rss_mb']:,.0f} MB, "
          f"load {load0:.1f} -> {res['load'][1]:.1f}", file=sys.stderr, flush=True)
    return res


def prepare(size: int, folder: Path) -> None:
    """The labelled set as texts + labels (near-dup, contamination), chat JSONL and Sift's scope texts (semantic)."""
    from bench_dedup import build_set, rows_frame

    from analysis.space.embedders import scope_texts

    texts, labels = build_set(size)
    (folder / "texts.json").write_text(json.dumps(texts))
    (folder / "labels.json").write_text(json.dumps(labels.tolist()))
    rows = rows_frame(texts)
    with open(folder / "chat.jsonl", "w", encoding="utf-8") as fh:
        for m in rows["messages"]:
            fh.write(json.dumps({"messages": m}, ensure_ascii=False) + "\n")
    from analysis.io import load

    loaded = load(str(folder / "chat.jsonl")).rows  # the texts Sift embeds, rendered as Sift renders them
    (folder / "scope_both.json").write_text(json.dumps(scope_texts(loaded, "both"), ensure_ascii=False))


def _load(res: dict[str, Any]) -> str:
    return f"{res['load'][0]:.1f}→{res['load'][1]:.1f}"


def _jaccard(a: list[int], b: list[int]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def run(sizes: list[int], parts: list[str]) -> list[str]:
    missing = sorted({m for k, m in PEER_MODULES.items() if k.split(":")[0] in parts and not _installed(m)})
    if missing:
        print(f"not installed, their rows are left out: {', '.join(missing)} (pip install -e '.[bench]')",
              file=sys.stderr)
    if "semantic" in parts:
        from analysis.space.fast_embedders import distill_static

        t = time.perf_counter()
        folder = distill_static()  # once per machine, outside every timing
        print(f"static model: {folder} ({time.perf_counter() - t:.1f} s to find or make)", file=sys.stderr)
    lines = ["| rows | work | Sift | peer | ratio (peer time / Sift time; Sift RSS / peer RSS) | quality | "
             "load avg 1 min (Sift; peer) |", "|---:|---|---|---|---|---|---|"]

    def rss(r: dict[str, Any]) -> str:
        return f"{r['peak_rss_mb']:,.0f} MB"

    for size in sizes:
        print(f"\n{size:,} rows", file=sys.stderr, flush=True)
        folder = Path(tempfile.mkdtemp(prefix="sift-bench-peers-"))
        try:
            prepare(size, folder)
            if "near" in parts:
                s = measure("near:sift", folder)
                for peer, label in (("near:rensa", f"rensa, {RENSA_BANDS} bands + exact verification"),
                                    ("near:datasketch", "datasketch MinHashLSH, unverified")):
                    if not _installed(PEER_MODULES[peer]):
                        continue
                    p = measure(peer, folder)
                    if "candidates" in p:  # the pairs its exact verification had to check (in its time)
                        label += f" of {p['candidates']:,} candidate pairs"
                    lines.append(f"| {size:,} | near-dup MinHash (t 0.7, 128 perm) | {s['seconds']:.2f} s, "
                                 f"{rss(s)}, F1 {s['f1']:.3f}, {s['candidates']:,} candidate pairs verified | "
                                 f"{label}: {p['seconds']:.2f} s, {rss(p)}, "
                                 f"F1 {p['f1']:.3f} | {p['seconds'] / s['seconds']:.2f}× time; "
                                 f"{s['peak_rss_mb'] / p['peak_rss_mb']:.2f}× RSS | F1 {s['f1']:.3f} vs "
                                 f"{p['f1']:.3f} | {_load(s)}; {_load(p)} |")
            if "semantic" in parts and _installed("semhash"):
                s = measure("semantic:sift", folder)
                p = measure("semantic:semhash", folder)
                lines.append(f"| {size:,} | semantic dedup at 0.95, same static model (load + embed + index + check) "
                             f"| {s['seconds']:.2f} s, {rss(s)}, removes {len(s['removed']):,} | SemHash: "
                             f"{p['seconds']:.2f} s, {rss(p)}, removes {len(p['removed']):,} | "
                             f"{p['seconds'] / s['seconds']:.2f}× time; {s['peak_rss_mb'] / p['peak_rss_mb']:.2f}× RSS"
                             f" | agreement (Jaccard of removed rows) {_jaccard(s['removed'], p['removed']):.3f} | "
                             f"{_load(s)}; {_load(p)} |")
            if "contamination" in parts:
                s = measure("contamination:sift", folder)
                p = measure("contamination:plain", folder)
                sd, pd_ = s["docs"] / s["seconds"], p["docs"] / p["seconds"]
                lines.append(f"| {size:,} | contamination vs GSM8K test (8-grams, overlap 0.5), prompts | "
                             f"{sd:,.0f} docs/s ({s['seconds']:.2f} s), {rss(s)}, flags {len(s['flagged']):,} | "
                             f"plain Python n-grams: {pd_:,.0f} docs/s ({p['seconds']:.2f} s), {rss(p)}, flags "
                             f"{len(p['flagged']):,} | {sd / pd_:.2f}× docs/s; "
                             f"{s['peak_rss_mb'] / p['peak_rss_mb']:.2f}× RSS | agreement (Jaccard of flagged "
                             f"rows) {_jaccard(s['flagged'], p['flagged']):.3f} | {_load(s)}; {_load(p)} |")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--parts", default="near,semantic,contamination", help="comma-separated subset")
    ap.add_argument("--tiny", action="store_true", help=f"{TINY_ROWS:,} rows (checks that it runs)")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return 0
    if not SHARED.is_dir():
        print(f"shared datasets not found at {SHARED}", file=sys.stderr)
        return 2
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - {"near", "semantic", "contamination"}
    if unknown:
        print(f"unknown --parts {', '.join(sorted(unknown))}: expected near, semantic, contamination", file=sys.stderr)
        return 2
    sizes = [TINY_ROWS] if args.tiny else args.sizes
    if min(sizes) < TINY_ROWS:
        print(f"--sizes must be >= {TINY_ROWS:,} (the labelled pairs need 2,638 rows)", file=sys.stderr)
        return 2
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()
    lines = run(sizes, parts)
    cmd = "bench/bench_peers.py " + " ".join(sys.argv[1:])
    print(f"\n{started} · {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs · python "
          f"{platform.python_version()} · load average (1/5/15 min) at start "
          f"{'/'.join(f'{x:.1f}' for x in load0)}, at end {'/'.join(f'{x:.1f}' for x in os.getloadavg())} · "
          f"`{cmd.strip()}`\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
