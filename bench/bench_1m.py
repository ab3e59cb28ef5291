"""One million rows (issue 6): a seeded 1M-row chat file with planted duplicates and defects, the headless
`sift analyze --checks all` at 10k / 100k / 1M rows (time per step, peak RSS), planted vs found, embedding and
map costs measured on samples, and the app's latency on the 1M-row workspace (Streamlit AppTest).

    .venv/bin/python bench/bench_1m.py                 # everything (~31 min on 2 busy cores)
    .venv/bin/python bench/bench_1m.py --parts gen,headless
    .venv/bin/python bench/bench_1m.py --parts embed,app   # reuses bench/data/ and the 1M workspace
    .venv/bin/python bench/bench_1m.py --tiny   # gen,headless,mem at 1,000 and 3,000 rows in a temp folder: it runs

Data (bench/data/, git-ignored): ``chat_1m.jsonl`` (OpenAI ``{"messages": [...]}`` lines), its prefixes
``chat_1m_10k.jsonl`` / ``chat_1m_100k.jsonl`` and the sidecar ``chat_1m.truth.json`` (rates, counts and the row
numbers of every planted row). Rows are written one at a time (never 1M dicts in memory):

* a **base** row is one of the ~15k real records of bench_load_browse.py's chat pool (each once, spread over the
  file) or a **recombination**: a real record used as a template (its roles, turn count, tool calls and tool turns
  kept) whose user / assistant contents are replaced by as many sentences drawn from all user / assistant turns of
  the pool (assistants at least 2), so recombined rows are distinct by construction;
* ``exact_dup`` (5%): a verbatim copy of an earlier clean base row (from a window of the last 50k);
* ``near_dup`` (3%): an earlier clean base row of >= 60 words with 1-2 words of its longest turn replaced;
* 0.5% each of planted defects in the final assistant turn of a fresh base row: ``placeholder`` (``{{name}}``),
  ``email`` (a realistic address), ``html`` (a ``<br>`` / ``<p>`` tag), ``truncated`` (cut mid-sentence),
  ``empty`` (an empty answer) and ``refusal`` ("I'm sorry, but I can't ...").

Copies only ever point to earlier rows, so every prefix is self-consistent. Results: a markdown report on stdout
and ``bench/data/results_1m.json``.
"""

from __future__ import annotations

import argparse
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
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

DATA = ROOT / "bench" / "data"
BIG = DATA / "chat_1m.jsonl"
TRUTH = DATA / "chat_1m.truth.json"
RESULTS = DATA / "results_1m.json"
HOME = DATA / "home_1m"  # SIFT_HOME of the headless runs and the app: workspaces/<fingerprint>
N_ROWS = 1_000_000
SIZES = (10_000, 100_000, 1_000_000)
SEED = 20261126
GENERATOR_VERSION = 1
RATES = {"exact_dup": 0.05, "near_dup": 0.03, "placeholder": 0.005, "email": 0.005, "html": 0.005,
         "truncated": 0.005, "empty": 0.005, "refusal": 0.005}
DEFECTS = ("placeholder", "email", "html", "truncated", "empty", "refusal")
WINDOW = 50_000
NEAR_MIN_WORDS = 60

# ---------------------------------------------------------------------------------------------- generator

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
_CODE_LIKE = re.compile(r"[=;{}<>$\\*/`#|\[\]()]|\w\(")
_WORD_RE = re.compile(r"[A-Za-z]{3,}")
_FIRST = ("maria", "john", "wei", "fatima", "lukas", "aisha", "carlos", "olga", "kenji", "priya", "tom", "nina")
_LAST = ("kowalski", "smith", "chen", "haddad", "mueller", "okafor", "garcia", "ivanova", "tanaka", "sharma")
_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "web.de", "mail.ru")
_SLOTS = ("customer_name", "product", "order_id", "first_name", "company", "date")
_REFUSALS = ("I'm sorry, but I can't help with that request.",
             "I'm sorry, but I cannot provide that information.",
             "I apologize, but I can't assist with this.")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if s and s.strip()]


