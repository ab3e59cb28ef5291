"""Load and Browse latency at 100k rows, against the plain-library baseline in the same run.

    .venv/bin/python bench/bench_load_browse.py            # or: make bench
    .venv/bin/python bench/bench_load_browse.py --rebuild  # regenerate bench/data/ first

Builds two 100,000-line JSONL files under bench/data/ (git-ignored) from ../shared/datasets, deterministically:

* ``chat_100k.jsonl``: OpenAI ``{"messages": [...]}`` lines made from GSM8K, the LLaMA-Factory Alpaca demo,
  Code Alpaca 2k, FastChat's ShareGPT dummy conversations, Glaive tool-call conversations (with ``tools`` and
  ``tool_calls``) and HH-RLHF harmless transcripts, cycled in seeded-shuffled epochs up to 100k lines;
* ``alpaca_100k.jsonl``: flat ``instruction``/``input``/``output`` lines from the same SFT sources.

Then it times, for each file, ``pandas.read_json(lines=True)`` (the baseline) against ``analysis.io.load`` (the
canonical table) and reports the ratio; the workspace's first open (load + Parquet write) and reopen (Parquet
read) against ``pandas.read_parquet``; and, at 100k rows, ``row_stats``, the Browse page's searches, filters and
table page, the curation store's bulk actions and reads, and the export. Load timings run in a fresh child
process per method so that each peak RSS is its own. Results: a markdown report on stdout and
``bench/results.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `components` is not an installed package

SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
              ROOT.parent / "shared" / "datasets")
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results.json"
N_ROWS = 100_000
SEED = 1234
TARGET_MS = 1000.0
GENERATOR_VERSION = 1
LOAD_REPEATS = 3
BROWSE_REPEATS = 5
N_DROP, N_FLAG = 10_000, 5_000  # curation: rows dropped, rows flagged
TINY_ROWS = 2_000  # --tiny: every step on 2,000 rows, once, in a temporary folder (checks that the script runs)


def _k(n: int) -> str:
    """10000 -> '10k', 2000 -> '2k', 200 -> '200' (labels name the sizes actually timed)."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"

# ---------------------------------------------------------------------------------------------- data set


def _read_json(rel: str) -> list[dict[str, Any]]:
    return json.loads((SHARED / rel).read_text(encoding="utf-8"))


def _read_jsonl(rel: str) -> list[dict[str, Any]]:
    import gzip

    path = SHARED / rel
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _sft_sources() -> list[tuple[str, str, str]]:
    """(instruction, input, output) triples from GSM8K train+test, the Alpaca demo and Code Alpaca 2k."""
    out = [(r["question"], "", r["answer"]) for f in ("gsm8k/train.jsonl", "gsm8k/test.jsonl") for r in _read_jsonl(f)]
    for f in ("llamafactory_demo/alpaca_en_demo.json", "codealpaca/code_alpaca_2k.json"):
        out += [(r["instruction"], r.get("input") or "", r["output"]) for r in _read_json(f)]
    return out


_SHAREGPT_ROLE = {"human": "user", "gpt": "assistant", "system": "system", "observation": "tool"}
_HH_SPLIT = re.compile(r"\n\n(Human|Assistant):[ \t]?")


def _sharegpt_to_openai(conv: list[dict[str, str]], tools: str | None) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    call_id = None
    for i, t in enumerate(conv):
        if t["from"] == "function_call":
            call = json.loads(t["value"])
            call_id = f"call_{i}"
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": call_id, "type": "function",
                 "function": {"name": call["name"], "arguments": json.dumps(call.get("arguments", {}))}}]})
        elif t["from"] == "observation":
            messages.append({"role": "tool", "tool_call_id": call_id, "content": t["value"]})
        else:
            messages.append({"role": _SHAREGPT_ROLE[t["from"]], "content": t["value"]})
    rec: dict[str, Any] = {"messages": messages}
    specs = json.loads(tools) if tools else []
    if specs:
        rec["tools"] = [{"type": "function", "function": s} for s in specs]
    return rec


