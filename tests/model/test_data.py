"""IDX files and the MNIST loader, on small generated datasets: good files load exactly, bad ones explain."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from model.data import ENV_VAR, FILES, MnistError, cache_root_for, load_mnist
from model.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, check_idx, is_gzip, write_idx
from tests.conftest import digit_like_images, make_idx_dataset


@pytest.fixture(autouse=True)
def no_mnist_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI sets MNIST_DIR to the real MNIST; these tests must only see their own files."""
    monkeypatch.delenv(ENV_VAR, raising=False)


def load(folder: Path, tmp_path: Path):
    return load_mnist(data_dir=folder, root=tmp_path / "cache")


def raw_copy(tmp_path: Path, key: str) -> Path:
    return tmp_path / "cache" / "MNIST" / "raw" / FILES[key]


# The IDX format itself.


def test_write_idx_then_check_idx(tmp_path: Path) -> None:
    images = np.arange(5 * 28 * 28, dtype=np.int64).reshape(5, 28, 28) % 256
    labels = np.array([0, 1, 2, 9, 4])
    for compress in (False, True):
        img = write_idx(tmp_path / f"img{compress}", images, compress=compress)
        lab = write_idx(tmp_path / f"lab{compress}", labels, compress=compress)
        assert is_gzip(img) is compress and is_gzip(lab) is compress
    raw = (tmp_path / "imgFalse").read_bytes()
    assert int.from_bytes(raw[:4], "big") == IMAGES_MAGIC
    assert int.from_bytes((tmp_path / "labFalse").read_bytes()[:4], "big") == LABELS_MAGIC
    assert len(raw) == 16 + 5 * 784
    assert np.array_equal(np.frombuffer(raw[16:], dtype=np.uint8).reshape(5, 28, 28), images)
    assert gzip.decompress((tmp_path / "imgTrue").read_bytes()) == raw
    assert check_idx(tmp_path / "imgFalse", "images") == 5
    assert check_idx(tmp_path / "labFalse", "labels") == 5


def test_check_idx_refusals(tmp_path: Path) -> None:
    images = write_idx(tmp_path / "images", np.zeros((4, 28, 28)))
    labels = write_idx(tmp_path / "labels", np.zeros(40))  # long enough to be read as an images header
    with pytest.raises(IdxError, match="magic number 2051 where MNIST labels files have 2049"):
        check_idx(images, "labels")
    with pytest.raises(IdxError, match="magic number 2049 where MNIST images files have 2051"):
        check_idx(labels, "images")
    small = write_idx(tmp_path / "small", np.zeros((4, 27, 27)))
    with pytest.raises(IdxError, match="28x28"):
        check_idx(small, "images")
    short = tmp_path / "short"
    short.write_bytes(images.read_bytes()[:-1])
    with pytest.raises(IdxError, match="short.*truncated"):
        check_idx(short, "images")
    stub = tmp_path / "stub"
    stub.write_bytes(images.read_bytes()[:10])
    with pytest.raises(IdxError, match="stub.*truncated"):
        check_idx(stub, "images")
    long = tmp_path / "long"
    long.write_bytes(labels.read_bytes() + b"\0")
    with pytest.raises(IdxError, match="longer than its header says"):
        check_idx(long, "labels")


# Loading good data.


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_loads_generated_dataset_exactly(tmp_path: Path, compress: bool) -> None:
    folder = tmp_path / "mnist"
    arrays = make_idx_dataset(folder, n_train=300, n_test=100, compress=compress)
    mnist = load(folder, tmp_path)
    for split, n in (("train", 300), ("test", 100)):
        part = getattr(mnist, split)
        assert len(part) == n
        assert part.images.shape == (n, 784) and part.images.dtype == torch.float32
        assert float(part.images.min()) >= 0.0 and float(part.images.max()) <= 1.0
        expected = torch.from_numpy(arrays[f"{split}_images"]).reshape(n, 784).float() / 255.0
        assert torch.equal(part.images, expected)
        assert part.labels.dtype == torch.int64
        assert torch.equal(part.labels, torch.from_numpy(arrays[f"{split}_labels"]).long())
    assert mnist.source == str(folder)
    assert not is_gzip(raw_copy(tmp_path, "train_images"))  # torchvision gets uncompressed copies
    assert float(mnist.train.images.max()) > 0.5  # the generated digits are not blank


def test_generated_digits_have_structure() -> None:
    """Sanity of the shared generator: images of one label look alike, other labels less so."""
    images, labels = digit_like_images(400, seed=3)
    images = images.reshape(400, 784) / 255.0
    assert set(np.unique(labels)) == set(range(10))
    means = np.stack([images[labels == d].mean(axis=0) for d in range(10)])  # (10, 784)
    within = np.mean([((images[labels == d] - means[d]) ** 2).mean() for d in range(10)])
    pairs = np.triu_indices(10, 1)
    between = ((means[:, None] - means[None]) ** 2).mean(axis=-1)[pairs].mean()
    assert between > 2 * within
    assert 0.05 < images.mean() < 0.2  # mostly dark, as MNIST (0.13)
    assert images[:, :28].mean() < 0.3 * images.mean()  # a dark top row: only the noise shows there


def test_mixed_compressed_and_raw_files(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=50, n_test=20, compress=True)
    gz = folder / (FILES["test_labels"] + ".gz")
    (folder / FILES["test_labels"]).write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    mnist = load(folder, tmp_path)
    assert len(mnist.train) == 50 and len(mnist.test) == 20


def test_mnist_dir_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=40, n_test=10)
    monkeypatch.setenv(ENV_VAR, str(folder))
    mnist = load_mnist(root=tmp_path / "cache")
    assert len(mnist.train) == 40 and mnist.source == str(folder)