def _pools() -> tuple[list[dict[str, Any]], list[str], list[str], list[str]]:
    from bench_load_browse import _chat_pool

    pool = _chat_pool()
    user: list[str] = []
    asst: list[str] = []
    for rec in pool:
        for t in rec["messages"]:
            if isinstance(t.get("content"), str):
                (user if t["role"] == "user" else asst if t["role"] == "assistant" else []).extend(
                    _sentences(t["content"]))
    vocab = sorted({w.lower() for s in asst[:50_000] for w in _WORD_RE.findall(s)})
    return pool, user, asst, vocab


class Generator:
    """Deterministic row stream; `rows()` yields (line, label) with label "" for a clean base row."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.pool, self.user, self.asst, self.vocab = _pools()
        self.real = list(range(len(self.pool)))
        self.rng.shuffle(self.real)
        self.templates = list(range(len(self.pool)))
        # templates whose final turn is an assistant text answer (the "response" a defect goes into)
        self.answer_templates = [i for i, r in enumerate(self.pool)
                                 if r["messages"][-1]["role"] == "assistant"
                                 and isinstance(r["messages"][-1].get("content"), str)]
        # prose sentences of >= 14 words with no code-like characters: the cut-off last paragraph of `truncated`
        self.prose = [s for s in self.asst if len(s.split()) >= 14 and not _CODE_LIKE.search(s)]
        self.clean: deque[tuple[int, str]] = deque(maxlen=WINDOW)
        self.long: deque[tuple[int, str]] = deque(maxlen=WINDOW)

    def _recombine(self, template: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        msgs = []
        for t in template["messages"]:
            t = dict(t)
            if isinstance(t.get("content"), str) and t["role"] in ("user", "assistant") and t["content"]:
                k = min(max(len(_sentences(t["content"])), 1), 12)
                src = self.user if t["role"] == "user" else self.asst
                if t["role"] == "assistant":
                    k = max(k, 2)
                t["content"] = " ".join(src[rng.randrange(len(src))] for _ in range(k))
            msgs.append(t)
        out = {"messages": msgs}
        if "tools" in template:
            out["tools"] = template["tools"]
        return out

    def _base(self, i: int, need_answer: bool = False) -> dict[str, Any]:
        # the real records are spread evenly over the file; the rest are recombinations
        if not need_answer and self.real and self.rng.random() < len(self.pool) / N_ROWS:
            return self.pool[self.real.pop()]
        pick = self.answer_templates if need_answer else self.templates
        return self._recombine(self.pool[pick[self.rng.randrange(len(pick))]])

    def _defect(self, rec: dict[str, Any], kind: str) -> dict[str, Any]:
        rng = self.rng
        rec = {**rec, "messages": [dict(t) for t in rec["messages"]]}
        last = rec["messages"][-1]
        text = last["content"]
        if kind == "placeholder":
            text = f"Dear {{{{{rng.choice(_SLOTS)}}}}}, " + text
        elif kind == "email":
            local = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{rng.randrange(10, 99)}"
            text += f" If anything is unclear, write to me at {local}@{rng.choice(_DOMAINS)} and I will reply."
        elif kind == "html":
            s = _sentences(text)
            cut = max(1, len(s) // 2)
            text = " ".join(s[:cut]) + "<br>\n" + " ".join(s[cut:] or ["That is all."])
        elif kind == "truncated":
            # the answer, then a last paragraph cut mid-sentence (on a word, not on punctuation)
            words = self.prose[rng.randrange(len(self.prose))].split()
            k = rng.randrange(9, len(words) - 2)
            text = (text + "\n\n" if text else "") + " ".join(words[:k]).rstrip(".,;:!?\"'")
        elif kind == "empty":
            text = ""
        elif kind == "refusal":
            text = rng.choice(_REFUSALS)
        last["content"] = text
        return rec

    def _near(self, line: str) -> str:
        rng = self.rng
        rec = json.loads(line)
        turns = [t for t in rec["messages"] if isinstance(t.get("content"), str)]
        t = max(turns, key=lambda t: len(t["content"]))
        words = t["content"].split(" ")
        for _ in range(rng.choice((1, 2))):
            cand = [j for j, w in enumerate(words) if w.isalpha() and len(w) > 2]
            j = rng.choice(cand) if cand else rng.randrange(len(words))
            new = words[j]
            while new.lower() == words[j].lower():
                new = rng.choice(self.vocab)
            words[j] = new
        t["content"] = " ".join(words)
        return json.dumps(rec, ensure_ascii=False)

    def rows(self, n: int):  # noqa: ANN201 - Iterator[tuple[str, str, int]]
        rng = self.rng
        cum = []
        acc = 0.0
        for k, r in RATES.items():
            acc += r
            cum.append((acc, k))
        for i in range(n):
            u = rng.random()
            label = next((k for c, k in cum if u < c), "")
            src = -1
            if label == "exact_dup" and self.clean:
                src, line = self.clean[rng.randrange(len(self.clean))]
            elif label == "near_dup" and self.long:
                src, orig = self.long[rng.randrange(len(self.long))]
                line = self._near(orig)
            elif label in DEFECTS:
                line = json.dumps(self._defect(self._base(i, need_answer=True), label), ensure_ascii=False)
            else:
                label = ""
                rec = self._base(i)
                line = json.dumps(rec, ensure_ascii=False)
                self.clean.append((i, line))
                words = sum(len(t["content"].split()) for t in rec["messages"] if isinstance(t.get("content"), str))
                if words >= NEAR_MIN_WORDS:
                    self.long.append((i, line))
            yield line, label, src


def build(rebuild: bool = False) -> dict[str, Any]:
    params = {"generator": GENERATOR_VERSION, "rows": N_ROWS, "seed": SEED, "rates": RATES}
    prefixes = {n: DATA / f"chat_1m_{n // 1000}k.jsonl" for n in SIZES if n < N_ROWS}
    if (not rebuild and BIG.exists() and TRUTH.exists() and all(p.exists() for p in prefixes.values())
            and json.loads(TRUTH.read_text()).get("params") == params):
        return {**json.loads(TRUTH.read_text()), "built": False}
    DATA.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    gen = Generator()
    t_pool = time.perf_counter() - t0
    planted: dict[str, list[int]] = {k: [] for k in RATES}
    sources: dict[str, list[int]] = {"exact_dup": [], "near_dup": []}
    handles = {n: open(p.with_suffix(".tmp"), "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed below
               for n, p in prefixes.items()}
    real_left = len(gen.real)
    with open(BIG.with_suffix(".tmp"), "w", encoding="utf-8", newline="\n") as fh:
        for i, (line, label, src) in enumerate(gen.rows(N_ROWS)):
            fh.write(line + "\n")
            for n, h in handles.items():
                if i < n:
                    h.write(line + "\n")
            if label:
                planted[label].append(i)
                if label in sources:
                    sources[label].append(src)
    for n, h in handles.items():
        h.close()
        prefixes[n].with_suffix(".tmp").replace(prefixes[n])
    BIG.with_suffix(".tmp").replace(BIG)
    truth = {"params": params, "pool_records": len(gen.pool), "real_records_used": real_left - len(gen.real),
             "sentence_pools": {"user": len(gen.user), "assistant": len(gen.asst)},
             "counts": {k: len(v) for k, v in planted.items()}, "rows": planted, "sources": sources,
             "files": {str(n): str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
                       for n, p in {**prefixes, N_ROWS: BIG}.items()},
             "mb": {str(n): round(p.stat().st_size / 2**20, 1) for n, p in {**prefixes, N_ROWS: BIG}.items()},
             "seconds": round(time.perf_counter() - t0, 1), "seconds_pools": round(t_pool, 1),
             "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    TRUTH.write_text(json.dumps(truth))
    return {**truth, "built": True}


def path_for(n: int) -> Path:
    return BIG if n == N_ROWS else DATA / f"chat_1m_{n // 1000}k.jsonl"


# ---------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?")
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal"))
    return {"cpu": model, "nproc": os.cpu_count(), "ram_gb": round(mem / 2**20, 1), "platform": platform.platform(),
            "python": platform.python_version(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------------------------- headless


def _ws_dir(path: Path) -> Path:
    """The workspace folder the app would pick for `path` under SIFT_HOME=HOME (so the app reuses it)."""
    from analysis.io import LoadOptions, resolve_paths
    from analysis.io.load import fingerprint

    return HOME / "workspaces" / fingerprint(resolve_paths(path), LoadOptions())[:16]


def _time_v(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict[str, float]]:
    """Run `cmd` under /usr/bin/time -v (its own peak RSS), return the process and {wall_s, peak_rss_mb}."""
    t = time.perf_counter()
    if Path("/usr/bin/time").exists():
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT, env=env,
                              check=False)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        rss = int(m.group(1)) / 1024 if m else float("nan")
    else:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # max over children so far
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc, {"wall_s": round(wall, 1), "peak_rss_mb": round(rss)}


_STATS_CHILD = """
import json, sys, time
t = time.perf_counter()
from analysis.workspace.folder import Workspace
from analysis.explore.stats import row_stats
ws = Workspace.from_dir(sys.argv[1]); t1 = time.perf_counter()
row_stats(ws.dataset.rows); t2 = time.perf_counter()
print(json.dumps({"reopen_s": round(t1 - t, 2), "row_stats_s": round(t2 - t1, 2)}))
"""


def headless(n: int) -> dict[str, Any]:
    path = path_for(n)
    ws = _ws_dir(path)
    shutil.rmtree(ws, ignore_errors=True)  # a fresh build: load + Parquet write + every check
    env = {**os.environ, "SIFT_HOME": str(HOME)}
    la0 = loadavg()
    proc, run = _time_v([sys.executable, "-m", "analysis", "analyze", str(path), "--workspace", str(ws),
                         "--checks", "all", "--json"], env)
    doc = json.loads(proc.stdout)
    proc2, st = _time_v([sys.executable, "-c", _STATS_CHILD, str(ws)], env)
    stats = json.loads(proc2.stdout.strip().splitlines()[-1])
    out = {"rows": n, "workspace": str(ws), "cli": run, "steps": {s["name"]: s["seconds"] for s in doc["steps"]},
           "checks_flagged": doc["checks"], "skipped": doc.get("skipped_checks", {}), "stats_child": {**st, **stats},
           "loadavg_start": la0, "loadavg_end": loadavg()}
    print(f"  {n:>9,} rows: sift analyze {run['wall_s']}s, peak {run['peak_rss_mb']} MB; row_stats "
          f"{stats['row_stats_s']}s (peak {st['peak_rss_mb']} MB); load {la0} -> {out['loadavg_end']}",
          file=sys.stderr)
    return out


def planted_vs_found(n: int, ws_dir: Path, truth: dict[str, Any]) -> list[dict[str, Any]]:
    import numpy as np

    from analysis.checks import latest_results, load_result
    from analysis.workspace.folder import Workspace

    rows = Workspace.from_dir(ws_dir).dataset.rows
    ids = rows["row_id"].to_numpy()
    latest = latest_results(ws_dir)

    def res(name: str):  # noqa: ANN202
        return load_result(ws_dir, name, latest[name]["params"], ids)

    def idx(label: str) -> np.ndarray:
        a = np.asarray(truth["rows"][label], dtype=np.int64)
        return a[a < n]

    planted_any = np.zeros(n, bool)
    for k in RATES:
        planted_any[idx(k)] = True
    out = []
    exact, near = res("exact_duplicate"), res("near_duplicate")
    ed, nd = idx("exact_dup"), idx("near_dup")
    out.append({"what": "exact copies (5%)", "check": "exact_duplicate", "planted": len(ed),
                "found_on_planted": int(exact.removable()[ed].sum()), "metric": "removable",
                "found_total": int(exact.removable().sum()),
                "note": "removable = flagged minus each group's kept row"})
    out.append({"what": "near copies, 1-2 words changed (3%)", "check": "near_duplicate", "planted": len(nd),
                "found_on_planted": int(near.is_issue[nd].sum()), "metric": "flagged",
                "found_total": int(near.removable().sum()),
                "note": f"exact_duplicate flags {int(exact.is_issue[nd].sum())} of them; total = near removable"})
    for label, check, codes in (("placeholder", "placeholder", ("double_brace_var",)), ("email", "pii", ("email",)),
                                ("html", "formatting", ("html_tag",)), ("truncated", "truncation", ("mid_sentence",)),
                                ("empty", "length", ("empty_response",)), ("refusal", "refusal", ("refusal",))):
        r = res(check)
        rows_p = idx(label)
        reason = r.reason.astype(str)
        code_hit = np.isin(np.char.partition(reason.astype("U64"), ":")[:, 0], codes) & r.is_issue
        out.append({"what": f"{label} (0.5%)", "check": f"{check} ({'/'.join(codes)})", "planted": len(rows_p),
                    "found_on_planted": int(code_hit[rows_p].sum()), "metric": "flagged with that code",
                    "found_total": int(code_hit.sum()),
                    "background": int((code_hit & ~planted_any).sum()),
                    "note": ""})
    return out


_MEM_CHILD = r"""
import json, random, sys, time
t = time.perf_counter()
from analysis.io import LoadOptions, load
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) // 1024
base = rss()
rows = load(sys.argv[1], LoadOptions()).rows
out = {"load_s": round(time.perf_counter() - t, 1), "rss_before_mb": base, "rss_after_load_mb": rss()}
def deep(o, seen=None):
    if isinstance(o, dict):
        return sys.getsizeof(o) + sum(deep(k) + deep(v) for k, v in o.items())
    if isinstance(o, (list, tuple)):
        return sys.getsizeof(o) + sum(deep(v) for v in o)
    return sys.getsizeof(o)
