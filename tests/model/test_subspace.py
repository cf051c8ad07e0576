"""Principal angles, the code rotation and Rayleigh-Ritz against numpy/scipy on data whose subspace is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from model.autoencoder import LinearAutoencoder
from model.pca import fit_pca
from model.subspace import (
    closeness,
    eckart_young_mse,
    mean_cos2,
    pca_similarity,
    principal_angles,
    random_invertible,
    rayleigh_ritz,
    rotate_code,
)
from model.train import init_weights


@pytest.fixture(scope="module")
def planted() -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """4000 points in R^784 with variance 9, 7, 5, 4, 3 along five known orthonormal directions, 0.01 elsewhere."""
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((784, 5)))  # (784, 5) orthonormal
    stds = np.sqrt([9.0, 7.0, 5.0, 4.0, 3.0])
    x = (rng.standard_normal((4000, 5)) * stds) @ basis.T + 0.1 * rng.standard_normal((4000, 784)) + 0.5
    return torch.from_numpy(x).float(), basis, stds**2


@pytest.mark.parametrize(("p", "q"), [(4, 4), (3, 6), (30, 30)])
def test_angles_match_scipy(p: int, q: int) -> None:
    rng = np.random.default_rng(p * q)
    a, b = rng.standard_normal((784, p)), rng.standard_normal((784, q))
    b[:, :2] = a[:, :2] @ rng.standard_normal((2, 2))  # two shared directions: angles of 0 as well
    np.testing.assert_allclose(principal_angles(a, b), scipy.linalg.subspace_angles(a, b), atol=1e-7)


def test_angles_match_an_svd_of_the_orthonormal_bases() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    assert list(principal_angles(a, b)) == sorted(principal_angles(a, b), reverse=True)  # largest first
    qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)  # cos of the angles, largest first
    angles = principal_angles(a, b)
    np.testing.assert_allclose(np.sort(np.cos(angles)), np.sort(cosines), atol=1e-12)
    assert 0.0 < mean_cos2(angles) < 1.0
    np.testing.assert_allclose(mean_cos2(angles), np.mean(cosines**2), atol=1e-12)


def test_a_mixed_basis_of_the_same_subspace_has_zero_angles(planted) -> None:
    _, basis, _ = planted
    mixed = basis @ random_invertible(5, seed=3).numpy()  # same span, other columns
    unit = mixed / np.linalg.norm(mixed, axis=0)
    assert np.abs(unit.T @ basis).max() < 0.999  # the columns themselves are not the basis vectors
    assert np.degrees(principal_angles(mixed, basis)).max() < 1e-5
    assert pca_similarity(mixed, basis) == pytest.approx(1.0, abs=1e-12)


def test_orthogonal_subspaces_have_similarity_zero(planted) -> None:
    _, basis, _ = planted
    other = scipy.linalg.null_space(basis.T)[:, :5]  # orthogonal to every planted direction
    assert pca_similarity(other, basis) == pytest.approx(0.0, abs=1e-12)
    assert np.degrees(principal_angles(other, basis)).min() == pytest.approx(90.0)


def test_similarity_of_a_half_rotated_subspace() -> None:
    """One of two directions turned by 60 degrees: cos^2 = (1 + 0.25) / 2."""
    e = np.eye(10)
    turned = np.stack([e[0], np.cos(np.pi / 3) * e[1] + np.sin(np.pi / 3) * e[2]], axis=1)
    assert pca_similarity(turned, e[:, :2]) == pytest.approx(0.625, abs=1e-12)


def test_eckart_young_is_the_discarded_variance_per_pixel() -> None:
    variances = torch.tensor([4.0, 2.0, 1.0, 1.0])
    assert eckart_young_mse(variances, 2) == pytest.approx(0.5)
    assert eckart_young_mse(variances, 4) == 0.0


@pytest.mark.parametrize(("activation", "output"), [("none", "sigmoid"), ("none", "linear"), ("relu", "sigmoid")])
def test_rotating_the_code_keeps_reconstructions_and_changes_the_decoder(activation: str, output: str) -> None:
    model = init_weights(LinearAutoencoder(6, activation, output), seed=2).eval()
    x = torch.rand(20, 784, generator=torch.Generator().manual_seed(0))
    g = random_invertible(6, seed=5, positive=activation == "relu")
    rotated = rotate_code(model, g)
    with torch.no_grad():
        torch.testing.assert_close(rotated(x), model(x), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(rotated.encode(x), model.encode(x), atol=1e-3)  # other codes
    assert (rotated.decoder.weight - model.decoder.weight).abs().max() > 1e-2  # other decoder images
    assert np.degrees(principal_angles(rotated.decoder.weight, model.decoder.weight)).max() < 1e-2  # same span
    assert (rotated.activation, rotated.output) == (activation, output)


def test_random_invertible_is_seeded_and_well_conditioned() -> None:
    g = random_invertible(32, seed=1)
    assert torch.equal(g, random_invertible(32, seed=1))
    assert not torch.equal(g, random_invertible(32, seed=2))
    assert g.dtype == torch.float64 and np.linalg.cond(g.numpy()) < 5.0
    p = random_invertible(8, seed=1, positive=True).numpy()
    assert (p >= 0).all() and ((p > 0).sum(axis=0) == 1).all() and ((p > 0).sum(axis=1) == 1).all()


def test_a_rotated_subspace_rejects_a_wrong_sized_transform() -> None:
    with pytest.raises(ValueError, match="4 x 4"):
        rotate_code(LinearAutoencoder(4), torch.eye(3))


def test_rayleigh_ritz_recovers_the_components_from_a_mixed_basis(planted) -> None:
    x, basis, variances = planted
    pca = fit_pca(x)
    top = pca.components[:, :5].double().numpy()
    mixed = top @ random_invertible(5, seed=7).numpy()  # a decoder that spans PCA's top-5 subspace, mixed
    recovered = rayleigh_ritz(mixed, pca.components, pca.variances)
    assert recovered.directions.shape == (784, 5)
    # Each recovered direction is PCA's component of the same rank (the planted variances are distinct).
    assert recovered.abs_cos.min() > 0.99999
    np.testing.assert_allclose(recovered.ritz_values, pca.variances[:5].numpy(), rtol=1e-5)
    np.testing.assert_allclose(recovered.ritz_values, variances, rtol=0.1)  # near the planted ones, from samples
    # From the planted (true) subspace, a little off the sample's, the components still come back closely.
    assert rayleigh_ritz(basis, pca.components, pca.variances).abs_cos.min() > 0.99
    gram = recovered.directions.T @ recovered.directions
    torch.testing.assert_close(gram, torch.eye(5), atol=1e-5, rtol=0)
    # The mixed columns themselves are far from the components: the step is what recovers them.
    raw = np.abs((mixed / np.linalg.norm(mixed, axis=0)).T @ pca.components[:, :5].double().numpy())
    assert np.diag(raw).min() < 0.9


def test_rayleigh_ritz_of_a_wrong_subspace_gives_poor_matches(planted) -> None:
    x, basis, _ = planted
    pca = fit_pca(x)
    half = np.concatenate([basis[:, :2], scipy.linalg.null_space(basis.T)[:, :3]], axis=1)  # 2 of 5 right
    recovered = rayleigh_ritz(half, pca.components, pca.variances)
    assert recovered.abs_cos[:2].min() > 0.99  # the two right directions (planted, a little off the sample)
    assert recovered.abs_cos[2:].max() < 0.2


def test_closeness_of_a_model_whose_decoder_spans_pca(planted) -> None:
    x, _, _ = planted
    pca = fit_pca(x)
    model = LinearAutoencoder(5, output="linear")
    with torch.no_grad():
        model.decoder.weight.copy_(pca.components[:, :5] @ random_invertible(5, seed=1).float())
    near = closeness(model, pca.components)
    assert near.angles.shape == (5,) and near.similarity == pytest.approx(1.0, abs=1e-6)
    far = closeness(init_weights(LinearAutoencoder(5), seed=0), pca.components)
    assert far.similarity < 0.1  # a random 5-dim subspace of R^784 is nearly orthogonal to any other
