"""The Draw and Denoise pages in AppTest: the canvas sends nothing here, so the no-drawing, test-digit and
stored-drawing paths are what runs."""

from __future__ import annotations

import base64
import io
import re
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.model_entry import ModelEntry
from tests.app.conftest import open_page, texts
from ui.session import state

DRAW, DENOISE = "app_pages/draw.py", "app_pages/denoise.py"
# By default the bundled denoiser for the chosen noise cleans up, with the active (plain) model beside it.
ROWS = ["Clean", "Noisy input", "Bundled denoiser", "Active model (plain)", "PCA projection, k=32"]
ACTIVE_ROWS = ["Clean", "Noisy input", "Active model (plain)", "PCA projection, k=32"]


def a_drawing() -> torch.Tensor:
    x = torch.zeros(28, 28)
    x[4:24, 12:16] = 1.0  # a "1"
    return x.reshape(784)


def canvas_png(paint) -> str:
    """A 280x280 black canvas with white ink where paint sets it, as the data URL the component sends."""
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    paint(rgba)
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture
def drawn(monkeypatch):
    """Open the Draw page, then make its canvas send what the test sets: drawn(paint, strokes) -> AppTest."""

    def open_with(paint, strokes: int = 1):
        at = open_page(DRAW)  # imports the component, as the page does
        component = sys.modules["streamlit_drawable_canvas"]
        url = canvas_png(paint)
        fake = lambda **kwargs: component.CanvasResult({"objects": [{}] * strokes}, url, True)  # noqa: E731
        monkeypatch.setattr(component, "st_canvas", fake)
        return at.run()

    return open_with


def a_one(rgba: np.ndarray) -> None:
    rgba[40:240, 130:150, :3] = 255


def row_labels(at) -> list[str]:
    """The Denoise page's row titles: the markdown that is one bold phrase and nothing else."""
    return [m.value.strip("*") for m in at.markdown if re.fullmatch(r"\*\*[^*]+\*\*", m.value)]


def images(at) -> list:
    return list(at.get("image"))


def test_draw_page_without_a_drawing_shows_the_canvas_controls_and_a_hint(with_mnist):
    at = open_page(DRAW)
    assert not at.exception, at.exception
    text = texts(at)
    assert "Draw a digit with the mouse" in text
    assert "Bundled: k=32" in text and "sidebar" in text, "the page names the model it uses"
    assert at.slider(key="draw_stroke").value == 20
    assert any(b.label == "Clear" for b in at.button)
    assert at.toggle(key="draw_naive").value is False


def test_draw_page_works_without_mnist(without_mnist):
    at = open_page(DRAW)
    assert not at.exception, at.exception
    assert "Draw a digit with the mouse" in texts(at)
    assert not at.error, "drawing needs no MNIST, so nothing is an error yet"


def test_a_drawing_is_processed_shown_and_shared(with_mnist, drawn):
    at = drawn(a_one, strokes=1)
    assert not at.exception, at.exception
    text = texts(at)
    assert "**MSE 0." in text and "(1 stroke)" in text and "% of MNIST test digits" in text
    assert images(at)[0].captions == ["Processed input (MNIST-style)"]
    assert len(images(at)) == 3
    assert "with the naive resize:" in text
    drawing = at.session_state[state.DRAWING]
    assert drawing.shape == (784,) and float(drawing.max()) == pytest.approx(1.0)
    at.toggle(key="draw_naive").set_value(True).run()
    assert not at.exception, at.exception
    assert images(at)[0].captions == ["Naive resize of the canvas"]
    assert torch.equal(at.session_state[state.DRAWING], drawing), "the other pages keep the MNIST-style input"


def test_a_drawing_without_mnist_still_reconstructs(without_mnist, drawn):
    at = drawn(a_one, strokes=1)
    assert not at.exception, at.exception
    assert "**MSE 0." in texts(at) and "needs MNIST" in texts(at)
    assert len(images(at)) == 3


def test_an_emptied_canvas_gives_a_hint_and_forgets_the_drawing(with_mnist, drawn):
    at = drawn(lambda rgba: None, strokes=0)
    assert not at.exception, at.exception
    assert "it is empty" in texts(at)
    assert at.session_state[state.DRAWING] is None


def test_a_speck_is_nearly_empty(with_mnist, drawn):
    def speck(rgba: np.ndarray) -> None:
        rgba[100:104, 100:104, :3] = 255

    at = drawn(speck)
    assert not at.exception, at.exception
    assert "hardly any ink" in texts(at)


def test_clear_empties_the_canvas_and_the_shared_drawing(with_mnist):
    at = open_page(DRAW)
    at.session_state[state.DRAWING] = a_drawing()
    generation = at.session_state[state.CANVAS_GENERATION]
    next(b for b in at.button if b.label == "Clear").click().run()
    assert not at.exception, at.exception
    assert at.session_state[state.CANVAS_GENERATION] == generation + 1
    assert at.session_state[state.DRAWING] is None


