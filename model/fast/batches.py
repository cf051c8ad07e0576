"""Seeded, shuffled training batches that are contiguous slices of memory, never gathered row by row.

Gathering 256 scattered rows from the 188 MB training set is a memory-bound copy that costs about as much as
one of a step's five matrix products. So the training set is put in one fixed random order once per process
(shuffled_rows), and each run takes its batches as consecutive rows of that copy: in a new random order
every epoch, starting from a random row, so that both the order and the make-up of the batches change from
epoch to epoch and from seed to seed. One copy shared by all runs, rather than a fresh one per run, matters:
allocating 188 MB costs about 0.2 s in page faults alone here, as much as a short run's whole training.

A process that only trains (an engine worker) keeps ByteImages instead: the same shuffled rows as uint8
pixels, 47 MB rather than 188 MB for the images plus 188 MB for their copy; each batch is converted into one
reused float32 buffer by model.data.unit_float, the loader's own conversion, so it is the same bit for bit.
Float images that are exactly such conversions (MNIST as loaded: the CLI, thread workers) get the same: their
shared copy is made as bytes (shuffled_bytes), which a step reads a quarter of from memory. Converting a
batch costs less than reading it as floats: a run on one thread gained 4-7% per CPU-second here.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from model.config import batch_plan
from model.data import unit_float
from model.fast import native

SHUFFLE_SEED = 0  # the shared order is fixed, so the same run seed always gives the same batches

# (id(images), kind) -> (weak reference to images, their shuffled copy or None). Keyed by id because tensors
# compare element-wise, which rules out a WeakKeyDictionary; the entry goes when the images are freed.
_shuffled: dict[tuple[int, str], tuple[weakref.ref, torch.Tensor | None]] = {}
_lock = threading.Lock()  # trainers start on worker threads; let only one of them make the copy
CHECK_ROWS = 4096  # rows converted and checked at a time by shuffled_bytes: 13 MB of float32 scratch


def shuffle_order(n: int) -> torch.Tensor:
    """(n,) the one fixed random order of the rows that every shuffled copy uses."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(SHUFFLE_SEED))


def shuffled_rows(images: torch.Tensor) -> torch.Tensor:
    """`images` (N, D) in one seeded random order, made once per tensor and kept while the tensor lives.

    The copy is read, never written: `images` must not be modified in place once a run has used it.
    """
    rows = _shared_copy(
        images, "floats", lambda: images.index_select(0, shuffle_order(images.shape[0]).to(images.device))
    )
    assert rows is not None
    return rows


def shuffled_bytes(images: torch.Tensor) -> torch.Tensor | None:
    """(N, D) uint8 pixels p in shuffle_order with unit_float(p) bitwise equal to `images`' rows; None if none exist.

    Made (or found not to exist) once per tensor and kept while it lives; the same rules as shuffled_rows.
    """
    return _shared_copy(images, "bytes", lambda: _as_bytes(images, shuffle_order(images.shape[0])))


def exact_bytes(images: torch.Tensor) -> torch.Tensor | None:
    """(N, D) uint8 pixels p, in `images`' own order, with unit_float(p) bitwise equal to `images`; None if none exist.

    For the test score (model/fast/score.py): read as bytes, the test digits take a quarter of the memory
    traffic. Made (or found not to exist) once per tensor and kept while it lives, as shuffled_rows' copy.
    """
    return _shared_copy(images, "bytes-in-order", lambda: _as_bytes(images, torch.arange(images.shape[0])))


def _shared_copy(images: torch.Tensor, kind: str, make: Callable[[], torch.Tensor | None]) -> torch.Tensor | None:
    key = (id(images), kind)
    with _lock:
        entry = _shuffled.get(key)
        if entry is not None and entry[0]() is images:
            return entry[1]
        copy = make()
        _shuffled[key] = (weakref.ref(images, lambda ref: _forget(key, ref)), copy)
        return copy


def _as_bytes(images: torch.Tensor, order: torch.Tensor) -> torch.Tensor | None:
    """The rows in `order` as bytes, checked a slice at a time; None at the first value that is not a byte / 255."""
    if images.dtype != torch.float32 or images.device.type != "cpu" or images.dim() != 2:
        return None
    pixels = torch.empty(images.shape, dtype=torch.uint8)
    rows = torch.empty(min(CHECK_ROWS, images.shape[0]), images.shape[1])  # scratch: the float rows
    back = torch.empty_like(rows)  # scratch: the candidate bytes, then their conversion
    for start in range(0, images.shape[0], CHECK_ROWS):
        part = order[start : start + CHECK_ROWS]
        n = part.shape[0]
        floats = torch.index_select(images, 0, part, out=rows[:n])
        candidate = torch.mul(floats, 255.0, out=back[:n]).round_()
        if not bool(((candidate >= 0) & (candidate <= 255)).all()):  # NaN fails too
            return None
        chunk = pixels[start : start + n]
        chunk.copy_(candidate)
        # Compared as bits: -0.0 equals 0.0 as a number but is not what the conversion gives.
        if not torch.equal(unit_float(chunk, out=back[:n]).view(torch.int32), floats.view(torch.int32)):
            return None
    return pixels


