"""AppTest helpers: run the real studio.py, switch pages, with or without a generated MNIST."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import make_idx_dataset
from ui.pages import PAGES as SPECS

ROOT = Path(__file__).resolve().parents[2]
PAGES = [spec.path for spec in SPECS]


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch, tmp_path):
    """Each test gets empty server caches and its own copy folder for MNIST files."""
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "mnist-cache"))
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def with_mnist(monkeypatch, tmp_path) -> Path:
    """A small generated MNIST (600 train / 200 test) pointed at by MNIST_DIR."""
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=600, n_test=200)
    monkeypatch.setenv("MNIST_DIR", str(folder))
    return folder


@pytest.fixture
def without_mnist(monkeypatch, tmp_path) -> Path:
    """MNIST_DIR points at an empty folder: the loader must explain, not crash."""
    folder = tmp_path / "empty"
    folder.mkdir()
    monkeypatch.setenv("MNIST_DIR", str(folder))
    return folder


def open_page(page: str, timeout: float = 60) -> AppTest:
    """Run studio.py, then switch to page; returns the AppTest after the page ran."""
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=timeout)
    at.run()
    if page != "app_pages/home.py":
        at.switch_page(page)
        at.run()
    return at


def visible(markdown: str) -> str:
    """The text a reader sees of markdown that escapes strings from users and files (ui.text.md)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def texts(at: AppTest) -> str:
    """All visible text of the common elements, for assertions on messages."""
    parts = []
    for kind in ("markdown", "caption", "info", "error", "warning", "success", "title", "subheader", "header"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return visible("\n".join(parts))
