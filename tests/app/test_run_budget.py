"""The Train page warns before Start when the settings would outlast the server's run budget."""

from __future__ import annotations

from tests.app.conftest import open_page, texts

WARNING = "would take about"


def test_settings_longer_than_the_budget_get_a_warning_before_start(with_mnist, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_RUN_MINUTES", "1")  # the generated MNIST has 600 digits: a 1-minute budget
    at = open_page("app_pages/train.py")
    assert WARNING not in texts(at), "the fast defaults fit"
    at.number_input(key="train_k").set_value(784).run()
    at.number_input(key="train_batch").set_value(1).run()
    at.number_input(key="train_epochs").set_value(200).run()
    assert not at.exception
    warning = next(w.value for w in at.warning if WARNING in w.value)
    assert "stops after 1 minute " in warning and "STUDIO_MAX_RUN_MINUTES" in warning
    assert any(b.label == "Start" and not b.disabled for b in at.button), "a warning, not a refusal"


def test_a_raised_budget_lifts_the_warning(with_mnist, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_RUN_MINUTES", "600")
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(784).run()
    at.number_input(key="train_batch").set_value(1).run()
    at.number_input(key="train_epochs").set_value(200).run()
    assert not at.exception and WARNING not in texts(at)