def test_pick_a_test_digit_shows_input_reconstruction_error_and_rank(with_mnist):
    at = open_page(DRAW)
    at.radio(key="draw_source").set_value("Pick a test digit").run()
    assert not at.exception, at.exception
    text = texts(at)
    assert any("Test digit #0, a " in c for c in images(at)[0].captions)
    assert "**MSE " in text and "more unusual than" in text and "% of MNIST test digits" in text
    assert len(images(at)) == 3, "input, reconstruction and error heatmap"
    assert at.get("plotly_chart"), "the latent code chart"
    at.number_input(key="draw_test_index").set_value(199).run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Random").click().run()
    assert not at.exception, at.exception
    assert 0 <= at.number_input(key="draw_test_index").value < 200


def test_pick_a_test_digit_without_mnist_explains(without_mnist):
    at = open_page(DRAW)
    at.radio(key="draw_source").set_value("Pick a test digit").run()
    assert not at.exception, at.exception
    assert "MNIST_DIR" in texts(at)
    assert "drawing works without it" in texts(at)


def test_denoise_defaults_to_a_test_digit_and_shows_the_rows_and_the_curve(with_mnist):
    at = open_page(DENOISE)
    assert not at.exception, at.exception
    assert at.radio(key="denoise_source").value == "A test digit"
    assert row_labels(at) == ROWS
    captions = [c.value for c in at.caption]
    assert sum("MSE " in c and "PSNR " in c and " dB" in c for c in captions) == 4
    assert at.get("plotly_chart"), "the error-against-noise curve"


def test_denoise_every_noise_type_and_the_batch(with_mnist):
    at = open_page(DENOISE)
    names = {"gaussian": "Gaussian", "salt_pepper": "salt and pepper", "dropout": "pixel dropout", "block": "block"}
    for kind, name in names.items():
        at.selectbox(key="denoise_kind").set_value(kind).run()
        assert not at.exception, (kind, at.exception)
        assert row_labels(at) == ROWS
        assert f"bundled denoiser for {name}" in texts(at)
    at.slider(key="denoise_level_block").set_value(1.0).run()
    at.radio(key="denoise_source").set_value("Random batch of 8").run()
    assert not at.exception, at.exception
    assert row_labels(at) == ROWS
    at.number_input(key="denoise_seed").set_value(7).run()
    assert not at.exception, at.exception


def test_denoise_zero_noise_reads_infinite_psnr(with_mnist):
    at = open_page(DENOISE)
    at.slider(key="denoise_level_gaussian").set_value(0.0).run()
    assert not at.exception, at.exception
    assert any("∞ dB" in c.value for c in at.caption), "the noisy row equals the clean one"


def test_denoise_uses_the_current_drawing_first(with_mnist):
    at = open_page(DRAW)
    at.session_state[state.DRAWING] = a_drawing()
    at.switch_page(DENOISE).run()
    assert not at.exception, at.exception
    assert at.radio(key="denoise_source").value == "Current drawing"
    assert row_labels(at) == ROWS


def test_denoise_without_mnist_and_without_a_drawing_explains(without_mnist):
    at = open_page(DENOISE)
    assert not at.exception, at.exception
    text = texts(at)
    assert "There is no drawing yet" in text
    assert "not available" in text
    at.radio(key="denoise_source").set_value("A test digit").run()
    assert not at.exception, at.exception
    assert "MNIST_DIR" in texts(at)


def test_denoise_a_drawing_without_mnist_has_no_pca_row(without_mnist):
    at = open_page(DRAW)
    at.session_state[state.DRAWING] = a_drawing()
    at.switch_page(DENOISE).run()
    assert not at.exception, at.exception
    assert row_labels(at) == ROWS[:4]
    assert "PCA's row needs MNIST" in texts(at)


def test_denoise_names_a_denoising_model(with_mnist):
    config = TrainConfig(latent_dim=4, epochs=1, noise="salt_pepper", noise_level=0.25)
    model = LinearAutoencoder(4).eval()
    info = ModelInfo(latent_dim=4, activation="none", epochs=1, test_mse=0.05, config=config)
    entry = ModelEntry(name="k=4 denoiser", model=model, info=info, source="trained")
    at = open_page(DENOISE)
    at.session_state[state.USER_MODELS] = {entry.name: entry}
    at.session_state[state.ACTIVE_MODEL] = entry.name
    at.run()
    assert not at.exception, at.exception
    assert row_labels(at)[2:4] == ["Bundled denoiser", "Active model (denoiser), k=4"]
    at.radio(key="denoise_with").set_value("active").run()
    assert not at.exception, at.exception
    assert "was trained as a **denoiser**: salt and pepper noise at level 0.25" in texts(at)
    assert row_labels(at)[2:] == ["Active model (denoiser)", "PCA projection, k=4"]
