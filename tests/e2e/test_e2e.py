"""End-to-end: a real browser drives the real app, as a user would (Playwright + the Debian Chromium).

Covers the main loop (Overview -> Browse: search, open a row, flag/drop it, select table rows, bulk
drop -> reload: still there -> Export: the file on disk has exactly the kept rows), two tabs writing at
once, an Overview chart selection filtering Browse, and that untrusted dataset text (HTML, scripts,
Markdown images) is shown literally and fetches nothing. Screenshots of every page go to
tests/e2e/artifacts/ (and to docs/screenshots/, the README's, with SIFT_UPDATE_SCREENSHOTS=1).
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

from analysis.explore.filters import BrowseQuery, text_mask  # noqa: E402
from analysis.io import load, resolve_paths  # noqa: E402
from analysis.workspace.folder import CURATION_FILE  # noqa: E402
from analysis.workspace.store import CurationStore  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]



# ----------------------------------------------------------------------------------------------- helpers


def expect_match_line(page: Page, n: int, m: int, dropped: int, flagged: int) -> None:
    """Look the line up by its full expected text: during a rerun Streamlit briefly shows the stale element
    beside the new one, so a generic "rows match" locator can see two."""
    expect(page.get_by_text(f"{n:,} of {m:,} rows match · {dropped:,} dropped · {flagged:,} flagged")
           .first).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"rows match · "))).to_have_count(1, timeout=WAIT_MS)


def open_row(page: Page, row_id: int) -> None:
    box = page.get_by_role("spinbutton", name="Open row id")
    box.fill(str(row_id))
    box.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(rf"^Row {row_id} · "))).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)


def example_status(page: Page):
    return page.get_by_text(re.compile(r" · status: "))


def click_grid_row(page: Page, index: int) -> None:
    """Tick the selection checkbox of visible row `index` in the st.dataframe canvas (header and rows 35 px)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 35 * index + 17)


@pytest.fixture(scope="module")
def rows(server):
    """The dataset as the app sees it (loaded in this process, for expected values)."""
    return load(server.source).rows


def pick_keyword(rows) -> tuple[str, list[int]]:
    """A word that matches between 8 and 100 rows but not all (so one table page shows all matches)."""
    seen: set[str] = set()
    for text in rows["prompt"].fillna(""):
        for word in re.findall(r"[A-Za-z]{6,}", text):
            w = word.lower()
            if w in seen:
                continue
            seen.add(w)
            mask = text_mask(rows, BrowseQuery(text=w))
            if 8 <= mask.sum() <= min(100, len(rows) - 1):
                return w, [int(r) for r in rows.loc[mask, "row_id"]]
    raise AssertionError("no keyword with 8..100 matches in the dataset")


# ----------------------------------------------------------------------------------------------- tests


