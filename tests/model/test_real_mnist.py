"""Checks on the real MNIST; they run only where MNIST_DIR points at it (CI: ../shared/data/mnist)."""

from __future__ import annotations

import os
import threading
import time

import pytest
import torch

from model.config import TrainConfig
from model.data import ENV_VAR, Mnist, load_mnist
from model.pca import fit_pca
from model.train import Trainer

pytestmark = [
    pytest.mark.mnist,
    pytest.mark.skipif(
        not os.environ.get(ENV_VAR),
        reason=f"needs the real MNIST: set {ENV_VAR} to a folder with its four IDX files (CI uses ../shared/data/mnist)",
    ),
]


@pytest.fixture(scope="module")
def mnist() -> Mnist:
    return load_mnist(os.environ[ENV_VAR])


def test_real_mnist_loads(mnist: Mnist) -> None:
    assert mnist.train.images.shape == (60000, 784) and mnist.test.images.shape == (10000, 784)
    assert mnist.train.images.dtype == torch.float32
    assert float(mnist.train.images.min()) == 0.0 and float(mnist.train.images.max()) == 1.0
    assert float(mnist.train.images.mean()) == pytest.approx(0.1307, abs=5e-4)  # the well-known statistic
    assert float(mnist.test.images.mean()) == pytest.approx(0.1325, abs=5e-4)
    counts = torch.bincount(mnist.train.labels)
    assert counts.shape == (10,) and int(counts.min()) > 5000
    assert int(counts[1]) == 6742  # the largest class
    assert torch.bincount(mnist.test.labels).sum() == 10000


def test_two_epochs_at_k32_beat_pca(mnist: Mnist) -> None:
    """The sigmoid decoder lets k = 32 beat the best linear reconstruction (PCA, test MSE 0.0168)."""
    pca_mse = fit_pca(mnist.train.images).mse(mnist.test.images, 32)
    assert pca_mse == pytest.approx(0.0168, abs=3e-4)
    config = TrainConfig(latent_dim=32, epochs=2)  # the defaults otherwise; a fixed number of steps, no time budget
    snap = Trainer(config, mnist.train.images, mnist.test.images).run()
    assert snap.status == "done" and snap.step == 2 * 235
    assert snap.final_test_mse < 0.015
    assert snap.final_test_mse < 0.92 * pca_mse


def test_the_c_kernels_train_as_the_eager_code(mnist: Mnist, monkeypatch) -> None:
    """One real epoch at the defaults with model/fast's C kernels and without: the same curve and score."""
    from model.fast import native

    if native.library() is None:
        pytest.skip(f"the C kernels are unavailable: {native.last_error}")
    config = TrainConfig(latent_dim=32, epochs=1)
    fused = Trainer(config, mnist.train.images, mnist.test.images).run()
    monkeypatch.setenv(native.ENV_SWITCH, "0")
    ref = Trainer(config, mnist.train.images, mnist.test.images).run()
    assert ref.status == fused.status == "done" and ref.step == fused.step == 235
    assert float(ref.train_loss[-20:].mean()) < 0.5 * float(ref.train_loss[:20].mean())  # it learned
    torch.testing.assert_close(fused.train_loss, ref.train_loss, rtol=1e-3, atol=1e-6)  # measured: 3e-5
    assert fused.final_test_mse == pytest.approx(ref.final_test_mse, rel=3e-4)


def test_k784_defaults_learn_in_one_epoch(mnist: Mnist) -> None:
    """No compression at all: the defaults used to stick at 0.115 here (every output the same blob)."""
    snap = Trainer(TrainConfig(latent_dim=784, epochs=1), mnist.train.images, mnist.test.images).run()
    assert snap.status == "done" and snap.warning == ""
    assert snap.final_test_mse < 0.004  # 0.0020-0.0023 measured; the old start gave 0.1146


def test_k784_old_start_is_flagged_as_stuck(mnist: Mnist) -> None:
    """PyTorch's default bias init at k = 784 saturates the sigmoid; the trainer says so while it runs."""
    trainer = Trainer(TrainConfig(latent_dim=784, epochs=1, bias_init="uniform"), mnist.train.images, mnist.test.images)
    worker = threading.Thread(target=trainer.run, daemon=True)
    worker.start()
    deadline = time.monotonic() + 300
    while not trainer.snapshot.warning and not trainer.snapshot.finished and time.monotonic() < deadline:
        time.sleep(0.2)
    trainer.stop()
    worker.join(timeout=60)
    snap = trainer.snapshot
    assert "stuck" in snap.warning and "average digit" in snap.warning
    assert float(snap.train_loss[-50:].mean()) > 0.1  # the flat, high loss it warned about


def test_the_watch_it_become_pca_preset_reaches_pca(mnist: Mnist) -> None:
    """The theorem's model (linear output) lands on PCA: within 1% of its error, and nearly its subspace."""
    pca = fit_pca(mnist.train.images)
    pca_mse = pca.mse(mnist.test.images, 32)
    config = TrainConfig.watch_pca()
    assert (config.latent_dim, config.output, config.epochs) == (32, "linear", 10)
    snap = Trainer(config, mnist.train.images, mnist.test.images, pca_basis=pca.components).run()
    assert snap.status == "done" and len(snap.test_mse) == len(snap.pca_similarity) == 10
    assert snap.final_test_mse <= 1.01 * pca_mse
    assert snap.final_test_mse >= 0.99 * pca_mse  # a linear model cannot do much better than PCA on new digits
    assert snap.pca_similarity[-1] >= 0.95
    assert snap.pca_similarity[0] < snap.pca_similarity[-1]  # it gets there by training, not by chance
