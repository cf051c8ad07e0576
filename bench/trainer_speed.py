"""Trainer throughput against the classic DataLoader + ToTensor loop, measured in one process.

Prints samples/s of both, their ratio (target: >= 40x), and the share of this machine's fp32 matmul rate
the trainer reaches. The two loops take turns for several rounds (order alternating) and the median of the
per-round ratios is reported: on a shared machine the speed drifts by tens of percent within a minute, and
back-to-back pairs cancel most of that drift. Usage:
MNIST_DIR=../shared/data/mnist python bench/trainer_speed.py [--seconds S] [--rounds R]

With --compare-adam it instead races the trainer's optimiser step, the private `torch._fused_adam_` kernel
that model/fast/optim.py calls, against the public `torch.optim.Adam(fused=True)` over the same flat buffer,
in the same alternating rounds: the private call stays only while the public one loses over 3%.

With --floor it instead measures the trainer against its own floor (issue 15's target: >= 0.75): the CLI's
samples/s (k = 32, batch 256, the Trainer run as `python -m model --max-seconds S --threads 1` runs it)
against a loop of just the step's five matrix products of the same shapes and layouts, on one thread, in
alternating rounds (--threads 1 is implied).

With --floor-parts it instead says where a step's time goes beyond that floor, in thread CPU time per step of
batch 256 at k = 32 on one thread, medians of alternating rounds: the five products alone, the trainer's step
(model/fast's gradients and Adam) on one batch held in cache and on fresh batches read as the CLI reads them,
its elementwise pass and its Adam alone, the per-epoch test-set score spread over the epoch's steps, and the whole
run. The elementwise pass is model/fast/kernels.c's fused decoder pass (sigmoid, error, loss, derivative, bias
sum) when the kernels are built, else the eager step's sigmoid alone; STUDIO_NATIVE_KERNELS=0 gives the latter,
and --floor with it measures the eager step.

With --compare-bytes it instead races the trainer reading float32 rows (as it did before float images that are
exactly bytes were read as bytes) against the trainer on ByteImages (what an engine worker keeps: uint8 pixels,
each batch converted as it is read), one thread, k = 32, batch 256, in the same alternating rounds.
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

import model.fast.batches as batches_module
from model.__main__ import build_parser, config_from_args, train_with_progress
from model.autoencoder import INPUT_DIM, LinearAutoencoder
from model.config import TrainConfig
from model.data import ENV_VAR, cache_root_for, load_mnist_pixels
from model.fast import native
from model.fast.batches import ByteImages, ShuffledBatches
from model.fast.gradients import MseGradients
from model.fast.optim import FlatAdam
from model.train import Trainer, evaluate_mse


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


def compare_bytes(mnist, config: TrainConfig, rounds: int) -> None:
    """The trainer on float32 images against the trainer on ByteImages, alternating, one thread (wall and CPU rates)."""
    torch.set_num_threads(1)
    packed = ByteImages.from_pixels(load_mnist_pixels().train.images)

    def rates(images) -> tuple[float, float]:
        found = batches_module.shuffled_bytes
        if not isinstance(images, ByteImages):  # read as float32 rows, not found to be bytes
            batches_module.shuffled_bytes = lambda images: None
        try:
            cpu = time.thread_time()
            snap = Trainer(config, images, mnist.test.images).run()
            return snap.samples_per_second, snap.samples_seen / (time.thread_time() - cpu)
        finally:
            batches_module.shuffled_bytes = found

    wall, cpu = [], []
    for i in range(rounds):
        order = ("floats", "bytes") if i % 2 == 0 else ("bytes", "floats")
        got = {name: rates(mnist.train.images if name == "floats" else packed) for name in order}
        wall.append(got["bytes"][0] / got["floats"][0])
        cpu.append(got["bytes"][1] / got["floats"][1])
        row = {name: round(got[name][0]) for name in order} | {f"{n}_cpu": round(got[n][1]) for n in order}
        print(json.dumps(row | {"ratio": round(wall[-1], 3)}), flush=True)
    summary = {"threads": 1, "latent_dim": config.latent_dim, "batch_size": config.batch_size, "rounds": rounds}
    for name, ratios in (("wall", wall), ("cpu", cpu)):
        summary[f"bytes_over_floats_{name}_median"] = round(statistics.median(ratios), 4)
        summary[f"{name}_range"] = [round(min(ratios), 4), round(max(ratios), 4)]
    print(json.dumps(summary))


def five_gemm_samples_per_second(seconds: float, latent_dim: int = 32, batch: int = 256) -> tuple[float, float]:
    """Samples per second and per CPU-second of a loop of only a step's five products, in the layouts the trainer keeps (model/fast).

    x@We^T and x^T@gz use the encoder weight stored column-major (We^T contiguous, as FlatAdam's `transposed`
    keeps it), the decoder weight is row-major (784, k); every product writes `out=` into a buffer made once.
    The operands are realistic values (digits in [0, 1], weights of the init's scale), not zeros.
    """
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, INPUT_DIM, generator=gen)  # (B, 784) the batch, also the target
    enc_wt = torch.rand(INPUT_DIM, latent_dim, generator=gen) * 0.07 - 0.035  # We^T (784, k), contiguous
    dec_w = torch.rand(INPUT_DIM, latent_dim, generator=gen) * 0.35 - 0.175  # Wd (784, k)
    code, out = torch.empty(batch, latent_dim), torch.empty(batch, INPUT_DIM)
    grad_code = torch.empty(batch, latent_dim)
    dec_w_grad, enc_wt_grad = torch.empty_like(dec_w), torch.empty_like(enc_wt)  # (784, k) each
    dec_wt, x_t = dec_w.t(), x.t()
    torch.mm(x, enc_wt, out=code)
    torch.mm(code, dec_wt, out=out)  # real values in `out` for the products that read it
    steps, started, cpu_started = 0, time.perf_counter(), time.thread_time()
    while True:
        for _ in range(20):  # the clock is read every 20 steps, not at every one
            torch.mm(x, enc_wt, out=code)  # (B, 784) @ (784, k): x @ We^T
            torch.mm(code, dec_wt, out=out)  # (B, k) @ (k, 784): z @ Wd^T
            torch.mm(out.t(), code, out=dec_w_grad)  # (784, B) @ (B, k): y^T @ z
            torch.mm(out, dec_w, out=grad_code)  # (B, 784) @ (784, k): y @ Wd
            torch.mm(x_t, grad_code, out=enc_wt_grad)  # (784, B) @ (B, k): x^T @ gz
        steps += 20
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return steps * batch / elapsed, steps * batch / (time.thread_time() - cpu_started)


def cli_samples_per_second(mnist, seconds: float, latent_dim: int) -> tuple[float, float]:
    """The CLI's training rate (its config, its worker thread) and its samples per CPU-second of that thread."""
    argv = ["--latent-dim", str(latent_dim), "--max-seconds", str(seconds), "--threads", "1", "--no-progress"]
    config = config_from_args(build_parser().parse_args(argv))
    trainer = Trainer(config, mnist.train.images, mnist.test.images)
    cpu: list[float] = []
    run = trainer.run

    def timed_run():  # on the CLI's worker thread: that thread's CPU time, which other processes do not dilute
        started = time.thread_time()
        try:
            return run()
        finally:
            cpu.append(time.thread_time() - started)

    trainer.run = timed_run
    train_with_progress(trainer, show=False)
    snap = trainer.snapshot
    return snap.samples_per_second, snap.samples_seen / cpu[0]


def compare_floor(mnist, seconds: float, rounds: int, latent_dim: int) -> None:
    """The CLI against the five-GEMM floor in alternating rounds; the median per-round ratio is the measure."""
    torch.set_num_threads(1)
    wall, cpu = [], []
    for i in range(rounds):
        if i % 2 == 0:
            floor, floor_cpu = five_gemm_samples_per_second(seconds, latent_dim)
            cli, cli_cpu = cli_samples_per_second(mnist, seconds, latent_dim)
        else:
            cli, cli_cpu = cli_samples_per_second(mnist, seconds, latent_dim)
            floor, floor_cpu = five_gemm_samples_per_second(seconds, latent_dim)
        wall.append(cli / floor)
        cpu.append(cli_cpu / floor_cpu)
        row = {"floor": round(floor), "cli": round(cli), "ratio": round(wall[-1], 3), "cpu_ratio": round(cpu[-1], 3)}
        print(json.dumps(row), flush=True)
    print(
        json.dumps(
            {
                "threads": torch.get_num_threads(),
                "latent_dim": latent_dim,
                "batch_size": 256,
                "rounds": rounds,
                "seconds": seconds,
                "cli_over_floor_median": round(statistics.median(wall), 3),
                "range": [round(min(wall), 3), round(max(wall), 3)],
                "cpu_ratio_median": round(statistics.median(cpu), 3),
                "target": 0.75,
            }
        )
    )


def per_step_cpu(fn, steps: int) -> float:
    """Thread CPU microseconds per call of `fn` over `steps` calls."""
    started = time.thread_time()
    for _ in range(steps):
        fn()
    return (time.thread_time() - started) / steps * 1e6


def floor_parts(mnist, rounds: int, latent_dim: int, steps: int = 400) -> None:
    """Where the step's time goes beyond the five products: each piece in turn, in alternating rounds."""
    torch.set_num_threads(1)
    config = TrainConfig(latent_dim=latent_dim)
    trainer = Trainer(config, mnist.train.images, mnist.test.images)
    model, batch = trainer.model, trainer.batch_size
    opt = FlatAdam(model, lr=1e-4, transposed=(model.encoder.weight,))  # a small rate: the weights stay sane
    grads = MseGradients(model, batch)
    loss = torch.empty(())
    fresh = ShuffledBatches(mnist.train.images, batch, seed=1)  # as the CLI reads them
    held = mnist.train.images[:batch].clone()  # one batch, in cache like the floor's operands
    batches = iter(())

    def next_batch() -> torch.Tensor:
        nonlocal batches
        x = next(batches, None)
        if x is None or x.shape[0] != batch:  # a new epoch (its one short batch skipped)
            batches = fresh.epoch()
            x = next(batches)
        return x

    def step(x: torch.Tensor) -> None:
        grads(x, x, loss)
        opt.step()

    logits = torch.randn(batch, INPUT_DIM, generator=torch.Generator().manual_seed(0)) * 3
    out = torch.empty_like(logits)
    lib = native.library()  # the fused C passes, or None: the eager step, whose sigmoid is measured instead
    target, bias, bias_grad = held.clone(), torch.zeros(INPUT_DIM), torch.empty(INPUT_DIM)

    def decoder_pass() -> None:  # on a fresh copy of the logits each time, as the step's product leaves them
        out.copy_(logits)
        lib.decoder_pass(out.data_ptr(), bias.data_ptr(), target.data_ptr(), batch, INPUT_DIM, 1, 1e-5,
                         bias_grad.data_ptr(), loss.data_ptr())  # fmt: skip

    def elementwise() -> float:
        if lib is None:
            return per_step_cpu(lambda: torch.sigmoid(logits, out=out), steps)
        return per_step_cpu(decoder_pass, steps) - per_step_cpu(lambda: out.copy_(logits), steps)

    def gemms() -> float:
        return batch / five_gemm_samples_per_second(0.5, latent_dim)[1] * 1e6

    def run() -> float:
        cpu = time.thread_time()
        snap = Trainer(config.with_(epochs=2), mnist.train.images, mnist.test.images).run()
        return (time.thread_time() - cpu) / snap.step * 1e6

    parts = {
        "five_gemms": gemms,
        "step_cached_batch": lambda: per_step_cpu(lambda: step(held), steps),
        "step_fresh_batches": lambda: per_step_cpu(lambda: step(next_batch()), steps),
        "elementwise": elementwise,
        "adam": lambda: per_step_cpu(opt.step, steps),
        "score_per_step": lambda: (
            per_step_cpu(lambda: evaluate_mse(model, trainer.test_x), 3) / trainer.steps_per_epoch
        ),
        "whole_run": run,
    }
    got: dict[str, list[float]] = {name: [] for name in parts}
    with torch.no_grad():
        for i in range(rounds):
            for name in list(parts) if i % 2 == 0 else list(parts)[::-1]:
                got[name].append(parts[name]())
    us = {name: statistics.median(values) for name, values in got.items()}
    floor, run_us = us["five_gemms"], us["whole_run"]
    elementwise = "decoder_pass" if lib is not None else "sigmoid"  # the fused C pass, or the eager sigmoid alone
    pieces = {
        "batch_read": us["step_fresh_batches"] - us["step_cached_batch"],
        elementwise: us["elementwise"],
        "adam": us["adam"],
        "other_elementwise_and_dispatch": us["step_cached_batch"] - floor - us["elementwise"] - us["adam"],
        "score": us["score_per_step"],
        "loop_and_snapshots": run_us - us["step_fresh_batches"] - us["score_per_step"],
    }
    print(json.dumps({"us_per_step": {k: round(v, 1) for k, v in us.items()}}))
    print(json.dumps({"beyond_the_floor_us": {k: round(v, 1) for k, v in pieces.items()}}))
    print(
        json.dumps(
            {
                "threads": 1,
                "native_kernels": lib is not None,
                "latent_dim": latent_dim,
                "batch_size": batch,
                "rounds": rounds,
                "floor_over_run_cpu": round(floor / run_us, 3),
                "floor_over_step_fresh": round(floor / us["step_fresh_batches"], 3),
                "target": 0.75,
                "step_budget_at_target_us": round(floor / 0.75, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="time given to each loop in each round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--compare-adam", action="store_true", help="public fused Adam against the private kernel")
    parser.add_argument("--floor", action="store_true", help="the CLI against its five-GEMM floor, one thread")
    parser.add_argument("--compare-bytes", action="store_true", help="float32 images against ByteImages, one thread")
    parser.add_argument("--floor-parts", action="store_true", help="where a step's time goes beyond the floor")
    args = parse_with_threads(parser)
    mnist = mnist_or_exit()
    from os import environ
    from pathlib import Path

    root = str(cache_root_for(Path(environ[ENV_VAR]))) if environ.get(ENV_VAR) else "data"
    if args.floor:
        compare_floor(mnist, args.seconds, args.rounds, args.latent_dim)
        return
    if args.floor_parts:
        floor_parts(mnist, args.rounds, args.latent_dim)
        return
    config = TrainConfig(latent_dim=args.latent_dim, epochs=50, max_seconds=args.seconds)
    if args.compare_adam:
        compare_adam(mnist, config, args.rounds)
        return
    if args.compare_bytes:
        compare_bytes(mnist, config, args.rounds)
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
