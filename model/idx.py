"""The IDX file format of MNIST: header checks and a writer for generated test datasets."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ValueError):
    """A file is not the IDX file it should be; the message says which file and what is wrong."""


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip signature."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_idx(path: Path, kind: str) -> int:
    """Check an uncompressed IDX file's magic number, shape and size; return its item count."""
    magic = IMAGES_MAGIC if kind == "images" else LABELS_MAGIC
    header_len = 16 if kind == "images" else 8
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(header_len)
    if len(header) < header_len:
        raise IdxError(f"{path.name}: only {size} bytes, too short for an IDX header; the file is truncated.")
    found = struct.unpack(">I", header[:4])[0]
    if found != magic:
        raise IdxError(
            f"{path.name}: magic number {found} where MNIST {kind} files have {magic}; "
            "this is not an MNIST {kind} file (or the file names are swapped).".replace("{kind}", kind)
        )
    count = struct.unpack(">I", header[4:8])[0]
    item = 1
    if kind == "images":
        rows, cols = struct.unpack(">II", header[8:16])
        if (rows, cols) != (28, 28):
            raise IdxError(f"{path.name}: images are {rows}x{cols}, MNIST images are 28x28.")
        item = rows * cols
    expected = header_len + count * item
    if size != expected:
        state = "truncated" if size < expected else "longer than its header says"
        raise IdxError(f"{path.name}: {size:,} bytes where its header promises {expected:,}; the file is {state}.")
    return count


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """Write uint8 images (N, 28, 28) or labels (N,) as an IDX file, gzip-compressed if asked."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    payload = header + array.tobytes()
    if compress:
        payload = gzip.compress(payload, compresslevel=1)
    path.write_bytes(payload)
    return path