def _hh_to_openai(transcript: str) -> dict[str, Any]:
    parts = _HH_SPLIT.split("\n\n" + transcript.lstrip("\n"))
    messages = [{"role": "user" if who == "Human" else "assistant", "content": text.strip()}
                for who, text in zip(parts[1::2], parts[2::2], strict=True)]
    return {"messages": messages}


def _chat_pool() -> list[dict[str, Any]]:
    pool = []
    for instruction, inp, output in _sft_sources():
        user = f"{instruction}\n\n{inp}" if inp.strip() else instruction
        pool.append({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": output}]})
    pool += [_sharegpt_to_openai(r["conversations"], None) for r in _read_json("fastchat/dummy_conversation.json")]
    pool += [_sharegpt_to_openai(r["conversations"], r.get("tools"))
             for r in _read_json("llamafactory_demo/glaive_toolcall_en_demo.json")]
    pool += [_hh_to_openai(r["chosen"]) for r in _read_jsonl("hh_rlhf_harmless_test/harmless-base_test.jsonl.gz")]
    return pool


def _alpaca_pool() -> list[dict[str, Any]]:
    return [{"instruction": i, "input": x, "output": o} for i, x, o in _sft_sources()]


def _cycle(pool: list[Any], n: int, seed: int) -> Iterator[Any]:
    """`n` items: whole seeded-shuffled passes over `pool` (every source record ~equally often)."""
    rng = random.Random(seed)
    done = 0
    while done < n:
        order = list(range(len(pool)))
        rng.shuffle(order)
        for i in order[: n - done]:
            yield pool[i]
        done += min(len(order), n - done)


def data_files() -> dict[str, Path]:
    return {"chat": DATA / f"chat_{_k(N_ROWS)}.jsonl", "alpaca": DATA / f"alpaca_{_k(N_ROWS)}.jsonl"}


def build_data(rebuild: bool = False) -> dict[str, Any]:
    """Write bench/data/{chat,alpaca}_100k.jsonl (skipped when present and built by this generator)."""
    if not SHARED.is_dir():
        sys.exit(f"shared datasets not found at {SHARED}")
    stamp_path = DATA / "stamp.json"
    stamp = {"generator": GENERATOR_VERSION, "rows": N_ROWS, "seed": SEED}
    files = data_files()
    fresh = (not rebuild and all(f.exists() for f in files.values()) and stamp_path.exists()
             and json.loads(stamp_path.read_text()).get("params") == stamp)
    t0 = time.perf_counter()
    pools = {}
    if not fresh:
        DATA.mkdir(parents=True, exist_ok=True)
        pools = {"chat": _chat_pool(), "alpaca": _alpaca_pool()}
        for name, pool in pools.items():
            tmp = files[name].with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                for rec in _cycle(pool, N_ROWS, SEED):
                    fh.write(json.dumps(rec, ensure_ascii=False))
                    fh.write("\n")
            tmp.replace(files[name])
        stamp_path.write_text(json.dumps({"params": stamp, "pool_sizes": {k: len(v) for k, v in pools.items()}}))
    meta = json.loads(stamp_path.read_text())
    return {"built": not fresh, "seconds": round(time.perf_counter() - t0, 2), "pool_sizes": meta["pool_sizes"],
            "files": {k: {"path": str(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f),
                          "mb": round(f.stat().st_size / 2**20, 1)}
                      for k, f in files.items()}}


def tiny_chat_file() -> Path:
    """A `TINY_ROWS`-line chat file built like chat_100k.jsonl, in a new temporary folder (the other scripts'
    `--tiny` runs read it instead of bench/data/chat_100k.jsonl; the caller removes the folder)."""
    import tempfile

    global N_ROWS, DATA
    N_ROWS, DATA = TINY_ROWS, Path(tempfile.mkdtemp(prefix="sift-bench-tiny-"))
    build_data()
    return data_files()["chat"]


# ---------------------------------------------------------------------------------------------- timing


def _times(fn: Callable[[], Any], n: int, setup: Callable[[], Any] | None = None) -> list[float]:
    out = []
    for _ in range(n):
        if setup:
            setup()
        gc.collect()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child(method: str, path: str, ws_dir: str, repeats: int) -> None:
    """One load method in a fresh process; prints {times, rows, rss} as JSON on stdout."""
    import pandas as pd

    from analysis.io import LoadOptions, load
    from analysis.workspace.folder import DATASET_FILE, Workspace

    ws = Path(ws_dir)
    result: dict[str, Any] = {}

    def run() -> None:
        if method == "read_json":
            result["rows"] = len(pd.read_json(path, lines=True))
        elif method == "load":
            result["rows"] = len(load(path, LoadOptions()).rows)
        elif method == "ws_open":
            w = Workspace.open(path, workspace=ws)
            result["rows"] = len(w.dataset.rows)
        elif method == "ws_reopen":
            result["rows"] = len(Workspace.from_dir(ws).dataset.rows)
        elif method == "read_parquet":
            result["rows"] = len(pd.read_parquet(ws / DATASET_FILE))
        else:
            raise SystemExit(f"unknown method {method}")

    def wipe() -> None:
        shutil.rmtree(ws, ignore_errors=True)

    base = _rss_mb()
    times = _times(run, repeats, wipe if method == "ws_open" else None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "rows": result["rows"], "rss_base_mb": base, "rss_peak_mb": peak}))


