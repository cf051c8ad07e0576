"""A denoiser's score on the task it learned: noisy test digits in, the clean ones as the target."""

from __future__ import annotations

import torch

from model.autoencoder import LinearAutoencoder
from model.noise import add_noise
from model.pca import Pca
from model.scoring import pca_reconstruct
from model.train import evaluate_mse


@torch.no_grad()
def noisy_input_mse(
    model: LinearAutoencoder, pca: Pca | None, clean: torch.Tensor, kind: str, level: float, seed: int
) -> tuple[float, float | None]:
    """Test MSE of the model, and of PCA at the same k, for one seeded noisy copy of clean (N, 784) digits.

    The copy is the one a training run scores itself on (same kind, level and seed), so the numbers agree
    with the Train page's. PCA gets the same noisy digits: the fair reference for a denoiser.
    """
    noisy = add_noise(clean, kind, level, seed=seed)  # (N, 784)
    model_mse = evaluate_mse(model, noisy, targets=clean)
    if pca is None:
        return model_mse, None
    return model_mse, float(((pca_reconstruct(pca, noisy, model.latent_dim) - clean) ** 2).mean())
