"""How close an autoencoder is to PCA: principal angles, a code rotation that changes nothing, Rayleigh-Ritz.

With squared error, a purely linear autoencoder's optimum projects onto PCA's top-k subspace (Baldi & Hornik
1989), but only up to an invertible k x k matrix G: D -> D G, E -> G^-1 E gives the same reconstructions.
So the decoder's columns are not the principal components; their span is, and the components come back from
that span by one Rayleigh-Ritz step with the data covariance.

The linear algebra runs in torch (float64), which keeps to the process's thread setting (one thread in the
app), and is tested against scipy.linalg.subspace_angles and numpy. Through scipy, numpy's BLAS ran two
threads on the shared, loaded server: 2 s instead of 4-11 ms for the angles at k = 32, 26-34 s instead of
0.4-0.7 s at k = 784 (measured side by side, load average 20 on 2 cores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.autoencoder import INPUT_DIM, LinearAutoencoder


def _as_matrix(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """float64 CPU tensor: the angle and eigen computations need the precision, the matrices are small."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    return t.to("cpu", torch.float64)


def principal_angles(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> np.ndarray:
    """Principal angles (radians, largest first, like scipy's) between the column spaces of a (n, p) and b (n, q)."""
    qa, qb = torch.linalg.qr(_as_matrix(a))[0], torch.linalg.qr(_as_matrix(b))[0]  # orthonormal bases
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(0.0, 1.0)  # (min(p, q),) largest first
    return torch.arccos(cosines).flip(0).numpy()  # smallest cosine = largest angle, first


def mean_cos2(angles: np.ndarray) -> float:
    """The mean squared cosine of the angles: 1 for the same subspace, 0 for orthogonal ones."""
    return float(np.mean(np.cos(angles) ** 2)) if len(angles) else 0.0


def pca_similarity(decoder_weight: torch.Tensor | np.ndarray, components: torch.Tensor | np.ndarray) -> float:
    """Mean cos^2 of the principal angles between a (784, k) decoder's columns and the first k components."""
    k = decoder_weight.shape[1]
    return mean_cos2(principal_angles(decoder_weight, components[:, :k]))


def eckart_young_mse(variances: torch.Tensor | np.ndarray, k: int) -> float:
    """The least mean squared error of any rank-k linear reconstruction: the discarded variance per pixel."""
    var = _as_matrix(variances)
    return float(var[k:].sum()) / var.shape[0]


@dataclass(frozen=True)
class Closeness:
    """One snapshot's distance to PCA, as the Train page's panel shows it."""

    angles: np.ndarray  # (k,) principal angles in radians, largest first
    similarity: float  # mean cos^2 of the angles, in [0, 1]


def closeness(model: LinearAutoencoder, components: torch.Tensor | np.ndarray) -> Closeness:
    """Angles between the decoder's column space and PCA's top-k subspace, and their mean cos^2."""
    weight = model.decoder.weight  # (784, k)
    return closeness_from_angles(principal_angles(weight, components[:, : model.latent_dim]))


def closeness_from_angles(angles: np.ndarray) -> Closeness:
    """The panel's numbers from angles computed elsewhere (the trainer scores them once per epoch)."""
    return Closeness(np.asarray(angles, dtype=np.float64), mean_cos2(angles))


def random_invertible(k: int, seed: int, positive: bool = False) -> torch.Tensor:
    """A seeded, well-conditioned invertible (k, k) matrix; with positive=True a scaled permutation.

    A ReLU encoder's code only commutes with positive scalings and permutations (relu(G z) = G relu(z)),
    so for it the 'rotation' must be one of those to leave the reconstructions unchanged.
    """
    gen = torch.Generator().manual_seed(seed)
    opts = {"generator": gen, "dtype": torch.float64}
    scales = torch.exp(torch.rand(k, **opts) * 1.4 - 0.7)  # condition number at most e^1.4, about 4
    if positive:
        g = torch.zeros(k, k, dtype=torch.float64)
        g[torch.randperm(k, generator=gen), torch.arange(k)] = scales
        return g
    left = torch.linalg.qr(torch.randn(k, k, **opts))[0]
    right = torch.linalg.qr(torch.randn(k, k, **opts))[0]
    return left @ torch.diag(scales) @ right  # orthogonal x diagonal x orthogonal


@torch.no_grad()
def rotate_code(model: LinearAutoencoder, g: torch.Tensor) -> LinearAutoencoder:
    """A copy with decoder D -> D G and encoder E -> G^-1 E (bias too): the same reconstructions, other codes."""
    k = model.latent_dim
    if tuple(g.shape) != (k, k):
        raise ValueError(f"The code transform must be {k} x {k}, got {tuple(g.shape)}.")
    g64 = g.double()
    g_inv = torch.linalg.inv(g64)  # (k, k)
    out = LinearAutoencoder(k, model.activation, model.output)
    out.load_state_dict(model.state_dict())
    enc_w, enc_b = model.encoder.weight.double(), model.encoder.bias.double()  # (k, 784), (k,)
    out.encoder.weight.copy_(g_inv @ enc_w)  # the new code is G^-1 z
    out.encoder.bias.copy_(g_inv @ enc_b)
    out.decoder.weight.copy_(model.decoder.weight.double() @ g64)  # (784, k) @ (k, k): D G (G^-1 z) = D z
    return out.eval()


@dataclass(frozen=True)
class Recovered:
    """Directions recovered from a decoder's subspace, each paired with the principal component of its rank."""

    directions: torch.Tensor  # (784, r) unit columns, largest Ritz value first, signs matched to PCA's
    ritz_values: np.ndarray  # (r,) variance of the data along each direction
    abs_cos: np.ndarray  # (r,) |cos| between direction i and principal component i


def rayleigh_ritz(
    decoder_weight: torch.Tensor | np.ndarray, components: torch.Tensor | np.ndarray, variances: torch.Tensor
) -> Recovered:
    """Eigenvectors of Q^T C Q, Q = orth(D), C = U diag(s) U^T the data covariance, mapped back by Q.

    If D spans PCA's top-k subspace these are exactly the first k components (up to sign), whatever G mixed
    them; otherwise they are the best approximations to the components that D's span holds.
    """
    d = _as_matrix(decoder_weight)  # (784, k)
    left, sv, _ = torch.linalg.svd(d, full_matrices=False)  # orth(D), as scipy.linalg.orth does it
    q = left[:, sv > sv.max() * max(d.shape) * torch.finfo(d.dtype).eps]  # (784, r), r = rank of D
    u, s = _as_matrix(components), _as_matrix(variances)  # (784, 784), (784,)
    a = u.T @ q  # (784, r): Q in PCA's coordinates, where C is diagonal
    small = a.T @ (s[:, None] * a)  # (r, r) = Q^T C Q
    values, vectors = torch.linalg.eigh(small)  # ascending
    values, vectors = values.flip(0), vectors.flip(1)  # largest first
    directions = q @ vectors  # (784, r)
    r = directions.shape[1]
    dots = (directions * u[:, :r]).sum(dim=0)  # (r,) cos with component i (both unit vectors)
    directions = directions * torch.where(dots < 0, -1.0, 1.0)
    return Recovered(directions.float(), values.numpy(), dots.abs().numpy())


def decoder_images(model: LinearAutoencoder) -> torch.Tensor:
    """The decoder's columns as (k, 784) images: what one unit of each code number adds to the output."""
    weight = model.decoder.weight.detach()  # (784, k)
    assert weight.shape[0] == INPUT_DIM
    return weight.T.contiguous()