idx = random.Random(0).sample(range(len(rows)), min(20_000, len(rows)))
scale = len(rows) / len(idx)
cols = {}
for c in rows.columns:
    col = rows[c]
    if col.dtype == object:
        cols[c] = round(sum(deep(col.iat[i]) for i in idx) * scale / 2**20)
    else:
        cols[c] = round(col.memory_usage(deep=True) / 2**20)
out["columns_mb_est"] = cols
print(json.dumps(out))
"""


def memory_breakdown() -> dict[str, Any]:
    """RSS after `load` of the 1M file and each column's size (object columns: nested sizes of a 20k sample)."""
    proc, r = _time_v([sys.executable, "-c", _MEM_CHILD, str(BIG)], {**os.environ})
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "peak_rss_mb": r["peak_rss_mb"]}


# ---------------------------------------------------------------------------------------------- embeddings, map

_EMBED_CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[2])
from analysis.workspace.folder import Workspace
from analysis.space.embedders import scope_texts, HashingEmbedder, load_embedder
ws = Workspace.from_dir(sys.argv[1])
rows = ws.dataset.rows
rng = np.random.default_rng(0)
out = {}
def run(name, emb, n):
    take = np.sort(rng.choice(len(rows), n, replace=False))
    texts = scope_texts(rows.iloc[take], "both")
    emb(texts[:64])  # warm-up
    t = time.perf_counter()
    for i in range(0, n, 512):
        emb(texts[i:i + 512])
    dt = time.perf_counter() - t
    out[name] = {"rows": n, "seconds": round(dt, 2), "rows_per_s": round(n / dt, 1),
                 "est_1m_hours": round(1_000_000 / (n / dt) / 3600, 2)}
    print(name, out[name], file=sys.stderr, flush=True)