def test_cache_root_is_private_per_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "copies"))
    a, b = cache_root_for(tmp_path / "a"), cache_root_for(tmp_path / "b")
    assert a != b and a.parent == b.parent == tmp_path / "copies"
    assert cache_root_for(tmp_path / "a") == a


def test_changed_source_file_is_copied_again(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=40, n_test=10, seed=0)
    first = load(folder, tmp_path)
    arrays = make_idx_dataset(folder, n_train=60, n_test=10, seed=5)
    later = os.stat(raw_copy(tmp_path, "train_images")).st_mtime + 10
    for key in ("train_images", "train_labels"):
        os.utime(folder / FILES[key], (later, later))
    second = load(folder, tmp_path)
    assert len(first.train) == 40 and len(second.train) == 60
    assert torch.equal(second.train.labels, torch.from_numpy(arrays["train_labels"]).long())


# Refusals, each with a message that says what to do.


@pytest.mark.parametrize("key", list(FILES))
def test_missing_file_names_mnist_dir_and_the_file(idx_dataset, tmp_path: Path, key: str) -> None:
    folder, _ = idx_dataset
    (folder / FILES[key]).unlink()
    with pytest.raises(MnistError) as excinfo:
        load(folder, tmp_path)
    message = str(excinfo.value)
    assert ENV_VAR in message and FILES[key] in message and "missing" in message
    assert str(folder) in message


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("key", ["train_images", "test_labels"])
def test_truncated_file_is_named(tmp_path: Path, compress: bool, key: str) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=100, n_test=30, compress=compress)
    path = folder / (FILES[key] + (".gz" if compress else ""))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(MnistError) as excinfo:
        load(folder, tmp_path)
    message = str(excinfo.value)
    assert FILES[key] in message and "truncated" in message
    assert not raw_copy(tmp_path, key).exists()  # no half copy left behind to look fresh


def test_corrupt_gzip_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=30, n_test=10, compress=True)
    path = folder / (FILES["train_labels"] + ".gz")
    data = bytearray(path.read_bytes())
    data[20:40] = bytes(20)  # keep the gzip signature, damage the stream
    path.write_bytes(bytes(data))
    with pytest.raises(MnistError, match=FILES["train_labels"]):
        load(folder, tmp_path)


def test_swapped_images_and_labels_are_refused(idx_dataset, tmp_path: Path) -> None:
    folder, _ = idx_dataset
    images, labels = folder / FILES["test_images"], folder / FILES["test_labels"]
    tmp = folder / "swap"
    images.rename(tmp)
    labels.rename(images)
    tmp.rename(labels)
    with pytest.raises(MnistError, match="magic number.*swapped"):
        load(folder, tmp_path)


def test_image_and_label_counts_must_agree(idx_dataset, tmp_path: Path) -> None:
    folder, arrays = idx_dataset
    write_idx(folder / FILES["train_labels"], arrays["train_labels"][:-1])
    with pytest.raises(MnistError, match="300 images but 299 labels"):
        load(folder, tmp_path)


def test_labels_outside_0_to_9_are_refused(idx_dataset, tmp_path: Path) -> None:
    folder, arrays = idx_dataset
    labels = arrays["test_labels"].copy()
    labels[3] = 12
    write_idx(folder / FILES["test_labels"], labels)
    with pytest.raises(MnistError, match="outside 0-9"):
        load(folder, tmp_path)


def test_empty_split_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=20, n_test=0)
    with pytest.raises(MnistError) as excinfo:  # torchvision's own error, wrapped with the folder's name
        load(folder, tmp_path)
    assert str(folder) in str(excinfo.value)


def test_data_dir_that_is_not_a_folder(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("hello")
    for path in (not_a_folder, tmp_path / "does-not-exist"):
        with pytest.raises(MnistError) as excinfo:
            load(path, tmp_path)
        message = str(excinfo.value)
        assert "not a folder" in message and str(path) in message and ENV_VAR in message


def test_no_data_and_no_download_names_mnist_dir_and_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "empty-root"
    root.mkdir()
    with pytest.raises(MnistError) as excinfo:
        load_mnist(root=root, download=False)
    message = str(excinfo.value)
    assert ENV_VAR in message and str(root / "MNIST" / "raw") in message
    assert "--data-dir" in message


def test_fixing_a_bad_file_then_loading_again_works(idx_dataset, tmp_path: Path) -> None:
    folder, arrays = idx_dataset
    path = folder / FILES["train_images"]
    good = path.read_bytes()
    path.write_bytes(good[:5000])
    with pytest.raises(MnistError, match="truncated"):
        load(folder, tmp_path)
    with pytest.raises(MnistError, match="truncated"):  # still refused: no bad copy was kept as "fresh"
        load(folder, tmp_path)
    path.write_bytes(good)
    mnist = load(folder, tmp_path)
    expected = torch.from_numpy(arrays["train_images"]).reshape(300, 784).float() / 255.0
    assert torch.equal(mnist.train.images, expected)


def test_fixing_swapped_files_then_loading_again_works(idx_dataset, tmp_path: Path) -> None:
    folder, arrays = idx_dataset
    images, labels = folder / FILES["train_images"], folder / FILES["train_labels"]
    good_images, good_labels = images.read_bytes(), labels.read_bytes()
    images.write_bytes(good_labels)
    labels.write_bytes(good_images)
    with pytest.raises(MnistError):
        load(folder, tmp_path)
    images.write_bytes(good_images)
    labels.write_bytes(good_labels)
    mnist = load(folder, tmp_path)
    assert torch.equal(mnist.train.labels, torch.from_numpy(arrays["train_labels"]).long())
