"""Per-model computations on the test set, cached by model content so every page and rerun shares them.

Models are unhashable for Streamlit's caches, so each cached function takes the model as a leading-underscore
argument plus a key we control: the model's name and a hash of its weights (computed once per model object).
"""

from __future__ import annotations

import base64
import hashlib
import io
import weakref

import numpy as np
import streamlit as st
import torch
from PIL import Image

from model.autoencoder import LinearAutoencoder
from model.data import Mnist
from model.latent import CodePca, fit_code_pca, manifold, populated_range, subset_order, tsne_2d
from model.train import evaluate_mse
from ui.figures.images import to_uint8
from ui.model_entry import ModelEntry

MANIFOLD_N = 15  # decodings a side in the k = 2 manifold picture
_weight_hashes: weakref.WeakKeyDictionary[LinearAutoencoder, str] = weakref.WeakKeyDictionary()


def model_key(entry: ModelEntry) -> str:
    """Name plus a hash of the weights: a retrained model under a reused name is a different key."""
    model = entry.model
    digest = _weight_hashes.get(model)
    if digest is None:
        h = hashlib.blake2b(digest_size=8)
        for name, tensor in sorted(model.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        digest = h.hexdigest()
        _weight_hashes[model] = digest
    return f"{entry.name}#{digest}"


def data_key(mnist: Mnist) -> str:
    return f"{mnist.source}#{len(mnist.test)}"


@st.cache_resource(max_entries=32, show_spinner=False)
def _codes(_model: LinearAutoencoder, key: str, _images: torch.Tensor, dkey: str) -> torch.Tensor:
    with torch.no_grad():
        return _model.encode(_images)  # (N, 784) -> (N, k)


def test_codes(entry: ModelEntry, mnist: Mnist) -> torch.Tensor:
    """The latent codes of every test digit: (N, k); shared, never mutate."""
    return _codes(entry.model, model_key(entry), mnist.test.images, data_key(mnist))


@st.cache_resource(max_entries=32, show_spinner=False)
def _code_pca(_codes_: torch.Tensor, key: str, dkey: str) -> CodePca:
    return fit_code_pca(_codes_)


def code_pca(entry: ModelEntry, mnist: Mnist) -> CodePca:
    """Principal directions of the model's test codes."""
    return _code_pca(test_codes(entry, mnist), model_key(entry), data_key(mnist))


@st.cache_resource(max_entries=16, show_spinner=False)
def _tsne(_codes_: torch.Tensor, key: str, dkey: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    ids = subset_order(_codes_.shape[0])[:n].numpy()
    return ids, tsne_2d(_codes_[ids].numpy(), seed=0)


def tsne_view(entry: ModelEntry, mnist: Mnist, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row ids of a fixed subset of n test digits and their t-SNE coordinates (n, 2)."""
    return _tsne(test_codes(entry, mnist), model_key(entry), data_key(mnist), n)


@st.cache_resource(max_entries=64, show_spinner=False)
def _test_mse(_model: LinearAutoencoder, key: str, _images: torch.Tensor, dkey: str) -> float:
    return evaluate_mse(_model, _images)


def test_mse(entry: ModelEntry, mnist: Mnist) -> float:
    """Mean squared reconstruction error over the loaded test set (the same data PCA is scored on)."""
    return _test_mse(entry.model, model_key(entry), mnist.test.images, data_key(mnist))


def png_data_uri(image: torch.Tensor) -> str:
    """A (H, W) image in [0, 1] as a PNG data URI, for a plotly layout image."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@st.cache_resource(max_entries=16, show_spinner=False)
def _plane(_model: LinearAutoencoder, key: str, _codes_: torch.Tensor, dkey: str):
    x_range = populated_range(_codes_[:, 0])
    y_range = populated_range(_codes_[:, 1])
    with torch.no_grad():
        picture = manifold(_model, x_range, y_range, MANIFOLD_N)
    return x_range, y_range, png_data_uri(picture)


def latent_plane(entry: ModelEntry, mnist: Mnist) -> tuple[tuple[float, float], tuple[float, float], str]:
    """For k = 2: the populated ranges of both codes and the 15 x 15 manifold picture over them."""
    return _plane(entry.model, model_key(entry), test_codes(entry, mnist), data_key(mnist))
