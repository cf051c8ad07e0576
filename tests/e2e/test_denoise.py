"""Browser: a fresh Denoise page cleans up with the bundled denoiser and shows the plain model beside it; one
click on "Your active model" switches to the active model alone, and back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, wait_idle

pytestmark = pytest.mark.e2e


def test_the_bundled_denoiser_leads_and_the_active_model_is_one_click_away(page, app_url):
    open_app(page, app_url, "denoise")
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text("bundled denoiser for Gaussian noise (k=32, level 0.3)")).to_be_visible()
    expect(main.get_by_text("Bundled denoiser", exact=True)).to_be_visible()
    expect(main.get_by_text("Active model (plain)", exact=True)).to_be_visible()
    expect(main.locator("[data-testid='stImage'] img")).to_have_count(5)
    legend = main.locator("[data-testid='stPlotlyChart'] .legendtext")  # the curve's line names (SVG text)
    expect(legend.filter(has_text="bundled denoiser, k=32")).to_have_count(1, timeout=30_000)

    main.get_by_text("Your active model", exact=True).click()
    wait_idle(page)
    assert_no_exception(page)
    expect(main.get_by_text("Bundled denoiser", exact=True)).to_have_count(0)
    expect(main.locator("[data-testid='stImage'] img")).to_have_count(4)
    expect(main.get_by_text("trained on clean digits", exact=False)).to_be_visible()

    main.get_by_text("Bundled denoiser for this noise", exact=True).click()
    wait_idle(page)
    expect(main.locator("[data-testid='stImage'] img")).to_have_count(5)
