"""Figures and pictures of the Draw and Denoise pages."""

from __future__ import annotations

import math

import numpy as np
import torch

from model.scoring import NoiseCurve
from ui.figures.digit import error_image, format_psnr, latent_bar_figure, noise_curve_figure


def test_latent_bar_has_one_bar_per_code_number():
    fig = latent_bar_figure(torch.tensor([0.5, -1.0, 2.0]))
    assert len(fig.data) == 1 and fig.data[0].type == "bar"
    assert list(fig.data[0].x) == [1, 2, 3]
    assert list(fig.data[0].y) == [0.5, -1.0, 2.0]
    assert fig.data[0].marker.color[0] != fig.data[0].marker.color[1], "negative values look different"
    assert "3 numbers" in fig.layout.title.text


def test_error_image_maps_zero_to_dark_and_one_to_bright():
    error = torch.zeros(784)
    error[0] = 1.0
    error[1] = -1.0  # absolute error: the sign does not matter
    img = error_image(error, scale=2)
    assert img.shape == (56, 56, 3) and img.dtype == np.uint8
    assert img[0, 0].sum() > 600, "an error of 1 is bright yellow"
    np.testing.assert_array_equal(img[0, 0], img[0, 2])
    assert img[-1, -1].sum() < 20, "no error is (nearly) black"


def test_noise_curve_figure_has_model_pca_and_noisy_lines_and_the_chosen_level():
    curve = NoiseCurve("gaussian", (0.0, 0.5, 1.0), (0.01, 0.02, 0.05), (0.012, 0.03, 0.09), (0.0, 0.1, 0.3))
    fig = noise_curve_figure(curve, level=0.5, latent_dim=8)
    names = [t.name for t in fig.data]
    assert names == ["model, k=8", "PCA, k=8", "noisy input (no denoising)"]
    assert list(fig.data[1].y) == [0.012, 0.03, 0.09]
    assert any(shape.x0 == 0.5 for shape in fig.layout.shapes), "a line marks the chosen level"


def test_noise_curve_figure_draws_a_second_model_after_the_first():
    curve = NoiseCurve("block", (0.0, 1.0), (0.01, 0.05), (0.012, 0.09), (0.0, 0.3), other_mse=(0.02, 0.2))
    fig = noise_curve_figure(curve, 0.4, 32, "bundled denoiser", "active model (plain), k=32")
    names = [t.name for t in fig.data]
    assert names == ["bundled denoiser, k=32", "active model (plain), k=32", "PCA, k=32", "noisy input (no denoising)"]
    assert list(fig.data[1].y) == [0.02, 0.2]


def test_format_psnr():
    assert format_psnr(21.345) == "21.3 dB"
    assert format_psnr(math.inf) == "∞ dB"
    assert format_psnr(None) == "n/a"
