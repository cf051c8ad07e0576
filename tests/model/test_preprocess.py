"""MNIST-style preprocessing on hand-made canvases: size, range, centring, scaling and the empty cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from model.preprocess import (
    BOX,
    CENTRE,
    EMPTY_HINT,
    MIN_BOX_SHARE,
    NEARLY_EMPTY_HINT,
    SIDE,
    SMALL_HINT,
    ink_from_canvas,
    mnist_style,
    naive_resize,
    preprocess_canvas,
)

CANVAS = 280


def canvas(paint) -> np.ndarray:
    """A 280x280 RGBA canvas, opaque black, with white ink where paint(grey) sets it: (280, 280, 4) uint8."""
    grey = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    paint(grey)
    rgba = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = 255
    return rgba


def stroke(grey: np.ndarray, r0: int, c0: int, r1: int, c1: int, width: int) -> None:
    """A straight white stroke of the given width from (r0, c0) to (r1, c1)."""
    n = max(abs(r1 - r0), abs(c1 - c0)) + 1
    half = width / 2
    rr, cc = np.mgrid[0 : grey.shape[0], 0 : grey.shape[1]]
    for t in np.linspace(0.0, 1.0, n):
        r, c = r0 + t * (r1 - r0), c0 + t * (c1 - c0)
        grey[(rr - r) ** 2 + (cc - c) ** 2 <= half**2] = 255


def seven(r0: int, c0: int, size: int, width: int):
    """A '7' in a size x size box at (r0, c0)."""

    def paint(grey: np.ndarray) -> None:
        stroke(grey, r0, c0, r0, c0 + size, width)
        stroke(grey, r0, c0 + size, r0 + size, c0 + size // 3, width)

    return paint


def one(r0: int, c0: int, height: int, width: int):
    def paint(grey: np.ndarray) -> None:
        stroke(grey, r0, c0, r0 + height, c0, width)

    return paint


def assert_mnist_like(image: np.ndarray) -> None:
    assert image.shape == (SIDE, SIDE)
    assert image.dtype == np.float32
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    assert float(image.max()) == pytest.approx(1.0, abs=0.05), "the strongest ink is white, as in MNIST"
    cy, cx = ndimage.center_of_mass(image)
    assert abs(cy - CENTRE) <= 1.0 and abs(cx - CENTRE) <= 1.0, (cy, cx)


def ink_extent(image: np.ndarray, threshold: float = 0.1) -> tuple[int, int]:
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


CASES = {
    "centred": seven(60, 60, 160, 20),
    "off_centre_top_left": seven(5, 5, 90, 16),
    "off_centre_bottom_right": seven(170, 170, 100, 16),
    "huge": seven(2, 2, 274, 30),
    "thin": seven(40, 40, 200, 2),
    "thick": seven(50, 50, 180, 45),
    "touching_the_border": one(0, 279, 279, 12),
    "one_in_a_corner": one(200, 20, 70, 14),
}


@pytest.mark.parametrize("name", CASES)
def test_output_is_28x28_in_unit_range_and_centred_by_mass(name: str) -> None:
    result = preprocess_canvas(canvas(CASES[name]))
    assert result.ok and result.hint == ""
    assert_mnist_like(result.image)


@pytest.mark.parametrize("name", ["centred", "off_centre_top_left", "huge", "thin", "thick"])
def test_longer_side_becomes_about_20_pixels(name: str) -> None:
    h, w = ink_extent(preprocess_canvas(canvas(CASES[name])).image)
    assert BOX - 2 <= max(h, w) <= BOX + 2, (h, w)


@pytest.mark.parametrize(("size", "stroke"), [(12, 3), (40, 20), (50, 16)])
def test_a_tiny_drawing_asks_to_be_drawn_bigger(size: int, stroke: int) -> None:
    """Scaled up to 20 px, a scribble a fraction of the canvas wide becomes a blob: say so instead."""
    result = preprocess_canvas(canvas(seven(130, 130, size, stroke)))
    assert not result.ok and result.hint == SMALL_HINT
    assert "bigger" in result.hint


def test_the_small_threshold_follows_the_canvas_size() -> None:
    """The same 70 px drawing is big enough on the 280 px canvas, too small on one twice as large."""
    assert preprocess_canvas(canvas(seven(100, 100, 60, 12))).ok  # ink about 72 px across
    big = np.zeros((560, 560, 4), dtype=np.uint8)
    big[..., 3] = 255
    big[100:172, 100:172] = canvas(seven(0, 0, 60, 12))[0:72, 0:72]
    assert preprocess_canvas(big).hint == SMALL_HINT
    assert MIN_BOX_SHARE * 280 == 70


def test_tall_one_keeps_its_aspect_ratio() -> None:
    """A '1' is tall and thin: scaling keeps it thin rather than stretching it into a square."""
    h, w = ink_extent(preprocess_canvas(canvas(one(40, 140, 200, 16))).image)
    assert BOX - 2 <= h <= BOX + 2
    assert w <= 5, w


def test_position_on_the_canvas_does_not_matter() -> None:
    a = preprocess_canvas(canvas(seven(10, 10, 100, 16))).image
    b = preprocess_canvas(canvas(seven(160, 150, 100, 16))).image
    assert np.abs(a - b).max() < 0.05


def test_blank_canvas_gives_a_hint_not_an_error() -> None:
    result = preprocess_canvas(canvas(lambda grey: None))
    assert not result.ok and result.image is None
    assert result.hint == EMPTY_HINT


def test_a_speck_is_nearly_empty() -> None:
    def speck(grey: np.ndarray) -> None:
        grey[100:104, 100:104] = 255

    result = preprocess_canvas(canvas(speck))
    assert not result.ok and result.hint == NEARLY_EMPTY_HINT


def test_no_image_yet_is_empty() -> None:
    assert preprocess_canvas(None).hint == EMPTY_HINT


def test_faint_noise_alone_is_empty() -> None:
    rgba = canvas(lambda grey: None)
    rgba[..., :3] = 10  # far below the ink threshold everywhere
    assert not preprocess_canvas(rgba).ok


def test_transparent_background_reads_ink_from_alpha() -> None:
    """Strokes on a transparent canvas: ink is where alpha is, whatever colour transparent pixels hold."""
    opaque = canvas(seven(60, 60, 160, 20))
    rgba = opaque.copy()
    rgba[..., 3] = opaque[..., 0]  # alpha follows the ink
    rgba[opaque[..., 0] == 0, :3] = 255  # invisible white under zero alpha
    np.testing.assert_allclose(preprocess_canvas(rgba).image, preprocess_canvas(opaque).image, atol=1e-6)


@pytest.mark.parametrize("shape", [(280, 280), (280, 280, 3), (100, 60, 4)])
def test_grey_rgb_and_odd_sizes_are_accepted(shape: tuple[int, ...]) -> None:
    arr = np.zeros(shape, dtype=np.uint8)
    arr[20:90, 20:30] = 255
    if len(shape) == 3 and shape[2] == 4:
        arr[..., 3] = 255
    assert_mnist_like(preprocess_canvas(arr).image)


def test_float_input_in_unit_range() -> None:
    ink = np.zeros((280, 280), dtype=np.float64)
    ink[50:200, 100:120] = 1.0
    ink[0, 0] = np.nan  # a stray NaN is read as no ink
    assert_mnist_like(mnist_style(ink_from_canvas(ink)).image)


@pytest.mark.parametrize("bad", [np.zeros((280,)), np.zeros((10, 10, 5)), np.zeros((0, 10)), np.array([["a"]])])
def test_unreadable_arrays_are_refused_with_a_message(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="canvas image"):
        preprocess_canvas(bad)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="'mnist' or 'naive'"):
        preprocess_canvas(canvas(seven(60, 60, 160, 20)), "fancy")


def test_naive_resize_keeps_position_and_size() -> None:
    """The naive resize squashes the whole canvas: a small digit in a corner stays small and in the corner."""
    result = naive_resize(ink_from_canvas(canvas(seven(10, 10, 60, 16))))
    assert result.ok and result.image.shape == (SIDE, SIDE)
    assert 0.0 <= float(result.image.min()) and float(result.image.max()) <= 1.0
    cy, cx = ndimage.center_of_mass(result.image)
    assert cy < 6 and cx < 8
    assert max(ink_extent(result.image)) <= 9


def test_naive_resize_of_an_empty_canvas_is_a_hint() -> None:
    assert naive_resize(np.zeros((280, 280), dtype=np.float32)).hint == EMPTY_HINT
