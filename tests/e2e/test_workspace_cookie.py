"""The workspace cookie for real: WorkspaceCookie in an st.App under `streamlit run`, read by st.context.cookies.

A throwaway app (written to a temp folder) shows a digest of the token its script sees, never the token.
"""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
from playwright.sync_api import expect

from service.workspace_cookie import COOKIE_NAME, new_token, valid_token
from tests.e2e.conftest import open_app, start_server, stop_server

pytestmark = pytest.mark.e2e

SERVER = """\
import streamlit as st
from starlette.middleware import Middleware

from service.workspace_cookie import WorkspaceCookie

app = st.App("page.py", middleware=[Middleware(WorkspaceCookie)])
"""

PAGE = """\
import hashlib

import streamlit as st

from service.workspace_cookie import workspace_token

token = workspace_token(st.context.cookies)
runs = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
digest = hashlib.sha256(token.encode()).hexdigest()[:16] if token else "none"
st.text(f"workspace {digest}; script run {runs}")
"""


@pytest.fixture(scope="module")
def cookie_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cookie-app")
    (folder / "server.py").write_text(SERVER)
    (folder / "page.py").write_text(PAGE)
    proc, url = start_server({}, folder, script=folder / "server.py")
    yield url, folder
    stop_server(proc)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def set_cookies(url: str, cookie: str | None = None) -> list[str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return [v for k, v in response.headers.items() if k.lower() == "set-cookie" and v.startswith(COOKIE_NAME)]


def test_the_server_sets_the_cookie_on_its_http_responses(cookie_app):
    url, _ = cookie_app
    [cookie] = set_cookies(url)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    assert set_cookies(url, f"{COOKIE_NAME}={new_token()}") == []  # a valid one is kept
    assert len(set_cookies(url, f"{COOKIE_NAME}=forged")) == 1  # a malformed one is replaced


def test_the_first_script_run_sees_the_token_and_a_reload_keeps_it(browser, cookie_app):
    url, folder = cookie_app
    context = browser.new_context()
    try:
        page = context.new_page()
        open_app(page, url)
        [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        token = cookie["value"]
        assert valid_token(token) and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        expect(page.get_by_text(f"workspace {digest(token)}; script run 1")).to_be_visible()
        page.reload()
        open_app(page, url)
        expect(page.get_by_text(f"workspace {digest(token)}; script run 1")).to_be_visible()  # a new session
        assert [c["value"] for c in context.cookies() if c["name"] == COOKIE_NAME] == [token]
        other = browser.new_context()
        try:
            stranger = other.new_page()
            open_app(stranger, url)
            expect(stranger.get_by_text("workspace ")).not_to_have_text(f"workspace {digest(token)}; script run 1")
        finally:
            other.close()
        assert token not in "".join(p.read_text() for p in folder.glob("streamlit-*.log"))  # nor in the server log
    finally:
        context.close()