def _forget(key: tuple[int, str], ref: weakref.ref) -> None:
    if _shuffled.get(key, (None,))[0] is ref:  # not an entry made since for a new tensor with the same id
        del _shuffled[key]


@dataclass(frozen=True)
class ByteImages:
    """Training images as uint8 pixels, already in shuffle_order, with their average: a quarter of the memory."""

    rows: torch.Tensor  # (N, D) uint8 in 0-255, row i = pixels[shuffle_order(N)[i]]
    average: torch.Tensor  # (D,) float32: exactly what the float32 images' mean(dim=0) gives

    @classmethod
    def from_pixels(cls, pixels: torch.Tensor) -> ByteImages:
        """From (N, D) uint8 pixels as loaded; the float32 images exist only for a moment, to take their mean."""
        average = unit_float(pixels).mean(dim=0)  # (N, D) -> (D,), from the very images a float run would use
        return cls(pixels.index_select(0, shuffle_order(pixels.shape[0]).to(pixels.device)), average)

    def __len__(self) -> int:
        return self.rows.shape[0]


def average_image(images: torch.Tensor | ByteImages) -> torch.Tensor:
    """(D,) the mean training image, the same bits for float32 images and for their ByteImages."""
    return images.average if isinstance(images, ByteImages) else images.mean(dim=0)


class ShuffledBatches:
    """Epochs of batches over `images` (N, D); each epoch yields every row exactly once."""

    def __init__(
        self,
        images: torch.Tensor | ByteImages,
        batch_size: int,
        seed: int,
        device: torch.device | None = None,
        read_bytes: bool = True,
    ) -> None:
        """`device`: where the batches are wanted; the shared copy is moved there for this object's lifetime.

        ByteImages stay bytes on the CPU (each batch converted as it is read); another device gets their float32
        form, converted on the CPU first: CUDA divides by a scalar through its reciprocal, which rounds differently.
        Float images on the CPU are read as bytes too when they are exactly bytes (see shuffled_bytes), unless
        `read_bytes` is False; the batches are the same bit for bit either way.
        """
        if len(images) == 0:
            raise ValueError("There are no images to train on.")
        if isinstance(images, ByteImages):
            device = device or images.rows.device
            self.rows = images.rows.to(device) if device.type == "cpu" else unit_float(images.rows).to(device)
        else:
            device = device or images.device
            packed = shuffled_bytes(images) if read_bytes and device.type == "cpu" else None
            self.rows = packed if packed is not None else shuffled_rows(images).to(device)
        self.n = len(images)
        self.batch_size, self.steps_per_epoch = batch_plan(self.n, batch_size)
        self._gen = torch.Generator().manual_seed(seed)
        shape, where = (self.batch_size, *self.rows.shape[1:]), self.rows.device
        # The one batch an epoch that runs past the last row and on from the first is joined up here.
        self._wrapped = torch.empty(shape, dtype=self.rows.dtype, device=where)
        # Bytes: every batch is converted into this one buffer (a step is done with its batch before the next).
        self._floats = torch.empty(shape, dtype=torch.float32, device=where) if self.rows.dtype == torch.uint8 else None
        # The C conversion (model/fast/native.py, checked bitwise against unit_float when loaded): one pass, not two.
        self._native = native.usable(self._floats) if self._floats is not None and self.rows.is_contiguous() else None

    def _as_read(self, batch: torch.Tensor) -> torch.Tensor:
        """The batch as the trainer wants it: float32 rows, converted from bytes when the copy holds bytes."""
        if self._floats is None:
            return batch
        out = self._floats[: batch.shape[0]]
        if self._native is not None and batch.is_contiguous():
            self._native.unit_float(batch.data_ptr(), out.data_ptr(), batch.numel())
            return out
        return unit_float(batch, out=out)

    def epoch(self) -> Iterator[torch.Tensor]:
        """The next epoch's batches, as (rows, D) tensors that the caller must not modify, each valid until the next."""
        n, b, rows = self.n, self.batch_size, self.rows
        offset = int(torch.randint(n, (), generator=self._gen))
        last = self.steps_per_epoch - 1  # the one batch that is short when b does not divide n
        lib, full = self._native, self._floats
        if lib is not None:  # rows are contiguous bytes here: row i starts i * width bytes in
            base, width, out_ptr = rows.data_ptr(), rows.shape[1], full.data_ptr()
        for position in torch.randperm(self.steps_per_epoch, generator=self._gen).tolist():
            start = (offset + position * b) % n
            end = start + (n - last * b if position == last else b)
            if end <= n and lib is not None:  # bytes converted straight from the copy: no slice made, no check
                out = full if end - start == b else self._floats[: end - start]
                lib.unit_float(base + start * width, out_ptr, (end - start) * width)
                yield out
            elif end <= n:
                yield self._as_read(rows[start:end])
            else:
                yield self._as_read(torch.cat((rows[start:], rows[: end - n]), out=self._wrapped[: end - start]))