run("hashing (analysis.space.embedders.HashingEmbedder, 256-d)", HashingEmbedder(), 10_000)
try:
    from analysis.space.fast_embedders import load_embedder_by_kind
    t = time.perf_counter(); st = load_embedder_by_kind("static"); st(["warm"])
    out["static_load_s"] = round(time.perf_counter() - t, 1)
    run("static (analysis.space.fast_embedders, model2vec from MiniLM)", st, 100_000)
except Exception as exc:  # the fast extra may be missing
    out["static_error"] = repr(exc)
run("MiniLM (sentence-transformers, packaged)", load_embedder(), int(sys.argv[3]))
print(json.dumps(out))
"""

_MAP_CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from analysis.space.projection import ProjectionParams, _pca, project
from components.map_view import scatter
out = {}
rng = np.random.default_rng(0)
def clustered(n, dim=384, centres=200):
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
t = time.perf_counter(); project(clustered(2_000), ProjectionParams())
out["umap_warmup_2k_s"] = round(time.perf_counter() - t, 1)
x = clustered(100_000)
t = time.perf_counter(); project(x, ProjectionParams()); out["umap_100k_s"] = round(time.perf_counter() - t, 1)
print(out, file=sys.stderr, flush=True)
del x
x = clustered(1_000_000)
t = time.perf_counter(); _pca(x, 50, 42); out["pca_1m_384_to_50_s"] = round(time.perf_counter() - t, 1)
del x
import pandas as pd
xy = pd.DataFrame({"row_id": np.arange(1_000_000), "x": rng.standard_normal(1_000_000).astype(np.float32),
                   "y": rng.standard_normal(1_000_000).astype(np.float32)})
colour = pd.Series(rng.integers(0, 20, 1_000_000).astype(str))
hover = [f"row text {i}" for i in range(1_000_000)]
t = time.perf_counter(); fig = scatter(xy, colour, hover, categorical=True)
out["scatter_1m_build_s"] = round(time.perf_counter() - t, 2)
t = time.perf_counter(); js = fig.to_json(); out["scatter_1m_to_json_s"] = round(time.perf_counter() - t, 2)
out["scatter_1m_json_mb"] = round(len(js) / 2**20, 1)
print(json.dumps(out))
"""


