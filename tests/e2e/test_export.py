"""Browser: a model trained on the Train page downloads as a Python script and a notebook, named after it."""

from __future__ import annotations

import ast
import json

import pytest

from tests.e2e.conftest import assert_no_exception, open_app, wait_idle
from tests.e2e.test_train import set_number

pytestmark = pytest.mark.e2e


def test_trained_model_downloads_as_script_and_notebook(page, app_url, tmp_path):
    from playwright.sync_api import expect

    open_app(page, app_url, "train")
    set_number(page, "Latent size k (1–784)", 3)
    page.get_by_text("Training settings").click()
    set_number(page, "Epochs", 1)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Finished:").wait_for(timeout=60_000)
    wait_idle(page)
    script_button = page.get_by_role("button", name="Python script")
    expect(script_button).to_be_visible()
    expect(page.get_by_role("button", name="Notebook")).to_be_visible()
    script_button.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "export-buttons.png"))
    with page.expect_download() as download:
        script_button.click()
    assert download.value.suggested_filename == "k-3-linear-1-epoch.py"
    download.value.save_as(tmp_path / "script.py")
    script = (tmp_path / "script.py").read_text()
    assert "'latent_dim': 3," in script and "'epochs': 1," in script
    ast.parse(script)
    with page.expect_download() as download:
        page.get_by_role("button", name="Notebook").click()
    assert download.value.suggested_filename == "k-3-linear-1-epoch.ipynb"
    download.value.save_as(tmp_path / "notebook.ipynb")
    assert json.loads((tmp_path / "notebook.ipynb").read_text())["nbformat"] == 4
    assert_no_exception(page)
