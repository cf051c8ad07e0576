"""Words for a run's settings, shared by the Train page's progress line and the Compare page's sweep."""

from __future__ import annotations

from model.autoencoder import activation_label
from model.config import TrainConfig
from model.noise import NO_NOISE, noise_name
from model.plural import plural


def noise_text(kind: str, level: float) -> str:
    """'no noise' or 'denoising, Gaussian noise 0.3'."""
    if kind == NO_NOISE:
        return "no noise"
    return f"denoising, {noise_name(kind)} noise {level:g}"


def run_title(config: TrainConfig) -> str:
    """Which run is going, in one phrase: 'k = 32, 10 epochs, no noise'."""
    return f"k = {config.latent_dim}, {plural(config.epochs, 'epoch')}, {noise_text(config.noise, config.noise_level)}"


def settings_text(config: TrainConfig) -> str:
    """Every setting but k, for a sweep's caption: nothing it uses goes unsaid."""
    return ", ".join(
        [
            activation_label(config.activation),
            plural(config.epochs, "epoch"),
            f"batch {config.batch_size}",
            f"learning rate {config.lr:g} ({config.schedule})",
            f"seed {config.seed}",
            noise_text(config.noise, config.noise_level),
            *([f"time budget {config.max_seconds:g} s"] if config.max_seconds else []),
        ]
    )
