"""The Train page's "Watch it become PCA" preset and its "How close to PCA?" panel, through AppTest."""

from __future__ import annotations

from model.config import TrainConfig
from tests.app.conftest import open_page, texts
from tests.app.test_train_page import wait_for_model


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_preset_trains_a_linear_output_model_and_the_panel_explains_it(with_mnist):
    at = open_page("app_pages/train.py")
    button(at, "Watch it become PCA").click().run()
    preset = TrainConfig.watch_pca()
    assert at.selectbox(key="train_output").value == "linear"
    assert at.number_input(key="train_k").value == preset.latent_dim
    assert at.number_input(key="train_lr").value == preset.lr
    at.number_input(key="train_k").set_value(4).run()  # small and quick on the generated digits
    at.number_input(key="train_epochs").set_value(2).run()
    button(at, "Start").click().run()
    assert not at.exception, at.exception
    at = wait_for_model(at, "k=4 linear, linear output, 2 epochs")
    shown = texts(at)
    assert "How close to PCA?" in shown
    assert "Baldi & Hornik" in shown and "linear output" in shown
    assert "clipped for display only" in shown  # said for the linear output's pictures
    labels = [m.label for m in at.metric]
    assert "Subspace similarity" in labels and "Largest principal angle" in labels
    similarity = float(next(m.value for m in at.metric if m.label == "Subspace similarity"))
    assert 0.0 <= similarity <= 1.0
    assert any("% vs PCA" in str(m.delta) for m in at.metric)

    button(at, "Rotate the code").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "the largest pixel difference is" in shown
    difference = float(shown.split("the largest pixel difference is ")[1].split(",")[0])
    assert difference < 1e-4  # the reconstructions did not change

    button(at, "Recover the components").click().run()
    assert not at.exception, at.exception
    assert "|cos| between each recovered direction" in texts(at)
    assert any(b.label == "Hide the recovered components" for b in at.button)


def test_a_sigmoid_run_gets_the_panel_too(with_mnist):
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(3).run()
    at.number_input(key="train_epochs").set_value(1).run()
    button(at, "Start").click().run()
    at = wait_for_model(at, "k=3 linear, 1 epoch")
    assert "How close to PCA?" in texts(at) and "clipped for display only" not in texts(at)
    assert "linear output" not in at.sidebar.selectbox[0].value


def test_home_links_to_the_preset(with_mnist):
    at = open_page("app_pages/home.py")
    at.button(key="home_watch_pca").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="train_output").value == "linear"  # on the Train page, with the preset applied
    assert at.number_input(key="train_lr").value == TrainConfig.watch_pca().lr
