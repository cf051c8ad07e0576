"""How well a model rebuilds single digits, how unusual a digit's error is, and how errors grow with noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.autoencoder import LinearAutoencoder
from model.noise import add_noise, check_noise, psnr
from model.pca import Pca

CHUNK = 5000  # images per forward pass
CURVE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # noise levels of the error curve
CURVE_DIGITS = 500  # test digits the error curve averages over
CURVE_SEED = 0  # which digits and which noise the curve uses, so it is the same on every server


@torch.no_grad()
def per_image_mse(model: LinearAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """Mean squared reconstruction error of each (N, 784) image: (N,)."""
    out = []
    for start in range(0, images.shape[0], CHUNK):
        x = images[start : start + CHUNK]
        out.append(((model(x) - x) ** 2).mean(dim=1))  # (B, 784) -> (B,)
    return torch.cat(out) if out else torch.zeros(0)


def percentile_of(value: float, distribution: np.ndarray | torch.Tensor) -> float:
    """Share (in %) of the distribution strictly below value: 93 means 'more unusual than 93% of them'."""
    dist = np.sort(np.asarray(distribution, dtype=np.float64).ravel())
    dist = dist[np.isfinite(dist)]
    if dist.size == 0:
        raise ValueError("Cannot rank an error against an empty set of test errors.")
    if not np.isfinite(value):
        return 100.0
    return 100.0 * float(np.searchsorted(dist, value, side="left")) / dist.size


def unusual_sentence(percent: float) -> str:
    """'more unusual than 93% of MNIST test digits', rounded so 99.96 never reads as 100."""
    shown = f"{np.floor(percent * 10) / 10:g}" if percent > 99 else f"{round(percent)}"
    return f"more unusual than {shown}% of MNIST test digits"


@torch.no_grad()
def pca_reconstruct(pca: Pca, x: torch.Tensor, k: int) -> torch.Tensor:
    """PCA's rank-k reconstruction clipped to [0, 1], the range of an image and of the model's sigmoid."""
    return pca.reconstruct(x, k).clamp(0.0, 1.0)


@dataclass(frozen=True)
class NoiseCurve:
    """Mean squared error against the clean digits at each noise level."""

    kind: str
    levels: tuple[float, ...]
    model_mse: tuple[float, ...]  # the model's reconstruction of the noisy input
    pca_mse: tuple[float, ...]  # PCA at the same k, of the noisy input
    noisy_mse: tuple[float, ...]  # the noisy input itself: doing nothing
    other_mse: tuple[float, ...] = ()  # a second model beside the first (the active one beside a denoiser)


@torch.no_grad()
def noise_curve(
    model: LinearAutoencoder,
    pca: Pca,
    clean: torch.Tensor,
    kind: str,
    levels: tuple[float, ...] = CURVE_LEVELS,
    seed: int = CURVE_SEED,
    other: LinearAutoencoder | None = None,
) -> NoiseCurve:
    """Error of model, PCA (model's k), the noisy input and any other model against clean (N, 784) digits."""
    for level in levels:
        check_noise(kind, level)
    k = model.latent_dim
    model_mse, pca_mse, noisy_mse, other_mse = [], [], [], []
    for level in levels:
        noisy = add_noise(clean, kind, level, seed=seed)  # (N, 784)
        model_mse.append(float(((model(noisy) - clean) ** 2).mean()))
        pca_mse.append(float(((pca_reconstruct(pca, noisy, k) - clean) ** 2).mean()))
        noisy_mse.append(float(((noisy - clean) ** 2).mean()))
        if other is not None:
            other_mse.append(float(((other(noisy) - clean) ** 2).mean()))
    return NoiseCurve(kind, tuple(levels), tuple(model_mse), tuple(pca_mse), tuple(noisy_mse), tuple(other_mse))


def curve_digits(n_test: int, n: int = CURVE_DIGITS, seed: int = CURVE_SEED) -> torch.Tensor:
    """The fixed test-digit indices the error curve uses: (min(n, n_test),)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(n_test, generator=gen)[: min(n, n_test)]


@dataclass(frozen=True)
class Row:
    """One row of the Denoise page: images and how far they are from the clean ones."""

    label: str
    images: torch.Tensor  # (B, 784)
    mse: float | None  # mean over the batch; None for the clean row itself
    psnr: float | None  # mean of each image's PSNR in dB; +inf when identical to the clean image


@torch.no_grad()
def denoise_rows(
    model: LinearAutoencoder,
    pca: Pca | None,
    clean: torch.Tensor,
    kind: str,
    level: float,
    seed: int,
    label: str = "Model's reconstruction",
    other: tuple[str, LinearAutoencoder] | None = None,
) -> list[Row]:
    """Clean / noisy / model's output / any other model's (label, model) / PCA at model's k (if a PCA)."""
    noisy = add_noise(clean, kind, level, seed=seed)  # (B, 784)
    outputs = [("Noisy input", noisy), (label, model(noisy))]
    if other is not None:
        outputs.append((other[0], other[1](noisy)))
    if pca is not None:
        outputs.append((f"PCA projection, k={model.latent_dim}", pca_reconstruct(pca, noisy, model.latent_dim)))
    rows = [Row("Clean", clean, None, None)]
    for label, images in outputs:
        rows.append(Row(label, images, float(((images - clean) ** 2).mean()), float(psnr(clean, images).mean())))
    return rows
