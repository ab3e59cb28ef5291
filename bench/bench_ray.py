"""Stage costs of `--engine ray` vs the local runner at 10k and 100k rows (docs/scale.md).

Rows: gsm8k train (question/answer, 7,473 rows) repeated with a numbered suffix until N rows, so every later copy is
a near duplicate of an earlier one. Usage: `python bench/bench_ray.py 10000 100000 [--cpus 2]`; prints one JSON
line per size with seconds per stage for both engines.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.checks import run_checks  # noqa: E402
from analysis.io import load  # noqa: E402
from analysis.run import ray_runner as rr  # noqa: E402

SRC = ROOT.parent / "shared" / "datasets" / "gsm8k" / "train.jsonl"
ROW_LOCAL = ["formatting", "placeholder", "pii", "truncation"]


def make_file(n: int, folder: Path) -> Path:
    base = [json.loads(line) for line in SRC.read_text().splitlines() if line.strip()]
    out = folder / f"gsm8k_{n}.jsonl"
    with out.open("w") as fh:
        for i in range(n):
            rec = dict(base[i % len(base)])
            if i >= len(base):
                rec["question"] = f"{rec['question']} (variant {i // len(base)})"
            fh.write(json.dumps(rec) + "\n")
    return out


def timed(fn):  # noqa: ANN001, ANN201
    t = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t, 2)


def bench(n: int, folder: Path) -> dict:
    path = make_file(n, folder)
    local_ds, t_load = timed(lambda: load(path))
    rows = local_ds.rows
    res: dict = {"rows": n, "local": {"load": t_load}, "ray": {}}
    for name, names in (("row_local", ROW_LOCAL), ("exact_duplicate", ["exact_duplicate"]),
                        ("near_duplicate", ["near_duplicate"])):
        _, res["local"][name] = timed(lambda names=names: run_checks(rows, names))
    _, res["ray"]["load"] = timed(lambda: rr.load_ray(path))
    for name, names in (("row_local", ROW_LOCAL), ("exact_duplicate", ["exact_duplicate"]),
                        ("near_duplicate", ["near_duplicate"])):
        _, res["ray"][name] = timed(lambda names=names: rr.run_checks_ray(rows, names))
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--cpus", type=int, default=None)
    args = ap.parse_args()
    _, t_init = timed(lambda: rr.init_ray(num_cpus=args.cpus))
    print(json.dumps({"ray_init_seconds": t_init, "cpus": rr._cpus()}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            print(json.dumps(bench(n, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
