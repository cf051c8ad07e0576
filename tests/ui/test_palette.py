"""The digit palette: ten colours and ten shapes, readable on both themes and with colour blindness, used by
every scatter that shows digits."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest

from ui.figures import palette
from ui.figures.compare import DENOISER_STYLE, SOURCE_STYLE, ModelPoint, mse_vs_k_figure
from ui.figures.latent import DIGITS_META, latent_scatter, replay_figure
from ui.figures.palette import DIGIT_COLORS, DIGIT_STYLES, DIGIT_SYMBOLS, legend_key

LIGHT_BG, DARK_BG = "#ffffff", "#171614"  # Streamlit's light and dark backgrounds
# Machado, Oliveira & Fernandes (2009), full severity, applied to linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def linear(hex_colour: str) -> np.ndarray:
    srgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def luminance(rgb_linear: np.ndarray) -> float:
    return float(np.dot([0.2126, 0.7152, 0.0722], rgb_linear))


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(linear(a)), luminance(linear(b))))
    return (lb + 0.05) / (la + 0.05)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear RGB colour."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ np.clip(rgb_linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def min_distance(matrix: np.ndarray | None) -> float:
    colours = [linear(c) if matrix is None else np.asarray(matrix) @ linear(c) for c in DIGIT_COLORS]
    return min(float(np.linalg.norm(lab(a) - lab(b))) for a, b in itertools.combinations(colours, 2))


def test_ten_distinct_colours_and_shapes():
    assert len(DIGIT_STYLES) == 10
    assert len(set(c.lower() for c in DIGIT_COLORS)) == 10
    assert len(set(DIGIT_SYMBOLS)) == 10
    assert len({s.glyph for s in DIGIT_STYLES}) == 10
    for symbol in DIGIT_SYMBOLS:  # plotly raises on a symbol a trace type does not know
        go.Scattergl(marker=dict(symbol=symbol))
        go.Scatter(marker=dict(symbol=symbol))
    assert "star" not in DIGIT_SYMBOLS, "the star is the drawing's marker"


@pytest.mark.parametrize("background", [LIGHT_BG, DARK_BG])
def test_every_colour_shows_on_both_themes(background):
    worst = min(contrast(c, background) for c in DIGIT_COLORS)
    assert worst >= 2.0, f"a digit colour has only {worst:.2f}:1 contrast on {background}"
    assert contrast(palette.NEUTRAL, background) >= 3.0


@pytest.mark.parametrize("vision", [None, *CVD])
def test_colours_stay_apart_with_colour_blindness(vision):
    """Every pair differs by at least 9 CIELAB units, also as someone with a dichromacy sees it (simulated)."""
    distance = min_distance(None if vision is None else CVD[vision])
    assert distance >= 9.0, f"two digit colours are {distance:.1f} apart ({vision or 'typical vision'})"


def test_tableau_would_have_failed_the_same_check():
    """The check has teeth: the old Tableau 10 colours collapse under deuteranopia."""
    tableau = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
    seen = [np.asarray(CVD["deuteranopia"]) @ linear(c) for c in tableau]
    assert min(float(np.linalg.norm(lab(a) - lab(b))) for a, b in itertools.combinations(seen, 2)) < 9.0


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    return rng.normal(size=(200, 3)).astype(np.float32), labels, np.arange(200)


def test_latent_scatter_2d_gives_each_digit_its_colour_and_shape(digits):
    coords, labels, ids = digits
    fig = latent_scatter(coords[:, :2], labels, ids, ("x", "y"), star=np.zeros(2), neighbours=np.ones((5, 2)))
    traces = [t for t in fig.data if t.meta == DIGITS_META]
    assert [(t.marker.color, t.marker.symbol) for t in traces] == [(s.color, s.symbol) for s in DIGIT_STYLES]
    assert fig.layout.legend.title.text == "digit", "the legend is the key"
    assert {t.marker.symbol for t in fig.data if t.meta != DIGITS_META}.isdisjoint(DIGIT_SYMBOLS)


def test_latent_scatter_3d_draws_each_digit_as_its_coloured_numeral(digits):
    coords, labels, ids = digits
    fig = latent_scatter(coords, labels, ids, ("x", "y", "z"))
    traces = [t for t in fig.data if t.meta == DIGITS_META]
    assert [(t.mode, t.text, t.textfont.color) for t in traces] == [
        ("text", str(d), DIGIT_COLORS[d]) for d in range(10)
    ]


def test_replay_frames_use_the_palette(digits):
    coords, labels, _ = digits
    fig = replay_figure([coords[:, :2], coords[:, 1:]], labels, (-3, 3), (-3, 3), ("x", "y"))
    for traces in [fig.data, *(frame.data for frame in fig.frames)]:
        assert [(t.marker.color, t.marker.symbol) for t in traces] == [(s.color, s.symbol) for s in DIGIT_STYLES]


def test_compare_chart_uses_palette_colours_and_a_shape_per_kind():
    points = [ModelPoint(f"m{i}", 2**i, 0.01, source) for i, source in enumerate(SOURCE_STYLE)]
    points.append(ModelPoint("d", 32, 0.02, "trained", task="denoising, Gaussian noise 0.3"))
    fig = mse_vs_k_figure(points, [0.05, 0.04])
    markers = [t.marker for t in fig.data if t.mode == "markers"]
    assert {m.symbol for m in markers} >= {symbol for symbol, _ in SOURCE_STYLE.values()} | {DENOISER_STYLE[0]}
    assert all(m.color in DIGIT_COLORS or m.color == palette.NEUTRAL for m in markers)


def test_legend_key_names_every_digit_and_shape():
    key = legend_key()
    assert all(f"{d} {s.glyph}" in key for d, s in enumerate(DIGIT_STYLES))
    assert "numeral" in legend_key(three_d=True)
