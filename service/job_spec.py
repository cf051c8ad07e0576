"""What a training job on the engine needs, small enough to send to a worker: settings and where its data is."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from model.config import TrainConfig


@dataclass(frozen=True)
class MnistData:
    """The real MNIST, loaded by the worker itself (once per worker process), not sent with the job."""

    data_dir: str | None  # the IDX folder as the worker sees it; None (or missing there): the worker's MNIST_DIR
    n_train: int = 60_000  # training images, for the step count shown before the worker answers

    @classmethod
    def as_server_sees_it(cls, n_train: int) -> MnistData:
        """The server's MNIST_DIR (None without one: the worker then finds MNIST the way the server did)."""
        return cls(os.environ.get("MNIST_DIR") or None, n_train)


@dataclass(frozen=True)
class InlineData:
    """Small images sent with the job itself: tests and demos without MNIST."""

    train: torch.Tensor  # (N, 784) float32 in [0, 1]
    test: torch.Tensor  # (M, 784)

    @property
    def n_train(self) -> int:
        return self.train.shape[0]


@dataclass(frozen=True)
class Delivery:
    """Where a workspace run's model goes, so the worker can keep it itself if the server that started it is gone."""

    data_dir: str  # STUDIO_DATA_DIR as the server resolved it: servers and workers share it (deploy/)
    workspace: str  # the workspace's id (never the browser's token)
    run_id: str  # the run's record in the workspace: the claim that keeps its model exactly once
    label: str
    kind: str  # "train" (its model becomes the active one) or "sweep"
    reserved_names: frozenset[str] = frozenset()  # names a new model must not take (the bundled models')

    @property
    def detail(self) -> dict[str, str]:
        """What the run's record says about it."""
        return {"label": self.label, "kind": self.kind}


@dataclass(frozen=True)
class JobSpec:
    """One training run: its settings, its data, and what the server already computed for it."""

    config: TrainConfig
    data: MnistData | InlineData
    replay_index: torch.Tensor | None = None  # (R,) rows of the test set whose codes make the latent replay
    pca_basis: torch.Tensor | None = None  # (784, >= k) principal components; only the first k are sent
    delivery: Delivery | None = None  # a workspace run: its worker keeps the model when its server is gone

    def __post_init__(self) -> None:
        if self.pca_basis is not None and self.pca_basis.shape[1] > self.config.latent_dim:
            # (784, 784) -> (784, k): the trainer compares with the first k only, so send no more.
            object.__setattr__(self, "pca_basis", self.pca_basis[:, : self.config.latent_dim].contiguous())
