"""A hostile participant in real Chromium, against `streamlit run app.py` (what `make run` starts).

Injected links and images in the URL or in uploaded model files must show as text, and the browser must
never contact the host they name; metrics stay private; an over-long link says what it lost; a crash
shows no server paths.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo, model_to_bytes
from tests.e2e.conftest import (
    assert_no_exception,
    chromium_or_skip,
    open_app,
    shown,
    start_server,
    stop_server,
    wait_idle,
)

SHOTS = Path("/tmp/safety-e2e")
EVIL = "evil.example"
UNKNOWN = "**Session expired** [Log in again](https://evil.example/login)"
RECIPE = "[Official slides](https://evil.example)"


@pytest.fixture(scope="module")
def serve_url(e2e_data, tmp_path_factory):
    chromium_or_skip()
    tmp = tmp_path_factory.mktemp("serve")
    proc, url = start_server(
        {"MNIST_DIR": str(e2e_data), "MNIST_CACHE_DIR": str(tmp / "cache")}, tmp, script="app.py"
    )
    yield url
    stop_server(proc)


def model_file(name: str, **meta: str) -> bytes:
    data = model_to_bytes(LinearAutoencoder(4), ModelInfo(4, "none", 1, 0.05, None, name))
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    header["__metadata__"].update(meta)
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data[8 + size :]


def upload(pg, name: str, data: bytes) -> None:
    pg.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    )
    wait_idle(pg, 30_000, start_grace=3_000)
    assert_no_exception(pg)


def expect_text(pg, selector: str, *parts: str) -> None:
    """The first element matching selector shows every part as a reader sees it (word joiners aside)."""
    for part in parts:
        expect(pg.locator(selector).first).to_contain_text(shown(part))


def no_live_evil(pg) -> None:
    """No link or image leads off the app: not to evil.example, nor to a cut-off 'https://evi…'."""
    base = pg.url.split("/")[:3]
    hrefs = pg.locator("a[href]").evaluate_all("els => els.map(a => a.href)")
    assert [h for h in hrefs if h.split("/")[:3] != base] == [], "a link leaves the app"
    srcs = pg.locator("img[src]").evaluate_all("els => els.map(i => i.src)")
    assert [u for u in srcs if u.startswith("http") and u.split("/")[:3] != base] == [], "an image loads from afar"


def test_injected_links_and_images_show_as_text(page, serve_url):
    SHOTS.mkdir(exist_ok=True)
    contacted: list[str] = []
    page.context.on("request", lambda r: contacted.append(r.url) if EVIL in (urlsplit(r.url).hostname or "") else None)

    open_app(page, serve_url, f"train?k=8&{quote(UNKNOWN)}=1&recipe={quote(RECIPE)}")
    expect_text(page, "[data-testid='stAlertContentWarning']", "'**Session expired**…'", "[Official slides](https://evi…")
    no_live_evil(page)
    page.screenshot(path=str(SHOTS / "url-notice.png"))

    upload(page, "[ok](https:evil.example).safetensors", model_file(""))
    upload(page, "pixel.safetensors", model_file("![p](https://evil.example/pixel.png) [Log in](https://evil.example)"))
    upload(page, "version.safetensors", model_file("v", format_version="![v](https://evil.example/v.png)"))
    expect_text(page, "[data-testid='stAlertContentError']", "format version '![v](https://evil.example/v.png)'")
    no_live_evil(page)
    page.screenshot(path=str(SHOTS / "uploads.png"), full_page=True)
    expect_text(
        page, "[data-testid='stMain']", "Uploaded: [ok](https:evil.example)", "Uploaded: ![p](https://evil.example/pixel.png)"
    )

    for title in ("Draw", "Compare", "Latent space", "Denoise"):  # in-app navigation keeps the session's models
        page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
        wait_idle(page, 60_000, start_grace=3_000)
        assert_no_exception(page)
        no_live_evil(page)
        page.screenshot(path=str(SHOTS / f"{title.split()[0].lower()}.png"), full_page=True)
    page.get_by_text("Your active model", exact=True).click()  # the Denoise page then names the active (uploaded) model
    wait_idle(page, 60_000, start_grace=3_000)
    no_live_evil(page)
    expect_text(page, "[data-testid='stMain']", "Uploaded: ![p](https://evil.example/pixel.png)")  # names the model
    assert contacted == [], f"the browser contacted {contacted}"


def test_metrics_are_private(serve_url):
    with urllib.request.urlopen(f"{serve_url}/_stcore/health", timeout=5) as r:
        assert r.status == 200
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(f"{serve_url}/_stcore/metrics", timeout=5)
    assert excinfo.value.code == 404


def test_a_link_over_the_parameter_limit_says_so_and_keeps_its_settings(page, serve_url):
    junk = "&".join(f"x{i}=1" for i in range(1_001))
    open_app(page, serve_url, f"train?{junk}&k=8")
    page.wait_for_selector("[data-testid='stAlertContentWarning']")
    expect_text(page, "[data-testid='stAlertContentWarning']", "1,002 parameters", "(1,000 parameters")
    expect(page.get_by_role("spinbutton", name="Latent size k (1–784)")).to_have_value("8", timeout=15_000)


def test_a_crash_shows_no_paths_or_traceback(page, tmp_path):
    """client.showErrorDetails = "none" in .streamlit/config.toml: the browser gets a generic message."""
    script = tmp_path / "crash.py"
    script.write_text("raise RuntimeError('secret detail at ' + __file__)\n")
    proc, url = start_server({}, tmp_path, script=script)
    try:
        page.goto(url)
        page.wait_for_selector("[data-testid='stException']", timeout=30_000)
        app = page.locator("[data-testid='stApp']")
        for secret in ("secret detail", str(tmp_path), "Traceback", "RuntimeError"):
            expect(app).not_to_contain_text(secret)
    finally:
        stop_server(proc)
