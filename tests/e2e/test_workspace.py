"""Workspaces for real: `streamlit run app.py` (the cookie middleware runs), a browser's models across reloads,
server restarts and closed tabs, and never in another browser."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import active, chromium_or_skip, open_app, sidebar, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e




@pytest.fixture
def server(e2e_data, tmp_path):
    """A server whose data dir outlives it: restart() stops it and starts another on the same data."""
    chromium_or_skip()
    env = {
        "MNIST_DIR": str(e2e_data),
        "MNIST_CACHE_DIR": str(tmp_path / "cache"),
        "STUDIO_DATA_DIR": str(tmp_path / "data"),
    }
    state = {}
    state["proc"], state["url"] = start_server(env, tmp_path)

    def restart() -> str:
        stop_server(state["proc"])
        state["proc"], state["url"] = start_server(env, tmp_path)
        return state["url"]

    yield state, restart
    stop_server(state["proc"])


def test_a_model_survives_reload_and_restart_and_stays_in_its_browser(browser, server):
    state, restart = server
    mine = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = mine.new_page()
        open_app(pg, state["url"], "train?k=3&epochs=1")
        pg.get_by_role("button", name="Start").click()
        pg.get_by_text("Finished:").wait_for(timeout=90_000)
        expect(active(pg)).to_have_value("k=3 linear, 1 epoch")
        pg.reload()
        wait_idle(pg, 60_000)
        expect(active(pg), "listed and active after a reload").to_have_value("k=3 linear, 1 epoch")
        url = restart()
        open_app(pg, url, "")
        expect(active(pg), "still there after a server restart").to_have_value("k=3 linear, 1 epoch")
        theirs = other.new_page()
        open_app(theirs, url, "")
        expect(sidebar(theirs)).to_contain_text("k=32")
        expect(sidebar(theirs), "another browser has its own workspace").not_to_contain_text("k=3 linear")
    finally:
        mine.close()
        other.close()


def test_a_run_finishes_with_its_tab_closed_and_its_model_is_there_later(browser, server):
    state, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = context.new_page()
        open_app(pg, state["url"], "train?k=3&epochs=60&batch=1")
        pg.get_by_role("button", name="Start").click()
        expect(pg.get_by_role("button", name="Pause")).to_be_enabled(timeout=60_000)
        pg.close()  # mid-run: a tab's own job would be stopped within about 10 s
        time.sleep(15)
        back = context.new_page()
        open_app(back, state["url"], "train")
        # Reattached to the run (live progress), or it has ended already: either way its whole model arrives.
        expect(active(back)).to_have_value("k=3 linear, 60 epochs", timeout=240_000)
        expect(sidebar(back)).not_to_contain_text("Training stopped")
    finally:
        context.close()
