"""Browser: the 'Watch it become PCA' preset trains, the panel updates, Rotate and Recover work, on a phone too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, shown, wait_idle
from tests.e2e.test_train import set_number

pytestmark = pytest.mark.e2e


def test_preset_panel_rotate_and_recover(page, app_url, tmp_path):
    open_app(page, app_url, "train")
    page.get_by_role("button", name="Watch it become PCA").click()
    wait_idle(page)
    set_number(page, "Latent size k (1–784)", 4)  # small and quick on the generated digits
    page.get_by_text("Training settings").click()
    set_number(page, "Epochs", 2)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("How close to PCA?").wait_for(timeout=60_000)
    page.get_by_text("Finished:").wait_for(timeout=120_000)
    wait_idle(page)
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    expect(main).to_contain_text("Angles at the end of epoch 2")
    expect(main).to_contain_text(re.compile(r"[+-][0-9.]+% vs PCA"), use_inner_text=True)
    expect(main).to_contain_text(re.compile(r"Subspace similarity\s+[0-9.]+"), use_inner_text=True)
    similarity = float(re.search(r"Subspace similarity\s+([0-9.]+)", main.inner_text()).group(1))
    assert 0.0 <= similarity <= 1.0
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text("linear output")

    page.get_by_role("button", name="Rotate the code").click()
    wait_idle(page)
    expect(main).to_contain_text(re.compile(r"largest pixel difference is [0-9.e+-]+,"), use_inner_text=True)
    difference = float(re.search(r"largest pixel difference is ([0-9.e+-]+),", main.inner_text()).group(1))
    assert difference < 1e-4  # the same reconstructions from the mixed code
    page.get_by_role("button", name="Recover the components").click()
    wait_idle(page)
    assert_no_exception(page)
    expect(main).to_contain_text("|cos| between each recovered direction")
    page.get_by_role("button", name="Hide the recovered components").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "pca_panel.png"))


def test_preset_link_on_a_phone(browser, app_url, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(60_000)
    try:
        open_app(phone, app_url, "train?recipe=pca&k=3&epochs=1")
        notice = phone.locator("[data-testid='stMain']")
        expect(notice).to_contain_text(shown("Applied the preset from the link: k=3,"))
        expect(notice).to_contain_text("linear output")
        phone.get_by_role("button", name="Start").click()
        phone.get_by_text("How close to PCA?").wait_for(timeout=120_000)
        phone.get_by_text("Finished:").wait_for(timeout=120_000)
        wait_idle(phone)
        assert_no_exception(phone)
        heading = phone.get_by_text("How close to PCA?")
        heading.scroll_into_view_if_needed()
        box = heading.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # nothing off the screen
        phone.screenshot(path=str(tmp_path / "phone.png"))
    finally:
        context.close()
