"""The linear autoencoder: one linear encoder layer, one linear decoder layer with a sigmoid (or none)."""

from __future__ import annotations

from enum import StrEnum

import torch
from torch import nn

SIDE = 28  # MNIST images are SIDE x SIDE pixels
INPUT_DIM = SIDE * SIDE  # 784 pixels, flattened


class Activation(StrEnum):
    """The encoder's activation; the values are what configs, model files and links store."""

    NONE = "none"  # purely linear
    RELU = "relu"  # the classic tutorial's variant


class Output(StrEnum):
    """The decoder's output: squashed into [0, 1], or the theory's plain linear map."""

    SIGMOID = "sigmoid"
    LINEAR = "linear"


def check_latent_dim(latent_dim: int) -> int:
    """Reject latent sizes outside 1..784 with a message that names the allowed range."""
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int):
        raise ValueError(f"Latent size must be a whole number from 1 to {INPUT_DIM}, got {latent_dim!r}.")
    if not 1 <= latent_dim <= INPUT_DIM:
        raise ValueError(f"Latent size must be from 1 to {INPUT_DIM}, got {latent_dim}.")
    return latent_dim


def activation_label(activation: str) -> str:
    """How the pages and file names call an encoder activation: 'linear' or 'ReLU'."""
    return "ReLU" if activation == Activation.RELU else "linear"


def check_activation(activation: str) -> Activation:
    """Only the plain linear encoder and the classic ReLU variant exist."""
    if activation not in list(Activation):
        raise ValueError(f"Encoder activation must be one of {', '.join(Activation)}, got {activation!r}.")
    return Activation(activation)


def check_output(output: str) -> Output:
    """Only the sigmoid decoder (the default) and the purely linear one of the PCA theorem exist."""
    if output not in list(Output):
        raise ValueError(f"Decoder output must be one of {', '.join(Output)}, got {output!r}.")
    return Output(output)


def output_label(output: str) -> str:
    """How the pages name a decoder output: '' for the default sigmoid, 'linear output' otherwise."""
    return "linear output" if output == Output.LINEAR else ""


class LinearAutoencoder(nn.Module):
    """784 -> k (optional ReLU) -> 784 -> sigmoid (or linear output), trained to reproduce its input."""

    def __init__(self, latent_dim: int, activation: str = Activation.NONE, output: str = Output.SIGMOID) -> None:
        super().__init__()
        self.latent_dim = check_latent_dim(latent_dim)
        self.activation = check_activation(activation)
        self.output = check_output(output)
        self.encoder = nn.Linear(INPUT_DIM, latent_dim)
        self.decoder = nn.Linear(latent_dim, INPUT_DIM)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The compressed representation of flattened images."""
        z = self.encoder(x)  # (B, 784) -> (B, k)
        return torch.relu(z) if self.activation == Activation.RELU else z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images from latent codes: in [0, 1] with the sigmoid, unbounded with a linear output."""
        logits = self.decoder(z)  # (B, k) -> (B, 784)
        return torch.sigmoid(logits) if self.output == Output.SIGMOID else logits

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid decoder output, for a numerically cheaper loss."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def describe(self) -> str:
        """A short human label such as 'k=32 linear' or 'k=32 linear, linear output'."""
        extra = output_label(self.output)
        return f"k={self.latent_dim} {activation_label(self.activation)}" + (f", {extra}" if extra else "")
