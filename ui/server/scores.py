"""Per-model numbers worth computing once: test-digit errors (for percentiles), error-vs-noise curves, a
denoiser's score on its task; keyed by ui.server.fingerprint's digests (hash_funcs)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from model.autoencoder import LinearAutoencoder
from model.data import Mnist
from model.denoise_scores import noisy_input_mse
from model.pca import Pca
from model.scoring import NoiseCurve, curve_digits, noise_curve, per_image_mse
from service.model_entry import ModelEntry
from ui.server.fingerprint import HASH_FUNCS


@st.cache_data(
    max_entries=32,
    show_spinner="Scoring the 10,000 test digits with this model (once per model)…",
    hash_funcs=HASH_FUNCS,
)
def _test_errors(model: LinearAutoencoder, mnist: Mnist) -> np.ndarray:
    return np.sort(per_image_mse(model, mnist.test.images).numpy())


def test_errors(entry: ModelEntry, mnist: Mnist) -> np.ndarray:
    """Sorted per-digit reconstruction MSE of the whole test set, the yardstick for 'how unusual'."""
    return _test_errors(entry.model, mnist)


@st.cache_data(
    max_entries=64,
    show_spinner="Measuring the error at 11 noise levels over 500 test digits…",
    hash_funcs=HASH_FUNCS,
)
def _noise_curve(
    model: LinearAutoencoder, other: LinearAutoencoder | None, mnist: Mnist, kind: str, _pca: Pca
) -> NoiseCurve:
    clean = mnist.test.images[curve_digits(len(mnist.test))]
    return noise_curve(model, _pca, clean, kind, other=other)


def cached_noise_curve(
    entry: ModelEntry, pca: Pca, mnist: Mnist, kind: str, other: ModelEntry | None = None
) -> NoiseCurve:
    """The error-vs-noise-level curve of this model, PCA and any other model, once per pair and noise type."""
    return _noise_curve(entry.model, other.model if other is not None else None, mnist, kind, pca)


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs=HASH_FUNCS)
def _noisy_scores(
    model: LinearAutoencoder, mnist: Mnist, task: tuple[str, float, int], _pca: Pca | None
) -> tuple[float, float | None]:
    return noisy_input_mse(model, _pca, mnist.test.images, *task)


def noisy_scores(
    entry: ModelEntry, mnist: Mnist, task: tuple[str, float, int], pca: Pca | None
) -> tuple[float, float | None]:
    """A denoiser's test MSE for noisy digits in, and PCA's (None without it), once per model and task."""
    return _noisy_scores(entry.model, mnist, task, pca)


@torch.no_grad()
def reconstruct(entry: ModelEntry, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Code and reconstruction of (B, 784) images: ((B, k), (B, 784))."""
    code = entry.model.encode(x)
    return code, entry.model.decode(code)