def embed_and_map(minilm_rows: int) -> dict[str, Any]:
    ws = _ws_dir(path_for(N_ROWS))
    env = {**os.environ, "SIFT_HOME": str(HOME)}
    la0 = loadavg()
    p1, r1 = _time_v([sys.executable, "-c", _EMBED_CHILD, str(ws), str(ROOT), str(minilm_rows)], env)
    emb = json.loads(p1.stdout.strip().splitlines()[-1])
    print(f"  embeddings: {emb}", file=sys.stderr)
    p2, r2 = _time_v([sys.executable, "-c", _MAP_CHILD, str(ROOT)], env)
    mp = json.loads(p2.stdout.strip().splitlines()[-1])
    print(f"  map: {mp}", file=sys.stderr)
    return {"embed": emb, "embed_proc": r1, "map": mp, "map_proc": r2, "loadavg_start": la0, "loadavg_end": loadavg()}


# ---------------------------------------------------------------------------------------------- app


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def app_bench() -> dict[str, Any]:
    """AppTest on the 1M workspace the headless run built (findings cached), like bench_app.py."""
    os.environ["SIFT_HOME"] = str(HOME)
    os.environ["SIFT_DATA"] = str(BIG)
    from streamlit.testing.v1 import AppTest

    la0 = loadavg()
    before = sorted(p.name for p in (HOME / "workspaces").iterdir())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
    rows: list[dict[str, Any]] = []

    def note(name: str, ms: float, extra: str = "") -> None:
        assert not at.exception, f"{name}: {at.exception}"
        rows.append({"interaction": name, "ms": round(ms), "rss_mb": round(_rss_mb()), "note": extra})
        print(f"  {name}: {ms:,.0f} ms (RSS {_rss_mb():,.0f} MB)", file=sys.stderr, flush=True)

    def once(fn: Callable[[], object]) -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    def med(fn: Callable[[], object], n: int = 3) -> float:
        return statistics.median(once(fn) for _ in range(n))

    note("first open: reopen 1M-row workspace, row stats, Overview", once(at.run), "one-off per server process")
    note("Overview rerun", med(at.run))
    for page in ("pages/browse.py", "pages/data.py", "pages/findings.py", "pages/duplicates.py", "pages/map.py",
                 "pages/topics.py", "pages/export.py"):
        at.switch_page(page)
        first = once(at.run)
        note(f"open {page} (first)", first)
        note(f"open {page} (again)", med(at.run, 2))
        if page == "pages/map.py":
            rows[-1]["note"] = " / ".join(i.value[:90] for i in at.info) or "map drawn"
    at.switch_page("pages/browse.py")
    at.run()
    note("Browse: keyword search 'apples'", med(lambda: at.text_input(key="browse_q").input("apples").run()))
    at.checkbox(key="browse_regex").check().run()
    note("Browse: regex search \\b\\d+ apples\\b", med(lambda: at.text_input(key="browse_q").input(
        r"\b\d+ apples\b").run()))
    note("Browse: scope = assistant turns", once(lambda: at.selectbox(key="browse_scope").set_value("assistant").run()))
    at.selectbox(key="browse_scope").set_value("both").run()
    at.checkbox(key="browse_regex").uncheck().run()
    at.text_input(key="browse_q").input("").run()
    note("Browse: flagged by check = placeholder", once(
        lambda: at.selectbox(key="browse_finding").set_value("placeholder").run()))
    note("Browse: flagged by check = exact_duplicate", once(
        lambda: at.selectbox(key="browse_finding").set_value("exact_duplicate").run()))
    at.selectbox(key="browse_finding").set_value("—").run()
    kinds = at.multiselect(key="browse_kinds")
    note("Browse: kind filter", once(lambda: kinds.set_value([kinds.options[0]]).run()))
    at.multiselect(key="browse_kinds").set_value([]).run()
    note("Browse: length filter (min 500 chars)", once(lambda: at.number_input(key="browse_min").set_value(500).run()))
    at.number_input(key="browse_min").set_value(None).run()
    note("Browse: open row 654,321", med(lambda: at.number_input(key="browse_row").set_value(654_321).run(), 2))
    at.switch_page("pages/findings.py")
    at.run()
    note("Findings: drill into near_duplicate", once(
        lambda: at.selectbox(key="findings_pick").set_value("near_duplicate").run()))
    note("Findings: drill into pii", once(lambda: at.selectbox(key="findings_pick").set_value("pii").run()))
    if any((HOME / "workspaces").glob("*/embeddings/*-static@both.npy")):  # `sift analyze --embed --embedder static`
        at.switch_page("pages/map.py")
        at.run()
        note("Map: switch to the instant (static) map (reads vectors, index, layout, topics)",
             once(lambda: at.selectbox(key="map_embedder").set_value("static").run()),
             " / ".join(c.value[:60] for c in at.caption[:2]))
        note("Map (static): rerun", med(at.run, 2))
        note("Map (static): colour by check near_duplicate",
             once(lambda: at.radio(key="map_colour").set_value("check: near_duplicate").run()))
        note("Map (static): search by meaning", once(lambda: at.text_input(key="map_query").input(
            "how many apples are left").run()))
    after = sorted(p.name for p in (HOME / "workspaces").iterdir())
    return {"rows": rows, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "reused_headless_workspace": before == after,
            "loadavg_start": la0, "loadavg_end": loadavg()}


