"""The server-wide training queue: limits, queue positions, control, orphans."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from model.config import TrainConfig
from model.train import Trainer
from service import jobs as jobs_module
from service.jobs import PREEMPTED_NOTE, SWEEP, JobManager


@pytest.fixture
def data():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(512, 784, generator=gen), torch.rand(64, 784, generator=gen)


def factory(data, epochs=200, batch=8):
    train, test = data
    return lambda: Trainer(TrainConfig(latent_dim=4, epochs=epochs, batch_size=batch), train, test)


def wait_until(predicate, timeout=10.0):
    """Whether predicate() comes true within timeout seconds, checked every 20 ms (returns at once when it does)."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()  # never set: its wait is the pause between checks
    while time.monotonic() < deadline:
        if predicate():
            return True
        tick.wait(0.02)
    return bool(predicate())


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
    assert wait_until(lambda: job.snapshot.status == "paused", timeout=2.0)  # generous: the cores are shared
    step = job.snapshot.step
    assert not wait_until(lambda: job.snapshot.step != step, timeout=0.3), "a paused job takes no steps"
    job.trainer.resume()
    assert wait_until(lambda: job.snapshot.step > step)
    manager.cancel(job.id)
    assert wait_until(lambda: job.finished, timeout=2.0)
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
    manager = JobManager(max_running=1, orphan_seconds=1.0)  # well above a heartbeat gap on loaded cores
    kept = manager.submit("alive", "kept", factory(data))
    orphan = manager.submit("gone", "orphan", factory(data))  # queued behind kept

    def orphan_dropped_while_kept_polls() -> bool:  # only "alive" keeps polling
        manager.heartbeat(kept.id)
        return manager.get(orphan.id) is None

    assert wait_until(orphan_dropped_while_kept_polls, timeout=5.0), "the unpolled queued job was dropped"
    assert manager.get(kept.id) is kept
    # Now nobody polls: the reaper stops the running job and drops it once it has stopped.
    assert wait_until(lambda: manager.get(kept.id) is None, timeout=5.0)
    assert kept.snapshot.finished


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
    job.last_seen -= 2 * manager.orphan_seconds  # as if its tab had sent no heartbeat for that long
    manager.reap()
    assert manager.get(job.id) is job and not job.finished, "connected: kept without heartbeats"
    connected["tab"] = False
    monkeypatch.setattr("service.jobs.DISCONNECT_GRACE", 0.1)

    def reaped() -> bool:  # its last poll recedes past the grace period; then it stops and is dropped
        manager.reap()
        return manager.get(job.id) is None

    assert wait_until(reaped, timeout=5.0), "disconnected past the grace period"
    assert job.finished


# Job lifetimes: every way a job ends leaves nothing behind (each of these leaked before).


def test_reset_discards_a_running_job_once_it_has_stopped(data):
    """Reset on a running job: it stops and the manager drops it, loss curve and all, by itself."""
    manager = JobManager(max_running=1, orphan_seconds=60, is_alive=lambda sid: True)
    job = manager.submit("tab", "run", factory(data))
    assert wait_until(lambda: job.snapshot.step > 0)
    manager.discard(job.id)
    assert wait_until(lambda: manager.job_count() == 0, timeout=2.0)
    job.thread.join(2.0)
    assert not job.thread.is_alive() and job.snapshot.status == "stopped"


def test_discarding_a_queued_or_finished_job_drops_it_at_once(data):
    manager = JobManager(max_running=1, orphan_seconds=60)
    running = manager.submit("a", "running", factory(data))
    queued = manager.submit("b", "queued", factory(data))
    manager.discard(queued.id)
    assert manager.get(queued.id) is None and queued.trainer is None, "never started, gone at once"
    manager.cancel(running.id)
    assert wait_until(lambda: running.finished)
    manager.discard(running.id)
    assert manager.get(running.id) is None


def test_finished_jobs_of_a_connected_session_expire_when_nobody_collects_them(data):
    """The reaper kept every job of a connected tab alive for ever, finished ones included."""
    manager = JobManager(max_running=1, orphan_seconds=60, is_alive=lambda sid: True, uncollected_seconds=0.3)
    job = manager.submit("tab", "run", factory(data, epochs=1, batch=256))
    assert wait_until(lambda: job.finished)
    manager.reap()
    assert manager.get(job.id) is job, "a fresh result waits for its owner's next poll"
    assert wait_until(lambda: manager.reap() == [job.id], timeout=2.0)
    assert manager.job_count() == 0


def test_the_reaper_hands_memory_back_when_the_server_forgets_sessions(monkeypatch):
    """Streamlit forgets a closed tab's session 120 s after it closed; what it held is freed into malloc's arenas."""
    trims = []
    monkeypatch.setattr(jobs_module.allocator, "trim", lambda: trims.append(1) or True)
    held = [3]
    manager = JobManager(max_running=1, orphan_seconds=600, session_count=lambda: held[0])
    manager.reap()
    held[0] = 4  # a new tab
    manager.reap()
    assert trims == [], "nothing was dropped, nothing to hand back"
    held[0] = 1  # three sessions forgotten
    manager.reap()
    assert trims == [1]
    manager.reap()
    assert trims == [1], "once per fall, not every reap"


def test_the_reaper_hands_memory_back_after_dropping_a_job(data, monkeypatch):
    trims = []
    monkeypatch.setattr(jobs_module.allocator, "trim", lambda: trims.append(1) or True)
    manager = JobManager(max_running=1, orphan_seconds=600)
    job = manager.submit("tab", "run", factory(data))
    manager.discard(job.id)
    assert wait_until(lambda: manager.get(job.id) is None)
    manager.reap()
    assert trims == [1]


