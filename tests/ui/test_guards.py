"""The server guards app.py installs: private metrics, and over-long links turned into a notice."""

from __future__ import annotations

import asyncio
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ui.presets import parse_preset
from ui.server.guards import StudioGuards

ROOT = Path(__file__).resolve().parents[2]


def call(path: str, query: str = "", kind: str = "http") -> tuple[int, dict[bytes, bytes], bool]:
    """(status, headers, whether Streamlit got the request) for one request through the guards."""
    reached, sent = [], []

    async def streamlit(scope, receive, send) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request"}

    scope = {"type": kind, "path": path, "query_string": query.encode()}
    # A thread of its own: the browser tests' Playwright may hold this thread's event loop open.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, StudioGuards(streamlit)(scope, receive, send)).result()
    start = sent[0] if sent else {"status": None, "headers": []}
    return start["status"], dict(start["headers"]), bool(reached)


def test_metrics_are_hidden_unless_asked_for(monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_METRICS", raising=False)
    assert call("/_stcore/metrics") == (404, {b"content-length": b"0"}, False)
    assert call("/studio/_stcore/metrics")[0] == 404, "behind a proxy's base path too"
    assert call("/_stcore/health")[2] and call("/train", "k=8")[2], "everything else passes through"
    monkeypatch.setenv("STUDIO_METRICS", "1")
    assert call("/_stcore/metrics") == (200, {}, True)


def test_a_link_over_the_parameter_limit_keeps_its_settings_and_says_so() -> None:
    query = "&".join(f"x{i}=1" for i in range(1_001)) + "&k=8&recipe=classic&lr=" + "9" * 5_000
    status, headers, reached = call("/train", query)
    assert status == 303 and not reached
    location = urlsplit(headers[b"location"].decode())
    params = {k: v[-1] for k, v in parse_qs(location.query).items()}
    assert location.path == "/train" and params["k"] == "8" and params["recipe"] == "classic"
    assert len(params["lr"]) == 100, "kept values are cut short"
    config, problems = parse_preset(params)
    assert config.latent_dim == 8 and "1,004 parameters" in problems[0] and "1,000" in problems[0]


def test_a_link_at_the_limit_passes_through() -> None:
    query = "&".join(f"x{i}=1" for i in range(999)) + "&k=8"
    assert call("/train", query)[2]
    assert call("/_stcore/stream", "&" * 5_000, kind="websocket")[2], "the websocket is never touched"


@pytest.mark.parametrize("value", ["", "x", "-1", "1e9", "9" * 50])
def test_a_forged_drop_note_is_ignored(value: str) -> None:
    assert parse_preset({"link_dropped": value}) == (None, [])


def test_config_keeps_the_server_local_and_errors_generic() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none", "no traceback or server path in the browser"
