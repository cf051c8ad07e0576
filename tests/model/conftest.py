"""Fixtures for the model tests: small synthetic image tensors, nothing from the real MNIST."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import digit_like_images


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """Run these small-tensor tests on one thread: OpenMP threads add little here, and when other processes
    share the cores their spin-waiting made single PCA fits and training runs up to 20x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def digit_tensors(n: int, seed: int = 0) -> torch.Tensor:
    """n generated digit-like images as a (n, 784) float32 tensor in [0, 1]."""
    images, _ = digit_like_images(n, seed=seed)
    return torch.from_numpy(images).reshape(n, 784).float() / 255.0


@pytest.fixture(scope="session")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """600 training and 200 test digit-like images, (N, 784) in [0, 1]."""
    return digit_tensors(600, seed=10), digit_tensors(200, seed=11)


@pytest.fixture(scope="session")
def low_rank() -> tuple[torch.Tensor, torch.Tensor, int]:
    """Images that are a sigmoid of rank-4 data plus a little noise: 2000 training, 500 test, and the rank."""
    rank = 4
    gen = torch.Generator().manual_seed(0)
    basis = torch.randn(rank, 784, generator=gen)  # (4, 784)
    bias = 0.5 * torch.randn(784, generator=gen)

    def sample(n: int) -> torch.Tensor:
        z = torch.randn(n, rank, generator=gen)  # (n, 4)
        x = torch.sigmoid(z @ basis + bias)  # (n, 4) -> (n, 784)
        return (x + 0.02 * torch.randn(x.shape, generator=gen)).clamp(0.0, 1.0)

    return sample(2000), sample(500), rank
