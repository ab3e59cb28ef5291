"""End-to-end: the instant map, then the accurate one computed in the background, in Chromium.

On the bundled sample: choose the static embedder on the Map, compute the instant map, start the upgrade to the
accurate embedder, see its progress while the instant map stays on the page, then switch to the accurate map.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright (the Python package) is not installed")

from e2e_helpers import WAIT_MS, assert_clean, go, open_app, screenshot, wait_idle  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from analysis.space.fast_embedders import ACCURATE, INSTANT  # noqa: E402


@pytest.mark.slow
def test_instant_map_then_background_upgrade(server, new_tab) -> None:
    page = new_tab().page
    open_app(page, server.url)
    go(page, "Map")
    label = page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile("^Embedder$"))
    combo = page.locator('[data-testid="stSelectbox"]').filter(has=label).locator('[role="combobox"]')
    combo.click()
    page.get_by_role("option", name=re.compile(f"^{INSTANT} ")).click()
    wait_idle(page)
    page.get_by_role("button", name="Compute embeddings, map and topics").click()
    expect(page.get_by_text(re.compile(f"model .*-{INSTANT}"))).to_be_visible(timeout=WAIT_MS * 4)
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_be_visible()
    wait_idle(page)

    page.get_by_role("button", name=f"Upgrade to accurate ({ACCURATE}) in the background").click()
    switch = page.get_by_role("button", name="Switch to the accurate map")
    expect(switch).to_be_visible(timeout=WAIT_MS * 8)  # the panel polls the job; the map stays meanwhile
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_be_visible()
    assert_clean(page)
    screenshot(page, "map_upgrade_ready.png")
    switch.click()
    expect(page.get_by_text(re.compile(f"model .*{ACCURATE}"))).to_be_visible(timeout=WAIT_MS * 4)
    wait_idle(page)
    expect(combo).to_have_value(re.compile(f"^{ACCURATE} "))  # the Embedder box follows the switch
    page.get_by_text("kind", exact=True).click()  # another rerun keeps the accurate map
    wait_idle(page)
    expect(page.get_by_text(re.compile(f"model .*{ACCURATE}"))).to_be_visible()
    assert_clean(page)
    screenshot(page, "map_accurate.png")
