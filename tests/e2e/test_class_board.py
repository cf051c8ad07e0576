"""The class board in real browsers: a model trained in one browser reaches another's board, marked only in its own."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, chromium_or_skip, open_app, start_server, stop_server

pytestmark = pytest.mark.e2e


def server_with(e2e_data, tmp_path, **env: str):
    chromium_or_skip()
    return start_server({"MNIST_DIR": str(e2e_data), "MNIST_CACHE_DIR": str(tmp_path / "cache"), **env}, tmp_path)


@pytest.fixture
def own_server(e2e_data, tmp_path):
    """A server with an empty data dir of its own, so the board's counts start at 0."""
    proc, url = server_with(e2e_data, tmp_path)
    yield url
    stop_server(proc)


def metric(pg, label: str):
    return pg.locator("[data-testid='stMetric']", has_text=label).locator("[data-testid='stMetricValue']")


def legend(pg, prefix: str):
    return pg.locator(".legendtext", has_text=prefix)


def test_a_model_trained_in_one_browser_appears_on_anothers_board(browser, own_server):
    mine = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        theirs = other.new_page()
        open_app(theirs, own_server, "class")
        expect(theirs.get_by_text("No model has been trained on this server yet")).to_be_visible()
        expect(metric(theirs, "Participants")).to_have_text("0")

        pg = mine.new_page()
        open_app(pg, own_server, "train?k=3&epochs=1")
        pg.get_by_role("button", name="Start").click()
        pg.get_by_text("Finished:").wait_for(timeout=90_000)

        # the other browser's board updates by itself (no reload): the fragment redraws every few seconds
        expect(legend(theirs, "class: sigmoid output"), "the new model, anonymous").to_have_count(1, timeout=30_000)
        expect(metric(theirs, "Participants")).to_have_text("1")
        expect(metric(theirs, "Yours")).to_have_text("0")
        expect(legend(theirs, "you:"), "not marked as the other browser's").to_have_count(0)
        expect(theirs.locator(".scatterlayer .trace:not(.js-line) .point")).to_have_count(1)
        expect(theirs.get_by_text("k=3 linear, 1 epoch"), "no model name on the board").to_have_count(0)

        open_app(pg, own_server, "class")
        expect(legend(pg, "you: sigmoid output"), "highlighted in the browser that trained it").to_have_count(1)
        expect(legend(pg, "class:")).to_have_count(0)
        expect(metric(pg, "Yours")).to_have_text("1")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "class_board_mine.png"), full_page=True)
    finally:
        mine.close()
        other.close()


def test_turned_off_the_page_leaves_the_menu_and_says_so_at_its_address(browser, e2e_data, tmp_path):
    proc, url = server_with(e2e_data, tmp_path, STUDIO_CLASS_BOARD="0")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = context.new_page()
        open_app(pg, url, "class")
        expect(pg.get_by_text("The class board is turned off on this server")).to_be_visible()
        nav = pg.locator("[data-testid='stSidebarNav'] a")
        expect(nav.filter(has_text="Compare")).to_have_count(1)
        expect(nav.filter(has_text="Class")).to_have_count(0)
    finally:
        context.close()
        stop_server(proc)
