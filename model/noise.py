"""Seeded corruptions of flattened images, one NOISES entry each; levels are in [0, 1] and results stay in [0, 1]."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from model.autoencoder import SIDE

NO_NOISE = "none"  # the kind of a plain (not denoising) run
NO_NOISE_LABEL = "No noise"


@dataclass(frozen=True)
class Noise:
    """One corruption: how the pages name it and how it is drawn. One entry in NOISES is all a new type needs."""

    label: str  # the settings' wording, with what the level means: "Gaussian (sigma)"
    name: str  # its name inside a sentence: "Gaussian", "salt and pepper"
    default_level: float  # the Denoise page's starting level, the one its bundled denoiser was trained at
    corrupt: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]  # (B, 784), level in (0, 1] -> (B, 784)


def _gaussian(x: torch.Tensor, level: float, generator: torch.Generator) -> torch.Tensor:
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + level * noise).clamp_(0.0, 1.0)


def _salt_pepper(x: torch.Tensor, level: float, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    out = x.clone()
    out[u < level / 2] = 0.0  # pepper
    out[(u >= level / 2) & (u < level)] = 1.0  # salt
    return out


def _dropout(x: torch.Tensor, level: float, generator: torch.Generator) -> torch.Tensor:
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= level
    return x * keep


def _block(x: torch.Tensor, level: float, generator: torch.Generator) -> torch.Tensor:
    return _occlude(x, block_side(level), generator)


# The noise kinds, in the order the pages offer them; a kind's key is what configs, files and links store.
NOISES: dict[str, Noise] = {
    "gaussian": Noise("Gaussian (sigma)", "Gaussian", 0.3, _gaussian),
    "salt_pepper": Noise("Salt and pepper (fraction of pixels)", "salt and pepper", 0.2, _salt_pepper),
    "dropout": Noise("Pixel dropout (fraction of pixels)", "pixel dropout", 0.3, _dropout),
    "block": Noise(f"Block occlusion (side, fraction of {SIDE} px)", "block occlusion", 0.4, _block),
}


def noise_kinds() -> tuple[str, ...]:
    """Every kind a config accepts: no noise, then the registry's (read at call time, so tests can add one)."""
    return (NO_NOISE, *NOISES)


def noise_label(kind: str) -> str:
    """The settings' wording for a kind, 'No noise' included; an unknown kind is shown as it is."""
    return NO_NOISE_LABEL if kind == NO_NOISE else NOISES[kind].label if kind in NOISES else kind


def noise_name(kind: str) -> str:
    """A kind's name inside a sentence: 'Gaussian', 'salt and pepper', 'pixel dropout', 'block occlusion'."""
    return NOISES[kind].name if kind in NOISES else kind


def check_noise(kind: str, level: float) -> tuple[str, float]:
    """Validate a noise type and level, with messages a user can act on."""
    if kind not in noise_kinds():
        raise ValueError(f"Noise type must be one of {', '.join(noise_kinds())}, got {kind!r}.")
    level = float(level)
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"Noise level must be between 0 and 1, got {level}.")
    return kind, level


def block_side(level: float) -> int:
    """Side of the occluding square in pixels for a block level in [0, 1]."""
    return int(round(level * SIDE))


def add_noise(
    x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None, seed: int | None = None
) -> torch.Tensor:
    """Corrupt a (B, 784) batch; pass a generator (training) or a seed (display)."""
    kind, level = check_noise(kind, level)
    if kind == NO_NOISE or level == 0.0:
        return x.clone()
    if generator is None:
        generator = torch.Generator(device=x.device)
        generator.manual_seed(0 if seed is None else int(seed))
    return NOISES[kind].corrupt(x, level, generator)


def _occlude(x: torch.Tensor, side: int, generator: torch.Generator) -> torch.Tensor:
    """Black out one side x side square per image at a random place inside it."""
    if side <= 0:
        return x.clone()
    batch = x.shape[0]
    top = torch.randint(0, SIDE - side + 1, (batch,), generator=generator, device=x.device)
    left = torch.randint(0, SIDE - side + 1, (batch,), generator=generator, device=x.device)
    rows = torch.arange(SIDE, device=x.device)
    in_rows = (rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + side)  # (B, 28)
    in_cols = (rows[None, :] >= left[:, None]) & (rows[None, :] < left[:, None] + side)  # (B, 28)
    mask = (in_rows[:, :, None] & in_cols[:, None, :]).reshape(batch, SIDE * SIDE)  # (B, 784)
    return x.masked_fill(mask, 0.0)


def psnr(clean: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (peak 1.0); identical images give +inf."""
    mse = ((clean - other) ** 2).mean(dim=-1)
    return 10.0 * torch.log10(1.0 / mse)
