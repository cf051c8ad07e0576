"""Browser: one drawing, one truth. The canvas keeps its drawing and stroke width through "Pick a test digit"
and a visit to another page, every page uses what the canvas shows, and on a phone the result sits right
under the canvas."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, wait_idle
from tests.e2e.test_draw_denoise import ONE, SEVEN, draw, wait_for_strokes

pytestmark = pytest.mark.e2e

# White pixels on the component's canvases (a background, the drawing, the interaction layer), counted in
# the page: Playwright's locator reaches into the component's shadow root, document.querySelector does not.
COUNT_INK = """(canvases) => Math.max(0, ...canvases.map((c) => {
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 3] > 200) n++;
  return n;
}))"""


def ink_pixels(pg) -> int:
    return pg.locator("[data-testid='stMain'] canvas").evaluate_all(COUNT_INK)


def wait_for_ink(pg, at_least: float, timeout: float = 15.0) -> None:
    """The canvas redraws a kept drawing asynchronously (Fabric's loadFromJSON): poll its white pixels."""
    deadline = time.monotonic() + timeout
    while ink_pixels(pg) < at_least:
        assert time.monotonic() < deadline, f"the canvas shows {ink_pixels(pg)} inked pixels, not {at_least:.0f}"
        pg.wait_for_timeout(200)


def go_to(pg, page_name: str) -> None:
    pg.locator("[data-testid='stSidebarNav']").get_by_text(page_name, exact=True).click()
    wait_idle(pg)
    assert_no_exception(pg)


def test_the_drawing_and_stroke_width_come_back(page, app_url):
    open_app(page, app_url, "draw")
    slider = page.get_by_role("slider")
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    wait_idle(page)
    expect(slider).to_have_value("24")
    draw(page, SEVEN)
    wait_for_strokes(page, 2)
    drawn = ink_pixels(page)
    assert drawn > 5_000, "a 7 in 24 px strokes inks thousands of canvas pixels"

    page.get_by_text("Pick a test digit").click()
    wait_idle(page)
    page.get_by_text("Draw one").click()
    wait_idle(page)
    assert_no_exception(page)
    wait_for_ink(page, drawn * 0.95)
    expect(page.get_by_text("(2 strokes)")).to_be_visible()
    expect(page.get_by_role("slider")).to_have_value("24")

    go_to(page, "Latent space")
    expect(page.get_by_text("nearest test digits", exact=False).first).to_be_visible(timeout=30_000)
    go_to(page, "Draw")
    wait_for_ink(page, drawn * 0.95)
    expect(page.get_by_text("(2 strokes)")).to_be_visible()
    expect(page.get_by_role("slider")).to_have_value("24")

    draw(page, ONE)  # the restored canvas goes on drawing: a third stroke joins the two kept ones
    wait_for_strokes(page, 3)

    page.get_by_role("button", name="Clear").click()
    wait_idle(page)
    expect(page.get_by_text("Draw a digit with the mouse")).to_be_visible()
    go_to(page, "Denoise")
    page.get_by_text("Current drawing").click()
    wait_idle(page)
    expect(page.get_by_text("There is no drawing yet")).to_be_visible()
    go_to(page, "Draw")
    expect(page.get_by_text("Draw a digit with the mouse")).to_be_visible()
    assert ink_pixels(page) == 0, "a cleared drawing stays cleared"


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def test_on_a_phone_the_result_sits_under_the_canvas(phone, app_url):
    open_app(phone, app_url, "draw")
    draw(phone, ONE)
    wait_for_strokes(phone, 1)
    main = phone.locator("[data-testid='stMain']")
    recon = main.get_by_text("Reconstruction", exact=True)
    mse = main.get_by_text("(1 stroke)")  # the result's MSE line
    expect(recon).to_be_visible()
    canvas = phone.locator(".upper-canvas").first.bounding_box()
    below = canvas["y"] + canvas["height"]
    gap_recon = recon.bounding_box()["y"] - below
    gap_mse = mse.bounding_box()["y"] - below
    pictures = [main.locator("[data-testid='stImage'] img").nth(i).bounding_box() for i in range(3)]
    print(f"reconstruction {gap_recon:.0f} px and MSE {gap_mse:.0f} px below the canvas")
    # The three pictures share one row, inside the screen, so the reconstruction's caption and the MSE sit
    # within half a screen of the canvas (they were ~900 px down, under three stacked pictures).
    assert len({round(p["y"]) for p in pictures}) == 1, pictures
    assert all(p["x"] >= 0 and p["x"] + p["width"] <= 390 for p in pictures), pictures
    assert 0 < gap_recon < 300, gap_recon
    assert 0 < gap_mse < 350, gap_mse