def _app_in_child() -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--app-child"], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise RuntimeError("app bench failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------- report


def report(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['nproc']} CPUs, {m['ram_gb']} GB RAM · {m['platform']} · Python "
             f"{m['python']} · {m['date']}"]
    if "data" in res:
        d = res["data"]
        lines += ["", f"Data: {d['mb']} MB; planted {d['counts']}; generated in {d['seconds']} s, "
                  f"peak RSS {d['peak_rss_mb']} MB"]
    if "headless" in res:
        runs = res["headless"]
        steps = sorted({s for r in runs for s in r["steps"]}, key=lambda s: (s != "load", s))
        lines += ["", "| step | " + " | ".join(f"{r['rows']:,} rows" for r in runs) + " |",
                  "|---|" + "---:|" * len(runs)]
        for s in steps:
            lines.append(f"| {s} | " + " | ".join(f"{r['steps'].get(s, float('nan')):.2f}" for r in runs) + " |")
        lines.append("| **sift analyze wall (process)** | " + " | ".join(f"**{r['cli']['wall_s']:.1f}**"
                                                                          for r in runs) + " |")
        lines.append("| **peak RSS MB (sift analyze)** | " + " | ".join(f"**{r['cli']['peak_rss_mb']:,}**"
                                                                         for r in runs) + " |")
        lines.append("| row_stats (own process, after reopen) | " + " | ".join(
            f"{r['stats_child']['row_stats_s']:.2f}" for r in runs) + " |")
        lines.append("| reopen (Workspace.from_dir) | " + " | ".join(
            f"{r['stats_child']['reopen_s']:.2f}" for r in runs) + " |")
        lines.append("| peak RSS MB (reopen + row_stats) | " + " | ".join(
            f"{r['stats_child']['peak_rss_mb']:,}" for r in runs) + " |")
        lines.append("| load average start → end | " + " | ".join(
            f"{r['loadavg_start'][0]} → {r['loadavg_end'][0]}" for r in runs) + " |")
    if "found" in res:
        lines += ["", "| planted | check | planted rows | found among them | found in the whole file | "
                  "background (unplanted rows) |", "|---|---|---:|---:|---:|---:|"]
        for f in res["found"]:
            lines.append(f"| {f['what']} | {f['check']} | {f['planted']:,} | {f['found_on_planted']:,} "
                         f"({f['metric']}) | {f['found_total']:,} | {f.get('background', '')} |")
    if "memory" in res:
        lines += ["", f"Memory after `load` of 1M rows: {json.dumps(res['memory'])}"]
    if "embed_map" in res:
        lines += ["", "```", json.dumps(res["embed_map"], indent=1), "```"]
    if "app" in res:
        lines += ["", "| interaction (1,000,000 rows) | ms | process RSS MB | note |", "|---|---:|---:|---|"]
        for r in res["app"]["rows"]:
            lines.append(f"| {r['interaction']} | {r['ms']:,} | {r['rss_mb']:,} | {r['note']} |")
        lines.append(f"\napp process peak RSS {res['app']['peak_rss_mb']:,} MB; load average "
                     f"{res['app']['loadavg_start']} → {res['app']['loadavg_end']}")
    return "\n".join(lines)


