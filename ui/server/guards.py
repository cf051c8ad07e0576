"""Two guards for the studio's server that Streamlit 1.67 has no setting for (app.py installs them).

- `/_stcore/metrics` (session counts, cache sizes) answers 404 unless STUDIO_METRICS=1: Streamlit always
  serves it, to anyone who can reach the port.
- A link whose query string is over Streamlit's limit (1,000 parameters or 512 Ki characters) loses all
  of it without a word, a valid `k=8` included. Such a page request is redirected to the same page with
  only the Train settings it names, plus `link_dropped=N`, and the preset notice says what happened.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit.runtime.state.query_params import (
    CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
    CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
)

from ui.presets import DROPPED_PARAM, PRESET_KEYS

METRICS_PATH = "/_stcore/metrics"


class StudioGuards:
    """Plain ASGI middleware: cheap for the websocket and every other request, which it passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = os.environ.get("STUDIO_METRICS") == "1"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, query = scope["path"], scope.get("query_string", b"").decode("latin-1")
            if path.endswith(METRICS_PATH) and not self.metrics:
                return await _respond(send, 404, [])
            fields = query.count("&") + 1
            if len(query) > CLIENT_STATE_QUERY_STRING_MAX_LENGTH or fields > CLIENT_STATE_QUERY_STRING_MAX_FIELDS:
                kept = {k: v[:100] for k, v in parse_qsl(query, keep_blank_values=True) if k in PRESET_KEYS}
                location = f"{quote(path)}?{urlencode({**kept, DROPPED_PARAM: fields})}"
                return await _respond(send, 303, [(b"location", location.encode())])
        await self.app(scope, receive, send)


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
