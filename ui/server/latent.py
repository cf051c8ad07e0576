"""Per-model computations on the test set, cached by model content so every page and rerun shares them.

Each cached function takes the model and the data themselves; Streamlit keys them by ui.server.fingerprint's
digests (hash_funcs), so a retrained model under a reused name is a different entry.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from model.autoencoder import LinearAutoencoder
from model.data import Mnist
from model.latent import CodePca, fit_code_pca, manifold, populated_range, subset_order, tsne_2d
from model.train import evaluate_mse
from service.model_entry import ModelEntry
from ui.figures.images import png_data_url, to_uint8
from ui.server.fingerprint import HASH_FUNCS

MANIFOLD_N = 15  # decodings a side in the k = 2 manifold picture


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs=HASH_FUNCS)
def _codes(model: LinearAutoencoder, mnist: Mnist) -> torch.Tensor:
    with torch.no_grad():
        return model.encode(mnist.test.images)  # (N, 784) -> (N, k)


def test_codes(entry: ModelEntry, mnist: Mnist) -> torch.Tensor:
    """The latent codes of every test digit: (N, k); shared, never mutate."""
    return _codes(entry.model, mnist)


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs=HASH_FUNCS)
def _code_pca(model: LinearAutoencoder, mnist: Mnist) -> CodePca:
    return fit_code_pca(_codes(model, mnist))


def code_pca(entry: ModelEntry, mnist: Mnist) -> CodePca:
    """Principal directions of the model's test codes."""
    return _code_pca(entry.model, mnist)


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=HASH_FUNCS)
def _tsne(model: LinearAutoencoder, mnist: Mnist, n: int) -> tuple[np.ndarray, np.ndarray]:
    codes = _codes(model, mnist)
    ids = subset_order(codes.shape[0])[:n].numpy()
    return ids, tsne_2d(codes[ids].numpy(), seed=0)


def tsne_view(entry: ModelEntry, mnist: Mnist, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row ids of a fixed subset of n test digits and their t-SNE coordinates (n, 2)."""
    return _tsne(entry.model, mnist, n)


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs=HASH_FUNCS)
def _test_mse(model: LinearAutoencoder, mnist: Mnist) -> float:
    return evaluate_mse(model, mnist.test.images)


def test_mse(entry: ModelEntry, mnist: Mnist) -> float:
    """Mean squared reconstruction error over the loaded test set (the same data PCA is scored on)."""
    return _test_mse(entry.model, mnist)


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=HASH_FUNCS)
def _plane(model: LinearAutoencoder, mnist: Mnist):
    codes = _codes(model, mnist)
    x_range = populated_range(codes[:, 0])
    y_range = populated_range(codes[:, 1])
    with torch.no_grad():
        picture = manifold(model, x_range, y_range, MANIFOLD_N)
    return x_range, y_range, png_data_url(to_uint8(picture), small=True)


def latent_plane(entry: ModelEntry, mnist: Mnist) -> tuple[tuple[float, float], tuple[float, float], str]:
    """For k = 2: the populated ranges of both codes and the 15 x 15 manifold picture over them."""
    return _plane(entry.model, mnist)
