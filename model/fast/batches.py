"""Seeded, shuffled training batches that are contiguous slices of memory, never gathered row by row.

Gathering 256 scattered rows from the 188 MB training set is a memory-bound copy that costs about as much as
one of a step's five matrix products. So the training set is put in one fixed random order once per process
(shuffled_rows), and each run takes its batches as consecutive rows of that copy: in a new random order
every epoch, starting from a random row, so that both the order and the make-up of the batches change from
epoch to epoch and from seed to seed. One copy shared by all runs, rather than a fresh one per run, matters:
allocating 188 MB costs about 0.2 s in page faults alone here, as much as a short run's whole training.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator

import torch

from model.config import batch_plan

SHUFFLE_SEED = 0  # the shared order is fixed, so the same run seed always gives the same batches

# id(images) -> (weak reference to images, their shuffled copy). Keyed by id because tensors compare
# element-wise, which rules out a WeakKeyDictionary; the entry goes when the images are freed.
_shuffled: dict[int, tuple[weakref.ref, torch.Tensor]] = {}
_lock = threading.Lock()  # trainers start on worker threads; let only one of them make the copy


def shuffled_rows(images: torch.Tensor) -> torch.Tensor:
    """`images` (N, D) in one seeded random order, made once per tensor and kept while the tensor lives.

    The copy is read, never written: `images` must not be modified in place once a run has used it.
    """
    key = id(images)
    with _lock:
        entry = _shuffled.get(key)
        if entry is not None and entry[0]() is images:
            return entry[1]
        order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(SHUFFLE_SEED))
        rows = images.index_select(0, order.to(images.device))
        _shuffled[key] = (weakref.ref(images, lambda ref: _forget(key, ref)), rows)
        return rows


def _forget(key: int, ref: weakref.ref) -> None:
    if _shuffled.get(key, (None,))[0] is ref:  # not an entry made since for a new tensor with the same id
        del _shuffled[key]


class ShuffledBatches:
    """Epochs of batches over `images` (N, D); each epoch yields every row exactly once."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int, device: torch.device | None = None) -> None:
        """`device`: where the batches are wanted; the shared copy is moved there for this object's lifetime."""
        if images.shape[0] == 0:
            raise ValueError("There are no images to train on.")
        self.rows = shuffled_rows(images).to(device or images.device)
        self.n = images.shape[0]
        self.batch_size, self.steps_per_epoch = batch_plan(self.n, batch_size)
        self._gen = torch.Generator().manual_seed(seed)
        # The one batch an epoch that runs past the last row and on from the first is joined up here.
        self._wrapped = torch.empty(self.batch_size, *images.shape[1:], dtype=images.dtype, device=self.rows.device)

    def epoch(self) -> Iterator[torch.Tensor]:
        """The next epoch's batches, as (rows, D) tensors that the caller must not modify."""
        n, b, rows = self.n, self.batch_size, self.rows
        offset = int(torch.randint(n, (), generator=self._gen))
        last = self.steps_per_epoch - 1  # the one batch that is short when b does not divide n
        for position in torch.randperm(self.steps_per_epoch, generator=self._gen).tolist():
            start = (offset + position * b) % n
            end = start + (n - last * b if position == last else b)
            if end <= n:
                yield rows[start:end]
            else:
                yield torch.cat((rows[start:], rows[: end - n]), out=self._wrapped[: end - start])
