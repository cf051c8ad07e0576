"""Browser: train k = 2 for one epoch from the Train page; progress reaches the end and the chart appears."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, wait_idle

pytestmark = pytest.mark.e2e


def set_number(pg, label: str, value: int) -> None:
    box = pg.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(pg)


def test_train_k2_one_epoch(page, app_url):
    open_app(page, app_url, "train")
    set_number(page, "Latent size k (1–784)", 2)
    page.get_by_text("Training settings").click()
    set_number(page, "Epochs", 1)
    expect(page.get_by_text("Ready: k = 2")).to_be_visible()
    clicked = time.monotonic()
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=30_000)
    first_chart = time.monotonic() - clicked
    page.get_by_text("Finished:").wait_for(timeout=60_000)
    assert_no_exception(page)
    expect(page.locator("[data-testid='stPlotlyChart']").first, "the loss chart stays after the run").to_be_visible()
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text("k=2 · linear · 1 epoch ·")
    print(f"\nE2E first chart after Start: {first_chart:.2f} s")
