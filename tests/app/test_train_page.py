"""The Train page: settings validate, Start trains a model that joins the sidebar list."""

from __future__ import annotations

import time

from tests.app.conftest import open_page, texts


def wait_for_model(at, name_part: str, timeout: float = 60.0, seen: list[str] | None = None):
    """Rerun until the model is listed; `seen` collects what each run said (a notice shows in one run only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if seen is not None:
            seen.append(texts(at))
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
    seen = [texts(at)]  # a short run can end, and its notice show, in the Start click's own run
    at = wait_for_model(at, "k=4 linear, 2 epochs", seen=seen)
    assert "k=4 linear, 2 epochs" in at.sidebar.selectbox[0].value, "the new model becomes active"
    assert any("Finished" in t for t in seen)


def test_classic_recipe_fills_settings(with_mnist):
    at = open_page("app_pages/train.py")
    next(b for b in at.button if b.label == "Classic recipe").click().run()
    assert at.number_input(key="train_batch").value == 20
    assert at.selectbox(key="train_activation").value == "relu"
    assert at.number_input(key="train_epochs").value == 20


def test_quick_pick_highlight_follows_k(with_mnist):
    """A typed k that is no quick pick clears the highlight; one that is lights it."""
    at = open_page("app_pages/train.py")
    assert at.button_group(key="train_k_pick").value == 32  # the default k is a quick pick
    at.number_input(key="train_k").set_value(300).run()
    assert at.button_group(key="train_k_pick").value is None
    at.number_input(key="train_k").set_value(8).run()
    assert at.button_group(key="train_k_pick").value == 8
    at.button_group(key="train_k_pick").set_value(64).run()
    assert at.number_input(key="train_k").value == 64 and "Ready: k = 64" in texts(at)


def test_recipe_buttons_say_what_they_set_activation_included(with_mnist):
    at = open_page("app_pages/train.py")
    next(b for b in at.button if b.label == "Classic recipe").click().run()
    assert "Classic recipe: k=32, ReLU encoder, 20 epochs, batch 20, Adam 0.001 (constant)" in texts(at)
    next(b for b in at.button if b.label == "Fast defaults").click().run()
    assert "Fast defaults: k=32, linear encoder, 10 epochs, batch 256" in texts(at)


def test_classic_link_preset_mentions_relu(with_mnist):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
    at.query_params.update({"recipe": "classic", "epochs": "1"})
    at.run()
    assert "Applied the preset from the link: k=32, ReLU encoder, 1 epoch," in texts(at)


def test_k784_ready_text_says_pca_is_exact_and_counts_correctly(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(784).run()
    shown = texts(at)
    assert "PCA with 784 components rebuilds the test digits exactly" in shown
    at.number_input(key="train_k").set_value(1).run()
    assert "PCA with 1 component reaches" in texts(at)


def test_share_link_has_a_copy_button_holding_the_link(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(12).run()
    buttons = [str(e.proto.body) for e in at.get("html") if "copy-link" in str(e.proto.body)]
    assert len(buttons) == 1 and 'data-link="' in buttons[0] and "k=12" in buttons[0]


def test_denoiser_view_shows_the_noisy_digits_it_gets(with_mnist):
    at = open_page("app_pages/train.py")
    at.toggle(key="train_denoise").set_value(True).run()
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert any("Middle: with the Gaussian noise (level 0.3)" in c for c in captions), captions
    at.toggle(key="train_denoise").set_value(False).run()
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert not any("noise" in c for c in captions), captions
