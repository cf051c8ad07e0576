"""A denoiser's noisy-input score agrees with the trainer's and with a plain computation."""

from __future__ import annotations

import torch

from model.config import TrainConfig
from model.denoise_scores import noisy_input_mse
from model.noise import add_noise
from model.pca import fit_pca
from model.train import Trainer


def test_matches_the_trainers_own_noisy_test_error() -> None:
    gen = torch.Generator().manual_seed(0)
    train, test = torch.rand(512, 784, generator=gen), torch.rand(128, 784, generator=gen)
    cfg = TrainConfig(latent_dim=4, epochs=1, batch_size=64, noise="gaussian", noise_level=0.3, seed=5)
    snap = Trainer(cfg, train, test).run()
    model_mse, _ = noisy_input_mse(snap.to_model(), None, test, "gaussian", 0.3, seed=5)
    assert abs(model_mse - snap.noisy_test_mse[-1]) < 1e-6


def test_pca_gets_the_same_noisy_digits() -> None:
    gen = torch.Generator().manual_seed(1)
    clean = torch.rand(200, 784, generator=gen)
    pca = fit_pca(clean)
    model = Trainer(TrainConfig(latent_dim=3, epochs=1, batch_size=50), clean, clean).run().to_model()
    model_mse, pca_mse = noisy_input_mse(model, pca, clean, "dropout", 0.5, seed=2)
    noisy = add_noise(clean, "dropout", 0.5, seed=2)
    expected_pca = float(((pca.reconstruct(noisy, 3).clamp(0, 1) - clean) ** 2).mean())
    with torch.no_grad():
        expected_model = float(((model(noisy) - clean) ** 2).mean())
    assert abs(pca_mse - expected_pca) < 1e-6
    assert abs(model_mse - expected_model) < 1e-5
