"""Browser: the latent scatter holds every test digit, a box selection shows them, Compare shows two models."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, shown, wait_idle

pytestmark = pytest.mark.e2e

N_TEST = 1000  # the e2e dataset's test digits
# Points in the per-digit traces as plotly holds them after decoding the base64 arrays Streamlit sent.
DIGIT_POINTS = """() => {
  const plot = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
  if (!plot || !plot._fullData) return -1;
  return plot._fullData.filter(t => t.meta === "digits").reduce((n, t) => n + t._length, 0);
}"""


def wait_for_points(pg, n: int, timeout: float = 60_000) -> None:
    pg.wait_for_function(f"() => ({DIGIT_POINTS})() === {n}", timeout=timeout)


def drag_box(pg, chart, x0: float, y0: float, x1: float, y1: float) -> None:
    """Drag over a fraction of the plot area (the layout's dragmode is 'select', so this box-selects)."""
    area = chart.locator(".nsewdrag").first.bounding_box()
    pg.mouse.move(area["x"] + area["width"] * x0, area["y"] + area["height"] * y0)
    pg.mouse.down()
    pg.mouse.move(area["x"] + area["width"] * x1, area["y"] + area["height"] * y1, steps=12)
    pg.mouse.up()


def test_latent_scatter_shows_every_test_digit(page, app_url):
    open_app(page, app_url, "latent")
    wait_for_points(page, N_TEST)
    assert page.evaluate(DIGIT_POINTS) == N_TEST
    expect(page.get_by_text(f"{N_TEST:,} test digits")).to_be_visible()
    assert_no_exception(page)


def test_box_selection_shows_the_digits(page, app_url):
    open_app(page, app_url, "latent")
    wait_for_points(page, N_TEST)
    chart = page.locator("[data-testid='stPlotlyChart']").first
    drag_box(page, chart, 0.05, 0.05, 0.95, 0.95)
    page.get_by_text("selected digits").wait_for(timeout=30_000)
    wait_idle(page)
    assert_no_exception(page)
    headline = page.get_by_text("selected digits")
    expect(headline).to_have_text(re.compile(r"^\d{2,}"), use_inner_text=True)  # more than 10: at least two digits
    assert int(headline.inner_text().split()[0]) > 10
    expect(page.get_by_text("their reconstructions from 32 numbers")).to_be_visible()


def test_k2_plane_click_decodes_that_point(page, app_url):
    open_app(page, app_url, "latent")
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name="Bundled: k=2 linear, 20 epochs").click()
    wait_idle(page)
    page.get_by_text("k = 2: these are the codes themselves").wait_for()
    decoded = page.get_by_text("decoded at z = (")
    before = decoded.inner_text()
    plane = page.locator("[data-testid='stPlotlyChart']").nth(1)
    plane.scroll_into_view_if_needed()
    area = plane.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2)
    expect(decoded).not_to_have_text(before, timeout=30_000, use_inner_text=True)
    wait_idle(page)
    assert_no_exception(page)
    expect(decoded).not_to_have_text(before, use_inner_text=True)


def test_compare_shows_the_grid_for_two_models(page, app_url):
    open_app(page, app_url, "compare")
    for k in (8, 32):
        page.get_by_role("button", name=f"Remove Bundled: k={k} linear, 20 epochs").click()
        wait_idle(page)
    grid = page.locator(".st-key-compare_grid")
    for label in ("original", "Bundled: k=2 linear, 20 epochs", "Bundled: k=64 linear, 20 epochs", "PCA, k = 2"):
        expect(grid).to_contain_text(shown(label))
    expect(grid).to_contain_text("PCA, k = 64")
    expect(grid).not_to_contain_text(shown("k=32"))
    # Original, then each model's row and its PCA row. Rows the rerun dropped may linger a moment as stale.
    page.wait_for_function(
        "() => document.querySelectorAll(\".st-key-compare_grid [data-testid='stImage'] img\").length === 5",
        timeout=30_000,
    )
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(1)
    assert_no_exception(page)
