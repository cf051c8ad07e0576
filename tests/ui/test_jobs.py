"""The server-wide training queue: limits, queue positions, control, orphans."""

from __future__ import annotations

import time

import pytest
import torch

from model.config import TrainConfig
from model.train import Trainer
from ui.jobs import JobManager


@pytest.fixture
def data():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(512, 784, generator=gen), torch.rand(64, 784, generator=gen)


def factory(data, epochs=200, batch=8):
    train, test = data
    return lambda: Trainer(TrainConfig(latent_dim=4, epochs=epochs, batch_size=batch), train, test)


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_limit_queues_the_rest_in_order(data):
    manager = JobManager(max_running=2, orphan_seconds=60)
    jobs = [manager.submit(f"s{i}", f"job {i}", factory(data)) for i in range(4)]
    try:
        assert manager.running_count() == 2
        assert [j.queued for j in jobs] == [False, False, True, True]
        assert manager.queue_position(jobs[2].id) == 1 and manager.queue_position(jobs[3].id) == 2
        manager.cancel(jobs[0].id)  # stopping a running job lets the first in line start
        assert wait_until(lambda: not jobs[2].queued)
        assert jobs[0].snapshot.status == "stopped"
        assert manager.queue_position(jobs[3].id) == 1
    finally:
        for j in jobs:
            manager.cancel(j.id)


def test_pause_resume_stop(data):
    manager = JobManager(max_running=1, orphan_seconds=60)
    job = manager.submit("s", "job", factory(data))
    assert wait_until(lambda: job.snapshot.step > 0)
    job.trainer.pause()
    assert wait_until(lambda: job.snapshot.status == "paused", timeout=0.5)
    step = job.snapshot.step
    time.sleep(0.3)
    assert job.snapshot.step == step, "a paused job takes no steps"
    job.trainer.resume()
    assert wait_until(lambda: job.snapshot.step > step)
    manager.cancel(job.id)
    assert wait_until(lambda: job.finished, timeout=0.5)
    assert job.snapshot.status == "stopped"
    assert manager.collect(job.id) is job and manager.get(job.id) is None


def test_cancel_queued_job_never_starts(data):
    manager = JobManager(max_running=1, orphan_seconds=60)
    first = manager.submit("a", "first", factory(data))
    second = manager.submit("b", "second", factory(data))
    manager.cancel(second.id)
    assert second.finished and second.trainer is None
    manager.cancel(first.id)


def test_orphans_are_stopped_and_forgotten(data):
    manager = JobManager(max_running=1, orphan_seconds=0.3)
    kept = manager.submit("alive", "kept", factory(data))
    orphan = manager.submit("gone", "orphan", factory(data))  # queued behind kept
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:  # only "alive" keeps polling
        manager.heartbeat(kept.id)
        time.sleep(0.05)
    assert manager.get(orphan.id) is None, "the unpolled queued job was dropped"
    assert manager.get(kept.id) is kept
    time.sleep(0.5)  # now nobody polls: the running job is stopped and dropped too
    manager.reap()
    assert manager.get(kept.id) is None
    assert wait_until(lambda: kept.snapshot.finished, timeout=1.0)


def test_failing_factory_reports_and_queue_moves_on(data):
    manager = JobManager(max_running=1, orphan_seconds=60)

    def broken():
        raise ValueError("no data")

    bad = manager.submit("s", "bad", broken)
    good = manager.submit("s", "good", factory(data, epochs=1, batch=256))
    assert bad.finished and "no data" in bad.error
    assert wait_until(lambda: good.finished)
    assert good.snapshot.status == "done"


def test_finished_jobs_are_released(data):
    manager = JobManager(max_running=2, orphan_seconds=60)
    jobs = [manager.submit("s", str(i), factory(data, epochs=1, batch=256)) for i in range(5)]
    assert wait_until(lambda: all(j.finished for j in jobs), timeout=30)
    for j in jobs:
        manager.collect(j.id)
    assert manager.active_jobs() == [] and all(manager.get(j.id) is None for j in jobs)


def test_connected_session_keeps_its_job_without_heartbeats(data, monkeypatch):
    """A background tab's throttled timers must not kill its training while it is still connected."""
    connected = {"tab": True}
    manager = JobManager(max_running=1, orphan_seconds=0.2, is_alive=lambda sid: connected.get(sid))
    job = manager.submit("tab", "job", factory(data))
    time.sleep(0.4)
    manager.reap()
    assert manager.get(job.id) is job and not job.finished, "connected: kept without heartbeats"
    connected["tab"] = False
    monkeypatch.setattr("ui.jobs.DISCONNECT_GRACE", 0.1)
    time.sleep(0.2)
    manager.reap()
    assert manager.get(job.id) is None, "disconnected past the grace period: stopped"
    assert wait_until(lambda: job.finished, timeout=1.0)
