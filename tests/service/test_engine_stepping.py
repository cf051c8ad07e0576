"""Stepping through a run on the engine: the controls travel in the RemoteTrainer's wished state to the actor."""

from __future__ import annotations

import importlib
import threading
import time

import pytest
import torch

from model.config import TrainConfig
from model.train import SLOW_STEP_SECONDS
from service import engine as eng
from service.job_spec import InlineData, JobSpec
from service.remote_trainer import RemoteTrainer
from service.worker_side import ControlState, TrainerActor
from tests.model.conftest import digit_tensors

TRAIN, TEST = digit_tensors(600, seed=10), digit_tensors(200, seed=11)
# 19 steps an epoch, 200 epochs: runs until a test stops it.
LONG = TrainConfig(latent_dim=8, epochs=200, batch_size=32, schedule="constant", lr=0.005)


@pytest.fixture(scope="module")
def engine():
    """One cluster of two thread workers for the module (the controls' path is the same as with processes)."""
    started = eng.start(mode="threads", address="", n_workers=2)
    started.client.run(importlib.import_module, "service.worker_side")
    try:
        yield started
    finally:
        started.close()


def wait_for(condition, seconds: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"{what} did not happen within {seconds} s"
        time.sleep(0.01)


def paused_at(remote: RemoteTrainer, step: int) -> None:
    """The server's snapshot is paused at exactly `step`, and stays there."""
    wait_for(lambda: remote.snapshot.status == "paused" and remote.snapshot.step >= step, 20, f"a pause at {step}")
    time.sleep(0.3)  # two refreshes: nothing more may arrive
    assert remote.snapshot.step == step and remote.snapshot.status == "paused"


@pytest.fixture
def remote(engine):
    """A long run on the engine, stopped (and its worker freed) after the test."""
    trainer = RemoteTrainer(JobSpec(LONG, InlineData(TRAIN, TEST)), engine)
    thread = threading.Thread(target=trainer.run, daemon=True)
    yield trainer, thread
    trainer.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_pause_after_steps_and_step_epoch_on_a_worker(remote):
    trainer, thread = remote
    trainer.set_pause_after(25)  # before the actor exists: sent with the first wished state
    assert not trainer.step(), "no steps unless paused"
    thread.start()
    paused_at(trainer, 25)
    assert trainer.pause_requested, "the worker's pause is the server's too"
    before = trainer.snapshot.state["decoder.weight"].clone()
    assert trainer.step()
    paused_at(trainer, 26)
    assert not torch.equal(trainer.snapshot.state["decoder.weight"], before), "the step's weights came back"
    assert trainer.step() and trainer.step() and trainer.step(2)  # quick presses add up
    paused_at(trainer, 30)
    assert trainer.step_epoch()
    paused_at(trainer, 38)  # 19 steps an epoch: the end of the second
    assert trainer.snapshot.epoch == 2 and len(trainer.snapshot.test_mse) == 2


def test_a_learning_rate_set_while_paused_reaches_the_worker_with_its_step(remote):
    trainer, thread = remote
    trainer.pause()
    thread.start()
    paused_at(trainer, 0)
    trainer.step(10)
    paused_at(trainer, 10)
    trainer.set_lr(0.0)
    assert trainer.lr == 0.0
    frozen = {k: v.clone() for k, v in trainer.snapshot.state.items()}
    trainer.resume()
    wait_for(lambda: trainer.snapshot.step > 40, 20, "training after resume")
    snap = trainer.snapshot
    assert snap.lr_changes == ((10, 0.0),)
    for k, v in snap.state.items():  # a zero learning rate from step 10 on: the weights stay
        assert torch.equal(v, frozen[k]), k
    with pytest.raises(ValueError, match="Learning rate"):
        trainer.set_lr(float("nan"))


def test_slow_motion_on_a_worker(remote):
    trainer, thread = remote
    trainer.set_slow_motion(True)
    thread.start()
    wait_for(lambda: trainer.snapshot.step >= 2, 30, "slow steps")
    first, started = trainer.snapshot.step, time.monotonic()
    time.sleep(1.0)
    taken = trainer.snapshot.step - first
    assert 3 <= taken <= 1.0 / SLOW_STEP_SECONDS + 3
    trainer.set_slow_motion(False)
    wait_for(lambda: trainer.snapshot.step > first + 300, 20, "full speed again")
    assert trainer.slow_motion is False and time.monotonic() - started < 20


def test_the_actor_keeps_its_own_pause_until_the_server_adopts_it_and_takes_each_press_once():
    """Called in this process, as the worker's actor thread would: the wished states in order, one overtaken."""
    actor = TrainerActor(JobSpec(LONG, InlineData(TRAIN, TEST)))
    trainer = actor.trainer
    actor.control(1, ControlState(False, False, "", False, pause_after=5))
    actor.start()
    try:
        wait_for(lambda: trainer.snapshot.status == "paused", 10, "the pause at 5")
        assert trainer.snapshot.step == 5
        actor.control(2, ControlState(False, False, "", False, pause_after=5, slow=True))  # sent before it knew
        time.sleep(0.2)
        assert trainer.pause_requested and trainer.snapshot.step == 5, "a wish that never saw the pause keeps it"
        actor.control(3, ControlState(True, False, "", False, steps=2))  # adopted, and two Step presses
        wait_for(lambda: trainer.snapshot.step == 7 and trainer.snapshot.status == "paused", 10, "two slow steps")
        actor.control(3, ControlState(True, False, "", False, steps=9))  # a repeated sequence number: ignored
        actor.control(4, ControlState(True, False, "", False, steps=3))  # one more press
        wait_for(lambda: trainer.snapshot.step == 8 and trainer.snapshot.status == "paused", 10, "the third step")
        time.sleep(0.3)
        assert trainer.snapshot.step == 8, "each press is taken once"
        actor.control(5, ControlState(False, False, "", False, steps=3))
        wait_for(lambda: trainer.snapshot.step > 8, 10, "the resume")
    finally:
        actor.control(6, ControlState(False, False, "", True))
        actor._thread.join(5)


def test_the_actors_long_poll_returns_at_a_new_snapshot_only_when_asked():
    """A watched run's server pulls each snapshot as the trainer makes it; an unwatched one only at the end."""
    from tests.conftest import run_async

    actor = TrainerActor(JobSpec(LONG, InlineData(TRAIN, TEST)))
    actor.control(1, ControlState(False, False, "", False, pause_after=5))

    def waited(news: bool, timeout: float) -> tuple[bool, float]:
        started = time.monotonic()
        return run_async(actor.wait_end(timeout, news)), time.monotonic() - started

    ended, seconds = waited(True, 5.0)
    assert not ended and seconds < 1.0, "the ready snapshot was never handed out: news at once"
    assert actor.delta(0, 0, (), -1) is not None
    ended, seconds = waited(True, 0.3)
    assert not ended and seconds >= 0.25, "nothing new: the poll runs its length"
    actor.start()
    try:
        wait_for(lambda: actor.trainer.snapshot.status == "paused", 10, "the pause at 5")
        ended, seconds = waited(False, 0.3)
        assert not ended and seconds >= 0.25, "unwatched: a new snapshot does not end the poll"
        ended, seconds = waited(True, 5.0)
        assert not ended and seconds < 1.0, "watched: the paused snapshot is news"
        delta = actor.delta(1, 0, (), -1)
        assert delta is not None and delta.step == 5 and delta.status == "paused"
        ended, seconds = waited(True, 0.3)
        assert not ended and seconds >= 0.25
    finally:
        actor.control(2, ControlState(False, False, "", True))
        actor._thread.join(5)
    ended, seconds = waited(True, 5.0)
    assert ended and seconds < 1.0
