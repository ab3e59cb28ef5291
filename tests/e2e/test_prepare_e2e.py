"""End-to-end on the Prepare page in Chromium: choose a chat template and a max length, see the rows over it, make a
25/50/100% nested split, write training files, and load them back with `datasets.load_dataset`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright (the Python package) is not installed")

from conftest import default_data  # noqa: E402
from e2e_helpers import WAIT_MS, assert_clean, external_requests, go, open_app, screenshot, wait_idle  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`, like a user."""
    label_el = page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(f"^{re.escape(label)}$"))
    box = page.locator('[data-testid="stSelectbox"]').filter(has=label_el)
    combo = box.locator('[role="combobox"]')
    combo.click()
    combo.press_sequentially(option)  # typing filters the options, as a user would
    page.get_by_role("option", name=option, exact=True).click()
    expect(box.locator('[role="combobox"]')).to_have_value(option)
    wait_idle(page)


def set_number(page: Page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def test_template_limit_overflow_nested_split_export(tmp_path_factory: pytest.TempPathFactory, start_server,
                                                      new_tab) -> None:
    import datasets

    home = tmp_path_factory.mktemp("prepare_home")
    with start_server(home, default_data()) as srv:
        tab = new_tab()
        page = tab.page
        open_app(page, srv.url)
        go(page, "Prepare")
        choose(page, "Chat template", "llama3")
        set_number(page, "Max sequence length (tokens)", "128")
        page.get_by_role("button", name="Count tokens").click()
        expect(page.get_by_text("rows are longer than 128 tokens")).to_be_visible(timeout=WAIT_MS)
        wait_idle(page)
        caption = page.get_by_text("Every number here: tokenizer")
        expect(caption).to_contain_text("template llama3")
        over_metric = page.locator('[data-testid="stMetric"]', has_text="Rows over the limit")
        n_over = int(over_metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))
        assert n_over > 0
        assert_clean(page)
        screenshot(page, "prepare.png")

        # The nested split is the default mode; write it in ShareGPT format to a folder of our own.
        out = home / "training"
        choose(page, "Format", "sharegpt")
        folder = page.get_by_role("textbox", name="Output folder (one file per subset + manifest.json)")
        folder.fill(str(out))
        folder.press("Enter")
        wait_idle(page)
        success = page.locator('[data-testid="stAlertContentSuccess"]')
        for _ in range(3):  # under load the click can beat the rerun that commits the folder: the files then go
            page.get_by_role("button", name="Write training files").click()  # to the default folder; click again
            expect(success).to_contain_text("manifest.json", timeout=WAIT_MS)
            wait_idle(page)
            if str(out) in success.inner_text():
                break
        expect(success).to_contain_text(str(out))
        assert_clean(page)

        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["format"] == "sharegpt" and manifest["fractions"] == [0.25, 0.5, 1.0]
        ids = {k: v["row_ids"] for k, v in manifest["subsets"].items()}
        assert set(ids["0.25"]) <= set(ids["0.5"]) <= set(ids["1"])
        for key, name in (("0.25", "subset_0.25.json"), ("0.5", "subset_0.5.json"), ("1", "subset_1.json")):
            loaded = datasets.load_dataset("json", data_files=str(out / name), split="train",
                                           cache_dir=str(home / "hf"))
            assert len(loaded) == len(ids[key]) == manifest["subsets"][key]["rows"]
            first = loaded[0]["conversations"]
            assert first[0]["from"] in ("system", "human") and first[-1]["from"] == "gpt"
        assert not external_requests(tab, srv.url)
        assert not tab.page_errors


def test_hostile_template_is_an_error_and_the_server_keeps_serving(tmp_path_factory: pytest.TempPathFactory,
                                                                   start_server, new_tab) -> None:
    """Issue 14: a tokenizer_config.json whose template asks for a 1 GB string (it used to abort the process after
    40 s) and one that loops for ever are each one st.error naming the template and the row; the Streamlit server
    renders on in a sandbox worker, so the next page load — and a normal count — still work."""
    home = tmp_path_factory.mktemp("prepare_hostile")
    bomb = home / "bomb" / "tokenizer_config.json"
    bomb.parent.mkdir()
    bomb.write_text(json.dumps({"chat_template": "{{ 'a' * 10**9 }}"}))
    loops = home / "loops.jinja"
    loops.write_text("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    with start_server(home, default_data()) as srv:
        tab = new_tab()
        page = tab.page
        open_app(page, srv.url)
        go(page, "Prepare")
        choose(page, "Chat template", "a Jinja file or tokenizer_config.json …")
        error = page.locator('[data-testid="stAlertContentError"]')
        for path, message in ((bomb, "'*' would make 1,000,000,000"), (loops, "s of CPU time")):
            box = page.get_by_role("textbox", name="Template path")
            box.fill(str(path))
            box.press("Enter")
            wait_idle(page)
            page.get_by_role("button", name="Count tokens").click()
            expect(error).to_contain_text(f"template {path} on row ", timeout=WAIT_MS)
            expect(error).to_contain_text(message)
            wait_idle(page)
            assert_clean(page)  # an error box, never an exception or a traceback

        page.reload()  # the server is alive: a fresh page load renders, and a normal template counts
        page.wait_for_selector('[data-testid="stApp"]', timeout=WAIT_MS)
        wait_idle(page)
        go(page, "Prepare")
        choose(page, "Chat template", "chatml")
        page.get_by_role("button", name="Count tokens").click()
        expect(page.get_by_text("Every number here: tokenizer")).to_contain_text("template chatml", timeout=WAIT_MS)
        assert_clean(page)
        assert not tab.page_errors
