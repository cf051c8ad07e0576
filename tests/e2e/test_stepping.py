"""Browser: step through a run (the Step button and the s key), change the learning rate while paused, resume."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, assert_no_exception, open_app, run_button

pytestmark = pytest.mark.e2e

LONG_RUN = "train?k=8&epochs=200&batch=1"  # far longer than the test
PROGRESS = "[data-testid='stProgress']"
SETTLE_MS = 2_000  # a few of the page's 0.75 s redraws: a second step would show by then


def step_of(text: str) -> int:
    """The step counter of the progress line ('step 1,234/600,000')."""
    return int(re.search(r"step ([\d,]+)/", text).group(1).replace(",", ""))


def expect_step(progress, step: int) -> None:
    """The progress line shows the paused run at exactly `step`, and stays there."""
    expect(progress).to_contain_text(re.compile(rf"Paused.*step {step:,}/"), timeout=15_000)
    progress.page.wait_for_timeout(SETTLE_MS)  # the check is that nothing more happens
    expect(progress).to_contain_text(f"step {step:,}/")


def test_step_button_and_key_lr_marker(page, app_url):
    open_app(page, app_url, LONG_RUN)
    run_button(page, "Start").click()
    progress = page.locator(PROGRESS).first
    expect(progress).to_contain_text("Running", timeout=30_000)
    run_button(page, "Pause").click()
    expect(progress).to_contain_text("Paused", timeout=10_000)
    step_button = run_button(page, "Step")
    expect(step_button).to_be_enabled(timeout=5_000)
    page.wait_for_timeout(SETTLE_MS)
    paused = step_of(progress.inner_text())

    step_button.click()
    expect_step(progress, paused + 1)

    page.locator("h1").first.click()  # focus on the page, not a control: the shortcut's case
    page.keyboard.press("s")
    expect_step(progress, paused + 2)

    rate = page.get_by_label("Learning rate from the next step", exact=True)
    expect(rate).to_be_enabled()
    rate.fill("0.0005")
    rate.press("s")  # typing in a box never steps
    rate.press("Enter")
    expect_step(progress, paused + 2)

    page.locator("h1").first.click()
    page.keyboard.press(" ")  # space resumes
    expect(run_button(page, "Pause")).to_be_enabled(timeout=5_000)
    expect(progress).to_contain_text("Running", timeout=10_000)
    chart = page.locator("[data-testid='stPlotlyChart']").first
    expect(chart).to_contain_text("lr → 0.0005", timeout=15_000)

    page.locator("h1").first.click()
    page.keyboard.press(" ")  # and pauses again
    expect(run_button(page, "Resume")).to_be_enabled(timeout=5_000)
    expect(progress).to_contain_text("Paused", timeout=10_000)

    run_button(page, "Resume").click()  # by mouse: the focus stays on the button
    expect(progress).to_contain_text("Running", timeout=10_000)
    page.keyboard.press(" ")  # on the focused button: one toggle, not a click and a shortcut
    expect(run_button(page, "Resume")).to_be_enabled(timeout=5_000)
    expect(progress).to_contain_text("Paused", timeout=10_000)
    page.wait_for_timeout(SETTLE_MS)
    expect(progress).to_contain_text("Paused")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stepping.png"), full_page=True)
    assert_no_exception(page)
    run_button(page, "Stop").click()
    expect(page.get_by_text("Stopped early")).to_be_visible(timeout=15_000)
