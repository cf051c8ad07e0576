"""Trainer throughput against the classic DataLoader + ToTensor loop, measured in one process.

Prints samples/s of both, their ratio (target: >= 40x), and the share of this machine's fp32 matmul rate
the trainer reaches. Usage: MNIST_DIR=../shared/data/mnist python bench/trainer_speed.py [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from common import mnist_or_exit, parse_with_threads
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from model.autoencoder import INPUT_DIM, LinearAutoencoder
from model.config import TrainConfig
from model.data import ENV_VAR, cache_root_for
from model.train import Trainer


def classic_samples_per_second(root: str, latent_dim: int, seconds: float) -> float:
    """The tutorial's loop: per-sample PIL -> ToTensor, DataLoader batches of 20, autograd, Adam 1e-3."""
    ds = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(ds, batch_size=20, shuffle=True)
    model = LinearAutoencoder(latent_dim, "relu")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seen, started = 0, time.perf_counter()
    for images, _ in loader:
        x = images.view(-1, INPUT_DIM)
        loss = torch.nn.functional.mse_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += x.shape[0]
        if time.perf_counter() - started >= seconds:
            break
    return seen / (time.perf_counter() - started)


def matmul_flops_per_second(size: int = 2048, repeats: int = 5) -> float:
    """The machine's fp32 matmul rate on a large square product: the floor any trainer can reach."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def epoch_flops(n: int, latent_dim: int) -> float:
    """Matmul FLOPs of one epoch: forward 2 products, backward 3 (no gradient for the input)."""
    return 5 * 2 * n * INPUT_DIM * latent_dim


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0, help="time given to each loop")
    parser.add_argument("--latent-dim", type=int, default=32)
    args = parse_with_threads(parser)
    mnist = mnist_or_exit()
    from os import environ
    from pathlib import Path

    root = str(cache_root_for(Path(environ[ENV_VAR]))) if environ.get(ENV_VAR) else "data"
    classic = classic_samples_per_second(root, args.latent_dim, args.seconds)
    config = TrainConfig(latent_dim=args.latent_dim, epochs=50, max_seconds=args.seconds)
    snap = Trainer(config, mnist.train.images, mnist.test.images).run()
    ours = snap.samples_per_second
    floor = matmul_flops_per_second()
    achieved = epoch_flops(len(mnist.train), args.latent_dim) / len(mnist.train) * ours
    result = {
        "threads": torch.get_num_threads(),
        "batch_size": config.batch_size,
        "classic_samples_per_second": round(classic),
        "trainer_samples_per_second": round(ours),
        "speedup": round(ours / classic, 1),
        "matmul_gflops": round(floor / 1e9, 1),
        "trainer_gflops": round(achieved / 1e9, 1),
        "fraction_of_matmul_floor": round(achieved / floor, 3),
        "epoch_seconds": round(len(mnist.train) / ours, 3),
        "epoch_seconds_at_floor": round(epoch_flops(len(mnist.train), args.latent_dim) / floor, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
