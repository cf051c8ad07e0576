"""Per-model numbers worth computing once: test-digit errors (for percentiles) and error-vs-noise curves."""

from __future__ import annotations

import hashlib
import weakref

import numpy as np
import streamlit as st
import torch

from model.autoencoder import LinearAutoencoder
from model.data import Mnist
from model.pca import Pca
from model.scoring import NoiseCurve, curve_digits, noise_curve, per_image_mse
from ui.model_entry import ModelEntry

_FINGERPRINTS: weakref.WeakKeyDictionary[LinearAutoencoder, str] = weakref.WeakKeyDictionary()


def fingerprint(model: LinearAutoencoder) -> str:
    """A digest of the weights: two sessions' models that share a name never share a cache entry."""
    known = _FINGERPRINTS.get(model)
    if known is None:
        digest = hashlib.sha1(f"{model.latent_dim}:{model.activation}:{model.output}".encode())
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        known = _FINGERPRINTS[model] = digest.hexdigest()
    return known


@st.cache_data(max_entries=32, show_spinner="Scoring the 10,000 test digits with this model (once per model)…")
def _test_errors(model_id: str, source: str, _model: LinearAutoencoder, _images: torch.Tensor) -> np.ndarray:
    return np.sort(per_image_mse(_model, _images).numpy())


def test_errors(entry: ModelEntry, mnist: Mnist) -> np.ndarray:
    """Sorted per-digit reconstruction MSE of the whole test set, the yardstick for 'how unusual'."""
    return _test_errors(fingerprint(entry.model), mnist.source, entry.model, mnist.test.images)


@st.cache_data(max_entries=64, show_spinner="Measuring the error at 11 noise levels over 500 test digits…")
def _noise_curve(
    model_id: str,
    other_id: str,
    source: str,
    kind: str,
    _model: LinearAutoencoder,
    _pca: Pca,
    _mnist: Mnist,
    _other: LinearAutoencoder | None,
) -> NoiseCurve:
    clean = _mnist.test.images[curve_digits(len(_mnist.test))]
    return noise_curve(_model, _pca, clean, kind, other=_other)


def cached_noise_curve(
    entry: ModelEntry, pca: Pca, mnist: Mnist, kind: str, other: ModelEntry | None = None
) -> NoiseCurve:
    """The error-vs-noise-level curve of this model, PCA and any other model, once per pair and noise type."""
    other_model = other.model if other is not None else None
    other_id = fingerprint(other_model) if other_model is not None else ""
    return _noise_curve(fingerprint(entry.model), other_id, mnist.source, kind, entry.model, pca, mnist, other_model)


@torch.no_grad()
def reconstruct(entry: ModelEntry, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Code and reconstruction of (B, 784) images: ((B, k), (B, 784))."""
    code = entry.model.encode(x)
    return code, entry.model.decode(code)
