"""Whole-script latency of the app at 100k rows: Streamlit's AppTest runs the real pages (no browser).

Complements bench_load_browse.py (which times the analysis calls one by one): this is what a user waits
for on each interaction, minus the browser's rendering. Run after bench_load_browse.py has built
bench/data/chat_100k.jsonl:  .venv/bin/python bench/bench_app.py
(`--tiny`: the same interactions on a 2,000-row file built in a temporary folder, to check that the script runs.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "chat_100k.jsonl"


def timed(fn: Callable[[], object], n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="2,000 rows in a temporary folder (checks that it runs)")
    args = ap.parse_args()
    data = DATA
    if args.tiny:
        from bench_load_browse import tiny_chat_file

        data = tiny_chat_file()
    elif not DATA.exists():
        print(f"{DATA} is missing: run bench/bench_load_browse.py first", file=sys.stderr)
        return 2
    home = tempfile.mkdtemp(prefix="sift-bench-app-")
    os.environ["SIFT_HOME"] = home
    os.environ["SIFT_DATA"] = str(data)
    try:
        return run_app(data)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if args.tiny:
            shutil.rmtree(data.parent, ignore_errors=True)


def run_app(data: Path) -> int:
    from streamlit.testing.v1 import AppTest

    with open(data, "rb") as fh:
        n = sum(1 for _ in fh)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    rows: list[tuple[str, float, str]] = []
    t = time.perf_counter()
    at.run()
    rows.append((f"first open: load {n:,} rows, write workspace, row stats, Overview", (time.perf_counter() - t) * 1000,
                 "one-off per dataset (progress bar)"))
    for page in ("pages/overview.py", "pages/browse.py", "pages/data.py", "pages/export.py"):
        at.switch_page(page)
        rows.append((f"open {page}", timed(at.run), ""))
    at.switch_page("pages/browse.py")
    at.run()
    rows.append(("Browse: keyword search 'apples'", timed(lambda: at.text_input(key="browse_q").input("apples").run()),
                 ""))
    at.checkbox(key="browse_regex").check().run()
    rows.append(("Browse: regex search", timed(lambda: at.text_input(key="browse_q").input(r"\b\d+ apples\b").run()),
                 ""))
    rows.append(("Browse: scope = assistant turns",
                 timed(lambda: at.selectbox(key="browse_scope").set_value("assistant").run()), ""))
    at.selectbox(key="browse_scope").set_value("both").run()
    radio = at.radio(key="browse_apply_to")
    radio.set_value(radio.options[1]).run()
    t = time.perf_counter()
    at.button(key="browse_bulk_drop").click().run()
    rows.append(("Browse: drop all regex matches (one action)", (time.perf_counter() - t) * 1000, ""))
    at.checkbox(key="browse_regex").uncheck().run()
    at.text_input(key="browse_q").input("").run()
    rows.append(("Browse: status filter = dropped",
                 timed(lambda: at.selectbox(key="browse_status").set_value("dropped").run()), ""))
    at.selectbox(key="browse_status").set_value("all").run()
    rows.append(("Browse: length filter (min 500 chars)",
                 timed(lambda: at.number_input(key="browse_min").set_value(500).run()), ""))
    rows.append(("Browse: open an example by row id",
                 timed(lambda: at.number_input(key="browse_row").set_value(min(54_321, n - 1)).run()), ""))
    at.switch_page("pages/export.py")
    at.run()
    t = time.perf_counter()
    at.button(key="export_go").click().run()
    rows.append(("Export: write the kept rows (JSONL, source) + manifest", (time.perf_counter() - t) * 1000, "n/a"))
    assert not at.exception, at.exception
    print(f"| interaction ({n:,} rows) | ms | < 1 s |")
    print("|---|---:|:---:|")
    for name, ms, note in rows:
        verdict = note or ("PASS" if ms < 1000 else "FAIL")
        print(f"| {name} | {ms:,.0f} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
