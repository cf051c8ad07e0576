"""Shared helpers for the benchmarks: find MNIST or explain how to point at it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.data import Mnist, MnistError, load_mnist  # noqa: E402


def mnist_or_exit() -> Mnist:
    """The real MNIST, or a clear message and exit code 2."""
    try:
        return load_mnist()
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def parse_with_threads(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the arguments plus --threads (0: PyTorch's default), and apply the thread count."""
    import torch

    parser.add_argument("--threads", type=int, default=0, help="0: PyTorch's default (all cores)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    return args
