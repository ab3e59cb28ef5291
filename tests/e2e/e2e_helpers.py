"""Browser helpers shared by the e2e tests: wait for Streamlit to settle, navigate like a user, screenshot."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
WAIT_MS = 30_000
# Every `expect` waits as long as the page waits: the 5 s default flakes when the 2-core machine is busy (a
# Streamlit rerun under load can take longer). A passing expectation returns as soon as it holds, so this costs nothing.
expect.set_options(timeout=WAIT_MS)


def wait_idle(page: Page, timeout: int = WAIT_MS) -> None:
    """Until the script run has finished (no 'Running…' widget, app state notRunning)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=timeout)


def assert_clean(page: Page) -> None:
    """No exception box and no traceback anywhere on the page."""
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)


def open_app(page: Page, url: str) -> None:
    """Open the root first (a deep link on a cold server can come up in legacy multipage mode)."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]', timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    assert_clean(page)


def go(page: Page, title: str) -> None:
    """Navigate with the sidebar, like a user."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    assert_clean(page)


def external_requests(tab, url: str) -> list[str]:  # noqa: ANN001 - conftest.Tab
    """Requests that left the app's own address (there must be none)."""
    return [u for u in tab.requests if not u.startswith((url, "data:", "blob:"))]


def screenshot(page: Page, name: str, folders: tuple[Path, ...] | None = None) -> None:
    """Full-page shot: Streamlit scrolls inside <main>, so grow the viewport to its height first.

    Shots always go to tests/e2e/artifacts/; the README's copies in docs/screenshots/ are refreshed only with
    SIFT_UPDATE_SCREENSHOTS=1, so an ordinary test run leaves the committed images alone.
    """
    if folders is None:
        folders = (SCREENSHOTS, ARTIFACTS) if os.environ.get("SIFT_UPDATE_SCREENSHOTS") == "1" else (ARTIFACTS,)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    height = page.evaluate("() => (document.querySelector('[data-testid=stMain]') || document.body).scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(int(height), 4000))})
    page.wait_for_timeout(600)
    wait_idle(page)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=True)
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(300)
