"""Per-check throughput at 100k rows, and the whole `--checks all` (those that need no embeddings).

Run after bench_load_browse.py has built bench/data/chat_100k.jsonl: .venv/bin/python bench/bench_checks.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "chat_100k.jsonl"


def main() -> int:
    if not DATA.exists():
        print(f"{DATA} is missing: run bench/bench_load_browse.py first", file=sys.stderr)
        return 2
    from analysis.checks import REGISTRY, CheckContext, run_checks
    from analysis.io import load

    rows = load(DATA).rows
    names = [n for n in sorted(REGISTRY) if REGISTRY[n].missing_inputs(None, rows) is None]
    ctx = CheckContext(rows)
    print("| check (100,000 chat rows) | seconds | rows/s | flagged |\n|---|---:|---:|---:|")
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
