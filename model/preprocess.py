"""Turn a canvas drawing into an MNIST-style 28x28 digit, the way MNIST itself was made.

MNIST's recipe (LeCun et al.): take the ink's bounding box at full resolution, scale it so the longer side
is 20 px keeping the aspect ratio (anti-aliased, hence grey edges), put it in a 28x28 field and translate it
so the centre of mass of the pixels sits at the centre of the field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from model.autoencoder import SIDE  # the output field, pixels

BOX = 20  # the ink's longer side after scaling, pixels
CENTRE = (SIDE - 1) / 2  # 13.5: the centre of the field in pixel-index coordinates
INK_THRESHOLD = 0.1  # a canvas pixel with at least this much ink counts towards the bounding box
MIN_INK_SHARE = 0.0003  # less total ink than this share of the canvas area is "nearly empty"
MIN_INK_PIXELS = 3.0  # ... and never less than this many fully inked pixels
# The ink's bounding box must span at least this share of the canvas's longer side. Scaling a smaller one
# up to MNIST's 20 px makes a blob of the strokes: measured with the bundled k = 32 model at the default
# 20 px stroke on the 280 px canvas, a "7" whose ink spans 70 px is more unusual than 85% of the test
# digits, at 100 px 41%, at 160 px 20%. With a 10 px stroke 70 px already gives 19%, so the line sits at 70.
MIN_BOX_SHARE = 0.25
EMPTY_HINT = "Draw a digit on the canvas: it is empty."
SMALL_HINT = (
    "The digit is too small: draw it bigger, across most of the canvas. Scaled up to MNIST's size, a tiny "
    "drawing turns into a blob."
)
NEARLY_EMPTY_HINT = "There is hardly any ink yet: draw a whole digit, a bit larger."


@dataclass(frozen=True)
class Processed:
    """A 28x28 digit in [0, 1], or None with a hint for the user when there was nothing to process."""

    image: np.ndarray | None  # (28, 28) float32 in [0, 1]
    hint: str = ""  # why image is None, in words a user can act on

    @property
    def ok(self) -> bool:
        return self.image is not None


def ink_from_canvas(rgba: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] per pixel from white-on-black (or white-on-transparent) RGBA, RGB or grey arrays."""
    arr = np.asarray(rgba)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(
            f"A canvas image must be H x W (grey), H x W x 3 (RGB) or H x W x 4 (RGBA); got shape {arr.shape}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"The canvas image is empty (shape {arr.shape}).")
    if arr.dtype == np.uint8:
        values = arr.astype(np.float32) / 255.0
    elif np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating):
        values = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0).clip(0.0, 1.0)
    else:
        raise ValueError(f"A canvas image must hold numbers (uint8 0..255 or floats 0..1), got {arr.dtype}.")
    if values.ndim == 2:
        return values
    channels = values.shape[2]
    if channels in (1, 2):  # grey, or grey + alpha
        lum = values[:, :, 0]
    else:  # ITU-R BT.601 luma, as Pillow's convert("L") does
        lum = values[:, :, 0] * 0.299 + values[:, :, 1] * 0.587 + values[:, :, 2] * 0.114
    alpha = values[:, :, -1] if channels in (2, 4) else 1.0
    return (lum * alpha).astype(np.float32)  # transparent pixels carry no ink, whatever their colour


def _resize(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased resize of a float image (Lanczos, clipped back to [0, 1])."""
    img = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))  # mode "F"
    out = np.asarray(img.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    return out.clip(0.0, 1.0)


def _emptiness_hint(ink: np.ndarray) -> str:
    """'' when there is enough ink to make a digit of, else the hint to show."""
    total = float(ink.sum())
    if total <= 0.0 or not (ink >= INK_THRESHOLD).any():
        return EMPTY_HINT
    if total < max(MIN_INK_PIXELS, MIN_INK_SHARE * ink.size):
        return NEARLY_EMPTY_HINT
    return ""


def centre_by_mass(field: np.ndarray) -> np.ndarray:
    """Translate a 28x28 image by whole pixels so its centre of mass is within half a pixel of the centre.

    Whole pixels keep the strokes crisp: a sub-pixel shift would blur a thin stroke to half its brightness.
    """
    if field.sum() <= 0:
        return field
    cy, cx = ndimage.center_of_mass(field)
    shift = (round(CENTRE - cy), round(CENTRE - cx))
    return ndimage.shift(field, shift, order=0, mode="constant", cval=0.0).astype(np.float32)


def mnist_style(ink: np.ndarray) -> Processed:
    """Crop to the ink, scale the longer side to 20 px, pad to 28x28, centre the mass: (28, 28) in [0, 1]."""
    hint = _emptiness_hint(ink)
    if hint:
        return Processed(None, hint)
    rows = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # full resolution, (h, w)
    h, w = crop.shape
    if max(h, w) < MIN_BOX_SHARE * max(ink.shape):
        return Processed(None, SMALL_HINT)
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))  # a "1" stays thin: aspect kept
    small = _resize(crop, new_h, new_w)
    peak = float(small.max())
    if peak > 0:
        small = small / peak  # a thin stroke shrunk 10x turns grey; MNIST strokes peak at full white
    field = np.zeros((SIDE, SIDE), dtype=np.float32)
    top, left = (SIDE - new_h) // 2, (SIDE - new_w) // 2
    field[top : top + new_h, left : left + new_w] = small
    return Processed(centre_by_mass(field))


def naive_resize(ink: np.ndarray) -> Processed:
    """The whole canvas squashed to 28x28, with no cropping or centring: what MNIST-style improves on."""
    hint = _emptiness_hint(ink)
    if hint:
        return Processed(None, hint)
    return Processed(_resize(ink, SIDE, SIDE))


def preprocess_canvas(rgba: np.ndarray | None, method: str = "mnist") -> Processed:
    """Canvas RGBA -> 28x28 digit in [0, 1] by the MNIST recipe ("mnist") or a plain resize ("naive")."""
    if method not in ("mnist", "naive"):
        raise ValueError(f"Preprocessing must be 'mnist' or 'naive', got {method!r}.")
    if rgba is None:
        return Processed(None, EMPTY_HINT)
    ink = ink_from_canvas(rgba)
    return mnist_style(ink) if method == "mnist" else naive_resize(ink)
