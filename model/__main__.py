"""The command line, `python -m model` (or `python -m model.train`): train one model on MNIST, print a JSON summary."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import torch
from tqdm import tqdm

from model.autoencoder import Activation, Output, activation_label, output_label
from model.checkpoint import save_model
from model.config import BIAS_INITS, LIMITS, TrainConfig
from model.data import MnistError, load_mnist
from model.noise import NO_NOISE, noise_kinds
from model.pca import fit_pca
from model.plural import plural
from model.train import FAILURES, Status, Trainer

DEFAULTS = TrainConfig()


def build_parser() -> argparse.ArgumentParser:
    k_range = LIMITS["latent_dim"]
    p = argparse.ArgumentParser(prog="python -m model", description="Train a linear autoencoder on MNIST.")
    p.add_argument("--latent-dim", type=int, default=DEFAULTS.latent_dim, help="latent size k, {}..{}".format(*k_range))
    p.add_argument("--activation", choices=list(Activation), default=DEFAULTS.activation)
    p.add_argument(
        "--output",
        choices=list(Output),
        default=None,
        help="decoder output: sigmoid (default) or linear (the model of the PCA theorem)",
    )
    p.add_argument(
        "--classic", action="store_true", help="the classic tutorial recipe (ReLU, Adam 1e-3, batch 20, 20 epochs)"
    )
    p.add_argument("--epochs", type=int, default=None, help=f"default {DEFAULTS.epochs}, at most {LIMITS['epochs'][1]}")
    p.add_argument("--max-seconds", type=float, default=None, help="stop training after this many seconds")
    p.add_argument("--batch-size", type=int, default=None, help=f"default {DEFAULTS.batch_size}")
    p.add_argument("--lr", type=float, default=None, help=f"default {DEFAULTS.lr}, at most {LIMITS['lr'][1]:g}")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed)
    p.add_argument(
        "--bias-init",
        choices=BIAS_INITS,
        default=DEFAULTS.bias_init,
        help="decoder bias at the start: the average digit (mean) or PyTorch's default (uniform)",
    )
    p.add_argument("--noise", choices=noise_kinds(), default=NO_NOISE, help="train as a denoiser with this noise")
    p.add_argument(
        "--noise-level", type=float, default=0.0, help="noise level in [{:g}, {:g}]".format(*LIMITS["noise_level"])
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all cores)")
    p.add_argument(
        "--data-dir", default=None, help="folder with the four MNIST IDX files (else $MNIST_DIR, else ./data)"
    )
    p.add_argument("--out", default=None, help="save the trained model here (.safetensors)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    base = TrainConfig.classic() if args.classic else DEFAULTS
    changes = {
        "latent_dim": args.latent_dim,
        "seed": args.seed,
        "bias_init": args.bias_init,
        "noise": args.noise,
        "noise_level": args.noise_level,
        "max_seconds": args.max_seconds,
    }
    if not args.classic:
        changes["activation"] = args.activation
    for name in ("epochs", "batch_size", "lr", "output"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return base.with_(**changes)


def train_with_progress(trainer: Trainer, show: bool) -> None:
    """Run the trainer in a worker thread while the main thread draws a tqdm bar from its snapshots."""
    worker = threading.Thread(target=trainer.run, daemon=True)
    worker.start()
    with tqdm(total=trainer.total_steps, unit="step", disable=not show, file=sys.stderr) as bar:
        while worker.is_alive():
            snap = trainer.snapshot
            bar.n = snap.step
            loss = float(snap.train_loss[-20:].mean()) if snap.step else float("nan")
            bar.set_postfix(epoch=snap.epoch, loss=f"{loss:.4f}", refresh=False)
            bar.refresh()
            worker.join(timeout=0.1)
        bar.n = trainer.snapshot.step
        bar.refresh()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        mnist = load_mnist(args.data_dir)
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    trainer = Trainer(config, mnist.train.images, mnist.test.images)
    train_with_progress(trainer, show=not args.no_progress)
    snap = trainer.snapshot
    if snap.status in FAILURES:
        print(f"error: {snap.message}", file=sys.stderr)
    elif snap.warning:
        print(f"warning: {snap.warning}", file=sys.stderr)
    started = time.perf_counter()
    pca = fit_pca(mnist.train.images)
    pca_mse = pca.mse(mnist.test.images, config.latent_dim)
    summary = {
        "latent_dim": config.latent_dim,
        "activation": config.activation,
        "output": config.output,
        "status": snap.status,
        "epochs": snap.epoch,
        "epochs_fraction": round(snap.step / snap.steps_per_epoch, 3),
        "steps": snap.step,
        "batch_size": trainer.batch_size,
        "seconds": round(snap.elapsed, 3),
        "samples_per_second": round(snap.samples_per_second, 1),
        "test_mse": snap.final_test_mse,
        # Denoising runs: the same for a seeded noisy copy of the test set in, clean digits as the target.
        "noisy_test_mse": snap.noisy_test_mse[-1] if snap.noisy_test_mse else None,
        "pca_test_mse": pca_mse,
        "stuck": bool(snap.warning),
        "pca_seconds": round(time.perf_counter() - started, 3),
        "device": str(trainer.device),
        "threads": torch.get_num_threads(),
    }
    if args.out and snap.status not in FAILURES:
        extra = output_label(config.output)
        name = (
            f"k={config.latent_dim} {activation_label(config.activation)}{', ' + extra if extra else ''}, "
            f"{plural(snap.epoch, 'epoch')}"
        )
        summary["out"] = str(save_model(snap.to_model(), snap.model_info(name), args.out))
    print(json.dumps(summary))
    return 0 if snap.status in (Status.DONE, Status.STOPPED) else 1


if __name__ == "__main__":
    raise SystemExit(main())
