"""Browser: the Train page's share link is copied by its button, on https/localhost and on a plain-http host."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_app

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("secure", [True, False], ids=["clipboard-api", "plain-http-fallback"])
def test_copy_button_copies_the_share_link(page, app_url, secure: bool) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    open_app(page, app_url, "train?k=12&epochs=3")
    page.get_by_text("Share these settings").click()
    link = page.get_by_role("link", name="/train?")
    href = link.get_attribute("href")
    assert "k=12" in href and "epochs=3" in href
    if not secure:  # as on http://HOST:8501 in a classroom, where navigator.clipboard is missing
        page.evaluate("Object.defineProperty(window, 'isSecureContext', {value: false})")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == href
    expect(page.get_by_role("button", name="Copy link")).to_be_visible(timeout=5_000)  # the label comes back
    assert_no_exception(page)
