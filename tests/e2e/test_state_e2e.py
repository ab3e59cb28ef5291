"""End-to-end (issue 13, points 1 and 5): the URL names the open dataset and the user, so a reload and a second tab
open the same dataset; each tab's "Undo" undoes only that tab's own action. A real shared dataset, the real server,
Debian Chromium; the assertions read the workspace's SQLite file. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright (the Python package) is not installed")

from e2e_helpers import WAIT_MS, assert_clean, external_requests, go, open_app, screenshot, wait_idle  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from analysis.workspace.folder import CURATION_FILE  # noqa: E402
from analysis.workspace.store import CurationStore  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# ../shared beside the checkout, else the workplace copy (a fresh clone elsewhere), as tests/conftest.py finds it
_SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")) if p.is_dir()),
               ROOT.parent / "shared" / "datasets")
DATA = _SHARED / "hh_rlhf_harmless_test" / "harmless-base_test.jsonl.gz"
CAPTION = "harmless-base_test.jsonl.gz · preference · 2,312 rows"
NAME_BOX = "Your name (for the action log)"


def _query(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _sidebar(page: Page):  # noqa: ANN202 - playwright Locator
    return page.locator('[data-testid="stSidebar"]')


def _open_row(page: Page, row_id: int) -> None:
    box = page.get_by_role("spinbutton", name="Open row id")
    box.fill(str(row_id))
    box.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(rf"^Row {row_id} · "))).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)


def _status(page: Page):  # noqa: ANN202 - playwright Locator
    return page.get_by_text(re.compile(r" · status: "))


def _flag(page: Page, row_id: int) -> None:
    go(page, "Browse")
    _open_row(page, row_id)
    expect(_status(page)).to_contain_text("status: kept", timeout=WAIT_MS)
    page.get_by_role("button", name="Flag", exact=True).click()
    expect(_status(page)).to_contain_text("status: flagged", timeout=WAIT_MS)
    wait_idle(page)


@pytest.mark.skipif(not DATA.is_file(), reason=f"shared dataset missing: {DATA}")
def test_url_keeps_the_dataset_and_undo_stays_in_its_tab(server, new_tab) -> None:
    tab_a = new_tab()
    a = tab_a.page
    open_app(a, server.url)
    default_ws = _query(a)["ws"]

    # Tab A: load a shared local file on the Data page; the URL names its workspace.
    go(a, "Data")
    a.get_by_text("Local path", exact=True).click()
    wait_idle(a)
    path_box = a.get_by_role("textbox", name="File, folder or glob")
    path_box.fill(str(DATA))
    path_box.press("Enter")
    wait_idle(a)
    a.get_by_role("button", name="Load", exact=True).click()
    expect(a.locator('[data-testid="stMetric"]', has_text="Rows").first).to_contain_text("2,312", timeout=90_000)
    wait_idle(a)
    ws_dir = server.workspace_dir(str(DATA))
    expect(_sidebar(a).get_by_text(CAPTION)).to_be_visible(timeout=WAIT_MS)
    a.wait_for_url(re.compile(rf"[?&]ws={ws_dir.name}(&|$)"), timeout=WAIT_MS)
    assert ws_dir.name != default_ws

    # The name goes into the URL too.
    name = _sidebar(a).get_by_role("textbox", name=NAME_BOX)
    name.fill("Ann")
    name.press("Enter")
    a.wait_for_url(re.compile(r"[?&]user=Ann(&|$)"), timeout=WAIT_MS)
    wait_idle(a)
    expect(a.get_by_text("Recent workspaces")).to_be_visible(timeout=WAIT_MS)
    screenshot(a, "state_data_loaded.png")

    # Reload: same dataset, same name (before this change: the bundled sample and an empty name).
    a.reload()
    expect(a.get_by_role("heading", name="Data", level=1)).to_be_visible(timeout=WAIT_MS)
    wait_idle(a)
    expect(_sidebar(a).get_by_text(CAPTION)).to_be_visible(timeout=WAIT_MS)
    expect(_sidebar(a).get_by_role("textbox", name=NAME_BOX)).to_have_value("Ann", timeout=WAIT_MS)
    expect(a.locator('[data-testid="stMetric"]', has_text="Rows").first).to_contain_text("2,312", timeout=WAIT_MS)
    assert _query(a) == {"ws": ws_dir.name, "user": "Ann"}
    assert_clean(a)

    # Tab B: a second browser session on the same URL opens the same dataset.
    tab_b = new_tab()
    b = tab_b.page
    b.goto(a.url)
    b.wait_for_selector('[data-testid="stApp"]', timeout=WAIT_MS)
    wait_idle(b)
    expect(_sidebar(b).get_by_text(CAPTION)).to_be_visible(timeout=WAIT_MS)
    assert_clean(b)

    # Both tabs flag a row (A first, B last); A's undo takes A's flag, never B's.
    store = CurationStore(ws_dir / CURATION_FILE)
    try:
        assert store.flagged_ids() == set()
        _flag(a, 600)
        a.wait_for_url(re.compile(rf"/browse\?(.*&)?ws={ws_dir.name}(&|$)"), timeout=WAIT_MS)  # kept across pages
        _flag(b, 601)
        assert store.flagged_ids() == {600, 601}
        flag_a, flag_b = store.actions()[-2:]
        assert (flag_a.row_ids, flag_b.row_ids) == ((600,), (601,))
        assert flag_a.user == flag_b.user == "Ann" and flag_a.session != flag_b.session  # same name, two tabs

        a.get_by_role("button", name="Undo last action").click()
        expect(_status(a)).to_contain_text("status: kept", timeout=WAIT_MS)
        wait_idle(a)
        assert store.flagged_ids() == {601}
        undo = store.actions()[-1]
        assert (undo.action, undo.undoes, undo.session, undo.user) == ("undo", flag_a.id, flag_a.session, "Ann")
        expect(a.get_by_text(re.compile(r"· 1 flagged$"))).to_be_visible(timeout=WAIT_MS)
        screenshot(a, "state_undo_tab_a.png")

        # Pressing it again in A finds nothing of A's left; B's flag stays.
        a.get_by_role("button", name="Undo last action").click()
        expect(a.get_by_text(re.compile("Nothing to undo"))).to_be_visible(timeout=WAIT_MS)
        wait_idle(a)
        assert store.flagged_ids() == {601} and store.actions()[-1].id == undo.id

        # B still sees its own flag after a reload.
        b.reload()
        expect(b.get_by_role("heading", name="Browse", level=1)).to_be_visible(timeout=WAIT_MS)
        wait_idle(b)
        _open_row(b, 601)
        expect(_status(b)).to_contain_text("status: flagged", timeout=WAIT_MS)

        # The log says whose action was undone, and by whom.
        go(a, "Export")
        expect(a.get_by_role("heading", name="Action log")).to_be_visible(timeout=WAIT_MS)
        screenshot(a, "state_export_log.png")
    finally:
        store.close()
    for tab in (tab_a, tab_b):
        assert not external_requests(tab, server.url)
        assert not tab.page_errors


def test_a_stale_link_says_so_and_falls_back_visibly(server, new_tab) -> None:
    tab = new_tab()
    page = tab.page
    open_app(page, server.url)
    shown_ws = _query(page)["ws"]
    page.goto(f"{server.url}/?ws=0123456789abcdef")
    page.wait_for_selector('[data-testid="stApp"]', timeout=WAIT_MS)
    wait_idle(page)
    notice = page.get_by_text(re.compile(r"The link names workspace 0123456789abcdef, which is not under "))
    expect(notice).to_be_visible(timeout=WAIT_MS)
    page.wait_for_url(re.compile(rf"[?&]ws={shown_ws}(&|$)"), timeout=WAIT_MS)  # the URL names what is shown
    screenshot(page, "state_stale_link.png")
    page.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0, timeout=WAIT_MS)
    assert_clean(page)
