"""Browser: the Train page's run buttons follow the run (Start, Pause/Resume, Stop), in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, run_button, wait_idle

pytestmark = pytest.mark.e2e

# Batch 1 and 200 epochs: a run far longer than the test, so it is still going when Stop is pressed.
LONG_RUN = "train?k=8&epochs=200&batch=1"
PROGRESS = "[data-testid='stProgress']"
# How long the buttons may take to follow a click: a pause or resume travels to the engine's worker and back,
# and on a loaded 2-core machine a click's rerun alone took up to 6.6 s (2.7 s median).
CLICK_MS = 10_000
# How long a paused run is watched for a change: several of the page's 0.75 s redraws.
FROZEN_WATCH_MS = 2_500


def buttons(pg):
    return (run_button(pg, n) for n in ("Start", "Pause", "Stop"))


def test_start_pause_resume_stop(page, app_url):
    open_app(page, app_url, LONG_RUN)
    start, pause, stop = buttons(page)
    expect(start).to_be_enabled()
    expect(pause).to_be_disabled()
    expect(stop).to_be_disabled()

    start.click()
    expect(pause).to_be_enabled(timeout=CLICK_MS)
    expect(stop).to_be_enabled(timeout=CLICK_MS)
    expect(start).to_be_disabled(timeout=CLICK_MS)
    expect(page.get_by_label("Latent size k (1–784)", exact=True)).to_be_disabled(timeout=CLICK_MS)
    progress = page.locator(PROGRESS).first
    expect(progress).to_contain_text("k = 8", timeout=10_000)
    expect(progress).to_contain_text("200 epochs")
    expect(progress).to_contain_text("no noise")
    expect(progress).to_contain_text("Running", timeout=30_000)  # "Starting" first while a cold worker loads MNIST
    # The progress moves while running (so "it stops changing" below is a real check).
    expect(progress).not_to_have_text(progress.inner_text(), timeout=30_000, use_inner_text=True)

    pause.click()
    resume = run_button(page, "Resume")
    expect(resume).to_be_enabled(timeout=CLICK_MS)
    expect(progress).to_contain_text("Paused", timeout=5_000)
    frozen = progress.inner_text()
    page.wait_for_timeout(FROZEN_WATCH_MS)  # nothing to wait for: the check is that nothing happens
    expect(progress).to_have_text(frozen, use_inner_text=True)  # once moved on, it would never come back to this text
    assert_no_exception(page)

    resume.click()
    expect(run_button(page, "Pause")).to_be_enabled(timeout=CLICK_MS)
    expect(progress).to_contain_text("Running", timeout=5_000)
    expect(progress).not_to_have_text(frozen, timeout=30_000, use_inner_text=True)  # it moves again

    stop.click()
    expect(page.get_by_text("Stopped early")).to_be_visible(timeout=15_000)
    expect(start).to_be_enabled()
    expect(run_button(page, "Pause")).to_be_disabled()
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar).to_contain_text("k=8 · linear")
    assert_no_exception(page)


def test_sweep_buttons_and_sidebar_follow_the_sweep(page, app_url):
    open_app(page, app_url, "compare")
    epochs = page.get_by_label("Epochs per model", exact=True)
    epochs.fill("200")  # long enough to be still running when cancelled
    epochs.press("Enter")
    expect(page.get_by_text("200 epochs", exact=False).first).to_be_visible()
    train = page.get_by_role("button", name="Train a sweep", exact=True)
    cancel = page.get_by_role("button", name="Cancel the sweep", exact=True)
    sidebar = page.locator("[data-testid='stSidebar']")
    train.click()
    expect(train).to_be_disabled(timeout=CLICK_MS)
    expect(cancel).to_be_enabled(timeout=CLICK_MS)
    expect(epochs).to_be_disabled()
    expect(sidebar).to_contain_text("queued", timeout=CLICK_MS)
    cancel.click()
    expect(page.get_by_text("Sweep cancelled")).to_be_visible(timeout=5_000)
    wait_idle(page)
    # In the run the click caused, not at a later poll of the sidebar (which comes every 1 s or more).
    expect(sidebar).not_to_contain_text("Sweep:", timeout=200)
    expect(train).to_be_enabled()
    assert_no_exception(page)
