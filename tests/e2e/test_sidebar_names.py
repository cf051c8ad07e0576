"""Browser: a model name too long for the sidebar's select box is shown in full, wrapped, beneath it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo, model_to_bytes
from tests.e2e.conftest import open_app, wait_idle

pytestmark = pytest.mark.e2e

NAME = "my very long model name for the class demo, k=4 linear"


def test_a_long_model_name_is_shown_in_full(page, app_url, tmp_path):
    model_file = tmp_path / "long.safetensors"
    info = ModelInfo(4, "none", 1, 0.05, None, NAME, 1.0)
    model_file.write_bytes(model_to_bytes(LinearAutoencoder(4).eval(), info))
    open_app(page, app_url, "train")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(model_file))
    wait_idle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    box = sidebar.get_by_role("combobox", name="Active model")
    expect(box).to_have_value(f"Uploaded: {NAME}")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth"), "the box itself cuts the name off"
    full = sidebar.get_by_text(f"Uploaded: {NAME}", exact=True)
    expect(full).to_be_visible()
    shown, panel = full.bounding_box(), sidebar.bounding_box()
    assert shown["x"] + shown["width"] <= panel["x"] + panel["width"], "wrapped inside the sidebar"
    assert shown["height"] > 25, "on more than one line"
