"""Per-check throughput at 100k rows, and the whole `--checks all` (those that need no embeddings).

Run after bench_load_browse.py has built bench/data/chat_100k.jsonl: .venv/bin/python bench/bench_checks.py
(`--tiny`: every check on a 2,000-row file built in a temporary folder, to check that the script runs.)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "chat_100k.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="2,000 rows in a temporary folder (checks that it runs)")
    args = ap.parse_args()
    if not args.tiny:
        if not DATA.exists():
            print(f"{DATA} is missing: run bench/bench_load_browse.py first", file=sys.stderr)
            return 2
        return run(DATA)
    from bench_load_browse import tiny_chat_file

    data = tiny_chat_file()
    try:
        return run(data)
    finally:
        shutil.rmtree(data.parent, ignore_errors=True)


def run(data: Path) -> int:
    from analysis.checks import REGISTRY, CheckContext, run_checks
    from analysis.io import load

    rows = load(data).rows
    names = [n for n in sorted(REGISTRY) if REGISTRY[n].missing_inputs(None, rows) is None]
    ctx = CheckContext(rows)
    print(f"| check ({len(rows):,} chat rows) | seconds | rows/s | flagged |\n|---|---:|---:|---:|")
    total = time.perf_counter()
    for name in names:
        t = time.perf_counter()
        result = run_checks(rows, [name], ctx=ctx)[name]
        dt = time.perf_counter() - t
        print(f"| {name} | {dt:.2f} | {len(rows) / dt:,.0f} | {result.rows_flagged:,} |")
    print(f"| **all {len(names)} checks** | **{time.perf_counter() - total:.1f}** | | |")
    skipped = sorted(set(REGISTRY) - set(names))
    print(f"\n(not timed here, they need embeddings: {', '.join(skipped)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
