"""Trainer throughput against the classic DataLoader + ToTensor loop, measured in one process.

Prints samples/s of both, their ratio (target: >= 40x), and the share of this machine's fp32 matmul rate
the trainer reaches. The two loops take turns for several rounds (order alternating) and the median of the
per-round ratios is reported: on a shared machine the speed drifts by tens of percent within a minute, and
back-to-back pairs cancel most of that drift. Usage:
MNIST_DIR=../shared/data/mnist python bench/trainer_speed.py [--seconds S] [--rounds R]

With --compare-adam it instead races the trainer's optimiser step, the private `torch._fused_adam_` kernel
that model/fast/optim.py calls, against the public `torch.optim.Adam(fused=True)` over the same flat buffer,
in the same alternating rounds: the private call stays only while the public one loses over 3%.
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
from model.fast.optim import FlatAdam
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


class PublicFusedAdam(FlatAdam):
    """The public alternative: torch.optim.Adam(fused=True) over FlatAdam's flat buffer, the same kernel inside."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flat.grad = self.flat_grad  # a leaf that needs no autograd: its gradient is written by hand
        self._adam = torch.optim.Adam([self.flat], lr=self.lr, betas=self.betas, eps=self.eps, fused=True)

    def step(self) -> None:
        self.steps += 1
        self._adam.param_groups[0]["lr"] = self.lr  # the schedule changes it every step
        self._adam.step()


def compare_adam(mnist, config: TrainConfig, rounds: int) -> None:
    """Trainer speed with the public fused Adam and with the private kernel, alternating in one process.

    Two rates a run: samples per wall-clock second (what a user sees) and per CPU second of the training
    thread (the run's own work, which a busy shared machine's preemption does not dilute).
    """
    import model.train as train_module

    def rates(optimiser: type[FlatAdam]) -> tuple[float, float]:
        train_module.FlatAdam = optimiser
        try:
            cpu = time.thread_time()
            snap = Trainer(config, mnist.train.images, mnist.test.images).run()
            return snap.samples_per_second, snap.samples_seen / (time.thread_time() - cpu)
        finally:
            train_module.FlatAdam = FlatAdam

    wall, cpu = [], []
    for i in range(rounds):
        order = (PublicFusedAdam, FlatAdam) if i % 2 == 0 else (FlatAdam, PublicFusedAdam)
        got = {cls: rates(cls) for cls in order}
        (pub_wall, pub_cpu), (priv_wall, priv_cpu) = got[PublicFusedAdam], got[FlatAdam]
        wall.append(pub_wall / priv_wall)
        cpu.append(pub_cpu / priv_cpu)
        row = {"public": round(pub_wall), "private": round(priv_wall), "public_cpu": round(pub_cpu)}
        print(json.dumps({**row, "private_cpu": round(priv_cpu)}), flush=True)
    summary = {"threads": torch.get_num_threads(), "rounds": rounds}
    for name, ratios in (("wall", wall), ("cpu", cpu)):
        summary[f"public_over_private_{name}_median"] = round(statistics.median(ratios), 4)
        summary[f"{name}_range"] = [round(min(ratios), 4), round(max(ratios), 4)]
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="time given to each loop in each round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--compare-adam", action="store_true", help="public fused Adam against the private kernel")
    args = parse_with_threads(parser)
    mnist = mnist_or_exit()
    from os import environ
    from pathlib import Path

    root = str(cache_root_for(Path(environ[ENV_VAR]))) if environ.get(ENV_VAR) else "data"
    config = TrainConfig(latent_dim=args.latent_dim, epochs=50, max_seconds=args.seconds)
    if args.compare_adam:
        compare_adam(mnist, config, args.rounds)
        return

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
