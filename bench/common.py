"""Shared helpers for the benchmarks: find MNIST or explain how to point at it."""

from __future__ import annotations

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
