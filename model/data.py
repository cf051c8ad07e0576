"""MNIST as in-memory tensors: (N, 784) float32 in [0, 1] (or the uint8 pixels) plus int64 labels."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.idx import IdxError, check_idx, is_gzip

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO_ROOT / "data"  # git-ignored; torchvision keeps MNIST/raw/ below it
ENV_VAR = "MNIST_DIR"
CACHE_ENV_VAR = "MNIST_CACHE_DIR"  # where copies of MNIST_DIR's files go (default: data/from-dir)
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class MnistError(RuntimeError):
    """MNIST could not be loaded; the message tells the user what to do."""


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # (N, 784) float32 in [0, 1]; from load_mnist_pixels, uint8 in 0-255
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return self.images.shape[0]


@dataclass(frozen=True)
class Mnist:
    train: Split
    test: Split
    source: str  # where the files came from, for display


def missing_message(looked_in: Path | str) -> str:
    """One sentence-set that names MNIST_DIR, the folder searched, and the files needed."""
    names = ", ".join(f"{n}[.gz]" for n in FILES.values())
    return (
        f"MNIST was not found in {looked_in} and could not be downloaded (no network?). "
        f"Set the environment variable {ENV_VAR} (or pass --data-dir) to a folder holding the four MNIST "
        f"IDX files, compressed or not: {names}."
    )


def _find_source(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _copy_uncompressed(src: Path, dest: Path) -> None:
    """Decompress or copy src to dest atomically, so concurrent loaders never see half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            if is_gzip(src):
                try:
                    with gzip.open(src, "rb") as fh:
                        shutil.copyfileobj(fh, out, length=1 << 20)
                except (EOFError, OSError, zlib.error) as exc:
                    raise IdxError(f"{src.name}: the gzip data is truncated or corrupt ({exc}).") from None
            else:
                with open(src, "rb") as fh:
                    shutil.copyfileobj(fh, out, length=1 << 20)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def place_files(source_dir: Path, root: Path) -> Path:
    """Check the four IDX files in source_dir and put them uncompressed where torchvision looks."""
    if not source_dir.is_dir():
        raise MnistError(
            f"{ENV_VAR} / --data-dir points at {source_dir}, which is not a folder. {missing_message(source_dir)}"
        )
    raw = root / "MNIST" / "raw"
    counts = {}
    for key, name in FILES.items():
        src = _find_source(source_dir, name)
        if src is None:
            raise MnistError(f"{name} (or {name}.gz) is missing. {missing_message(source_dir)}")
        dest = raw / name
        fresh = dest.is_file() and dest.stat().st_mtime >= src.stat().st_mtime
        try:
            if not fresh:
                _copy_uncompressed(src, dest)
            counts[key] = check_idx(dest, "images" if key.endswith("images") else "labels")
        except IdxError as exc:
            dest.unlink(missing_ok=True)  # never leave a bad copy that looks fresh
            raise MnistError(f"MNIST file problem in {source_dir}: {exc}") from None
    for split in ("train", "test"):
        if counts[f"{split}_images"] != counts[f"{split}_labels"]:
            raise MnistError(
                f"MNIST {split} files disagree: {counts[f'{split}_images']} images but "
                f"{counts[f'{split}_labels']} labels in {source_dir}."
            )
    return root


def cache_root_for(source_dir: Path, base: Path | None = None) -> Path:
    """A private torchvision root per source folder, so two sources never overwrite each other."""
    base = base or Path(os.environ.get(CACHE_ENV_VAR) or DEFAULT_ROOT / "from-dir")
    digest = hashlib.sha1(str(source_dir.resolve()).encode()).hexdigest()[:12]
    return base / digest


def unit_float(pixels: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 pixels -> float32 in [0, 1]: the only conversion, so a batch converted later equals a loaded image bitwise."""
    out = torch.empty(pixels.shape, dtype=torch.float32, device=pixels.device) if out is None else out
    return out.copy_(pixels).div_(255.0)


def _check_split(pixels: torch.Tensor, labels: torch.Tensor, train: bool, where: object) -> Split:
    """The split as read (pixels (N, 784) uint8, labels int64), refused when empty or not labelled 0-9."""
    if pixels.shape[0] == 0:
        raise MnistError(f"The MNIST {'training' if train else 'test'} split in {where} holds no images.")
    if int(labels.min()) < 0 or int(labels.max()) > 9:
        raise MnistError(f"MNIST labels in {where} go outside 0-9; the label files are not MNIST's.")
    return Split(pixels, labels)


def _read_split(raw: Path, train: bool, where: object) -> Split:
    """Read the checked, uncompressed IDX files place_files put in `raw` (no torchvision: ~160 MB less per process)."""
    prefix = "train" if train else "test"
    pixels = np.fromfile(raw / FILES[f"{prefix}_images"], dtype=np.uint8, offset=16)  # 16-byte header
    labels = np.fromfile(raw / FILES[f"{prefix}_labels"], dtype=np.uint8, offset=8)  # 8-byte header
    images = torch.from_numpy(pixels).reshape(-1, 784)  # (N * 784,) -> (N, 784)
    return _check_split(images, torch.from_numpy(labels).to(torch.int64), train, where)


def _open_split(root: Path, train: bool, download: bool) -> Split:
    """Through torchvision, which downloads the files when they are missing and allowed."""
    from torchvision import datasets  # imported here: torchvision is slow to import, and large

    ds = datasets.MNIST(str(root), train=train, download=download)
    pixels = ds.data.reshape(len(ds.data), 784)  # (N, 28, 28) -> (N, 784)
    return _check_split(pixels, ds.targets.to(torch.int64), train, root)


def _as_float(mnist: Mnist) -> Mnist:
    splits = (Split(unit_float(s.images), s.labels) for s in (mnist.train, mnist.test))
    return Mnist(*splits, mnist.source)


def load_mnist(data_dir: str | os.PathLike | None = None, root: Path | None = None, download: bool = True) -> Mnist:
    """Load both splits, from data_dir / $MNIST_DIR when given, else from root (downloading if allowed)."""
    return _as_float(load_mnist_pixels(data_dir, root, download))


def load_mnist_pixels(
    data_dir: str | os.PathLike | None = None, root: Path | None = None, download: bool = True
) -> Mnist:
    """As load_mnist, but each split's images stay the stored uint8 pixels (0-255): a quarter of the memory."""
    data_dir = data_dir or os.environ.get(ENV_VAR) or None
    try:
        if data_dir:
            source = Path(data_dir).expanduser()
            raw = place_files(source, root or cache_root_for(source)) / "MNIST" / "raw"
            return Mnist(_read_split(raw, True, source), _read_split(raw, False, source), str(source))
        root = root or DEFAULT_ROOT
        try:
            train = _open_split(root, True, download)
            test = _open_split(root, False, download)
        except (RuntimeError, OSError, ValueError) as exc:
            if isinstance(exc, MnistError):
                raise
            raise MnistError(missing_message(root / "MNIST" / "raw")) from None
        return Mnist(train, test, str(root))
    except MnistError:
        raise
    except Exception as exc:  # torchvision's own parse errors: say which folder, not a deep traceback
        raise MnistError(f"MNIST in {data_dir or root} could not be read: {exc}") from None
