"""Turn (N, 784) tensors into crisp image arrays for st.image."""

from __future__ import annotations

import numpy as np
import torch

from model.autoencoder import SIDE


def to_uint8(images: torch.Tensor | np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Map values in [lo, hi] to 0..255 bytes, clipping outside."""
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    scaled = (arr.astype(np.float32) - lo) / max(hi - lo, 1e-12)
    return (np.clip(scaled, 0.0, 1.0) * 255).round().astype(np.uint8)


def normalise_each(images: torch.Tensor) -> torch.Tensor:
    """Scale each row to [0, 1] by its own range: weight vectors have arbitrary scale and sign."""
    lo = images.min(dim=1, keepdim=True).values
    hi = images.max(dim=1, keepdim=True).values
    return (images - lo) / (hi - lo).clamp_min(1e-12)


def mosaic(images: torch.Tensor, columns: int, scale: int = 3, gap: int = 1) -> np.ndarray:
    """Tile (N, 784) images in [0, 1] into one uint8 picture, enlarged scale x with nearest neighbours."""
    n = images.shape[0]
    rows = max(1, -(-n // columns))
    cell = SIDE + gap
    canvas = np.full((rows * cell - gap, columns * cell - gap), 255, dtype=np.uint8)
    pixels = to_uint8(images.reshape(n, SIDE, SIDE))
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[r * cell : r * cell + SIDE, c * cell : c * cell + SIDE] = pixels[i]
    return np.kron(canvas, np.ones((scale, scale), dtype=np.uint8))


def enlarge(image: torch.Tensor, scale: int = 8, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """One (784,) image as a big uint8 picture."""
    return np.kron(to_uint8(image.reshape(SIDE, SIDE), lo, hi), np.ones((scale, scale), dtype=np.uint8))
