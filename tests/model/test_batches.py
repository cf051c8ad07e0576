"""ShuffledBatches: every row once per epoch, seeded, reshuffled each epoch, slices after the first."""

from __future__ import annotations

import pytest
import torch

from model.batches import ShuffledBatches


def numbered_rows(n: int, width: int = 3) -> torch.Tensor:
    """Row i holds the value i everywhere, so a batch tells which rows it holds."""
    return torch.arange(n, dtype=torch.float32).unsqueeze(1).repeat(1, width)


def row_ids(batch: torch.Tensor) -> list[int]:
    return batch[:, 0].long().tolist()


def epoch_ids(batches: ShuffledBatches) -> list[list[int]]:
    return [row_ids(b) for b in batches.epoch()]


@pytest.mark.parametrize(("n", "batch"), [(100, 16), (96, 16), (7, 7), (5, 50), (1, 4)])
def test_each_epoch_yields_every_row_exactly_once(n: int, batch: int) -> None:
    images = numbered_rows(n)
    batches = ShuffledBatches(images, batch, seed=0)
    for _ in range(4):  # the gathering epoch, then several slicing ones
        epoch = epoch_ids(batches)
        assert len(epoch) == batches.steps_per_epoch == -(-n // min(batch, n))
        assert sorted(i for b in epoch for i in b) == list(range(n))
        assert sorted(len(b) for b in epoch)[1:] == [min(batch, n)] * (len(epoch) - 1)  # one may be short
    assert torch.equal(images, numbered_rows(n))  # the caller's data is never modified


def test_the_same_seed_gives_the_same_batches_and_another_seed_does_not() -> None:
    images = numbered_rows(200)
    runs = [ShuffledBatches(images, 32, seed=s) for s in (4, 4, 5)]
    epochs = [[epoch_ids(r) for _ in range(3)] for r in runs]
    assert epochs[0] == epochs[1]
    assert epochs[0] != epochs[2]


def test_order_and_make_up_of_batches_change_between_epochs() -> None:
    images = numbered_rows(1000)
    batches = ShuffledBatches(images, 50, seed=1)
    first = epoch_ids(batches)
    assert first[0] != sorted(first[0])  # the first epoch is a real shuffle, not the stored order
    later = [epoch_ids(batches) for _ in range(4)]
    for a, b in zip([first, *later[:-1]], later, strict=True):
        assert a != b
        same_batches = {tuple(sorted(x)) for x in a} & {tuple(sorted(x)) for x in b}
        assert len(same_batches) < len(a) // 2  # the random start row regroups most batches
    # Later epochs read batches in place: contiguous slices of one buffer, not fresh copies.
    views = list(batches.epoch())
    assert all(v._base is views[0]._base and v._base is not None for v in views)


def test_an_unfinished_first_epoch_is_gathered_again() -> None:
    images = numbered_rows(64)
    batches = ShuffledBatches(images, 8, seed=2)
    it = batches.epoch()
    next(it)  # abandoned after one batch, as a stopped run does
    epoch = epoch_ids(batches)
    assert sorted(i for b in epoch for i in b) == list(range(64))


def test_no_images_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no images"):
        ShuffledBatches(torch.empty(0, 784), 16, seed=0)