def _measure_in_child(method: str, path: Path, ws_dir: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", method, str(path), "--ws", str(ws_dir),
           "--repeats", str(LOAD_REPEATS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{method} {path} failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["best_s"] = min(res["times"])
    res["median_s"] = statistics.median(res["times"])
    res["peak_extra_mb"] = max(0.0, res["rss_peak_mb"] - res["rss_base_mb"])
    return res


def bench_load(files: dict[str, Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in files.items():
        ws_dir = DATA / f"ws_{name}"
        res = {m: _measure_in_child(m, path, ws_dir) for m in ("read_json", "load", "ws_open", "ws_reopen",
                                                                 "read_parquet")}
        for m, r in res.items():
            if r["rows"] != N_ROWS:
                raise RuntimeError(f"{m} on {path.name} gave {r['rows']} rows, expected {N_ROWS}")
        out[name] = res
        print(f"  {name}: read_json {res['read_json']['best_s']:.2f}s, load {res['load']['best_s']:.2f}s, "
              f"ws_open {res['ws_open']['best_s']:.2f}s, ws_reopen {res['ws_reopen']['best_s']:.2f}s",
              file=sys.stderr)
    return out


# ---------------------------------------------------------------------------------------------- browse


def bench_browse(ws_dir: Path) -> dict[str, Any]:
    import numpy as np

    from analysis.curation.export import export_dataset
    from analysis.explore.filters import BrowseQuery, filter_mask
    from analysis.explore.stats import row_stats
    from analysis.workspace.folder import Workspace
    from analysis.workspace.store import CurationStore
    from components.state import curation_view
    from components.table import table_page

    ws = Workspace.from_dir(ws_dir)
    rows = ws.dataset.rows
    res: dict[str, dict[str, Any]] = {}
    with open(ws.dataset.info.path, encoding="utf-8") as fh:
        lines_with_tools = sum('"tools": ' in line for line in fh)
    checks = {"source_lines_with_tools": lines_with_tools, "rows_with_tools": int(rows["tools"].notna().sum()),
              "detection": ws.dataset.info.files[0].detection}

    def record(section: str, label: str, times: list[float], note: str = "", target: bool = True) -> None:
        med = statistics.median(times) * 1000
        res[label] = {"section": section, "median_ms": med, "min_ms": min(times) * 1000, "n": len(times),
                      "note": note, "target": target, "pass": (med < TARGET_MS) if target else None}
        print(f"  {label}: {med:.1f} ms", file=sys.stderr)

    # one-off per dataset: the stats columns Browse filters on (components/state.py `_frame`)
    holder: dict[str, Any] = {}
    record("stats", "row_stats (one-off per dataset)", _times(lambda: holder.update(s=row_stats(rows)), 3),
           f"{len(rows):,} rows", target=False)

    def join() -> None:
        stats = holder["s"].drop(columns=["row_id"])
        stats.index = rows.index
        holder["f"] = rows.join(stats)

    record("stats", "join rows + stats (one-off)", _times(join, 3), target=False)
    frame = holder["f"]

    # curation: 10k drops, 5k flags (and a store where every row has state)
    rng = np.random.default_rng(SEED)
    ids = frame["row_id"].to_numpy()
    drop_ids = [int(i) for i in rng.choice(ids, N_DROP, replace=False)]
    flag_ids = [int(i) for i in rng.choice(ids, N_FLAG, replace=False)]
    cur_dir = DATA / "curation"
    shutil.rmtree(cur_dir, ignore_errors=True)
    cur_dir.mkdir(parents=True)
    stores: list[CurationStore] = []

    def fresh_store() -> None:
        for s in stores:
            s.close()
        stores.clear()
        for f in cur_dir.glob("drop.sqlite*"):
            f.unlink()
        stores.append(CurationStore(cur_dir / "drop.sqlite", user="bench"))

    record("curation", f"drop {_k(N_DROP)} rows (one action)", _times(lambda: stores[0].drop(drop_ids, reason="bench"),
                                                            3, fresh_store), "fresh store each time")
    store = stores[0]
    record("curation", f"flag {_k(N_FLAG)} rows (one action)", _times(lambda: store.flag(flag_ids, reason="bench"), 1),
           f"on top of the {_k(N_DROP)} drops")
    big = CurationStore(cur_dir / "big.sqlite", user="bench")
    all_ids = [int(i) for i in ids]
    big.drop(drop_ids, reason="bench")
    big.flag(flag_ids)
    record("curation", f"tag all {_k(N_ROWS)} rows (one action)", _times(lambda: big.tag(all_ids, "bench"), 1),
           f"store already has {_k(N_DROP)} drops, {_k(N_FLAG)} flags")
    big.tag(all_ids[::5], "math")
    for rid in all_ids[:200]:
        big.set_note(rid, "look at this")
    record("curation", f"state() · {_k(N_DROP)} dropped, {_k(N_FLAG)} flagged", _times(store.state, BROWSE_REPEATS))
    record("curation", f"dropped_ids() · {_k(N_DROP)} dropped", _times(store.dropped_ids, BROWSE_REPEATS))
    record("curation", f"curation_view() · {_k(N_DROP)} dropped, {_k(N_FLAG)} flagged",
           _times(lambda: curation_view(store), BROWSE_REPEATS),
           "components/state.py, runs on every Browse rerun")
    record("curation", f"state() · {_k(N_ROWS)} rows with state", _times(big.state, BROWSE_REPEATS),
           f"{_k(N_ROWS)} tagged, {_k(N_ROWS // 5)} 2nd tag, {_k(N_DROP)} dropped, {_k(N_FLAG)} flagged, 200 notes")
    record("curation", f"dropped_ids() · {_k(N_ROWS)} rows with state", _times(big.dropped_ids, BROWSE_REPEATS))
    record("curation", f"curation_view() · {_k(N_ROWS)} rows with state",
           _times(lambda: curation_view(big), BROWSE_REPEATS))
    cur = curation_view(store)
    big_cur = curation_view(big)
    assert len(cur.dropped) == N_DROP and len(cur.flagged) == N_FLAG

    # Browse queries (analysis/explore/filters.py filter_mask), all at 100k rows
    queries: list[tuple[str, BrowseQuery]] = [
        ("no filter", BrowseQuery()),
        ("keyword · both", BrowseQuery(text="recipe")),
        ("keyword · prompt", BrowseQuery(text="recipe", scope="prompt")),
        ("keyword · response", BrowseQuery(text="recipe", scope="response")),
        ("keyword · assistant turns", BrowseQuery(text="sorry", scope="assistant")),
        ("keyword · user turns", BrowseQuery(text="python", scope="user")),
        ("keyword · tool turns", BrowseQuery(text="distance", scope="tool")),
        ("regex · both", BrowseQuery(text=r"\b\d+ (apples|dollars|cookies)\b", regex=True)),
        ("regex · both, RE2-safe pattern", BrowseQuery(text=r"[0-9]+ (apples|dollars|cookies)", regex=True)),
        ("regex · response, case-sensitive", BrowseQuery(text=r"def \w+\(", regex=True, case_sensitive=True,
                                                          scope="response")),
        ("keyword · both, case-sensitive", BrowseQuery(text="Python", case_sensitive=True)),
        ("kind filter", BrowseQuery(kinds=("chat",))),
        ("length range · response_chars 200–2000", BrowseQuery(min_length=200, max_length=2000)),
        ("length range · turns ≥ 4", BrowseQuery(length_field="turns", min_length=4)),
        ("status · dropped", BrowseQuery(status="dropped")),
        ("status · kept", BrowseQuery(status="kept")),
        ("status · flagged", BrowseQuery(status="flagged")),
        ("combined · keyword+scope+kind+length+status",
         BrowseQuery(text="the", scope="assistant", kinds=("chat",), min_length=100, max_length=3000,
                     status="kept")),
    ]
    matches: dict[str, int] = {}
    for label, q in queries:
        record("browse", f"filter_mask · {label}", _times(lambda q=q: filter_mask(frame, q, cur), BROWSE_REPEATS))
        matches[label] = int(filter_mask(frame, q, cur).sum())
        res[f"filter_mask · {label}"]["note"] = f"{matches[label]:,} match"

    combined = queries[-1][1]
    mask = filter_mask(frame, combined, cur)
    matched = frame[mask]
    record("browse", "frame[mask] · combined", _times(lambda: frame[mask], BROWSE_REPEATS),
           f"{len(matched):,} rows kept")
    all_mask = filter_mask(frame, BrowseQuery(), cur)
    record("browse", f"frame[mask] · no filter ({_k(N_ROWS)})", _times(lambda: frame[all_mask], BROWSE_REPEATS))
    record("browse", "table_page · 100 rows", _times(lambda: table_page(matched.iloc[:100], cur), BROWSE_REPEATS),
           f"{_k(N_DROP)} dropped, {_k(N_FLAG)} flagged")
    record("browse", f"table_page · 100 rows, {_k(N_ROWS)} rows with state",
           _times(lambda: table_page(matched.iloc[:100], big_cur), BROWSE_REPEATS),
           f"{_k(N_ROWS + N_ROWS // 5)} tag entries")

    def rerun(view_store: CurationStore, q: BrowseQuery) -> None:
        """What pages/browse.py does per rerun before rendering (minus widgets)."""
        view = curation_view(view_store)
        sorted(frame["kind"].unique())
        m = filter_mask(frame, q, view)
        hit = frame[m]
        table_page(hit.iloc[:100], view)

    record("browse", "whole Browse rerun · combined query", _times(lambda: rerun(store, combined), BROWSE_REPEATS),
           "curation_view + kinds + filter_mask + frame[mask] + table_page")
    record("browse", "whole Browse rerun · no filter", _times(lambda: rerun(store, BrowseQuery()), BROWSE_REPEATS))
    record("browse", f"whole Browse rerun · keyword, {_k(N_ROWS)} rows with state",
           _times(lambda: rerun(big, BrowseQuery(text="recipe")), BROWSE_REPEATS))

    # export: 100k rows minus 10k drops, source format, JSONL
    out = DATA / "export" / "clean"  # an export folder; force: the repeats replace it
    written: list[int] = []
    record("export", "export_dataset · JSONL, source format",
           _times(lambda: written.append(export_dataset(ws.dataset, store, out, force=True).rows_written), 3),
           f"{_k(N_ROWS - N_DROP)} rows written + manifest, dropped log, recipe", target=False)
    assert written[-1] == N_ROWS - N_DROP
    store.close()
    big.close()
    ws.close()
    return {"timings": res, "matches": matches, "checks": checks}


# ---------------------------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    import pandas as pd
    import pyarrow as pa

    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {"cpu": model or platform.processor(), "nproc": os.cpu_count(), "ram_gb": round(mem_kb / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version(), "pandas": pd.__version__,
            "pyarrow": pa.__version__, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"Machine: {m['cpu']}, {m['nproc']} CPUs, {m['ram_gb']} GB RAM · {m['os']}",
             f"Python {m['python']} · pandas {m['pandas']} · pyarrow {m['pyarrow']} · {m['date']}",
             f"Load average (1/5/15 min) at start {m['loadavg_start']}, at end {m.get('loadavg_end')}", ""]
    data = results["data"]
    shown = ", ".join(f"`{v['path']}` {v['mb']} MB" for v in data["files"].values())
    lines.append(f"Data: {shown} "
                 f"({N_ROWS:,} lines each; distinct source records: chat {data['pool_sizes']['chat']:,}, "
                 f"alpaca {data['pool_sizes']['alpaca']:,})")
    lines += ["", f"### Load ({N_ROWS:,} rows; best of {LOAD_REPEATS}, each method in a fresh process)", "",
              "| file | step | best s | median s | vs baseline | peak RSS +MB |", "|---|---|---:|---:|---:|---:|"]
    labels = {"read_json": "`pandas.read_json(lines=True)` (baseline)", "load": "`analysis.io.load` → canonical",
              "ws_open": "`Workspace.open` first open (load + Parquet write)",
              "read_parquet": "`pandas.read_parquet(dataset.parquet)` (baseline)",
              "ws_reopen": "`Workspace.from_dir` reopen"}
    for name, res in results["load"].items():
        for method, base in (("read_json", None), ("load", "read_json"), ("ws_open", "read_json"),
                             ("read_parquet", None), ("ws_reopen", "read_parquet")):
            r = res[method]
            ratio = f"{r['best_s'] / res[base]['best_s']:.2f}×" if base else "1.00×"
            lines.append(f"| {name} | {labels[method]} | {r['best_s']:.2f} | {r['median_s']:.2f} | {ratio} | "
                         f"{r['peak_extra_mb']:,.0f} |")
    checks = results["browse"]["checks"]
    lines += ["", f"Loader check (chat file): detected as {checks['detection']}; "
              f"{checks['rows_with_tools']:,} of {checks['source_lines_with_tools']:,} rows with `tools` kept them."]
    timings = results["browse"]["timings"]
    titles = {"stats": "Per-dataset one-off", "curation": "Curation store", "browse": "Browse",
              "export": "Export"}
    for section, title in titles.items():
        items = [(k, v) for k, v in timings.items() if v["section"] == section]
        lines += ["", f"### {title} ({N_ROWS:,} rows; median of n runs)", "",
                  "| operation | n | median ms | min ms | < 1 s | note |", "|---|---:|---:|---:|:---:|---|"]
        for k, v in items:
            verdict = "PASS" if v["pass"] else "FAIL" if v["pass"] is False else "n/a"
            lines.append(f"| {k} | {v['n']} | {v['median_ms']:,.1f} | {v['min_ms']:,.1f} | {verdict} | {v['note']} |")
    return "\n".join(lines)


def main() -> None:
    global N_ROWS, N_DROP, N_FLAG, DATA, RESULTS, LOAD_REPEATS, BROWSE_REPEATS  # --tiny shrinks them
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rebuild", action="store_true", help="regenerate bench/data/ even if present")
    ap.add_argument("--skip-load", action="store_true", help="only the Browse part (needs a built workspace)")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--ws", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=LOAD_REPEATS, help=argparse.SUPPRESS)
    ap.add_argument("--tiny", action="store_true", help=f"{TINY_ROWS:,} rows, one repeat, in a temporary folder "
                    "(checks that the script runs; bench/data/ and bench/results.json are left alone)")
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.ws, args.repeats)
        return
    if args.tiny:
        import tempfile

        N_ROWS, N_DROP, N_FLAG, LOAD_REPEATS, BROWSE_REPEATS = TINY_ROWS, TINY_ROWS // 10, TINY_ROWS // 20, 1, 1
        DATA = Path(tempfile.mkdtemp(prefix="sift-bench-tiny-"))
        RESULTS = DATA / "results.json"
    t0 = time.perf_counter()
    print("building data …", file=sys.stderr)
    data = build_data(args.rebuild)
    files = data_files()
    results: dict[str, Any] = {"machine": machine(), "data": data}
    if args.skip_load and RESULTS.exists():
        results["load"] = json.loads(RESULTS.read_text())["load"]
    else:
        print("load …", file=sys.stderr)
        results["load"] = bench_load(files)
    print("browse …", file=sys.stderr)
    results["browse"] = bench_browse(DATA / "ws_chat")
    results["total_s"] = round(time.perf_counter() - t0, 1)
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(report(results))
    print(f"\ntotal {results['total_s']} s; results in {RESULTS}")
    if args.tiny:
        shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
