"""The workspace cookie: a random token the server gives each browser, read back by pages via st.context.cookies.

`WorkspaceCookie` is a plain ASGI middleware (for `st.App(..., middleware=[Middleware(WorkspaceCookie)])`): an
HTTP request without a well-formed token gets a new one in a `Set-Cookie` header of its response, so the
page's websocket, opened after, carries it and the very first script run sees it. It never logs the token.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

COOKIE_NAME = "studio_workspace"
TOKEN_BYTES = 32  # 256 random bits
MAX_AGE_S = 365 * 86400  # a year: a browser keeps its workspace cookie; the store sweeps unused workspaces sooner
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 43 URL-safe base64 characters

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_token() -> str:
    """A fresh workspace token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def valid_token(value: object) -> bool:
    """Whether a cookie value has exactly the form `new_token()` gives (anything else is replaced)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def workspace_token(cookies: Mapping[str, str]) -> str | None:
    """The browser's token from `st.context.cookies`, or None when cookies are blocked or the value is malformed."""
    value = cookies.get(COOKIE_NAME)
    return value if valid_token(value) else None


def request_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The first well-formed workspace token among an ASGI request's Cookie headers."""
    for name, value in headers:
        if name.lower() != b"cookie":
            continue
        for pair in value.decode("latin-1").split(";"):
            key, sep, val = pair.strip().partition("=")
            if sep and key == COOKIE_NAME and valid_token(val.strip().strip('"')):
                return val.strip().strip('"')
    return None


def set_cookie_header(token: str, secure: bool) -> tuple[bytes, bytes]:
    """The `Set-Cookie` header for a token: HttpOnly (no script reads it), SameSite=Lax, whole site, a year."""
    parts = [f"{COOKIE_NAME}={token}", "Path=/", f"Max-Age={MAX_AGE_S}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


def is_https(scope: Scope) -> bool:
    """Whether the browser reached us over https: directly, or through a proxy that says so."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-forwarded-proto":
            return value.decode("latin-1").split(",")[0].strip().lower() == "https"
    return False


class WorkspaceCookie:
    """Gives every browser without a valid workspace cookie a new one; passes everything else through as it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or request_token(scope.get("headers", [])) is not None:
            return await self.app(scope, receive, send)
        header = set_cookie_header(new_token(), is_https(scope))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
