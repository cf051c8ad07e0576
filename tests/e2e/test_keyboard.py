"""Browser: the controls work without a mouse. Tab reaches Train's Start and Enter or Space presses it; on Draw,
Tab passes the canvas (no focus trap) and the test-digit picker, the canvas's keyboard fallback, is reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_app, run_button, wait_idle

pytestmark = pytest.mark.e2e

LONG_RUN = "train?k=8&epochs=200&batch=1"  # still running when the test presses Stop
MAX_TABS = 120  # far more than any page has controls: reaching the limit means focus is stuck or skips


def tab_to(pg, target, limit: int = MAX_TABS, key: str = "Tab") -> int:
    """Press Tab (or Shift+Tab) until `target` has the focus; how many presses it took. Fails if it never does."""
    seen = []
    for presses in range(1, limit + 1):
        pg.keyboard.press(key)
        if target.evaluate("el => el === document.activeElement"):
            return presses
        seen.append(pg.evaluate("() => document.activeElement.outerHTML.slice(0, 80)"))
    raise AssertionError(f"{key} never reached the control in {limit} presses; focus went: {seen[-8:]}")


@pytest.mark.parametrize("key", ["Enter", "Space"])
def test_tab_reaches_start_and_the_key_presses_it(page, app_url, key):
    open_app(page, app_url, LONG_RUN)
    start, pause, stop = (run_button(page, label) for label in ("Start", "Pause", "Stop"))
    expect(start).to_be_enabled()
    expect(pause).to_be_disabled()
    tab_to(page, start)
    expect(start).to_be_focused()
    page.keyboard.press(key)
    expect(pause).to_be_enabled(timeout=5_000)
    expect(start).to_be_disabled()
    stop.click()
    expect(start).to_be_enabled(timeout=15_000)


def test_draw_page_has_no_focus_trap_and_a_keyboard_fallback(page, app_url):
    open_app(page, app_url, "draw")
    expect(page.get_by_text("No mouse?")).to_be_visible()
    # Forward past the canvas to the Clear button under it: the canvas does not hold the focus.
    tab_to(page, page.get_by_role("button", name="Clear"))
    # Back up to the "Digit" choice and pick "Pick a test digit" with an arrow key.
    tab_to(page, page.get_by_role("radio", name="Draw one"), key="Shift+Tab")
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    index_box = page.get_by_label("Test digit index", exact=False)
    expect(index_box).to_be_visible()
    tab_to(page, index_box)
    page.keyboard.press("Control+a")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Test digit #7")).to_be_visible()
