"""Every page renders without an exception, with and without MNIST available."""

from __future__ import annotations

import pytest

from tests.app.conftest import PAGES, open_page, texts


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_mnist(with_mnist, page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title, "every page has a title"
    assert at.sidebar.selectbox, "the active-model picker is in the sidebar"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_mnist(without_mnist, page):
    at = open_page(page)
    assert not at.exception, at.exception
    if page == "app_pages/train.py":
        assert "MNIST_DIR" in texts(at), "the Train page explains how to point at MNIST"


def test_sidebar_lists_bundled_models(with_mnist):
    at = open_page("app_pages/home.py")
    options = at.sidebar.selectbox[0].options
    assert any("k=2" in o for o in options) and any("k=32" in o for o in options)
    assert "k=32" in at.sidebar.selectbox[0].value, "the bundled k=32 model is active by default"


def test_home_diagram_follows_k(with_mnist):
    at = open_page("app_pages/home.py")
    at.slider(key="home_k").set_value(5).run()
    assert not at.exception
    assert "784 pixels -> 5 numbers" in texts(at)