def test_curate_reload_export(server, new_tab, rows) -> None:
    tab = new_tab()
    page = tab.page
    m = len(rows)

    # Overview: the row count of the dataset.
    open_app(page, server.url)
    expect(page.locator('[data-testid="stMetric"]', has_text="Rows").first).to_contain_text(f"{m:,}")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=WAIT_MS)
    screenshot(page, "overview.png")

    # Data: what is loaded.
    go(page, "Data")
    expect(page.get_by_role("heading", name="Loaded dataset")).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]', has_text="Rows").first).to_contain_text(f"{m:,}")
    screenshot(page, "data.png")

    # Browse: search narrows the table.
    go(page, "Browse")
    expect_match_line(page, m, m, 0, 0)
    keyword, matched = pick_keyword(rows)
    search = page.get_by_role("textbox", name="Search", exact=True)
    search.fill(keyword)
    search.press("Enter")
    expect_match_line(page, len(matched), m, 0, 0)

    # Open one row by id (a short one: it is in the README screenshot); flag it, then drop it with a reason.
    size = (rows["prompt"].fillna("").str.len() + rows["response"].fillna("").str.len()).set_axis(rows["row_id"])
    rid = min(matched[5:], key=lambda r: size[r])
    open_row(page, rid)
    assert page.locator('[data-testid="stChatMessage"]').count() >= 1
    # Step through the matches and back.
    k = matched.index(rid)
    page.get_by_role("button", name="← Previous match").click()
    expect(page.get_by_role("heading", name=re.compile(rf"^Row {matched[k - 1]} · "))).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    page.get_by_role("button", name="Next match →").click()
    expect(page.get_by_role("heading", name=re.compile(rf"^Row {rid} · "))).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    expect(example_status(page)).to_contain_text("status: kept")
    page.get_by_role("button", name="Flag", exact=True).click()
    expect(example_status(page)).to_contain_text("status: flagged", timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Unflag", exact=True)).to_be_visible()
    page.get_by_role("textbox", name="Reason", exact=True).fill("e2e: off-topic")
    page.get_by_role("button", name="Drop", exact=True).click()
    expect(example_status(page)).to_contain_text("status: dropped (e2e: off-topic), flagged", timeout=WAIT_MS)
    expect_match_line(page, len(matched), m, 1, 1)
    assert_clean(page)

    # The table: tick two rows, then drop them with the bulk bar.
    bulk = [matched[1], matched[3]]
    click_grid_row(page, 1)
    expect(page.get_by_text("selected rows (1)")).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    click_grid_row(page, 3)
    expect(page.get_by_text("selected rows (2)")).to_be_visible(timeout=WAIT_MS)
    # The last ticked row opens in the example view.
    expect(page.get_by_role("heading", name=re.compile(rf"^Row {bulk[1]} · "))).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    page.get_by_role("textbox", name="Reason (goes into the log)").fill("e2e: bulk")
    page.get_by_role("button", name="Drop (2)", exact=True).click()
    expect_match_line(page, len(matched), m, 3, 1)
    assert_clean(page)
    dropped = {rid, *bulk}

    # A reload is a new session: filters reset, curation comes back from disk.
    page.reload()
    expect(page.get_by_role("heading", name="Browse", level=1)).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    expect_match_line(page, m, m, 3, 1)
    open_row(page, bulk[0])
    expect(example_status(page)).to_contain_text("status: dropped (e2e: bulk)")
    open_row(page, rid)
    expect(example_status(page)).to_contain_text("status: dropped (e2e: off-topic), flagged")
    expect(page.get_by_role("button", name="Restore", exact=True)).to_be_visible()
    # The same search again: the table now carries the status badges (the README screenshot).
    search = page.get_by_role("textbox", name="Search", exact=True)
    search.fill(keyword)
    search.press("Enter")
    expect_match_line(page, len(matched), m, 3, 1)
    expect(page.get_by_role("heading", name=re.compile(rf"^Row {rid} · "))).to_be_visible()
    assert_clean(page)
    screenshot(page, "browse.png")

    # Export: the default output path, then the file on disk.
    go(page, "Export")
    expect(page.get_by_text(f"{m - 3:,} rows will be written · 3 dropped")).to_be_visible()
    out = Path(page.get_by_role("textbox", name=re.compile(r"^Output folder")).input_value())
    assert out.is_relative_to(server.home), f"default export path {out} is outside SIFT_HOME"
    page.get_by_role("button", name="Export", exact=True).click()
    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(
        f"Wrote {m - 3:,} rows to {out} (3 dropped)", timeout=WAIT_MS)
    wait_idle(page)
    assert_clean(page)
    screenshot(page, "export.png")

    manifest = json.loads((out / "manifest.json").read_text())
    data_files = [out / f["path"] for f in manifest["files"] if f["role"] == "data"]
    lines = []
    for f in data_files:  # one data file per source file, in the source's order
        text = f.read_text(encoding="utf-8").split("\n")
        assert text[-1] == ""
        lines += text[:-1]
    assert len(lines) == m - len(dropped)
    kept = rows[~rows["row_id"].isin(dropped)]
    by_id = dict(zip(rows["row_id"].astype(int), rows["source"], strict=True))
    sources = [Path(p) for p in resolve_paths(server.source)]
    if all(p.suffix == ".jsonl" for p in sources):
        # Source format, JSONL in: every exported line is a line of the source files, byte for byte.
        assert lines == list(kept["source"])
        raw = {ln for p in sources for ln in p.read_text(encoding="utf-8").split("\n")}
        assert all(ln in raw for ln in lines)
        assert not {by_id[r] for r in dropped} & set(lines)
    else:
        assert [json.loads(x) for x in lines] == [json.loads(s) for s in kept["source"]]
        exported = [json.loads(x) for x in lines]
        assert all(json.loads(by_id[r]) not in exported for r in dropped)
    assert manifest["counts"]["rows_written"] == m - 3
    assert manifest["counts"]["rows_dropped"] == 3
    drops = [json.loads(x) for x in (out / "dropped.jsonl").read_text().splitlines()]
    assert {d["row_id"]: d["reason"] for d in drops} == {rid: "e2e: off-topic", bulk[0]: "e2e: bulk",
                                                         bulk[1]: "e2e: bulk"}
    assert all(d["record"] == json.loads(by_id[d["row_id"]]) for d in drops)  # the removed records themselves
    assert (out / "recipe.json").is_file()
    assert not external_requests(tab, server.url)
    assert not tab.page_errors


def test_two_tabs_flag_at_once(server, new_tab, rows) -> None:
    """Two sessions write to the same curation.sqlite within milliseconds; neither write is lost."""
    ids = [int(r) for r in rows["row_id"]]
    a, b = ids[-1], ids[-2]
    tabs = [new_tab(), new_tab()]
    for tab, rid in zip(tabs, (a, b), strict=True):
        open_app(tab.page, server.url)
        go(tab.page, "Browse")
        open_row(tab.page, rid)
        expect(example_status(tab.page)).to_contain_text("status: kept")
    store = CurationStore(server.workspace_dir() / CURATION_FILE)
    try:
        flagged_before = store.flagged_ids()
        actions_before = store.action_count()
    finally:
        store.close()
    buttons = [t.page.get_by_role("button", name="Flag", exact=True) for t in tabs]
    for button in buttons:  # both clicks are sent before either rerun is awaited
        button.click(no_wait_after=True)
    for tab in tabs:
        expect(example_status(tab.page)).to_contain_text("status: flagged", timeout=WAIT_MS)
        wait_idle(tab.page)
        assert_clean(tab.page)

    store = CurationStore(server.workspace_dir() / CURATION_FILE)
    try:
        assert store.flagged_ids() == flagged_before | {a, b}
        assert store.action_count() == actions_before + 2
    finally:
        store.close()
    # Each tab sees the other's flag after its next rerun.
    page = tabs[0].page
    page.reload()
    expect(page.get_by_role("heading", name="Browse", level=1)).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    expect(page.get_by_text(re.compile(rf"· {len(flagged_before) + 2:,} flagged$"))).to_be_visible()
    open_row(page, b)
    expect(example_status(page)).to_contain_text("flagged")


def test_chart_selection_filters_browse(server, new_tab, rows) -> None:
    """Box-select bars of the first Overview histogram -> 'Browse N rows' -> Browse shows exactly those N."""
    tab = new_tab()
    page = tab.page
    m = len(rows)
    open_app(page, server.url)
    drag = page.locator(".js-plotly-plot .nsewdrag").first
    drag.scroll_into_view_if_needed()
    box = drag.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] - 2, steps=8)
    page.mouse.up()
    page.wait_for_timeout(500)
    wait_idle(page)
    assert_clean(page)
    button = page.get_by_role("button", name=re.compile(r"^Browse [\d,]+ rows with prompt chars in \["))
    expect(button).to_be_visible(timeout=WAIT_MS)
    n = int(re.match(r"Browse ([\d,]+) rows", button.inner_text()).group(1).replace(",", ""))
    assert 0 < n <= m
    button.click()
    expect(page.get_by_role("heading", name="Browse", level=1)).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    expect(page.get_by_text("Chart filter from Overview: prompt chars in [")).to_be_visible()
    expect(page.get_by_text(f"{n:,} of {m:,} rows match").first).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="Clear chart filter").click()
    expect(page.get_by_text(f"{m:,} of {m:,} rows match").first).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"rows match · "))).to_have_count(1, timeout=WAIT_MS)
    assert_clean(page)


