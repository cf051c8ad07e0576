"""Helpers shared by every test layer: small generated MNIST-like datasets in the IDX format."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from model.data import FILES
from model.idx import write_idx

# pytest's own __main__, before any AppTest: Streamlit's script runner installs each page it runs as __main__
# and leaves it there, which tells the engine it was started from a page (see tests/service/conftest.py).
PYTEST_MAIN = sys.modules.get("__main__")



def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps this thread's event loop open."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


PATTERN_SEED = 1234  # the ten "digit" patterns are the same in every generated dataset


def digit_patterns(seed: int = PATTERN_SEED) -> np.ndarray:
    """Ten smooth bright blobs on a dark background, one per label, in [0, 1]: (10, 28, 28).

    About 8 % of the pixels are bright and the mean is about 0.1, close to MNIST's 0.13.
    """
    rng = np.random.default_rng(seed)
    patterns = np.zeros((10, 28, 28))
    for label in range(10):
        field = np.zeros((28, 28))
        field[4:24, 4:24] = rng.random((20, 20))  # leave a dark border, as MNIST has
        field = ndimage.gaussian_filter(field, sigma=2.0)
        inner = field[4:24, 4:24]
        z = (field - inner.mean()) / inner.std()  # (28, 28) standardised
        patterns[label] = np.clip((z - 0.5) * 1.5, 0.0, 1.0)  # keep the upper part: blobs, like strokes
        patterns[label][:2] = 0.0  # the top rows stay black even after a one-pixel shift
    return patterns


def digit_like_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 images (n, 28, 28) and labels (n,): a label's pattern, shifted a pixel, scaled, plus noise."""
    rng = np.random.default_rng(seed)
    patterns = digit_patterns()
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = patterns[labels]  # (n, 28, 28)
    shifts = rng.integers(-1, 2, size=(n, 2))
    for i, (dy, dx) in enumerate(shifts):
        images[i] = np.roll(images[i], (dy, dx), axis=(0, 1))
    images = images * rng.uniform(0.6, 1.0, size=(n, 1, 1)) + rng.normal(0.0, 0.05, size=images.shape)
    return np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8), labels


def make_idx_dataset(
    folder: Path, n_train: int = 300, n_test: int = 100, compress: bool = False, seed: int = 0
) -> dict[str, np.ndarray]:
    """Write the four MNIST IDX files (gzip-compressed if asked) into folder; return the arrays written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = digit_like_images(n_train, seed=seed)
    test_images, test_labels = digit_like_images(n_test, seed=seed + 1)
    arrays = {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }
    for key, array in arrays.items():
        name = FILES[key] + (".gz" if compress else "")
        write_idx(folder / name, array, compress=compress)
    return arrays


@pytest.fixture
def idx_dataset(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """A fresh folder with 300 training and 100 test images as uncompressed IDX files, and their arrays."""
    folder = tmp_path / "mnist"
    return folder, make_idx_dataset(folder)
