"""AppTest: the Train page's buttons follow the run within the very run a click causes."""

from __future__ import annotations

import json
import time

import pytest

from tests.app.conftest import open_page, texts
from ui.server.resources import job_manager


@pytest.fixture
def long_run_page(with_mnist, monkeypatch):
    """The Train page set for a run far longer than a test (batch 1, 200 epochs); its jobs end with the test.

    The job manager is one per process: jobs other tests left behind are ended first, so this run gets a
    trainer at once instead of queueing (a click on Pause does nothing to a run still in the queue).

    The test's session counts as connected, as an open tab's does on the server: AppTest has no runtime to
    ask, so the reaper went by heartbeats alone, and a test waiting 30 s for its trainer on a loaded machine
    (no at.run(), no heartbeat) lost its job as an orphan.
    """
    end_all_jobs()
    monkeypatch.setattr(job_manager(), "is_alive", lambda session_id: True)
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(4).run()
    at.number_input(key="train_epochs").set_value(200).run()
    at.number_input(key="train_batch").set_value(1).run()
    yield at
    end_all_jobs()


def end_all_jobs() -> None:
    for job in job_manager().active_jobs():
        job_manager().cancel(job.id)
        if job.thread is not None:
            job.thread.join(timeout=10)  # no trainer thread outlives its test


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def button(at, key: str):
    return at.button(key=key)


def current_trainer(at):
    return job_manager().get(at.session_state["job_id"]).trainer


def test_start_redraws_the_controls_at_once(long_run_page):
    at = long_run_page
    assert not button(at, "train_start").disabled and button(at, "train_pause").disabled
    button(at, "train_start").click().run()
    assert not at.exception, at.exception
    assert button(at, "train_start").disabled, "Start is off in the run the click caused"
    assert not button(at, "train_pause").disabled and not button(at, "train_stop").disabled
    assert at.number_input(key="train_k").disabled and at.number_input(key="train_epochs").disabled
    line = at.progress[0].text
    assert "k = 4, 200 epochs, no noise" in line, line


def test_pause_label_follows_the_request_not_the_snapshot(long_run_page):
    at = long_run_page
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    button(at, "train_pause").click().run()
    assert trainer.pause_requested
    assert button(at, "train_pause").label == "Resume"
    # Pausing or paused: either way the line says so, never "Running".
    assert any(word in at.progress[0].text for word in ("Pausing", "Paused")), at.progress[0].text
    button(at, "train_pause").click().run()  # reads Resume, so it resumes, even if the pause had not landed
    assert not trainer.pause_requested
    assert button(at, "train_pause").label == "Pause"


def test_a_pause_that_took_effect_freezes_the_progress(long_run_page):
    at = long_run_page
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    button(at, "train_pause").click().run()
    wait_until(lambda: trainer.snapshot.status == "paused")
    at.run()
    frozen = at.progress[0].text
    assert "Paused" in frozen, frozen
    step = trainer.snapshot.step
    time.sleep(0.5)  # a running trainer publishes every 0.2 s: a paused one must not
    at.run()
    assert trainer.snapshot.step == step and at.progress[0].text == frozen


def test_stop_keeps_the_model_and_frees_the_buttons(long_run_page):
    at = long_run_page
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    wait_until(lambda: trainer.snapshot.step > 0)  # a run stopped before its first step keeps no model
    button(at, "train_stop").click().run()
    deadline = time.monotonic() + 30
    while "Stopped early" not in texts(at) and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert "Stopped early" in texts(at), texts(at)
    assert not button(at, "train_start").disabled and button(at, "train_pause").disabled
    assert "k=4 linear" in at.sidebar.selectbox[0].value
    loss_chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    trained = int(at.sidebar.selectbox[0].value.split(", ")[1].split()[0])  # 'k=4 linear, 2 epochs'
    assert trained < 200 and loss_chart["layout"]["xaxis"]["range"][1] == trained, "the epochs it trained, not 200"


def test_stop_while_paused_ends_the_run(long_run_page):
    at = long_run_page
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    wait_until(lambda: trainer.snapshot.step > 0)
    button(at, "train_pause").click().run()
    wait_until(lambda: trainer.snapshot.status == "paused")
    button(at, "train_stop").click().run()
    seen = "Stopped early" in texts(at)  # the notice shows once, in the run that kept the model
    assert seen or button(at, "train_stop").disabled, "while stopping, Stop is off"
    wait_until(lambda: trainer.snapshot.status == "stopped")
    if not seen:
        at.run()
        seen = "Stopped early" in texts(at)
    assert seen, texts(at)
    assert not button(at, "train_start").disabled


def test_a_run_polled_slowly_keeps_its_job(long_run_page):
    """A connected session's job outlives any gap between polls, as on the server (the reaper's 30 s orphan
    rule is for sessions nobody can vouch for)."""
    at = long_run_page
    button(at, "train_start").click().run()
    job_id = at.session_state["job_id"]
    job_manager().get(job_id).last_seen -= 3600  # an hour without a poll
    assert job_id not in job_manager().reap()
    at.run()
    assert at.session_state["job_id"] == job_id and not button(at, "train_pause").disabled
