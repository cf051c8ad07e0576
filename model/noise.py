"""Seeded corruptions of flattened images; every level is in [0, 1] and results stay in [0, 1]."""

from __future__ import annotations

import torch

SIDE = 28
NOISE_TYPES = ("none", "gaussian", "salt_pepper", "dropout", "block")
NOISE_LABELS = {
    "none": "No noise",
    "gaussian": "Gaussian (sigma)",
    "salt_pepper": "Salt and pepper (fraction of pixels)",
    "dropout": "Pixel dropout (fraction of pixels)",
    "block": "Block occlusion (side, fraction of 28 px)",
}


def check_noise(kind: str, level: float) -> tuple[str, float]:
    """Validate a noise type and level, with messages a user can act on."""
    if kind not in NOISE_TYPES:
        raise ValueError(f"Noise type must be one of {', '.join(NOISE_TYPES)}, got {kind!r}.")
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
    if kind == "none" or level == 0.0:
        return x.clone()
    if generator is None:
        generator = torch.Generator(device=x.device)
        generator.manual_seed(0 if seed is None else int(seed))
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * noise).clamp_(0.0, 1.0)
    if kind == "salt_pepper":
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        out = x.clone()
        out[u < level / 2] = 0.0  # pepper
        out[(u >= level / 2) & (u < level)] = 1.0  # salt
        return out
    if kind == "dropout":
        keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= level
        return x * keep
    return _occlude(x, block_side(level), generator)


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
