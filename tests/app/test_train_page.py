"""The Train page: settings validate, Start trains a model that joins the sidebar list."""

from __future__ import annotations

import time

from tests.app.conftest import open_page, texts


def wait_for_model(at, name_part: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if any(name_part in o for o in at.sidebar.selectbox[0].options):
            return at
        time.sleep(0.3)
    raise AssertionError(f"no model named like {name_part!r} appeared; page said:\n{texts(at)}")


def test_train_page_shows_settings_and_initial_view(with_mnist):
    at = open_page("app_pages/train.py")
    assert not at.exception
    assert at.number_input(key="train_k").value == 32
    assert "Ready: k = 32" in texts(at)
    assert any(b.label == "Start" and not b.disabled for b in at.button)


def test_quick_pick_sets_latent_size(with_mnist):
    at = open_page("app_pages/train.py")
    at.button_group(key="train_k_pick").set_value(8).run()
    assert "Ready: k = 8" in texts(at)


def test_start_trains_and_adds_model(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(4).run()
    at.number_input(key="train_epochs").set_value(2).run()
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    at = wait_for_model(at, "k=4 linear, 2 epochs")
    assert "k=4 linear, 2 epochs" in at.sidebar.selectbox[0].value, "the new model becomes active"
    assert "Finished" in texts(at)


def test_classic_recipe_fills_settings(with_mnist):
    at = open_page("app_pages/train.py")
    next(b for b in at.button if b.label == "Classic recipe").click().run()
    assert at.number_input(key="train_batch").value == 20
    assert at.selectbox(key="train_activation").value == "relu"
    assert at.number_input(key="train_epochs").value == 20