def main() -> int:
    global DATA, BIG, TRUTH, RESULTS, HOME, N_ROWS, SIZES  # --tiny points them at a temporary folder
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="gen,headless,mem,embed,app")
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--minilm-rows", type=int, default=2_000)
    ap.add_argument("--app-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tiny", action="store_true", help="parts gen,headless,mem on a 3,000-row file (and its "
                    "1,000-row prefix) in a temporary folder; bench/data/ is left alone (checks that it runs)")
    args = ap.parse_args()
    if args.app_child:
        print(json.dumps(app_bench()))
        return 0
    if args.tiny:
        import tempfile

        DATA = Path(tempfile.mkdtemp(prefix="sift-bench-1m-"))
        BIG, TRUTH, RESULTS, HOME = (DATA / "chat_1m.jsonl", DATA / "chat_1m.truth.json", DATA / "results_1m.json",
                                     DATA / "home_1m")
        N_ROWS, SIZES = 3_000, (1_000, 3_000)
        args.parts, args.sizes = "gen,headless,mem", "1000,3000"
        try:
            return run(args)
        finally:
            shutil.rmtree(DATA, ignore_errors=True)
    return run(args)


def run(args: argparse.Namespace) -> int:
    parts = set(args.parts.split(","))
    res: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    res["machine"] = machine()
    res.setdefault("loadavg", {})["start"] = loadavg()
    t0 = time.perf_counter()
    if "gen" in parts or not BIG.exists():
        print("generating ...", file=sys.stderr)
        truth = build(args.rebuild)
        res["data"] = {k: truth[k] for k in ("counts", "mb", "seconds", "peak_rss_mb", "pool_records",
                                             "real_records_used", "sentence_pools", "built")}
    truth = json.loads(TRUTH.read_text())
    if "headless" in parts:
        sizes = [int(s) for s in args.sizes.split(",")]
        res["headless"] = [headless(n) for n in sizes]
        res["found"] = planted_vs_found(sizes[-1], Path(res["headless"][-1]["workspace"]), truth)
        RESULTS.write_text(json.dumps(res, indent=1))
    if "mem" in parts:
        res["memory"] = memory_breakdown()
        print(f"  memory: {res['memory']}", file=sys.stderr)
        RESULTS.write_text(json.dumps(res, indent=1))
    if "embed" in parts:
        res["embed_map"] = embed_and_map(args.minilm_rows)
        RESULTS.write_text(json.dumps(res, indent=1))
    if "app" in parts:
        res["app"] = _app_in_child()
    res["loadavg"]["end"] = loadavg()
    res["total_s"] = round(time.perf_counter() - t0, 1)
    RESULTS.write_text(json.dumps(res, indent=1))
    print(report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
