"""Seeded, shuffled training batches that are contiguous slices of memory after the first epoch.

Gathering 256 scattered rows from the 188 MB training set is a memory-bound copy that costs about as
much as one of the step's five matrix products. So the first epoch gathers a seeded permutation of the
data into the trainer's own copy, batch by batch as it trains (no up-front cost), and every later epoch
reads that copy in place: its batches come in a new random order each epoch, from a random starting
row, so both the order and the make-up of the batches change from epoch to epoch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


class ShuffledBatches:
    """Epochs of batches over `images` (N, D); each epoch yields every row exactly once."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int) -> None:
        if images.shape[0] == 0:
            raise ValueError("There are no images to train on.")
        self.images = images
        self.n = images.shape[0]
        self.batch_size = min(batch_size, self.n)
        self.steps_per_epoch = -(-self.n // self.batch_size)
        self._gen = torch.Generator().manual_seed(seed)
        # The permuted copy, followed by a repeat of its first batch so that any batch_size rows from any
        # starting row, wrapping round the end, are one contiguous slice.
        self._copy: torch.Tensor | None = None
        self._copy_complete = False

    def epoch(self) -> Iterator[torch.Tensor]:
        """The next epoch's batches, as (rows, D) tensors that the caller must not modify.

        Until one epoch has been read to its end, each epoch gathers (a new permutation) again.
        """
        return self._slicing() if self._copy_complete else self._gathering()

    def _gathering(self) -> Iterator[torch.Tensor]:
        n, b = self.n, self.batch_size
        order = torch.randperm(n, generator=self._gen).to(self.images.device)
        copy = self._copy = torch.empty(
            n + b, *self.images.shape[1:], dtype=self.images.dtype, device=self.images.device
        )
        for start in range(0, n, b):
            index = order[start : start + b]
            yield torch.index_select(self.images, 0, index, out=copy[start : start + index.shape[0]])
        copy[n:] = copy[:b]
        self._copy_complete = True

    def _slicing(self) -> Iterator[torch.Tensor]:
        n, b, copy = self.n, self.batch_size, self._copy
        offset = int(torch.randint(b, (), generator=self._gen))
        last = self.steps_per_epoch - 1  # the one batch that is short when b does not divide n
        for position in torch.randperm(self.steps_per_epoch, generator=self._gen).tolist():
            start = offset + position * b
            yield copy[start : start + (n - last * b if position == last else b)]
