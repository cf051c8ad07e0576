"""The Denoise page's default view in AppTest: the bundled denoiser for the chosen noise cleans up and is
named, the active plain model is shown beside it, and both are on the error-against-noise curve."""

from __future__ import annotations

import json

from tests.app.conftest import open_page, texts

DENOISE = "app_pages/denoise.py"


def curve_traces(at) -> list[str]:
    """Names of the lines of the error-against-noise chart (the page's only chart with lines)."""
    specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    return [t["name"] for spec in specs for t in spec["data"] if t.get("mode") == "lines+markers"]


def row_captions(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("MSE ")]


def test_the_default_view_cleans_up_with_the_bundled_denoiser_and_shows_the_plain_model(with_mnist):
    at = open_page(DENOISE)
    assert not at.exception, at.exception
    assert at.radio(key="denoise_with").value == "bundled"
    assert at.radio(key="denoise_with").options == ["Bundled denoiser for this noise", "Your active model"]
    text = texts(at)
    assert "Cleaning up with the **bundled denoiser for Gaussian noise (k=32, level 0.3)**" in text
    assert "your active model is shown beside it" in text
    labels = [m.value for m in at.markdown]
    assert "**Bundled denoiser**" in labels and "**Active model (plain)**" in labels
    assert len(row_captions(at)) == 4, "noisy, denoiser, plain model and PCA each have their error"
    assert curve_traces(at) == [
        "bundled denoiser, k=32",
        "active model (plain), k=32",
        "PCA, k=32",
        "noisy input (no denoising)",
    ]


def test_the_denoiser_follows_the_noise_type(with_mnist):
    at = open_page(DENOISE)
    at.selectbox(key="denoise_kind").set_value("block").run()
    assert not at.exception, at.exception
    assert "**bundled denoiser for block occlusion noise (k=32, level 0.4)**" in texts(at)
    before = row_captions(at)
    at.selectbox(key="denoise_kind").set_value("dropout").run()
    assert "**bundled denoiser for pixel dropout noise (k=32, level 0.3)**" in texts(at)
    assert row_captions(at) != before


def test_the_active_model_is_one_click_away(with_mnist):
    at = open_page(DENOISE)
    at.radio(key="denoise_with").set_value("active").run()
    assert not at.exception, at.exception
    text = texts(at)
    assert "Cleaning up with" not in text
    assert "trained on clean digits (a plain autoencoder)" in text
    assert "**Bundled denoiser**" not in [m.value for m in at.markdown]
    assert len(row_captions(at)) == 3
    assert curve_traces(at) == ["active model (plain), k=32", "PCA, k=32", "noisy input (no denoising)"]


def test_without_mnist_a_drawing_is_still_cleaned_up_by_the_denoiser(without_mnist):
    import torch

    from ui.session import state

    at = open_page(DENOISE)
    drawing = torch.zeros(28, 28)
    drawing[4:24, 12:16] = 1.0
    at.session_state[state.DRAWING] = drawing.reshape(784)
    at.run()
    assert not at.exception, at.exception
    assert "bundled denoiser for Gaussian noise" in texts(at)
    assert len(row_captions(at)) == 3, "noisy, denoiser and plain model; PCA needs MNIST"


def test_without_a_bundled_denoiser_the_active_model_cleans_up(with_mnist, tmp_path, monkeypatch):
    from ui.server import resources

    monkeypatch.setattr(resources, "DENOISERS", tmp_path / "no-denoisers")
    at = open_page(DENOISE)
    assert not at.exception, at.exception
    assert not [r for r in at.radio if r.key == "denoise_with"], "nothing to choose between"
    assert "trained on clean digits (a plain autoencoder)" in texts(at)
    assert curve_traces(at)[0] == "active model (plain), k=32"
