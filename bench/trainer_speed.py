"""Trainer throughput against the classic DataLoader + ToTensor loop, measured in one process.

Prints samples/s of both, their ratio (target: >= 40x), and the share of this machine's fp32 matmul rate
the trainer reaches. The two loops take turns for several rounds (order alternating) and the median of the
per-round ratios is reported: on a shared machine the speed drifts by tens of percent within a minute, and
back-to-back pairs cancel most of that drift. Usage:
MNIST_DIR=../shared/data/mnist python bench/trainer_speed.py [--seconds S] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import psutil
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
    parser.add_argument("--seconds", type=float, default=3.0, help="time given to each loop in each round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latent-dim", type=int, default=32)
    args = parse_with_threads(parser)
    mnist = mnist_or_exit()
    from os import environ
    from pathlib import Path

    root = str(cache_root_for(Path(environ[ENV_VAR]))) if environ.get(ENV_VAR) else "data"
    config = TrainConfig(latent_dim=args.latent_dim, epochs=50, max_seconds=args.seconds)

    def trainer() -> float:
        return Trainer(config, mnist.train.images, mnist.test.images).run().samples_per_second

    def classic() -> float:
        return classic_samples_per_second(root, args.latent_dim, args.seconds)

    cpu_before = psutil.cpu_times()
    rounds = []
    for i in range(args.rounds):
        first, second = (classic, trainer) if i % 2 == 0 else (trainer, classic)
        a, b = first(), second()
        theirs, ours = (a, b) if first is classic else (b, a)
        rounds.append({"classic": round(theirs), "trainer": round(ours), "ratio": round(ours / theirs, 1)})
        print(json.dumps(rounds[-1]), flush=True)
    cpu_after = psutil.cpu_times()
    total = sum(cpu_after) - sum(cpu_before)
    stolen = (cpu_after.steal - cpu_before.steal) / total if total > 0 else 0.0  # time the hypervisor took
    ours = statistics.median(r["trainer"] for r in rounds)
    classic_rate = statistics.median(r["classic"] for r in rounds)
    ratios = [r["ratio"] for r in rounds]
    floor = matmul_flops_per_second()
    achieved = epoch_flops(len(mnist.train), args.latent_dim) / len(mnist.train) * ours
    result = {
        "threads": torch.get_num_threads(),
        "batch_size": config.batch_size,
        "rounds": args.rounds,
        "classic_samples_per_second": round(classic_rate),
        "trainer_samples_per_second": round(ours),
        "speedup_median": statistics.median(ratios),
        "speedup_range": [min(ratios), max(ratios)],
        "target": 40,
        "matmul_gflops": round(floor / 1e9, 1),
        "trainer_gflops": round(achieved / 1e9, 1),
        "fraction_of_matmul_floor": round(achieved / floor, 3),
        "epoch_seconds": round(len(mnist.train) / ours, 3),
        "cpu_steal_fraction": round(stolen, 3),
        "epoch_seconds_at_floor": round(epoch_flops(len(mnist.train), args.latent_dim) / floor, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
