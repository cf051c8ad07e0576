"""What a process worker keeps of MNIST: bytes for training, floats for scoring, and runs that are not changed by it."""

from __future__ import annotations

import os
import sys
import threading

import pytest
import torch

from model.config import TrainConfig
from model.data import load_mnist
from model.fast.batches import ByteImages
from model.train import Trainer
from service import worker_side
from service.job_spec import JobSpec, MnistData
from tests.conftest import make_idx_dataset


def test_a_process_worker_keeps_training_bytes_and_trains_exactly_as_on_floats(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=300, n_test=80)
    monkeypatch.setattr(worker_side, "_mnist", {})
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache"))
    data = worker_side.worker_mnist(str(folder))
    mnist = load_mnist(folder)  # what the server (and a CLI run) train on
    assert isinstance(data.train, ByteImages) and data.train.rows.dtype == torch.uint8
    assert torch.equal(data.test, mnist.test.images)

    config = TrainConfig(latent_dim=4, epochs=2, batch_size=64, seed=7)
    spec = JobSpec(config, MnistData(str(folder), 300), replay_index=torch.arange(10))
    remote = worker_side.build_trainer(spec, torch.device("cpu")).run()
    cpu = torch.device("cpu")  # as build_trainer was given: bit-for-bit holds on one device
    local = Trainer(
        config, mnist.train.images, mnist.test.images, replay_images=mnist.test.images[:10], device=cpu
    ).run()
    assert remote.status == local.status == "done"
    assert torch.equal(remote.train_loss, local.train_loss) and remote.test_mse == local.test_mse
    for name in local.state:
        assert torch.equal(remote.state[name], local.state[name]), name


def test_thread_workers_share_the_servers_float_images(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    make_idx_dataset(folder, n_train=40, n_test=10)
    monkeypatch.setattr(worker_side, "_mnist", {})
    mnist = load_mnist(folder, root=tmp_path / "cache")
    worker_side.share_mnist(str(folder), mnist)
    data = worker_side.worker_mnist(str(folder))
    assert data.train is mnist.train.images and data.test is mnist.test.images  # no copy in the server


def test_the_trainer_thread_alone_gets_the_nice_value(monkeypatch):
    if sys.platform != "linux":
        pytest.skip("nice values per thread are Linux's")
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def trainer_thread():
        seen["applied"] = worker_side.lower_priority(main_before + 3)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=trainer_thread)
    thread.start()
    thread.join()
    assert seen == {"applied": True, "nice": min(main_before + 3, 19)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before  # the host process is not slowed
    assert worker_side.lower_priority(0) is False
    monkeypatch.setenv(worker_side.NICE_ENV, "0")
    assert worker_side.trainer_nice() == 0
    monkeypatch.setenv(worker_side.NICE_ENV, "40")
    assert worker_side.trainer_nice() == 19
    monkeypatch.setenv(worker_side.NICE_ENV, "lots")
    assert worker_side.trainer_nice() == 0, "a trainer in this (the server's or a test's) process is never niced"
    monkeypatch.delenv(worker_side.NICE_ENV)
    assert worker_side.trainer_nice() == 0


def _nice_in_a_worker_process() -> int:
    from service import worker_side

    return worker_side.trainer_nice()


def test_a_trainer_in_a_worker_process_of_its_own_runs_at_nice_10_unless_told(monkeypatch) -> None:
    """An interactive server before batch training: the engine's process workers lower their trainers."""
    import multiprocessing

    from service import worker_side

    monkeypatch.delenv(worker_side.NICE_ENV, raising=False)
    spawn = multiprocessing.get_context("spawn")  # as Dask's nannies start their workers
    with spawn.Pool(1) as pool:
        assert pool.apply(_nice_in_a_worker_process) == worker_side.DEFAULT_NICE == 10
    monkeypatch.setenv(worker_side.NICE_ENV, "0")
    with spawn.Pool(1) as pool:
        assert pool.apply(_nice_in_a_worker_process) == 0
