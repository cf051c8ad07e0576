"""The engine forgets a finished job's inputs: Dask's debugging logs must not keep every job's spec alive."""

from __future__ import annotations

import gc
import time

import dask
import pytest

from service import engine as eng


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
