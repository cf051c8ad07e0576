"""The training engine on a real LocalCluster of two process workers, with small generated digits."""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time

import pytest
import torch

from model.config import TrainConfig
from model.train import Trainer
from service import engine as eng
from service.job_spec import InlineData, JobSpec
from service.remote_trainer import RemoteTrainer
from tests.model.conftest import digit_tensors

TRAIN, TEST = digit_tensors(600, seed=10), digit_tensors(200, seed=11)
SHORT = TrainConfig(latent_dim=8, epochs=3, batch_size=32)
LONG = TrainConfig(latent_dim=8, epochs=200, batch_size=1)  # 120,000 steps: runs until a test stops it


def spec(config: TrainConfig) -> JobSpec:
    return JobSpec(config, InlineData(TRAIN, TEST), replay_index=torch.arange(50))


@pytest.fixture(scope="module")
def engine():
    """One cluster for the whole module: two single-thread process workers."""
    started = eng.start(mode="processes", address="", n_workers=2)
    started.client.run(importlib.import_module, "service.worker_side")  # torch on both workers, as a preload does
    try:
        yield started
    finally:
        started.close()


def run_in_thread(trainer: RemoteTrainer) -> threading.Thread:
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    return thread


def start_together(*remotes: RemoteTrainer) -> list[threading.Thread]:
    """Start jobs paused, and resume them once all are on workers: a cold worker's start eats no one's run."""
    for remote in remotes:
        remote.pause()
    threads = [run_in_thread(remote) for remote in remotes]
    wait_for(lambda: all(r.snapshot.status == "paused" for r in remotes), 60, "every job on a worker")
    for remote in remotes:
        remote.resume()
    wait_for(lambda: all(r.snapshot.step > 0 for r in remotes), 10, "every job training")
    return threads


def wait_for(condition, seconds: float, what: str) -> float:
    """Poll until condition() holds; returns the seconds it took, fails the test after `seconds`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"{what} did not happen within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - start


def actor_keys(engine: eng.Engine) -> set[str]:
    return {str(k) for keys in engine.client.has_what().values() for k in keys if str(k).startswith(eng.ACTOR_PREFIX)}


def test_a_remote_run_matches_the_in_process_trainer(engine):
    torch.set_num_threads(1)  # the workers train on one thread; so does the reference
    remote = RemoteTrainer(spec(SHORT), engine)
    assert remote.snapshot.status == "ready" and remote.snapshot.total_steps == 19 * 3
    final = remote.run()
    # The workers have no GPU resource, so they train on the CPU, even on a machine with CUDA: so does the reference.
    local = Trainer(SHORT, TRAIN, TEST, replay_images=TEST[:50], device=torch.device("cpu")).run()
    assert final.status == "done" and final.step == local.step == 57
    assert final.test_mse == local.test_mse
    assert torch.equal(final.train_loss, local.train_loss)
    assert all(torch.equal(final.state[k], local.state[k]) for k in local.state)
    assert final.replay_epochs == local.replay_epochs and len(final.replay) == len(local.replay)
    assert all(torch.equal(a, b) for a, b in zip(final.replay, local.replay, strict=True))
    assert remote.key not in actor_keys(engine)  # the actor went with the run


def test_pause_resume_and_stop_free_the_worker_within_a_second(engine):
    remote = RemoteTrainer(spec(LONG), engine)
    thread = run_in_thread(remote)
    wait_for(lambda: remote.snapshot.status == "running" and remote.snapshot.step > 0, 60, "a running snapshot")
    remote.pause()
    assert remote.pause_requested and remote.paused_since is not None
    wait_for(lambda: remote.snapshot.status == "paused", 5, "the pause")
    paused_step = remote.snapshot.step
    time.sleep(0.6)
    assert remote.snapshot.step == paused_step
    remote.hold("Held for someone else.")
    wait_for(lambda: remote.snapshot.message == "Held for someone else.", 5, "the hold's note")
    remote.resume()  # still held: it must keep waiting
    time.sleep(0.6)
    assert remote.snapshot.step == paused_step
    remote.release()
    wait_for(lambda: remote.snapshot.step > paused_step, 5, "training after release")
    assert remote.key in actor_keys(engine)
    remote.stop()
    assert remote.stop_requested
    freed = wait_for(lambda: remote.key not in actor_keys(engine), 5, "the worker's release")
    thread.join(5)
    assert freed < 1.0
    assert remote.snapshot.status == "stopped" and remote.snapshot.message == "Stopped by the user."


def test_a_job_stopped_before_it_reaches_a_worker_never_starts(engine):
    remote = RemoteTrainer(spec(LONG), engine)
    remote.stop()
    final = remote.run()
    assert final.status == "stopped" and final.step == 0
    assert remote.worker is None


def test_two_jobs_go_to_two_workers(engine):
    first, second = RemoteTrainer(spec(LONG), engine), RemoteTrainer(spec(LONG), engine)
    threads = start_together(first, second)
    assert first.worker != second.worker
    for remote, thread in zip((first, second), threads, strict=True):
        remote.stop()
        thread.join(5)
        assert remote.snapshot.status == "stopped"


def test_the_job_manager_runs_a_remote_trainer(engine):
    try:
        from service.jobs import JobManager
    except ImportError:  # before the job queue moves to service/
        from service.jobs import JobManager
    manager = JobManager(max_running=2)
    job = manager.submit("session", "k=8", lambda: RemoteTrainer(spec(SHORT), engine))
    wait_for(lambda: manager.heartbeat(job.id).finished, 60, "the queued job's end")
    assert job.snapshot.status == "done" and job.snapshot.step == 57


def test_killing_a_worker_fails_its_job_only_and_the_cluster_replaces_it(engine):
    victim, survivor = RemoteTrainer(spec(LONG), engine), RemoteTrainer(spec(LONG), engine)
    threads = start_together(victim, survivor)
    pid = victim._actor.pid().result(timeout=10)
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    threads[0].join(20)
    assert not threads[0].is_alive()
    snap = victim.snapshot
    assert snap.status == "failed" and snap.message.startswith("The trainer stopped unexpectedly")
    assert snap.step > 0  # what it had trained stays on the page
    step = survivor.snapshot.step
    wait_for(lambda: survivor.snapshot.step > step, 10, "the other job carrying on")
    survivor.stop()
    threads[1].join(5)
    assert survivor.snapshot.status == "stopped"
    wait_for(lambda: len(engine.workers()) == 2, 60, "a replacement worker")
    assert RemoteTrainer(spec(SHORT), engine).run().status == "done"
