"""The workspace cookie middleware, driven as plain ASGI with a fake app (no server), and the page-side check."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.workspace_cookie import (
    COOKIE_NAME,
    MAX_AGE_S,
    WorkspaceCookie,
    new_token,
    valid_token,
    workspace_token,
)


def call(headers: list[tuple[bytes, bytes]] = (), kind: str = "http", scheme: str = "http") -> dict:
    """What the fake app saw and what reached the client, for one request through the middleware."""
    seen, sent = [], []

    async def app(scope, receive, send) -> None:
        seen.append(scope)
        if scope["type"] == "http":
            extra = [(b"content-type", b"text/html"), (b"set-cookie", b"other=1; Path=/")]
            await send({"type": "http.response.start", "status": 200, "headers": extra})
            await send({"type": "http.response.body", "body": b"<html>"})
        else:
            await send({"type": "websocket.accept"})

    async def send(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request"}

    scope = {"type": kind, "scheme": scheme, "path": "/", "headers": list(headers)}
    # A thread of its own: the browser tests' Playwright may hold this thread's event loop open.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, WorkspaceCookie(app)(scope, receive, send)).result()
    start = sent[0]
    cookies = [
        v.decode() for k, v in start.get("headers", []) if k == b"set-cookie" and v.startswith(COOKIE_NAME.encode())
    ]
    return {"seen": seen, "sent": sent, "cookies": cookies}


def attributes(set_cookie: str) -> tuple[str, set[str]]:
    """(token, the other attributes) of a Set-Cookie value."""
    first, *rest = [part.strip() for part in set_cookie.split(";")]
    name, _, value = first.partition("=")
    assert name == COOKIE_NAME
    return value, set(rest)


def test_a_browser_without_a_cookie_gets_a_strong_token() -> None:
    result = call()
    [cookie] = result["cookies"]
    token, attrs = attributes(cookie)
    assert valid_token(token) and len(token) == 43  # 32 random bytes: 256 bits
    assert attrs == {"Path=/", f"Max-Age={MAX_AGE_S}", "HttpOnly", "SameSite=Lax"}
    assert 360 * 86400 <= MAX_AGE_S <= 400 * 86400
    sent = result["sent"]
    assert (b"set-cookie", b"other=1; Path=/") in sent[0]["headers"]  # the app's own headers stay
    assert (b"content-type", b"text/html") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b"<html>"}  # the body passes untouched


def test_every_browser_gets_its_own_token() -> None:
    tokens = {attributes(call()["cookies"][0])[0] for _ in range(20)}
    assert len(tokens) == 20


def test_a_valid_cookie_is_kept_as_it_is() -> None:
    token = new_token()
    for header in (f"{COOKIE_NAME}={token}", f"a=b; {COOKIE_NAME}={token}; c=d", f'{COOKIE_NAME}="{token}"'):
        result = call([(b"cookie", header.encode())])
        assert result["cookies"] == [], header
        assert result["seen"][0]["headers"] == [(b"cookie", header.encode())]


@pytest.mark.parametrize(
    "value",
    ["", "short", "x" * 42, "x" * 44, "a" * 42 + "!", "<script>alert(1)</script>" + "a" * 18, "a" * 42 + " "],
)
def test_a_malformed_cookie_is_replaced(value: str) -> None:
    result = call([(b"cookie", f"{COOKIE_NAME}={value}".encode("latin-1"))])
    [cookie] = result["cookies"]
    token, _ = attributes(cookie)
    assert token != value.strip() and valid_token(token)


def test_another_site_cookie_of_a_similar_name_does_not_count() -> None:
    token = new_token()
    result = call([(b"cookie", f"x{COOKIE_NAME}={token}; {COOKIE_NAME}x={token}".encode())])
    assert len(result["cookies"]) == 1


def test_secure_over_https_directly_or_behind_a_proxy() -> None:
    assert "Secure" in attributes(call(scheme="https")["cookies"][0])[1]
    proxied = call([(b"x-forwarded-proto", b"https")])
    assert "Secure" in attributes(proxied["cookies"][0])[1]
    chained = call([(b"x-forwarded-proto", b"https, http")])
    assert "Secure" in attributes(chained["cookies"][0])[1]
    assert "Secure" not in attributes(call([(b"x-forwarded-proto", b"http")])["cookies"][0])[1]


def test_websockets_pass_through_untouched() -> None:
    result = call(kind="websocket")
    assert result["sent"] == [{"type": "websocket.accept"}]
    assert result["seen"][0]["headers"] == []


def test_the_token_is_not_logged(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    token = attributes(call()["cookies"][0])[0]
    call([(b"cookie", f"{COOKIE_NAME}={token}".encode())])
    assert token not in caplog.text


def test_workspace_token_for_the_page_side() -> None:
    token = new_token()
    assert workspace_token({COOKIE_NAME: token, "other": "1"}) == token
    assert workspace_token({}) is None  # cookies blocked: the app works as before, without a workspace
    assert workspace_token({COOKIE_NAME: "forged/../../x"}) is None
    assert workspace_token({COOKIE_NAME: token + "a"}) is None
