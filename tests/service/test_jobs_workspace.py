"""Jobs of a workspace: they outlive their tabs, and their result is kept by a callback before they count as done."""

from __future__ import annotations

import threading

from service.jobs import SWEEP, TRAIN, JobManager
from tests.service.test_jobs import data, factory, wait_until  # noqa: F401  (data is a fixture)


def test_a_workspace_job_runs_on_without_heartbeats_and_its_callback_runs_first(data):  # noqa: F811
    manager = JobManager(max_running=1, orphan_seconds=0.2)
    gate, seen = threading.Event(), []

    def on_finish(job):
        seen.append(job.snapshot.status)
        job.outcome = "kept"
        gate.wait(5)  # hold the callback: the job must not look finished meanwhile

    job = manager.submit("tab", "run", factory(data, epochs=2, batch=64), owner="workspace:w", workspace="w", on_finish=on_finish)
    assert wait_until(lambda: seen, timeout=30), "the run ends on its own with no tab polling it"
    assert manager.reap() == [] and manager.get(job.id) is job, "not reaped while its tab is gone"
    assert not job.finished, "finished only once the callback has kept the result"
    gate.set()
    assert wait_until(lambda: job.finished)
    assert job.outcome == "kept" and seen == ["done"]


def test_a_tab_job_is_still_reaped_and_a_discarded_workspace_job_skips_its_callback(data):  # noqa: F811
    manager = JobManager(max_running=2, orphan_seconds=0.2)
    called = []
    tab = manager.submit("tab", "run", factory(data))
    ws = manager.submit("tab", "run", factory(data), owner="workspace:w", workspace="w", on_finish=called.append)
    assert wait_until(lambda: tab.snapshot is not None and tab.snapshot.step > 0)
    assert wait_until(lambda: tab.id in manager.reap() or manager.get(tab.id) is None, timeout=5)
    assert manager.get(ws.id) is ws
    manager.discard(ws.id)  # Reset or Forget: nobody wants the model
    assert wait_until(lambda: manager.get(ws.id) is None)
    assert called == []


def test_owned_finds_a_workspaces_jobs_by_kind_for_any_tab(data):  # noqa: F811
    manager = JobManager(max_running=1, orphan_seconds=60)
    run = manager.submit("tab1", "run", factory(data), owner="workspace:w", kind=TRAIN, workspace="w")
    sweep = [manager.submit("tab1", f"k{i}", factory(data), owner="workspace:w", kind=SWEEP, workspace="w") for i in range(2)]
    other = manager.submit("tab2", "run", factory(data), owner="workspace:v", workspace="v")
    try:
        assert manager.owned("workspace:w", TRAIN) == [run]
        assert manager.owned("workspace:w", SWEEP) == sweep
        manager.discard(sweep[0].id)
        assert manager.owned("workspace:w", SWEEP) == [sweep[1]]
        assert manager.owned("workspace:v", TRAIN) == [other]
    finally:
        for job in (run, *sweep, other):
            manager.discard(job.id)
