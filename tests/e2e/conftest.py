"""Fixtures for the browser tests: a real `streamlit run app.py` server and a headless Chromium.

The server runs with an isolated `SIFT_HOME` (a temp dir) and opens the bundled sample unless a test
starts its own server with `SIFT_DATA`. Chromium is the Debian one at /usr/bin/chromium, driven by
Playwright (no `playwright install`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SAMPLE_GLOB = ROOT / "sample_data" / "*.jsonl"
# Used only while the bundled sample has not been generated (a fresh checkout before `make sample`).
FALLBACK_DATA = ROOT.parent / "shared" / "datasets" / "llamafactory_demo" / "dpo_en_demo.json"
VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HEALTH_TIMEOUT_S = 60


@dataclass
class Server:
    url: str
    home: Path  # SIFT_HOME of the server process
    source: str  # what the app opens by default (SIFT_DATA or the bundled sample glob)
    log: Path
    proc: subprocess.Popen = field(repr=False)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def workspace_dir(self, source: str | None = None) -> Path:
        """The workspace folder the server built for `source` (default: its default dataset)."""
        from analysis.io import resolve_paths

        wanted = sorted(str(p.resolve()) for p in resolve_paths(source or self.source))
        for meta in sorted((self.home / "workspaces").glob("*/meta.json")):
            paths = json.loads(meta.read_text()).get("source_paths", [])
            if sorted(str(Path(p).resolve()) for p in paths) == wanted:
                return meta.parent
        raise AssertionError(f"no workspace for {source or self.source} under {self.home / 'workspaces'}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def run_server(home: Path, data: str | None = None) -> Iterator[Server]:
    """`streamlit run app.py` on a free port with SIFT_HOME=home (and SIFT_DATA=data if given)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("SIFT_DATA", "SIFT_WORKSPACE")}
    env["SIFT_HOME"] = str(home)
    if data is not None:
        env["SIFT_DATA"] = data
    log = home.parent / f"{home.name}-streamlit-{port}.log"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(url=url, home=home, source=data or str(SAMPLE_GLOB), log=log, proc=proc)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {HEALTH_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(proc)


def default_data() -> str | None:
    """$SIFT_E2E_DATA if set; else None (the app's own default, the bundled sample) when the sample exists,
    else a fallback file."""
    if os.environ.get("SIFT_E2E_DATA"):
        return os.environ["SIFT_E2E_DATA"]
    if list(SAMPLE_GLOB.parent.glob(SAMPLE_GLOB.name)):
        return None
    if FALLBACK_DATA.is_file():
        return str(FALLBACK_DATA)
    pytest.skip(f"no bundled sample ({SAMPLE_GLOB}; run sample_data/generate.py) and no {FALLBACK_DATA}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("e2e_home")
    with run_server(home, default_data()) as s:
        yield s


@pytest.fixture(scope="session")
def start_server() -> Callable[..., contextlib.AbstractContextManager[Server]]:
    """`with start_server(home, data) as srv:` for a test that needs its own server (own SIFT_DATA)."""
    return run_server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    """A page in its own browser context (= its own Streamlit session), with what it requested."""

    page: object
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def new_tab(browser) -> Iterator[Callable[[], Tab]]:
    contexts = []

    def make() -> Tab:
        ctx = browser.new_context(viewport=VIEWPORT)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        tab = Tab(page)
        page.on("request", lambda r: tab.requests.append(r.url))
        page.on("pageerror", lambda e: tab.page_errors.append(str(e)))

        def on_dialog(d) -> None:
            tab.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        return tab

    yield make
    for ctx in contexts:
        with contextlib.suppress(Exception):
            ctx.close()
