"""How close an autoencoder is to PCA: principal angles, a code rotation that changes nothing, Rayleigh-Ritz.

With squared error, a purely linear autoencoder's optimum projects onto PCA's top-k subspace (Baldi & Hornik
1989), but only up to an invertible k x k matrix G: D -> D G, E -> G^-1 E gives the same reconstructions.
So the decoder's columns are not the principal components; their span is, and the components come back from
that span by one Rayleigh-Ritz step with the data covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from model.autoencoder import INPUT_DIM, LinearAutoencoder


def _as_matrix(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """float64 numpy: the angle and eigen computations need the precision, the tensors are small."""
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return arr.astype(np.float64, copy=False)


def principal_angles(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> np.ndarray:
    """Principal angles (radians, largest first) between the column spaces of a (n, p) and b (n, q)."""
    return scipy.linalg.subspace_angles(_as_matrix(a), _as_matrix(b))  # (min(p, q),)


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
    return float(var[k:].sum() / var.shape[0])


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
    gen = np.random.default_rng(seed)
    scales = np.exp(gen.uniform(-0.7, 0.7, size=k))  # condition number at most e^1.4, about 4
    if positive:
        g = np.zeros((k, k))
        g[gen.permutation(k), np.arange(k)] = scales
        return torch.from_numpy(g)
    left, _ = np.linalg.qr(gen.standard_normal((k, k)))
    right, _ = np.linalg.qr(gen.standard_normal((k, k)))
    return torch.from_numpy(left @ np.diag(scales) @ right)  # orthogonal x diagonal x orthogonal


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
    q = scipy.linalg.orth(_as_matrix(decoder_weight))  # (784, r), r = rank of D (k unless degenerate)
    u, s = _as_matrix(components), _as_matrix(variances)  # (784, 784), (784,)
    a = u.T @ q  # (784, r): Q in PCA's coordinates, where C is diagonal
    small = a.T @ (s[:, None] * a)  # (r, r) = Q^T C Q
    values, vectors = np.linalg.eigh(small)  # ascending
    order = np.argsort(values)[::-1]
    directions = q @ vectors[:, order]  # (784, r)
    r = directions.shape[1]
    dots = np.einsum("ij,ij->j", directions, u[:, :r])  # (r,) cos with component i (both unit vectors)
    directions = directions * np.where(dots < 0, -1.0, 1.0)
    return Recovered(torch.from_numpy(directions).float(), values[order], np.abs(dots))


def decoder_images(model: LinearAutoencoder) -> torch.Tensor:
    """The decoder's columns as (k, 784) images: what one unit of each code number adds to the output."""
    weight = model.decoder.weight.detach()  # (784, k)
    assert weight.shape[0] == INPUT_DIM
    return weight.T.contiguous()
