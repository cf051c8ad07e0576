"""Browser: draw a "1" and a "7" with the mouse, see the processed input, reconstruction and MSE; clear;
take the drawing to the Denoise page and see the rows with Gaussian noise."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, wait_idle

pytestmark = pytest.mark.e2e

ONE = [[(150, 30), (140, 255)]]
SEVEN = [[(60, 50), (220, 50)], [(220, 50), (110, 250)]]
ROWS = ["Clean", "Noisy input", "Bundled denoiser", "Active model (plain)", "PCA projection, k=32"]


def canvas_box(pg) -> dict:
    """The drawing surface: Fabric's upper canvas, in the page itself (Components v2, no iframe)."""
    upper = pg.locator(".upper-canvas").first
    upper.wait_for(timeout=30_000)
    box = upper.bounding_box()
    assert box is not None and box["width"] == 280 and box["height"] == 280, box
    return box


def draw(pg, strokes: list[list[tuple[int, int]]]) -> None:
    """Each stroke: press at its first point, drag through the others, release.

    The mouse rests on the canvas first, as a hand would: until the hover moves it up, the component's
    invisible toolbar covers the canvas's top right corner and swallows a press there.
    """
    box = canvas_box(pg)
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.wait_for_timeout(400)
    for points in strokes:
        pg.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        pg.mouse.down()
        for x, y in points[1:]:
            pg.mouse.move(box["x"] + x, box["y"] + y, steps=15)
        pg.mouse.up()
        pg.wait_for_timeout(100)


def wait_for_strokes(pg, n: int) -> None:
    pg.get_by_text(f"({n} stroke{'s' if n != 1 else ''})").wait_for(timeout=30_000)
    wait_idle(pg)
    assert_no_exception(pg)


def views_shown(pg, input_caption: str = "Processed input (MNIST-style)") -> None:
    """The three pictures (they load after the text), the MSE with its rank, and the latent code chart."""
    main = pg.locator("[data-testid='stMain']")
    for caption in (input_caption, "Reconstruction", "|error| per pixel: black 0, yellow 1"):
        main.get_by_text(caption, exact=True).wait_for(timeout=30_000)
    expect(main.get_by_text("MSE 0.").first).to_be_visible()
    expect(main.get_by_text("% of MNIST test digits")).to_be_visible()
    pg.wait_for_function(
        """() => {
          const imgs = [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stImage'] img")];
          return imgs.length === 3 && imgs.every((i) => i.complete && i.naturalWidth === 168);
        }""",
        timeout=30_000,
    )
    main.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(timeout=30_000)


def test_draw_a_one(page, app_url):
    open_app(page, app_url, "draw")
    expect(page.get_by_text("Draw a digit with the mouse")).to_be_visible()
    draw(page, ONE)
    wait_for_strokes(page, 1)
    views_shown(page)
    page.get_by_text("Show the naive resize").click()
    wait_idle(page)
    views_shown(page, "Naive resize of the canvas")
    expect(page.get_by_text("with the naive resize:")).to_be_visible()


def test_draw_a_seven_then_clear(page, app_url):
    open_app(page, app_url, "draw")
    draw(page, SEVEN)
    wait_for_strokes(page, 2)
    views_shown(page)
    old_canvas = page.locator(".upper-canvas").first.element_handle()
    page.get_by_role("button", name="Clear").click()
    wait_idle(page)
    assert_no_exception(page)
    # Clear mounts a new canvas; strokes sent before the old one is gone would land on it and be lost.
    page.wait_for_function("el => !el.isConnected", arg=old_canvas, timeout=10_000)
    page.get_by_text("Draw a digit with the mouse").wait_for(timeout=10_000)
    expect(page.get_by_text("(2 strokes)")).to_have_count(0)
    draw(page, ONE)  # the new, empty canvas draws as before
    wait_for_strokes(page, 1)


def test_denoise_gaussian_shows_the_rows(page, app_url):
    open_app(page, app_url, "denoise")
    page.locator("[data-testid='stSelectbox']").filter(has_text="Noise type").click()
    page.get_by_role("option", name="Gaussian (sigma)").click()
    wait_idle(page)
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    for label in ROWS:
        expect(main.get_by_text(label, exact=True)).to_be_visible()
    expect(main.get_by_text("PSNR")).to_have_count(4)
    expect(main.locator("[data-testid='stImage'] img")).to_have_count(5, timeout=30_000)
    main.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(timeout=30_000)


def test_a_drawing_goes_to_the_denoise_page(page, app_url):
    open_app(page, app_url, "draw")
    draw(page, ONE)
    wait_for_strokes(page, 1)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Denoise").click()
    wait_idle(page)
    assert_no_exception(page)
    page.get_by_text("Source").wait_for()
    expect(page.get_by_label("Current drawing")).to_be_checked()
    main = page.locator("[data-testid='stMain']")
    for label in ROWS:
        expect(main.get_by_text(label, exact=True)).to_be_visible()
