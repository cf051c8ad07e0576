"""Turn (N, 784) tensors into crisp image arrays for st.image, and pictures into inline PNGs."""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image

from model.autoencoder import SIDE

CLIP_NOTE = "Linear output: pixel values outside [0, 1] are clipped for display only."  # under its pictures


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


def png_data_url(picture: np.ndarray, small: bool = False) -> str:
    """A uint8 picture (H, W) or (H, W, 3) as an inline PNG: it arrives with the script's output, so the
    browser shows it in the same frame as the text instead of fetching it from the media endpoint after.

    Fast by default (redrawn on every stroke); `small` squeezes harder, for a cached picture sent many times.
    """
    buffer = io.BytesIO()
    options = {"optimize": True} if small else {"compress_level": 1}
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG", **options)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
