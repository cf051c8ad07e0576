"""The models a session can use: bundled defaults plus the ones this user trained or uploaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from model.autoencoder import LinearAutoencoder, Output, activation_label, output_label
from model.checkpoint import ModelInfo, model_to_bytes
from model.noise import NO_NOISE


@dataclass(frozen=True)
class ModelEntry:
    name: str  # unique within a session, shown in every model picker
    model: LinearAutoencoder
    info: ModelInfo
    source: str  # "bundled", "trained" or "uploaded"
    replay: tuple[torch.Tensor, ...] = ()  # (R, 2) replay points per frame, as the Latent page draws them
    train_loss: torch.Tensor | None = None  # loss curve, averaged into at most service.keep_model.KEPT_LOSS_POINTS
    test_mse_per_epoch: tuple[float, ...] = ()
    noisy_test_mse_per_epoch: tuple[float, ...] = ()  # denoisers: noisy test digits in, clean ones as the target
    steps_per_epoch: float = 1  # x-axis scale of train_loss: its points per epoch
    replay_epochs: tuple[int, ...] = ()  # the epoch of each replay frame (empty: frame i is epoch i)
    warning: str = ""  # the trainer's advice when the run ended no better than the average digit
    pca_similarity_per_epoch: tuple[float, ...] = ()  # trained models: mean cos^2 of the angles to PCA's subspace
    pca_angles: np.ndarray | None = None  # trained models: the final principal angles to PCA's subspace (k,)

    @cached_property
    def file_bytes(self) -> bytes:
        """The model as a .safetensors file, serialised once (download buttons redraw on every run)."""
        return model_to_bytes(self.model, self.info)

    @cached_property
    def nbytes(self) -> int:
        """Memory its tensors hold, for the per-session budget."""
        tensors = [*self.model.state_dict().values(), *self.replay]
        if self.train_loss is not None:
            tensors.append(self.train_loss)
        return sum(t.numel() * t.element_size() for t in tensors)

    @property
    def file_stem(self) -> str:
        """The name as a file name: 'k=32 linear, 5 epochs (2)' -> 'k-32-linear-5-epochs-2'; unique per model."""
        return re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-").lower() or "model"

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    def test_mse_text(self) -> str:
        """'test MSE 0.0095', or for a denoiser both errors, the one for noisy test digits first."""
        clean = "n/a" if self.info.test_mse is None else f"{self.info.test_mse:.4f}"
        if self.noisy_test_mse_per_epoch:
            return f"test MSE {self.noisy_test_mse_per_epoch[-1]:.4f} for noisy digits, {clean} for clean ones"
        return f"test MSE {clean}"

    def summary(self) -> str:
        """One line: latent size, activation, epochs, test MSE."""
        kind = activation_label(self.model.activation)
        if output_label(self.model.output):
            kind += f" · {output_label(self.model.output)}"
        epochs = f"{self.info.epochs} epoch{'' if self.info.epochs == 1 else 's'}"
        return f"k={self.latent_dim} · {kind} · {epochs} · {self.test_mse_text()}"


def readable_name(
    latent_dim: int,
    activation: str,
    epochs: int,
    taken: set[str],
    denoise: str = NO_NOISE,
    output: str = Output.SIGMOID,
) -> str:
    """'k=32 linear, 5 epochs', made unique with ' (2)', ' (3)'… when the name is taken."""
    kind = activation_label(activation)
    if output_label(output):
        kind += f", {output_label(output)}"  # 'k=32 linear, linear output, 10 epochs'
    base = f"k={latent_dim} {kind}, {epochs} epoch{'s' if epochs != 1 else ''}"
    if denoise != NO_NOISE:
        base += f", denoising ({denoise})"
    return unique_name(base, taken)


def unique_name(base: str, taken: set[str]) -> str:
    """base, or 'base (2)', 'base (3)'… : the first not taken, so every model picker tells models apart."""
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    return name
