"""Browser harness: `streamlit run` on a free port with a generated MNIST, driven by Playwright in Chromium.

Chromium comes from Debian (/usr/bin/chromium); Playwright never downloads a browser. Without Chromium the
tests skip with the reason, except under CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import make_idx_dataset
from ui.text import JOINER

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_or_skip() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(
            f"CI needs Chromium for the browser tests, but {CHROMIUM} does not exist (apt-get install chromium)."
        )
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium to run the browser tests")


def start_server(
    env_extra: dict[str, str], tmp: Path, timeout: float = 90.0, script: str | Path = "app.py", cwd: Path = ROOT
):
    """Start `streamlit run script` (default: the app) on a free loopback port; returns (process, base URL).

    `cwd`: the checkout to serve (a bench compares another one with this).
    Workspaces go to tmp/data unless env_extra names a STUDIO_DATA_DIR (a restart test passes the same one).
    """
    port = free_port()
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp / "data"), **env_extra, "PYTHONUNBUFFERED": "1"}
    log = open(tmp / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log.name}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not become healthy in {timeout} s; see {log.name}")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def e2e_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("e2e-mnist")
    make_idx_dataset(folder, n_train=3000, n_test=1000)
    return folder


@pytest.fixture(scope="session")
def app_url(e2e_data, tmp_path_factory):
    chromium_or_skip()
    tmp = tmp_path_factory.mktemp("server")
    proc, url = start_server({"MNIST_DIR": str(e2e_data), "MNIST_CACHE_DIR": str(tmp / "cache")}, tmp)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


@pytest.fixture
def page(browser, request):
    """A fresh browser context (its own Streamlit session); a screenshot is kept when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def wait_idle(pg, timeout: float = 30_000, start_grace: float = 1_000) -> None:
    """Wait until the app reports its script is not running, after the run an action just triggered.

    The rerun starts a moment after the click or key press that causes it; checking for "not running"
    straight away could see the page before that run began. So first give a run up to `start_grace` ms
    to start (if it has come and gone already, or none was triggered, that wait simply times out).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        pg.wait_for_selector(RUNNING, timeout=start_grace)
    except PlaywrightTimeout:
        pass
    pg.wait_for_selector(IDLE, timeout=timeout)


def assert_no_exception(pg) -> None:
    expect(pg.locator("[data-testid='stException']"), "the page shows an exception").to_have_count(0)


def shown(text: str) -> re.Pattern[str]:
    """`text` as a pattern for expect(): ui.text.md puts invisible word joiners after ':' and before '@'."""
    return re.compile(f"{JOINER}?".join(re.escape(ch) for ch in text))


def run_button(pg, label: str):
    """A button by its label; its keyboard shortcut's hint, if it has one, is part of its accessible name."""
    return pg.get_by_role("button", name=re.compile(rf"^{re.escape(label)}( Shortcut \S+)?$"))


def open_app(pg, url: str, path: str = "") -> None:
    pg.goto(f"{url}/{path}")
    pg.wait_for_selector("[data-testid='stApp']")
    wait_idle(pg, 60_000)
    assert_no_exception(pg)


def sidebar(pg):
    return pg.locator("[data-testid='stSidebar']")


def active(pg):
    """The sidebar's model picker; its value is the active model's name."""
    return sidebar(pg).get_by_role("combobox", name="Active model")
