"""Two browser sessions never see each other's models or settings."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app, wait_idle

pytestmark = pytest.mark.e2e


def sidebar(pg):
    return pg.locator("[data-testid='stSidebar']")


def test_sessions_are_isolated(browser, app_url):
    alice_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    bob_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        alice, bob = alice_ctx.new_page(), bob_ctx.new_page()
        open_app(alice, app_url, "train?k=3&epochs=1")
        open_app(bob, app_url, "train")
        alice.get_by_text("Ready: k = 3,").wait_for()
        bob.get_by_text("Ready: k = 32,").wait_for()
        expect(alice.get_by_label("Latent size k (1–784)", exact=True)).to_have_value("3")
        expect(bob.get_by_label("Latent size k (1–784)", exact=True)).to_have_value("32")  # presets are per session
        alice.get_by_role("button", name="Start").click()
        alice.get_by_text("Finished:").wait_for(timeout=60_000)
        expect(sidebar(alice)).to_contain_text("k=3 · linear · 1 epoch")
        bob.reload()
        wait_idle(bob)
        assert_no_exception(bob)
        expect(sidebar(bob), "Bob must not see Alice's model").not_to_contain_text("k=3 ·")
        expect(sidebar(bob)).to_contain_text("k=32 · linear")
        expect(bob.get_by_role("button", name="Start"), "Alice's job does not block Bob's page").to_be_enabled()
    finally:
        alice_ctx.close()
        bob_ctx.close()
