"""PCA against a direct SVD of the centred data."""

from __future__ import annotations

import pytest
import torch

from model.pca import Pca, fit_pca


@pytest.fixture(scope="module")
def data() -> torch.Tensor:
    """900 images with a decaying spectrum (so components are well separated), in [0, 1]."""
    gen = torch.Generator().manual_seed(0)
    scales = torch.logspace(0, -2, 784, dtype=torch.float64)  # (784,)
    mixing = torch.linalg.qr(torch.randn(784, 784, generator=gen, dtype=torch.float64))[0]
    x = (torch.randn(900, 784, generator=gen, dtype=torch.float64) * scales) @ mixing.T
    return (0.5 + 0.1 * x).float()


@pytest.fixture(scope="module")
def pca(data: torch.Tensor) -> Pca:
    return fit_pca(data)


@pytest.fixture(scope="module")
def reference(data: torch.Tensor):
    """Principal directions and variances from an SVD of the centred data itself (not its covariance)."""
    x = data.double()
    centered = x - x.mean(dim=0)
    _, s, vh = torch.linalg.svd(centered, full_matrices=False)
    return vh.T, s**2 / (x.shape[0] - 1)


def test_shapes(data: torch.Tensor, pca: Pca) -> None:
    assert pca.mean.shape == (784,)
    assert pca.components.shape == (784, 784)
    assert pca.variances.shape == (784,)
    assert pca.project(data[:5], 10).shape == (5, 10)
    assert pca.reconstruct(data[:5], 10).shape == (5, 784)


def test_mean_variances_and_components_match_svd(data: torch.Tensor, pca: Pca, reference) -> None:
    directions, variances = reference
    torch.testing.assert_close(pca.mean.double(), data.double().mean(dim=0), rtol=0, atol=1e-6)
    torch.testing.assert_close(pca.variances.double(), variances, rtol=1e-3, atol=1e-9)
    assert bool((pca.variances[:-1] >= pca.variances[1:]).all())  # largest first
    top = 50  # directions are defined up to sign; compare |cosine| of the leading ones
    cosines = (pca.components[:, :top].double() * directions[:, :top]).sum(dim=0).abs()
    assert float(cosines.min()) > 0.999
    gram = pca.components.double().T @ pca.components.double()
    torch.testing.assert_close(gram, torch.eye(784, dtype=torch.float64), rtol=0, atol=1e-4)


def test_signs_are_fixed(data: torch.Tensor, pca: Pca) -> None:
    comps = pca.components
    largest = comps[comps.abs().argmax(dim=0), torch.arange(784)]
    assert bool((largest > 0).all())
    flipped = fit_pca(data.flip(0))  # the same data in another order gives the same directions
    torch.testing.assert_close(flipped.components[:, :20], comps[:, :20], rtol=0, atol=1e-3)


def test_mse_curve_equals_direct_reconstruction_error(data: torch.Tensor) -> None:
    pca = fit_pca(data[:600])
    test = data[600:]  # held-out images: the curve must not assume the training data
    curve = pca.mse_curve(test)
    assert curve.shape == (784,)
    for k in (1, 5, 50, 300, 783, 784):
        direct = float(((pca.reconstruct(test, k) - test) ** 2).mean())
        assert float(curve[k - 1]) == pytest.approx(direct, rel=1e-3, abs=1e-9), k
        assert pca.mse(test, k) == pytest.approx(direct, rel=1e-3, abs=1e-9), k
    assert pca.mse_curve(test, 20).shape == (20,)


def test_mse_curve_on_training_data_is_decreasing_and_ends_at_zero(data: torch.Tensor, pca: Pca) -> None:
    curve = pca.mse_curve(data)
    assert bool((curve[1:] <= curve[:-1] + 1e-9).all())
    assert float(curve[-1]) == pytest.approx(0.0, abs=1e-7)
    # On the training data, the error left after k components is the variance not kept, per pixel.
    n = data.shape[0]
    expected = pca.variances.double().flip(0).cumsum(0).flip(0)[1:] * (n - 1) / n / 784  # k = 1..783
    torch.testing.assert_close(curve[:-1].double(), expected, rtol=2e-3, atol=1e-8)


def test_reconstruct_with_all_components_is_exact(data: torch.Tensor, pca: Pca) -> None:
    torch.testing.assert_close(pca.reconstruct(data[:50], 784), data[:50], rtol=0, atol=1e-5)
    assert float(((pca.reconstruct(data[:50], 10) - data[:50]) ** 2).mean()) > 1e-4  # k=10 is not exact


def test_explained_ratio_is_monotone_and_one_at_784(data: torch.Tensor, pca: Pca) -> None:
    ratios = torch.tensor([pca.explained_ratio(k) for k in range(1, 785)])
    assert bool((ratios[1:] >= ratios[:-1]).all())
    assert 0.0 < float(ratios[0]) < 1.0
    assert float(ratios[-1]) == pytest.approx(1.0, abs=1e-6)
    assert pca.explained_ratio(10) == pytest.approx(float(pca.variances[:10].sum() / pca.variances.sum()))


def test_constant_pixels_do_not_break_the_fit() -> None:
    x = torch.zeros(40, 784)  # MNIST's border pixels are always 0
    x[:, 300:310] = torch.rand(40, 10, generator=torch.Generator().manual_seed(0))
    pca = fit_pca(x)
    assert torch.isfinite(pca.components).all() and torch.isfinite(pca.variances).all()
    assert pca.mse(x, 10) == pytest.approx(0.0, abs=1e-7)
