"""The server keeps the training digits as bytes: the PCA, the step counts and thread workers see the same data."""

from __future__ import annotations

import torch

from model.config import TrainConfig
from model.data import load_mnist, load_mnist_pixels
from model.fast.batches import ByteImages
from model.pca import fit_pca
from model.train import Trainer
from service import worker_side
from service.job_spec import JobSpec, MnistData
from tests.conftest import make_idx_dataset
from ui.server.resources import server_mnist, train_floats


def test_the_server_keeps_training_bytes_and_float_test_digits(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=200, n_test=50)
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache"))
    kept = server_mnist(load_mnist_pixels(folder))
    floats = load_mnist(folder)  # what the server kept before: float32 for both splits
    assert kept.train.images.dtype == torch.uint8 and kept.train.images.shape == (200, 784)
    assert kept.train.images.nbytes * 4 == floats.train.images.nbytes  # a quarter of the memory
    assert torch.equal(kept.test.images, floats.test.images) and torch.equal(kept.train.labels, floats.train.labels)
    assert torch.equal(train_floats(kept), floats.train.images)
    assert train_floats(floats) is floats.train.images  # float images are not copied
    before, after = fit_pca(floats.train.images), fit_pca(train_floats(kept))
    assert torch.equal(before.components, after.components) and torch.equal(before.mean, after.mean)


def test_thread_workers_get_the_servers_bytes_and_train_as_on_floats(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=300, n_test=80)
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(worker_side, "_mnist", {})
    kept = server_mnist(load_mnist_pixels(folder))
    worker_side.share_mnist(str(folder), kept)
    data = worker_side.worker_mnist(str(folder))
    assert isinstance(data.train, ByteImages) and data.test is kept.test.images

    config = TrainConfig(latent_dim=4, epochs=2, batch_size=64, seed=3)
    spec = JobSpec(config, MnistData(str(folder), 300), replay_index=torch.arange(10))
    shared = worker_side.build_trainer(spec, torch.device("cpu")).run()
    floats = load_mnist(folder)
    local = Trainer(config, floats.train.images, floats.test.images, replay_images=floats.test.images[:10]).run()
    assert shared.status == local.status == "done"
    assert torch.equal(shared.train_loss, local.train_loss) and shared.test_mse == local.test_mse
