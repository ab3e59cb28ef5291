"""End-to-end: a mouse lasso on the real Map in Chromium flags exactly the rows inside it.

A three-topic JSONL (cooking / astronomy / Python questions) is embedded with the real MiniLM from the
browser; the test then draws a lasso polygon with the mouse on the scatter, checks the "N rows selected"
heading, flags them with a reason, and checks on disk (curation.sqlite) that the flagged ids are exactly the
rows whose projection coordinates (projection/*.parquet) lie inside the polygon, converted from pixels to
data coordinates with the plot's own axes. A reload then shows "flagged" in the legend of the status colouring.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright (the Python package) is not installed")

import pandas as pd  # noqa: E402
from e2e_helpers import (  # noqa: E402
    ARTIFACTS,
    WAIT_MS,
    assert_clean,
    external_requests,
    go,
    open_app,
    screenshot,
    wait_idle,
)
from playwright.sync_api import Page, expect  # noqa: E402
from topic_texts import QUESTIONS, chat_row  # noqa: E402

from analysis.workspace.folder import CURATION_FILE  # noqa: E402
from analysis.workspace.store import CurationStore  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COMPUTE_MS = 120_000  # first MiniLM load + embed + UMAP + topics of 36 rows (~10-30 s)
REASON = "e2e: lasso on the map"
MIN_EDGE_PX = 8  # every point is at least this far (in screen pixels) from the lasso's edges


# ----------------------------------------------------------------------------------------------- helpers


def wait_plot_drawn(page: Page, timeout: int = WAIT_MS) -> None:
    """Until plotly has laid out the scatter (axes with a length) and drawn its drag layer."""
    page.wait_for_function(
        """() => { const d = document.querySelector('.js-plotly-plot');
                   return !!(d && d._fullLayout && d._fullLayout.xaxis && d._fullLayout.xaxis._length > 0
                             && d.querySelector('.nsewdrag')); }""", timeout=timeout)


def plot_geometry(page: Page) -> dict:
    """The plot area in page pixels: left/top of the axes' origin and their width/height."""
    return page.evaluate(
        """() => { const d = document.querySelector('.js-plotly-plot'); const r = d.getBoundingClientRect();
                   const s = d._fullLayout._size;
                   return {left: r.left + s.l, top: r.top + s.t, width: s.w, height: s.h}; }""")


def data_to_plot_px(page: Page, xs: list[float], ys: list[float]) -> list[list[float]]:
    """Data coordinates -> pixels relative to the plot area (the axes' own d2p)."""
    return page.evaluate(
        """([xs, ys]) => { const L = document.querySelector('.js-plotly-plot')._fullLayout;
                           return xs.map((x, i) => [L.xaxis.d2p(x), L.yaxis.d2p(ys[i])]); }""", [xs, ys])


def plot_px_to_data(page: Page, poly: list[tuple[float, float]]) -> list[list[float]]:
    """Pixels relative to the plot area -> data coordinates (the axes' own p2d)."""
    return page.evaluate(
        """(poly) => { const L = document.querySelector('.js-plotly-plot')._fullLayout;
                       return poly.map(([px, py]) => [L.xaxis.p2d(px), L.yaxis.p2d(py)]); }""", poly)