HOSTILE = ('Look: <img src="http://127.0.0.1:9/x.png"> then <script>alert(1)</script> and '
           '![x](http://127.0.0.1:9/y.png) <b>bold?</b>')


def test_untrusted_text_is_inert(tmp_path_factory: pytest.TempPathFactory, start_server, new_tab) -> None:
    """HTML, script tags and Markdown images in the data are shown as text and fetch nothing."""
    data = tmp_path_factory.mktemp("hostile") / "hostile.jsonl"
    records = [
        {"messages": [{"role": "system", "content": "sys " + HOSTILE},
                      {"role": "user", "content": HOSTILE},
                      {"role": "assistant", "content": "Answer " + HOSTILE}]},
        {"messages": [{"role": "user", "content": "a plain question"},
                      {"role": "assistant", "content": "a plain answer"}]},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    home = tmp_path_factory.mktemp("hostile_home")
    with start_server(home, str(data)) as srv:
        tab = new_tab()
        page = tab.page
        open_app(page, srv.url)
        expect(page.locator('[data-testid="stMetric"]', has_text="Rows").first).to_contain_text("2")
        go(page, "Browse")
        open_row(page, 0)
        chat = page.locator('[data-testid="stChatMessage"]')
        expect(chat).to_have_count(3)
        expect(chat.nth(1)).to_contain_text(HOSTILE)
        # (the table's hidden accessibility cells hold the text too: look in the chat only)
        expect(chat.get_by_text("<script>alert(1)</script>", exact=False).first).to_be_visible()
        expect(chat.get_by_text("![x](http://127.0.0.1:9/y.png)", exact=False).first).to_be_visible()
        page.get_by_text("Source record (untouched)").click()
        expect(page.locator('[data-testid="stCode"]').last).to_contain_text("<script>alert(1)</script>")
        # The search box takes the same text as a literal keyword.
        search = page.get_by_role("textbox", name="Search", exact=True)
        search.fill("<script>")
        search.press("Enter")
        expect_match_line(page, 1, 2, 0, 0)
        wait_idle(page)
        assert_clean(page)
        main = page.locator('[data-testid="stMain"]')
        expect(main.locator('img[src*="127.0.0.1:9"]')).to_have_count(0)
        expect(main.locator("script", has_text="alert(1)")).to_have_count(0)
        expect(main.locator("b", has_text="bold?")).to_have_count(0)
        screenshot(page, "hostile.png", folders=(ARTIFACTS,))
        assert not [u for u in tab.requests if "127.0.0.1:9/" in u]
        assert not external_requests(tab, srv.url)
        assert not tab.dialogs


def test_upload_a_file_on_the_data_page(server, new_tab, tmp_path: Path) -> None:
    """Upload a CSV in the browser: it is stored under SIFT_HOME (never modified) and opens in every page."""
    csv_path = tmp_path / "qa.csv"
    csv_path.write_text('prompt,response\n"What is 2+2?","4"\n"Capital of France?","Paris"\n"Hi","Hello!"\n',
                        encoding="utf-8")
    before = csv_path.read_bytes()
    tab = new_tab()
    page = tab.page
    open_app(page, server.url)
    go(page, "Data")
    page.get_by_text("Upload", exact=True).click()
    wait_idle(page)
    page.locator('input[type="file"]').set_input_files(str(csv_path))
    wait_idle(page)
    page.get_by_role("button", name="Load", exact=True).click()
    wait_idle(page)
    expect(page.locator('[data-testid="stMetric"]', has_text="Rows").first).to_contain_text("3", timeout=WAIT_MS)
    expect(page.locator('[data-testid="stMetric"]', has_text="Kind").first).to_contain_text("sft")
    go(page, "Browse")
    expect_match_line(page, 3, 3, 0, 0)
    assert csv_path.read_bytes() == before
    assert list(server.home.glob("uploads/*/qa.csv")), "the upload is kept under SIFT_HOME/uploads"
    assert_clean(page)
    assert not external_requests(tab, server.url)
