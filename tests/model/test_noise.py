"""Statistics of each corruption, the range of its output, seeding, and PSNR."""

from __future__ import annotations

import math

import pytest
import torch

from model.noise import NOISES, add_noise, block_side, check_noise, noise_kinds, psnr

N = 400  # images per statistical check: 313,600 pixels, so fractions are good to about 0.3 %


def grey(n: int = N) -> torch.Tensor:
    return torch.full((n, 784), 0.5)


def digits_like(n: int = N) -> torch.Tensor:
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(1)) ** 3  # mostly dark, some bright


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.15])
def test_gaussian_std_matches_sigma(sigma: float) -> None:
    clean = grey()
    delta = add_noise(clean, "gaussian", sigma, seed=1) - clean
    # At 0.15 a clip at 0 or 1 needs 3.3 sigma, which barely changes the spread.
    assert float(delta.std()) == pytest.approx(sigma, rel=0.02)
    assert abs(float(delta.mean())) < 0.01 * sigma + 1e-3


@pytest.mark.parametrize("level", [0.1, 0.3, 0.8])
def test_salt_pepper_changes_the_given_fraction_half_black_half_white(level: float) -> None:
    clean = grey()
    noisy = add_noise(clean, "salt_pepper", level, seed=2)
    changed = noisy != clean
    assert float(changed.float().mean()) == pytest.approx(level, abs=0.01)
    black = float((noisy == 0.0).float().mean())
    white = float((noisy == 1.0).float().mean())
    assert black == pytest.approx(level / 2, abs=0.01)
    assert white == pytest.approx(level / 2, abs=0.01)
    assert bool(((noisy == 0.0) | (noisy == 1.0))[changed].all())  # every changed pixel is salt or pepper


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_dropout_zeroes_the_given_fraction(level: float) -> None:
    clean = grey()
    noisy = add_noise(clean, "dropout", level, seed=3)
    assert float((noisy == 0).float().mean()) == pytest.approx(level, abs=0.01)
    kept = noisy != 0
    assert torch.equal(noisy[kept], clean[kept])  # the rest is untouched


@pytest.mark.parametrize("level", [0.1, 0.25, 0.5, 1.0])
def test_block_zeroes_one_square_per_image(level: float) -> None:
    side = block_side(level)
    clean = torch.ones(50, 784)
    noisy = add_noise(clean, "block", level, seed=4)
    zeroed = (noisy == 0).reshape(50, 28, 28)
    assert torch.equal(zeroed.sum(dim=(1, 2)), torch.full((50,), side * side))
    for mask in zeroed:  # the zeroed pixels form one side x side square
        rows = mask.any(dim=1).nonzero().flatten()
        cols = mask.any(dim=0).nonzero().flatten()
        assert len(rows) == side and len(cols) == side
        assert int(rows[-1] - rows[0]) == side - 1 and int(cols[-1] - cols[0]) == side - 1
    if side < 28:  # the place is random: not every image has the same square
        assert not all(torch.equal(zeroed[0], z) for z in zeroed[1:])


@pytest.mark.parametrize(("level", "side"), [(0.0, 0), (0.01, 0), (0.02, 1), (0.1, 3), (0.25, 7), (0.5, 14), (1.0, 28)])
def test_block_side_mapping(level: float, side: int) -> None:
    assert block_side(level) == side


@pytest.mark.parametrize("kind", noise_kinds())
@pytest.mark.parametrize("level", [0.0, 0.3, 1.0])
def test_outputs_stay_in_range_and_keep_shape(kind: str, level: float) -> None:
    clean = digits_like(20)
    noisy = add_noise(clean, kind, level, seed=5)
    assert noisy.shape == clean.shape and noisy.dtype == clean.dtype
    assert bool(((noisy >= 0) & (noisy <= 1)).all())
    assert noisy.data_ptr() != clean.data_ptr()  # a new tensor: the caller's images are never changed
    if kind == "none" or level == 0.0:
        assert torch.equal(noisy, clean)
    else:
        assert not torch.equal(noisy, clean)


@pytest.mark.parametrize("kind", list(NOISES))
def test_input_is_not_modified(kind: str) -> None:
    clean = digits_like(10)
    before = clean.clone()
    add_noise(clean, kind, 0.5, seed=0)
    assert torch.equal(clean, before)


@pytest.mark.parametrize("kind", list(NOISES))
def test_same_seed_same_output_other_seed_other_output(kind: str) -> None:
    clean = digits_like(20)
    a = add_noise(clean, kind, 0.4, seed=7)
    b = add_noise(clean, kind, 0.4, seed=7)
    c = add_noise(clean, kind, 0.4, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    assert torch.equal(add_noise(clean, kind, 0.4, generator=g1), add_noise(clean, kind, 0.4, generator=g2))
    # A generator advances, so consecutive training batches get fresh noise.
    assert not torch.equal(add_noise(clean, kind, 0.4, generator=g1), add_noise(clean, kind, 0.4, generator=g1))


@pytest.mark.parametrize(
    ("kind", "level", "match"),
    [
        ("speckle", 0.1, "Noise type"),
        ("", 0.1, "Noise type"),
        ("gaussian", -0.1, "between 0 and 1"),
        ("dropout", 1.5, "between 0 and 1"),
        ("block", float("nan"), "between 0 and 1"),
    ],
)
def test_invalid_type_or_level_is_rejected(kind: str, level: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_noise(kind, level)
    with pytest.raises(ValueError, match=match):
        add_noise(torch.zeros(1, 784), kind, level)


def test_psnr_known_values() -> None:
    clean = torch.full((3, 784), 0.5)
    other = clean.clone()
    other[0] += 0.1  # MSE 0.01 -> 20 dB
    other[1] += 0.01  # MSE 1e-4 -> 40 dB
    values = psnr(clean, other)
    assert values.shape == (3,)
    assert float(values[0]) == pytest.approx(20.0, abs=1e-4)
    assert float(values[1]) == pytest.approx(40.0, abs=1e-3)
    assert math.isinf(float(values[2])) and float(values[2]) > 0
