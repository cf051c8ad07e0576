"""The bundled denoisers against doing nothing, PCA and the plain k32, and (--mix) against one model trained on
a mix of the four noise types: the measurement behind bundling one denoiser per type.

Target (issue 11): at each type's default level (the level its denoiser was trained at), over the first 100
test digits with the page's seed 0, the denoiser's MSE is below the noisy input's and PCA's. Also counts, on the
page's error-against-noise curve (500 test digits, 11 levels), the levels where a model beats PCA.
The mix is trained in this process only: the trainer's noise function is swapped for one that picks, per
batch, one of the four types at a level drawn uniformly from 0 to --mix-top; the trainer has no such kind.
Usage: MNIST_DIR=../shared/data/mnist python bench/denoisers.py [--mix] [--mix-top 0.6] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from common import mnist_or_exit, parse_with_threads

import model.train as train_module
from model.autoencoder import LinearAutoencoder
from model.checkpoint import load_model
from model.config import TrainConfig
from model.noise import add_noise
from model.pca import Pca, fit_pca
from model.scoring import curve_digits, noise_curve, pca_reconstruct

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"
KINDS = ("gaussian", "salt_pepper", "dropout", "block")
FIRST_DIGITS, PAGE_SEED = 100, 0


def mixed_noise(top: float):
    """A stand-in for model.train.add_noise: each call (one batch) a random type at a level in [0, top]."""

    def corrupt(x, kind, level, generator=None, seed=None):
        if generator is None:  # the trainer's fixed noisy test copy: seeded like the original
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        chosen = KINDS[int(torch.randint(len(KINDS), (1,), generator=generator))]
        return add_noise(x, chosen, float(torch.rand((), generator=generator)) * top, generator=generator)

    return corrupt


def train_mix(mnist, top: float) -> LinearAutoencoder:
    """The Makefile's denoiser settings, with the mixed noise in place of one type."""
    config = TrainConfig(latent_dim=32, epochs=20, batch_size=256, lr=0.01, seed=0, noise="gaussian", noise_level=0.3)
    original = train_module.add_noise
    train_module.add_noise = mixed_noise(top)
    try:
        return train_module.Trainer(config, mnist.train.images, mnist.test.images).run().to_model()
    finally:
        train_module.add_noise = original


@torch.no_grad()
def mse(output: torch.Tensor, clean: torch.Tensor) -> float:
    return round(float(((output - clean) ** 2).mean()), 4)


@torch.no_grad()
def wins_over_pca(model: LinearAutoencoder, pca: Pca, curve_clean: torch.Tensor, kind: str) -> int:
    curve = noise_curve(model, pca, curve_clean, kind)
    return sum(m < p for m, p in zip(curve.model_mse, curve.pca_mse, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mix", action="store_true", help="also train and score one model on a mix of the types")
    parser.add_argument("--mix-top", type=float, default=0.6, help="the mix's levels are uniform in [0, this]")
    args = parse_with_threads(parser)
    mnist = mnist_or_exit()
    pca = fit_pca(mnist.train.images)
    plain, _ = load_model(ASSETS / "k32.safetensors")
    mix = train_mix(mnist, args.mix_top) if args.mix else None
    clean = mnist.test.images[:FIRST_DIGITS]
    curve_clean = mnist.test.images[curve_digits(len(mnist.test))]
    results, met = {}, True
    for kind in KINDS:
        denoiser, info = load_model(ASSETS / "denoisers" / f"k32-{kind}.safetensors")
        level = info.config.noise_level
        noisy = add_noise(clean, kind, level, seed=PAGE_SEED)
        row = {
            "level": level,
            "noisy": mse(noisy, clean),
            "pca": mse(pca_reconstruct(pca, noisy, 32), clean),
            "plain": mse(plain(noisy), clean),
            "denoiser": mse(denoiser(noisy), clean),
            "denoiser_beats_pca_on_curve": wins_over_pca(denoiser, pca, curve_clean, kind),
        }
        if mix is not None:
            row["mix"] = mse(mix(noisy), clean)
            row["mix_beats_pca_on_curve"] = wins_over_pca(mix, pca, curve_clean, kind)
        met = met and row["denoiser"] < min(row["noisy"], row["pca"])
        results[kind] = row
    results["target_met"] = met
    results["threads"] = torch.get_num_threads()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
