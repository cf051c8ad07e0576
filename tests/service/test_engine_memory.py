"""The engine forgets a finished job: Dask's debugging logs must not keep its spec, nor the worker its trainer."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import dask
import pytest
import torch

from model.config import TrainConfig
from service import engine as eng
from service import worker_side
from service.job_spec import Delivery, InlineData, JobSpec


class Payload:
    """Stands for a job's spec (PCA components, replay rows): counted while anything still holds one."""

    def __init__(self) -> None:
        self.blob = bytearray(10_000)


def _use(payload: Payload) -> int:
    return len(payload.blob)


def _live_payloads() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Payload))


@pytest.fixture
def dask_default_logs(monkeypatch):
    """Dask's own log length for the test, whatever an earlier engine set; restored afterwards."""
    monkeypatch.delenv(eng.LOG_LENGTH_ENV, raising=False)
    monkeypatch.setitem(dask.config.config["distributed"]["admin"], "low-level-log-length", 1000)


def test_released_jobs_leave_no_inputs_behind_beyond_the_short_log(dask_default_logs):
    engine = eng.start(mode="threads", address="", n_workers=1)
    try:
        jobs = 3 * eng.LOG_LENGTH
        for _ in range(jobs):
            future = engine.client.submit(_use, Payload(), pure=False)
            assert future.result(timeout=30) == 10_000
            del future  # released, as a finished trainer's actor is
        time.sleep(0.5)  # the release reaches the scheduler and the worker
        live = _live_payloads()
        # With Dask's default (1000 messages) all of them stayed alive, here and in a process worker alike.
        assert live <= eng.LOG_LENGTH < jobs
    finally:
        engine.close()


def test_an_instructors_own_log_length_is_kept(dask_default_logs, monkeypatch):
    monkeypatch.setenv(eng.LOG_LENGTH_ENV, "1000")
    assert eng.short_logs() == 1000
    monkeypatch.delenv(eng.LOG_LENGTH_ENV)
    assert eng.short_logs() == eng.LOG_LENGTH == dask.config.get(eng.LOG_LENGTH_KEY)


def test_a_released_workspace_run_frees_its_trainer_at_once(tmp_path, monkeypatch):
    """Its RunWatch held a lambda over the actor: a cycle that kept each trainer until a full collection."""
    trims = []
    monkeypatch.setattr(worker_side.allocator, "trim", lambda: trims.append(1) or True)
    delivery = Delivery(str(tmp_path / "not-shared"), "w", "r", "k=2", "train")  # its watch ends at once
    data = InlineData(torch.rand(64, 784), torch.rand(32, 784))
    actor = worker_side.TrainerActor(
        JobSpec(TrainConfig(latent_dim=2, epochs=1, batch_size=16), data, delivery=delivery)
    )
    assert actor.watch is not None
    actor.start()
    assert actor._ended.wait(30)
    actor._thread.join(10)
    for thread in threading.enumerate():  # the watch's thread has returned ("no store")
        if thread.name == "studio-run-watch":
            thread.join(10)
    trainer = weakref.ref(actor.trainer)
    gc.disable()
    try:
        del actor  # what Dask's release does: the last reference goes
        assert trainer() is None, "freed by reference counting, not left for the garbage collector"
        assert trims == [1], "and its memory handed back"
    finally:
        gc.enable()
