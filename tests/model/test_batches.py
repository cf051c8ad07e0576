"""ShuffledBatches: every row once per epoch, seeded, reshuffled each epoch, read in place from one shared copy."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

from model.fast.batches import ShuffledBatches, shuffled_rows


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
    for _ in range(4):
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
    epochs = [epoch_ids(batches) for _ in range(5)]
    assert epochs[0][0] != sorted(epochs[0][0])  # a real shuffle, not the stored order
    for a, b in zip(epochs, epochs[1:], strict=False):
        assert a != b
        same_batches = {tuple(sorted(x)) for x in a} & {tuple(sorted(x)) for x in b}
        assert len(same_batches) < len(a) // 2  # the random start row regroups most batches


def test_batches_are_read_in_place_from_one_copy_per_images_tensor() -> None:
    images = numbered_rows(300)
    first, second = ShuffledBatches(images, 32, seed=1), ShuffledBatches(images, 64, seed=2)
    assert first.rows is second.rows  # runs on the same data share the shuffled copy
    assert ShuffledBatches(images, 32, seed=3, device=torch.device("cpu")).rows is first.rows  # no move needed
    assert ShuffledBatches(images.clone(), 32, seed=1).rows is not first.rows
    in_place = [b._base is first.rows for b in first.epoch()]
    assert in_place.count(False) <= 1  # only a batch that wraps round the end is assembled


def test_the_shared_copy_goes_with_its_images() -> None:
    images = numbered_rows(50)
    copy = weakref.ref(shuffled_rows(images))
    del images
    gc.collect()
    assert copy() is None


def test_no_images_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no images"):
        ShuffledBatches(torch.empty(0, 784), 16, seed=0)
