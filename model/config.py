"""Training hyper-parameters, with the defaults chosen by measurement (see bench/quality.py)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum

from model.autoencoder import INPUT_DIM, Activation, Output, check_activation, check_latent_dim, check_output
from model.noise import NO_NOISE, check_noise

MAX_EPOCHS = 200
MAX_BATCH = 60_000  # the widest batch the pages and links offer: MNIST's training set (a wider one is all of it)
MAX_LR = 10.0  # far beyond any useful Adam step size; above it float32 arithmetic overflows
MAX_SEED = 2**31 - 1  # the largest seed the pages and links offer
BIAS_INITS = ("mean", "uniform")
# Each numeric field's allowed range, (lowest, highest), read by the CLI's help, the Train widgets and the
# preset links. TrainConfig itself enforces those of latent_dim, epochs, lr and noise_level; batch_size only
# from 1 and seed not at all, as before (a batch wider than the data is the whole data).
LIMITS: dict[str, tuple[int, int] | tuple[float, float]] = {
    "latent_dim": (1, INPUT_DIM),
    "epochs": (1, MAX_EPOCHS),
    "batch_size": (1, MAX_BATCH),
    "lr": (0.0, MAX_LR),
    "seed": (0, MAX_SEED),
    "noise_level": (0.0, 1.0),
}


class Schedule(StrEnum):
    """How the learning rate moves over a run."""

    COSINE = "cosine"  # decays to zero by the last step (or the end of the time budget)
    CONSTANT = "constant"  # the classic recipe


def batch_plan(n: int, batch_size: int) -> tuple[int, int]:
    """(batch size, steps per epoch): a batch larger than the data is the whole data; the last may be short."""
    batch = min(batch_size, n)
    return batch, -(-n // batch)


@dataclass(frozen=True)
class TrainConfig:
    latent_dim: int = 32  # k, the size of the compressed representation (1..784)
    activation: Activation = Activation.NONE  # NONE: purely linear encoder; RELU: the classic tutorial's variant
    epochs: int = 10  # passes over the training set
    batch_size: int = 256  # large batches keep the CPU's matrix units busy
    lr: float = 0.01  # Adam's peak learning rate, decayed to zero over the run (cosine)
    seed: int = 0  # seeds the initial weights, the shuffling and any noise
    noise: str = NO_NOISE  # a key of model.noise.NOISES: corrupt the input, keep the clean image as the target
    noise_level: float = 0.0  # in [0, 1]; see model.noise
    schedule: Schedule = Schedule.COSINE  # cosine decay of the learning rate, or constant
    max_seconds: float | None = None  # wall-clock budget; the schedule then follows time as well
    # "mean": the decoder's bias starts at the logit of the average training digit, so the untrained model
    # outputs that digit. "uniform": PyTorch's default, which outputs grey 0.5 everywhere; the first Adam
    # steps then push every output towards black at once and, at k >= 300, saturate the sigmoid for good
    # (test MSE stuck at 0.115). Measured in bench/large_k.py.
    bias_init: str = "mean"
    output: Output = Output.SIGMOID  # decoder output: SIGMOID (pixels in [0, 1]) or LINEAR (the PCA theorem's model)

    def __post_init__(self) -> None:
        check_latent_dim(self.latent_dim)
        # Stored as the enums (equal to their strings), whether given as enums or as strings from a file or link.
        object.__setattr__(self, "activation", check_activation(self.activation))
        object.__setattr__(self, "output", check_output(self.output))
        check_noise(self.noise, self.noise_level)
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"Epochs must be a whole number from 1 to {MAX_EPOCHS}, got {self.epochs!r}.")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"Batch size must be a whole number of at least 1, got {self.batch_size!r}.")
        if not math.isfinite(self.lr) or not 0 <= self.lr <= MAX_LR:  # NaN, infinite, negative or absurd
            raise ValueError(f"Learning rate must be a number from 0 to {MAX_LR:g}, got {self.lr!r}.")
        if self.schedule not in list(Schedule):
            raise ValueError(f"Schedule must be 'cosine' or 'constant', got {self.schedule!r}.")
        object.__setattr__(self, "schedule", Schedule(self.schedule))
        if self.bias_init not in BIAS_INITS:
            raise ValueError(f"Bias init must be one of {', '.join(BIAS_INITS)}, got {self.bias_init!r}.")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise ValueError(f"The time budget must be positive, got {self.max_seconds!r} seconds.")

    @classmethod
    def classic(cls, **overrides: object) -> TrainConfig:
        """The classic tutorial's recipe: ReLU encoder, Adam 1e-3, batch 20, 20 epochs, k = 32."""
        base = dict(
            latent_dim=32, activation=Activation.RELU, epochs=20, batch_size=20, lr=0.001, schedule=Schedule.CONSTANT
        )
        return cls(**{**base, **overrides})

    @classmethod
    def watch_pca(cls, **overrides: object) -> TrainConfig:
        """The 'Watch it become PCA' preset: the theorem's model (linear encoder and output), k = 32.

        Measured on MNIST (README): Adam 0.005 with cosine decay, batch 256, gets within 1% of PCA's test
        error by epoch 3-4 and a mean cos^2 of the principal angles above 0.95 by epoch 3, over three seeds.
        """
        base = dict(
            latent_dim=32, activation=Activation.NONE, output=Output.LINEAR, epochs=10, batch_size=256, lr=0.005
        )
        return cls(**{**base, "schedule": Schedule.COSINE, **overrides})

    def with_(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (and validated again)."""
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a dict, ignoring keys this version does not know (older or newer files)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
