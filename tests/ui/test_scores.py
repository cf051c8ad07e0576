"""Percentiles among the test digits, per-image errors, the noise curve and the Denoise rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.noise import add_noise
from model.pca import fit_pca
from model.scoring import (
    curve_digits,
    denoise_rows,
    noise_curve,
    pca_reconstruct,
    per_image_mse,
    percentile_of,
    unusual_sentence,
)
from tests.conftest import digit_like_images
from ui.server.fingerprint import model_fingerprint as fingerprint


def digits(n: int, seed: int = 0) -> torch.Tensor:
    images, _ = digit_like_images(n, seed=seed)
    return torch.from_numpy(images).reshape(n, 784).float() / 255.0


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One thread, as the server runs: OpenMP spin-waiting on shared cores made the PCA fit 20x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pca():
    return fit_pca(digits(300, seed=1))


@pytest.fixture(scope="module")
def model() -> LinearAutoencoder:
    torch.manual_seed(0)
    return LinearAutoencoder(8).eval()


def test_percentile_counts_the_share_strictly_below():
    dist = np.arange(100, dtype=float)  # 0..99
    assert percentile_of(50.0, dist) == 50.0
    assert percentile_of(50.5, dist) == 51.0
    assert percentile_of(-1.0, dist) == 0.0
    assert percentile_of(1000.0, dist) == 100.0
    assert percentile_of(float("inf"), dist) == 100.0


def test_percentile_ignores_order_and_nans_and_accepts_tensors():
    dist = torch.tensor([3.0, 1.0, float("nan"), 2.0, 4.0])
    assert percentile_of(2.5, dist) == 50.0


def test_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError, match="empty"):
        percentile_of(1.0, np.array([]))


def test_unusual_sentence_rounds_without_claiming_100():
    assert unusual_sentence(93.2) == "more unusual than 93% of MNIST test digits"
    assert unusual_sentence(99.96) == "more unusual than 99.9% of MNIST test digits"
    assert unusual_sentence(100.0) == "more unusual than 100% of MNIST test digits"


def test_per_image_mse_matches_a_direct_computation(model):
    x = digits(12)
    expected = ((model(x) - x) ** 2).mean(dim=1)
    torch.testing.assert_close(per_image_mse(model, x), expected.detach())


def test_percentile_of_a_test_digit_against_its_own_set(model):
    x = digits(200)
    errors = per_image_mse(model, x).numpy()
    worst = float(errors.max())
    assert percentile_of(worst, errors) == pytest.approx(100.0 * 199 / 200)


def test_noise_curve_grows_with_noise_and_starts_at_clean_error(model, pca):
    clean = digits(100)
    curve = noise_curve(model, pca, clean, "gaussian", levels=(0.0, 0.3, 0.6))
    assert curve.levels == (0.0, 0.3, 0.6)
    assert curve.noisy_mse[0] == 0.0
    assert curve.noisy_mse[0] < curve.noisy_mse[1] < curve.noisy_mse[2]
    assert curve.model_mse[0] == pytest.approx(float(per_image_mse(model, clean).mean()), rel=1e-5)
    expected_pca = float(((pca_reconstruct(pca, clean, 8) - clean) ** 2).mean())
    assert curve.pca_mse[0] == pytest.approx(expected_pca, rel=1e-5)


def test_noise_curve_adds_a_second_model_and_keeps_pca_at_the_first_models_k(model, pca):
    clean = digits(50)
    other = LinearAutoencoder(3).eval()
    alone = noise_curve(model, pca, clean, "dropout", levels=(0.0, 0.5))
    both = noise_curve(model, pca, clean, "dropout", levels=(0.0, 0.5), other=other)
    assert alone.other_mse == ()
    assert (both.model_mse, both.pca_mse, both.noisy_mse) == (alone.model_mse, alone.pca_mse, alone.noisy_mse)
    noisy = add_noise(clean, "dropout", 0.5, seed=0)
    with torch.no_grad():
        assert both.other_mse[1] == pytest.approx(float(((other(noisy) - clean) ** 2).mean()), rel=1e-5)
    assert both.other_mse != both.model_mse


def test_noise_curve_refuses_bad_levels(model, pca):
    with pytest.raises(ValueError, match="between 0 and 1"):
        noise_curve(model, pca, digits(5), "gaussian", levels=(0.0, 1.5))


def test_curve_digits_are_fixed_and_bounded():
    assert torch.equal(curve_digits(1000), curve_digits(1000))
    assert len(curve_digits(1000)) == 500 and len(curve_digits(30)) == 30


def test_denoise_rows_with_and_without_pca(model, pca):
    clean = digits(8)
    rows = denoise_rows(model, pca, clean, "salt_pepper", 0.2, seed=3)
    assert [r.label for r in rows] == ["Clean", "Noisy input", "Model's reconstruction", "PCA projection, k=8"]
    assert rows[0].mse is None and rows[0].psnr is None
    for row in rows[1:]:
        assert row.images.shape == (8, 784)
        assert 0.0 <= float(row.images.min()) and float(row.images.max()) <= 1.0
        assert row.mse == pytest.approx(float(((row.images - clean) ** 2).mean()))
        assert math.isfinite(row.psnr)
    assert len(denoise_rows(model, None, clean, "gaussian", 0.1, seed=0)) == 3


def test_denoise_rows_put_a_second_model_after_the_first_with_pca_at_the_first_models_k(model, pca):
    clean = digits(4)
    other = LinearAutoencoder(3).eval()
    rows = denoise_rows(model, pca, clean, "block", 0.4, 1, "Bundled denoiser", ("Active model (plain)", other))
    labels = [r.label for r in rows]
    assert labels == ["Clean", "Noisy input", "Bundled denoiser", "Active model (plain)", "PCA projection, k=8"]
    with torch.no_grad():
        expected = other(add_noise(clean, "block", 0.4, seed=1))
    assert torch.equal(rows[3].images, expected), "the second model sees the same noisy digits"
    assert torch.equal(rows[2].images, denoise_rows(model, pca, clean, "block", 0.4, 1)[2].images)


def test_no_noise_gives_an_infinite_psnr_for_the_noisy_row(model):
    rows = denoise_rows(model, None, digits(2), "gaussian", 0.0, seed=0)
    assert rows[1].mse == 0.0 and math.isinf(rows[1].psnr)


def test_fingerprint_follows_the_weights():
    a, b = LinearAutoencoder(4), LinearAutoencoder(4)
    b.load_state_dict(a.state_dict())
    assert fingerprint(a) == fingerprint(b)
    c = LinearAutoencoder(4)
    assert fingerprint(c) != fingerprint(a)


def test_a_missing_mnist_is_retried_at_most_every_30_seconds(monkeypatch, tmp_path):
    import ui.server.resources as resources
    from model.data import MnistError

    calls, now = [], [1000.0]
    found = [None]

    def loader():
        calls.append(1)
        if found[0] is None:
            raise MnistError("MNIST was not found")
        return found[0]

    monkeypatch.setattr(resources, "_load_mnist_cached", loader)
    monkeypatch.setattr(resources.time, "monotonic", lambda: now[0])
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    assert resources.mnist_status().error == "MNIST was not found"
    now[0] += 10
    assert resources.mnist_status().mnist is None
    assert len(calls) == 1, "the failure is believed for a while: strokes do not retry a download"
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "elsewhere"))
    resources.mnist_status()
    assert len(calls) == 2, "another MNIST_DIR is looked at at once"
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    now[0] += resources.MISSING_RETRY_SECONDS
    found[0] = object()
    assert resources.mnist_status().mnist is not None
    assert resources.mnist_status().mnist is not None
    assert len(calls) == 4, "once found, every call asks the (cached) loader"


def test_fingerprint_tells_activations_apart_with_the_same_weights():
    a, b = LinearAutoencoder(4, "none"), LinearAutoencoder(4, "relu")
    b.load_state_dict(a.state_dict())
    assert fingerprint(a) != fingerprint(b)


def test_caches_key_a_model_by_its_content_not_its_object():
    import streamlit as st

    from ui.server.fingerprint import HASH_FUNCS

    calls = []

    @st.cache_resource(hash_funcs=HASH_FUNCS)
    def score(model: LinearAutoencoder) -> int:
        calls.append(model)
        return len(calls)

    a, b = LinearAutoencoder(4), LinearAutoencoder(4)
    b.load_state_dict(a.state_dict())
    assert score(a) == score(b) == 1  # same content: one computation
    assert score(LinearAutoencoder(4)) == 2
    score.clear()
