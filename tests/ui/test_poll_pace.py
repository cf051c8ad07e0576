"""The redraw interval of pages that show a job: fast for a lone user, slower as the server fills up."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from model.config import TrainConfig
from model.train import Trainer
from service.jobs import JobManager
from ui.session import training


@pytest.fixture
def manager(monkeypatch):
    manager = JobManager(max_running=2, orphan_seconds=60)
    monkeypatch.setattr(training, "job_manager", lambda: manager)
    yield manager
    jobs = manager.active_jobs()
    for job in jobs:
        manager.cancel(job.id)
    for job in jobs:  # let the trainer threads end before the interpreter does
        if job.thread is not None:
            job.thread.join(timeout=10)


class HeldTrainer(Trainer):
    """A trainer whose run waits for `go`: until then it is a placed job with no snapshot but the ready one."""

    go = threading.Event()

    def run(self):
        self.go.wait(timeout=30)
        return super().run()


def submit(manager: JobManager, n: int, held: bool = False):
    """n jobs that run for minutes unless cancelled (one-sample steps), so none ends during a test.

    Returns once the running ones have published a snapshot (not held) or with them still starting (held).
    """
    train, test = torch.rand(2048, 784), torch.rand(32, 784)
    kind = HeldTrainer if held else Trainer
    make = lambda: kind(TrainConfig(latent_dim=2, epochs=200, batch_size=1), train, test)  # noqa: E731
    jobs = [manager.submit(f"s{i}", f"job {i}", make) for i in range(n)]
    deadline = time.monotonic() + 10
    while not held and any(j.snapshot is not None and j.snapshot.status == "ready" for j in jobs):
        assert time.monotonic() < deadline, "the trainers never published"
        time.sleep(0.01)
    return jobs


def test_nothing_to_poll_without_a_job(manager) -> None:
    assert training.poll_seconds(None) is None


def test_a_lone_running_job_redraws_under_a_second(manager) -> None:
    (job,) = submit(manager, 1)
    assert not job.queued
    assert training.poll_seconds(job) == training.POLL_SECONDS < 1.0


def test_a_starting_job_polls_fast_until_its_first_snapshot_then_at_the_running_pace(manager) -> None:
    """Start -> first chart: the page looks every STARTING_POLL_SECONDS while the trainer starts, then slows."""
    HeldTrainer.go.clear()
    jobs = submit(manager, 3, held=True)
    try:
        assert not jobs[0].queued and jobs[0].snapshot.status == "ready"
        assert training.poll_seconds(jobs[0]) == training.STARTING_POLL_SECONDS < training.POLL_SECONDS
        assert training.poll_seconds(jobs[2]) == training.QUEUED_POLL_SECONDS, "waiting in line is not starting"
    finally:
        HeldTrainer.go.set()
    deadline = time.monotonic() + 10
    while jobs[0].snapshot.status == "ready":
        assert time.monotonic() < deadline, "the trainer never published"
        time.sleep(0.01)
    assert training.poll_seconds(jobs[0]) == pytest.approx(training.POLL_SECONDS * 3 / 2, abs=0.01)


def test_queued_jobs_poll_slower_than_running_ones(manager) -> None:
    jobs = submit(manager, 3)
    assert jobs[2].queued and not jobs[0].queued
    assert training.poll_seconds(jobs[2]) == training.QUEUED_POLL_SECONDS
    assert training.poll_seconds(jobs[0]) == pytest.approx(training.POLL_SECONDS * 3 / 2, abs=0.01)


def test_the_interval_grows_with_the_crowd_up_to_a_cap(manager) -> None:
    jobs = submit(manager, 4)
    four = training.poll_seconds(jobs[0])
    jobs += submit(manager, 16)
    twenty = training.poll_seconds(jobs[0])
    assert training.POLL_SECONDS < four < twenty == training.MAX_POLL_SECONDS


def test_queued_jobs_in_a_full_room_poll_slowest(manager) -> None:
    jobs = submit(manager, 20)
    queued = training.poll_seconds(jobs[-1])
    running = training.poll_seconds(jobs[0])
    assert jobs[-1].queued and not jobs[0].queued
    assert running == training.MAX_POLL_SECONDS < queued == training.QUEUED_MAX_POLL_SECONDS


def test_a_status_line_follows_its_fastest_job_but_not_faster_than_once_a_second(manager) -> None:
    jobs = submit(manager, 3)
    assert training.status_poll_seconds([]) == training.QUEUED_POLL_SECONDS
    assert training.status_poll_seconds([None, jobs[2]]) == training.QUEUED_POLL_SECONDS
    assert training.status_poll_seconds(jobs) == max(1.0, training.poll_seconds(jobs[0]))


def test_the_start_run_waits_a_moment_for_the_first_snapshot_and_no_longer(manager) -> None:
    """A warm start's first snapshot is drawn by the Start run itself; a slow start or a queued job is not waited on."""
    HeldTrainer.go.clear()
    try:
        held, _, queued = submit(manager, 3, held=True)
        assert queued.queued and not held.queued
        started = time.monotonic()
        assert not training.await_first_snapshot(queued, seconds=5.0)
        assert time.monotonic() - started < 1.0, "nothing to wait for in line"
        started = time.monotonic()
        assert not training.await_first_snapshot(held, seconds=0.3)
        assert 0.25 <= time.monotonic() - started < 2.0
        threading.Timer(0.2, HeldTrainer.go.set).start()
        assert training.await_first_snapshot(held, seconds=10.0)
        assert held.snapshot.status == "running" and held.snapshot.step > 0
    finally:
        HeldTrainer.go.set()


def test_a_poll_waits_for_a_run_that_ends_before_the_next_poll_and_not_for_one_far_off(manager) -> None:
    """The page shows the kept model on the poll that sees the end coming, not one interval later."""
    (far,) = submit(manager, 1)  # minutes to go
    started = time.monotonic()
    assert not training.await_end(far, 0.75)
    assert time.monotonic() - started < 0.1, "a run far from its end is not waited on"
    manager.cancel(far.id)
    train, test = torch.rand(4096, 784), torch.rand(32, 784)
    make = lambda: Trainer(TrainConfig(latent_dim=2, epochs=3, batch_size=64), train, test)  # noqa: E731
    job = manager.submit("s", "short", make)
    deadline = time.monotonic() + 10
    while job.snapshot is None or job.snapshot.status != "running" or job.snapshot.seconds_left is None:
        assert time.monotonic() < deadline and not job.finished, "the short run never showed itself running"
        time.sleep(0.002)
    assert training.await_end(job, 30.0), "a run due within the interval is waited for"
    assert job.finished and job.snapshot.status == "done"