def test_cancelled_sweep_leaves_no_jobs_behind(data):
    """Cancel the sweep: running and queued jobs all go, the running ones as soon as they stop."""
    manager = JobManager(max_running=2, orphan_seconds=60, is_alive=lambda sid: True)
    jobs = [manager.submit("tab", f"k={k}", factory(data), kind=SWEEP) for k in range(6)]
    assert wait_until(lambda: jobs[0].snapshot is not None and jobs[0].snapshot.step > 0)
    for job in jobs:
        manager.discard(job.id)
    assert wait_until(lambda: manager.job_count() == 0, timeout=2.0)
    for job in jobs:
        if job.thread is not None:
            job.thread.join(2.0)
    assert not any(j.thread is not None and j.thread.is_alive() for j in jobs)


# Fair share: per owner, not per tab.


def test_someone_new_goes_ahead_of_an_owners_extra_tabs_and_takes_an_extra_slot(data):
    manager = JobManager(max_running=2, orphan_seconds=60)
    a1, a2, a3 = (manager.submit(f"tab{i}", f"a{i}", factory(data), owner="ip:a") for i in range(3))
    assert a1.has_slot and a2.has_slot and a3.queued, "free slots are never left idle"
    assert wait_until(lambda: a2.snapshot.step > 0)
    b = manager.submit("tab-b", "b", factory(data), owner="ip:b")
    assert b.has_slot and a1.has_slot, "the newcomer took the slot of a's latest extra run"
    assert wait_until(lambda: a2.snapshot.status == "paused")
    assert a2.resuming and a2.snapshot.message == PREEMPTED_NOTE
    assert [j.id for j in manager.waiting()] == [a2.id, a3.id]
    step = a2.snapshot.step
    manager.cancel(b.id)  # a slot frees: a's held run carries on from its state
    assert wait_until(lambda: a2.has_slot and a2.snapshot.step > step)
    assert a3.queued
    for j in (a1, a2, a3):
        manager.discard(j.id)


def test_a_newcomer_is_first_in_line_not_behind_one_browsers_queue(data):
    manager = JobManager(max_running=1, orphan_seconds=60)
    mine = [manager.submit(f"tab{i}", str(i), factory(data), owner="ip:a") for i in range(5)]
    other = manager.submit("tab-b", "b", factory(data), owner="ip:b")
    assert manager.queue_position(other.id) == 1, "not number 5 in line"
    assert mine[0].has_slot, "a's first run is within its share: never held"
    for j in (*mine, other):
        manager.discard(j.id)


def test_a_sweep_runs_one_job_at_a_time_and_only_when_nobody_else_waits(data):
    manager = JobManager(max_running=3, orphan_seconds=60)
    sweep = [manager.submit("tab", f"k={k}", factory(data), owner="ip:a", kind=SWEEP) for k in range(4)]
    assert [j.has_slot for j in sweep] == [True, False, False, False], "one at a time, even with free slots"
    own = manager.submit("tab2", "train", factory(data), owner="ip:a")
    assert own.has_slot, "plus one Train run of the same owner"
    b, c = (manager.submit(f"tab-{o}", o, factory(data), owner=f"ip:{o}") for o in "bc")
    assert b.has_slot and c.has_slot and not sweep[0].has_slot, "the sweep job gave its slot to c"
    assert manager.waiting()[0] is sweep[0], "and carries on first when a slot frees"
    manager.discard(b.id)
    assert wait_until(lambda: sweep[0].has_slot)
    assert not any(j.has_slot for j in sweep[1:])
    for j in (*sweep, own, c):
        manager.discard(j.id)


def test_a_long_paused_job_gives_up_its_slot_and_resumes_from_its_state(data):
    manager = JobManager(max_running=1, orphan_seconds=60, pause_release_seconds=1.0)
    a = manager.submit("tab-a", "a", factory(data), owner="ip:a")
    assert wait_until(lambda: a.snapshot.step > 0)
    b = manager.submit("tab-b", "b", factory(data), owner="ip:b")
    manager.pause(a.id)
    manager.reap()
    assert a.has_slot and b.queued, "paused for less than the release time: keeps its slot"
    assert wait_until(lambda: a.snapshot.status == "paused")
    step = a.snapshot.step
    assert wait_until(lambda: (manager.reap(), b.has_slot)[1], timeout=5.0)
    assert not a.has_slot and not a.queued, "paused: gives its slot up, and does not queue"
    assert "went to someone waiting" in a.snapshot.message
    manager.resume(a.id)
    assert a.resuming and manager.queue_position(a.id) == 1 and a.snapshot.step == step
    manager.cancel(b.id)
    assert wait_until(lambda: a.has_slot and a.snapshot.step > step), "carries on from where it was"
    assert a.snapshot.status == "running" and a.snapshot.message == ""
    manager.discard(a.id)
    manager.discard(b.id)


def test_stop_reaches_a_held_job(data):
    manager = JobManager(max_running=1, orphan_seconds=60, pause_release_seconds=0.0)
    a = manager.submit("tab-a", "a", factory(data), owner="ip:a")
    assert wait_until(lambda: a.snapshot.step > 0)
    manager.pause(a.id)
    manager.reap()
    assert not a.has_slot
    manager.cancel(a.id)
    assert wait_until(lambda: a.finished) and a.snapshot.status == "stopped"
