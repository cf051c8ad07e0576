"""Training images kept as bytes (ByteImages): a quarter of the memory, and not one bit of difference in a run."""

from __future__ import annotations

import pytest
import torch

from model.config import TrainConfig
from model.data import unit_float
from model.fast.batches import ByteImages, ShuffledBatches, average_image, shuffled_rows
from model.train import Trainer
from tests.conftest import digit_like_images


def pixels(n: int, seed: int) -> torch.Tensor:
    """n generated digits as (n, 784) uint8, the way they are stored."""
    images, _ = digit_like_images(n, seed=seed)
    return torch.from_numpy(images).reshape(n, 784)


def test_unit_float_is_the_loaders_conversion_for_every_byte_and_length() -> None:
    every = torch.arange(256, dtype=torch.uint8).repeat(5)  # (1280,): vector lanes and scalar tails alike
    for start, stop in ((0, 1280), (3, 40), (7, 8), (255, 1279)):
        part = every[start:stop]
        expected = part.to(torch.float32).div_(255.0)  # how the loader converted before unit_float existed
        assert torch.equal(unit_float(part), expected)
        out = torch.full((stop - start,), -1.0)
        assert unit_float(part, out=out) is out and torch.equal(out, expected)
    assert unit_float(every).dtype == torch.float32
    assert float(unit_float(every).min()) == 0.0 and float(unit_float(every).max()) == 1.0


def test_byte_images_hold_the_shuffled_rows_and_the_average_of_the_float_images() -> None:
    raw = pixels(500, seed=1)
    images = unit_float(raw)  # (500, 784) float32, what load_mnist keeps
    packed = ByteImages.from_pixels(raw)
    assert len(packed) == 500 and packed.rows.dtype == torch.uint8
    assert packed.rows.nbytes * 4 == images.nbytes  # a quarter of the memory
    assert torch.equal(unit_float(packed.rows), shuffled_rows(images))  # the same order as the float copy
    assert torch.equal(average_image(packed), images.mean(dim=0))  # bit for bit
    assert torch.equal(average_image(images), images.mean(dim=0))
    assert torch.equal(raw, pixels(500, seed=1))  # the caller's pixels are not modified


@pytest.mark.parametrize(("n", "batch"), [(500, 64), (512, 64), (50, 64), (7, 3)])
def test_batches_from_bytes_equal_the_float_batches(n: int, batch: int) -> None:
    raw = pixels(n, seed=2)
    floats, packed = (
        ShuffledBatches(unit_float(raw), batch, seed=5),
        ShuffledBatches(ByteImages.from_pixels(raw), batch, seed=5),
    )
    assert packed.steps_per_epoch == floats.steps_per_epoch
    buffer = packed._floats
    for _ in range(3):  # the epoch that wraps round the end, and the short last batch, included
        for a, b in zip(floats.epoch(), packed.epoch(), strict=True):  # compared as read: b's buffer is reused
            assert b.dtype == torch.float32 and torch.equal(a, b)
            assert b.data_ptr() == buffer.data_ptr()  # written into the one buffer: no step allocates a batch


def test_no_byte_images_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no images"):
        ShuffledBatches(ByteImages.from_pixels(torch.empty(0, 784, dtype=torch.uint8)), 16, seed=0)


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(latent_dim=5, epochs=3, batch_size=64, seed=2),
        TrainConfig(latent_dim=4, epochs=2, batch_size=100, seed=1, noise="gaussian", noise_level=0.3),
        TrainConfig(latent_dim=3, epochs=2, batch_size=32, seed=0, activation="relu", output="linear"),
    ],
    ids=["plain", "denoiser", "relu-linear"],
)
def test_a_run_on_bytes_is_the_run_on_floats_bit_for_bit(config: TrainConfig) -> None:
    raw, test = pixels(600, seed=3), unit_float(pixels(200, seed=4))
    replay = test[:8]
    a = Trainer(config, unit_float(raw), test, replay_images=replay).run()
    b = Trainer(config, ByteImages.from_pixels(raw), test, replay_images=replay).run()
    assert a.status == b.status == "done" and a.step == b.step > 0
    assert torch.equal(a.train_loss, b.train_loss)
    assert a.test_mse == b.test_mse and a.noisy_test_mse == b.noisy_test_mse
    for name in a.state:
        assert torch.equal(a.state[name], b.state[name]), name
    for x, y in zip(a.replay, b.replay, strict=True):
        assert torch.equal(x, y)
