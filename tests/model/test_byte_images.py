"""Training images kept as bytes (ByteImages): a quarter of the memory, and not one bit of difference in a run."""

from __future__ import annotations

import pytest
import torch

import model.fast.batches as batches_module
from model.config import TrainConfig
from model.data import unit_float
from model.fast.batches import ByteImages, ShuffledBatches, average_image, shuffled_bytes, shuffled_rows
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
    floats, packed, found = (
        ShuffledBatches(unit_float(raw), batch, seed=5, read_bytes=False),
        ShuffledBatches(ByteImages.from_pixels(raw), batch, seed=5),
        ShuffledBatches(unit_float(raw), batch, seed=5),  # float images that are exactly bytes: read as bytes
    )
    assert floats.rows.dtype == torch.float32 and found.rows.dtype == packed.rows.dtype == torch.uint8
    assert packed.steps_per_epoch == floats.steps_per_epoch == found.steps_per_epoch
    for _ in range(3):  # the epoch that wraps round the end, and the short last batch, included
        # Compared as read: the byte readers' buffers are reused.
        for a, b, c in zip(floats.epoch(), packed.epoch(), found.epoch(), strict=True):
            assert b.dtype == c.dtype == torch.float32 and torch.equal(a, b) and torch.equal(a, c)
            assert b.data_ptr() == packed._floats.data_ptr()  # written into the one buffer: no step allocates
            assert c.data_ptr() == found._floats.data_ptr()


def test_float_images_that_are_bytes_share_one_byte_copy() -> None:
    raw = pixels(300, seed=6)
    images = unit_float(raw)
    copy = shuffled_bytes(images)
    assert copy is not None and torch.equal(copy, ByteImages.from_pixels(raw).rows)  # the same rows, same order
    assert shuffled_bytes(images) is copy  # made once per tensor
    assert ShuffledBatches(images, 32, seed=1).rows is copy
    assert torch.equal(images, unit_float(raw))  # the caller's images are not modified


@pytest.mark.parametrize(
    "spoil",
    [
        lambda x: x.add_(torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) * 1e-3),  # not on the grid
        lambda x: x[-1, -1].fill_(0.5),  # one value off the grid, in the last slice checked
        lambda x: x[7, 3].fill_(-0.0),  # equal to 0.0 as a number, but not the conversion's bits
        lambda x: x[0, 0].fill_(float("nan")),
        lambda x: x[2, 2].fill_(2.0),  # a byte over 255
        lambda x: x[2, 2].fill_(-1 / 255),  # and under 0
    ],
    ids=["noise", "last-value", "negative-zero", "nan", "over", "under"],
)
def test_float_images_that_are_not_bytes_are_read_as_floats(spoil, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches_module, "CHECK_ROWS", 64)  # several slices, so the last one is reached
    images = unit_float(pixels(300, seed=7))
    spoil(images)
    assert shuffled_bytes(images) is None
    batches = ShuffledBatches(images, 32, seed=1)
    assert batches.rows is shuffled_rows(images) and batches._floats is None
    assert shuffled_bytes(unit_float(pixels(300, seed=7))) is not None  # the same digits unspoilt are bytes


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
def test_a_run_on_bytes_is_the_run_on_floats_bit_for_bit(config: TrainConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, test = pixels(600, seed=3), unit_float(pixels(200, seed=4))
    replay = test[:8]
    with monkeypatch.context() as patch:  # the float images read as floats, as images that are not bytes are
        patch.setattr(batches_module, "shuffled_bytes", lambda images: None)
        a = Trainer(config, unit_float(raw), test, replay_images=replay).run()
    b = Trainer(config, ByteImages.from_pixels(raw), test, replay_images=replay).run()
    c = Trainer(config, unit_float(raw), test, replay_images=replay).run()  # read as bytes, found to be bytes
    for other in (b, c):
        assert a.status == other.status == "done" and a.step == other.step > 0
        assert torch.equal(a.train_loss, other.train_loss)
        assert a.test_mse == other.test_mse and a.noisy_test_mse == other.noisy_test_mse
        for name in a.state:
            assert torch.equal(a.state[name], other.state[name]), name
        for x, y in zip(a.replay, other.replay, strict=True):
            assert torch.equal(x, y)