def inside(poly: list[tuple[float, float]] | list[list[float]], x: float, y: float) -> bool:
    """Ray casting: is (x, y) inside the closed polygon?"""
    hit = False
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def edge_distance(poly: list[tuple[float, float]], x: float, y: float) -> float:
    """Shortest distance from (x, y) to the polygon's edges."""
    best = float("inf")
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy or 1.0)))
        best = min(best, ((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5)
    return best


def candidate_lassos(w: float, h: float):
    """Irregular hexagons (in plot-area pixels) over a third to a half of the plot, from each side."""
    for frac in (0.45, 0.4, 0.5, 0.35, 0.55, 0.3, 0.6):
        for side in ("left", "right", "top", "bottom"):
            # a hexagon over [0, frac] x [0, 1] of a unit square, with a bulge so it is not a box
            unit = [(0.04, 0.05), (frac, 0.08), (frac + 0.06, 0.5), (frac - 0.02, 0.93), (0.05, 0.95), (0.02, 0.5)]
            if side == "right":
                unit = [(1 - u, v) for u, v in unit]
            elif side == "top":
                unit = [(v, u) for u, v in unit]
            elif side == "bottom":
                unit = [(v, 1 - u) for u, v in unit]
            yield [(u * w, v * h) for u, v in unit]


def choose_lasso(pts: list[list[float]], w: float, h: float) -> tuple[list[tuple[float, float]], int]:
    """The first candidate that holds some but not all points and keeps every point MIN_EDGE_PX from its edges,
    so that the pixel rounding of mouse events cannot move a point across the boundary."""
    for poly in candidate_lassos(w, h):
        n_in = sum(inside(poly, x, y) for x, y in pts)
        if 0 < n_in < len(pts) and min(edge_distance(poly, x, y) for x, y in pts) >= MIN_EDGE_PX:
            return poly, n_in
    raise AssertionError(f"no lasso candidate keeps {MIN_EDGE_PX} px clear of all {len(pts)} points")


def draw_lasso(page: Page, poly: list[tuple[float, float]], origin: dict) -> None:
    """Press at the first vertex, drag through the others (several mousemove events per edge), release at the start."""
    ox, oy = origin["left"], origin["top"]
    page.mouse.move(ox + poly[0][0], oy + poly[0][1])
    page.mouse.down()
    for x, y in [*poly[1:], poly[0]]:
        page.mouse.move(ox + x, oy + y, steps=8)
    page.mouse.up()


# ----------------------------------------------------------------------------------------------- test


def test_lasso_on_the_map_flags_the_rows_inside(tmp_path_factory: pytest.TempPathFactory, start_server,
                                                new_tab) -> None:
    data = tmp_path_factory.mktemp("map_data") / "three_topics.jsonl"
    data.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS), encoding="utf-8")
    total = len(QUESTIONS)
    home = tmp_path_factory.mktemp("map_home")
    with start_server(home, str(data)) as srv:
        tab = new_tab()
        page = tab.page
        open_app(page, srv.url)
        go(page, "Map")
        expect(page.get_by_text("The map needs embeddings")).to_be_visible()
        page.get_by_role("button", name="Compute embeddings, map and topics").click()
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=COMPUTE_MS)
        wait_idle(page, COMPUTE_MS)
        assert_clean(page)
        expect(page.locator(".js-plotly-plot")).to_have_count(1)
        page.locator(".js-plotly-plot").scroll_into_view_if_needed()
        wait_plot_drawn(page)
        page.wait_for_timeout(300)  # let the scroll settle before reading page coordinates

        ws = srv.workspace_dir(str(data))
        (proj_file,) = list((ws / "projection").glob("*.parquet"))
        proj = pd.read_parquet(proj_file)
        assert sorted(proj["row_id"].astype(int)) == list(range(total))
        ids = proj["row_id"].astype(int).tolist()
        xs, ys = proj["x"].astype(float).tolist(), proj["y"].astype(float).tolist()

        # Pick a lasso that leaves every point clearly in or out, then draw it with the mouse.
        geo = plot_geometry(page)
        pts_px = data_to_plot_px(page, xs, ys)
        assert all(0 <= x <= geo["width"] and 0 <= y <= geo["height"] for x, y in pts_px), "points off the plot"
        poly_px, n_expected = choose_lasso(pts_px, geo["width"], geo["height"])
        drag = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        assert drag is not None
        assert abs(drag["x"] - geo["left"]) < 1.5 and abs(drag["y"] - geo["top"]) < 1.5, (drag, geo)
        draw_lasso(page, poly_px, geo)
        page.wait_for_timeout(500)
        wait_idle(page)
        assert_clean(page)

        heading = page.get_by_role("heading", name=re.compile(r"^[\d,]+ rows selected on the map$"))
        expect(heading).to_be_visible(timeout=WAIT_MS)
        n = int(heading.inner_text().split()[0].replace(",", ""))
        assert 0 < n < total

        # The rows inside the drawn polygon, in data coordinates via the plot's axes.
        poly_data = plot_px_to_data(page, poly_px)
        expected = {rid for rid, x, y in zip(ids, xs, ys, strict=True) if inside(poly_data, x, y)}
        assert len(expected) == n_expected  # pixel and data space agree on the candidate
        assert n == len(expected), f"{n} selected, {len(expected)} inside the lasso"
        table = page.locator('[data-testid="stDataFrame"]').first
        expect(table).to_be_visible()

        screenshot(page, "map.png", folders=(ARTIFACTS,))  # the lasso, the selected rows and the bulk bar

        page.get_by_role("textbox", name="Reason (goes into the log)").fill(REASON)
        page.get_by_role("button", name=f"Flag ({n:,})", exact=True).click()
        expect(page.get_by_text(f"Flagged {n:,} rows")).to_be_visible(timeout=WAIT_MS)
        wait_idle(page)
        assert_clean(page)

        store = CurationStore(ws / CURATION_FILE)
        try:
            flagged = store.flagged_ids()
            actions = store.actions()
        finally:
            store.close()
        assert len(flagged) == n
        assert flagged == expected, f"flagged {sorted(flagged)} != inside the lasso {sorted(expected)}"
        flags = [a for a in actions if a.action == "flag"]
        assert len(flags) == 1 and len(actions) == 1
        assert flags[0].reason == REASON
        assert set(flags[0].row_ids) == expected

        # A reload is a new session: colour by status and the legend shows the flagged rows.
        page.reload()
        expect(page.get_by_role("heading", name="Map", level=1)).to_be_visible(timeout=WAIT_MS)
        wait_idle(page)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text(re.compile(r"rows selected on the map$"))).to_have_count(0)
        page.locator('[data-testid="stRadio"]').get_by_text("status", exact=True).click()
        wait_idle(page)
        legend = page.locator(".js-plotly-plot .legendtext")
        expect(legend.filter(has_text=re.compile(r"^flagged$"))).to_have_count(1, timeout=WAIT_MS)
        expect(legend.filter(has_text=re.compile(r"^kept$"))).to_have_count(1)
        expect(legend).to_have_count(2)
        assert_clean(page)

        assert not external_requests(tab, srv.url), external_requests(tab, srv.url)
        assert not tab.page_errors, tab.page_errors
