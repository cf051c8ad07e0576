"""Stepping through training: Step, Step epoch, pause after N steps, a learning rate set while paused, slow motion."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from model.config import TrainConfig
from model.train import SLOW_STEP_SECONDS, Trainer
from tests.model.test_trainer import long_config, start, wait_for

EPOCH_CONFIG = TrainConfig(latent_dim=4, epochs=4, batch_size=64)  # 600 digits: 10 steps an epoch, the last short


def paused_at(trainer: Trainer, step: int, timeout: float = 5) -> None:
    """Wait until the trainer has published a paused snapshot at exactly `step`."""
    wait_for(lambda: trainer.snapshot.status == "paused" and trainer.snapshot.step >= step, timeout=timeout)
    assert trainer.snapshot.step == step
    assert not trainer.steps_pending


def started_paused(trainer: Trainer) -> threading.Thread:
    """The run started paused: it waits before its first step."""
    trainer.pause()
    worker = start(trainer)
    paused_at(trainer, 0)
    return worker


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.snapshot.state.items()}


def test_a_step_while_paused_advances_exactly_one_batch_and_publishes_it(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    worker = started_paused(trainer)
    try:
        before = weights(trainer)
        assert trainer.step()
        paused_at(trainer, 1)
        snap = trainer.snapshot
        assert snap.train_loss.shape == (1,) and snap.samples_seen == 1
        assert not torch.equal(snap.state["decoder.weight"], before["decoder.weight"]), "the paused snapshot is new"
        assert trainer.step(3)
        paused_at(trainer, 4)
        time.sleep(0.2)
        assert trainer.snapshot.step == 4 and trainer.snapshot.status == "paused"  # no more than granted
    finally:
        trainer.stop()
        worker.join(5)


def test_quick_steps_add_up(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    worker = started_paused(trainer)
    try:
        for _ in range(5):  # pressed faster than a step publishes
            assert trainer.step()
        paused_at(trainer, 5)
    finally:
        trainer.stop()
        worker.join(5)


def test_step_is_refused_unless_paused_by_the_user(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    assert not trainer.step() and not trainer.step_epoch()  # not paused (nor started)
    worker = start(trainer)
    try:
        wait_for(lambda: trainer.snapshot.step > 0, timeout=5)
        assert not trainer.step(), "a running trainer takes no step orders"
        trainer.pause()
        assert not trainer.step(0)
        trainer.stop()
        assert not trainer.step(), "nor does a stopped one"
    finally:
        trainer.stop()
        worker.join(5)


def test_step_epoch_lands_on_the_epoch_boundary_and_scores_it(digits) -> None:
    train, test = digits
    trainer = Trainer(EPOCH_CONFIG, train, test)
    spe = trainer.steps_per_epoch
    assert spe == 10
    worker = started_paused(trainer)
    try:
        assert trainer.step(3)
        paused_at(trainer, 3)
        assert trainer.step_epoch()  # from the middle: to the end of this epoch
        paused_at(trainer, spe)
        assert trainer.snapshot.epoch == 1 and len(trainer.snapshot.test_mse) == 1
        assert trainer.step_epoch()  # from a boundary: one whole epoch
        paused_at(trainer, 2 * spe)
        assert len(trainer.snapshot.test_mse) == 2
        assert trainer.step() and trainer.step_epoch()  # a step, then the rest of that epoch
        paused_at(trainer, 3 * spe)
    finally:
        trainer.stop()
        worker.join(5)


def test_stepping_does_not_change_the_run(digits) -> None:
    """Paused, stepped and resumed, a seeded run ends exactly as one left alone."""
    train, test = digits
    alone = Trainer(EPOCH_CONFIG, train, test).run()
    trainer = Trainer(EPOCH_CONFIG, train, test)
    worker = started_paused(trainer)
    trainer.step(2)
    paused_at(trainer, 2)
    trainer.step_epoch()
    paused_at(trainer, 10)
    trainer.resume()
    worker.join(10)
    stepped = trainer.snapshot
    assert stepped.status == "done" and stepped.step == alone.step
    assert torch.equal(stepped.train_loss, alone.train_loss)
    assert stepped.test_mse == alone.test_mse


def test_pause_after_n_pauses_at_exactly_n(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)  # batch 1: hundreds of steps a second
    trainer.set_pause_after(37)
    assert trainer.pause_after == 37
    worker = start(trainer)
    try:
        paused_at(trainer, 37)
        assert trainer.pause_requested and trainer.pause_after == 0, "a pause the user undoes; the count has fired"
        trainer.resume()  # a count already passed does not pause again
        wait_for(lambda: trainer.snapshot.step > 60, timeout=5)
        assert not trainer.pause_requested
    finally:
        trainer.stop()
        worker.join(5)


def test_pause_after_rejects_what_is_not_a_step_count(digits) -> None:
    train, test = digits
    trainer = Trainer(EPOCH_CONFIG, train, test)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="Pause after"):
            trainer.set_pause_after(bad)


def test_a_learning_rate_set_while_paused_applies_on_resume_and_is_recorded(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(schedule="constant"), train, test)
    trainer.set_pause_after(5)
    worker = start(trainer)
    try:
        paused_at(trainer, 5)
        trainer.set_lr(0.0)
        assert trainer.lr == 0.0
        time.sleep(0.05)
        assert trainer.snapshot.lr_changes == (), "nothing changes until a step is taken"
        frozen = weights(trainer)
        trainer.resume()
        wait_for(lambda: trainer.snapshot.step > 20, timeout=5)
        snap = trainer.snapshot
        assert snap.lr_changes == ((5, 0.0),)
        for k, v in snap.state.items():  # Adam with a zero step size leaves every weight where it was
            assert torch.equal(v, frozen[k]), k
    finally:
        trainer.stop()
        worker.join(5)
    assert trainer.snapshot.lr_changes == ((5, 0.0),), "kept in the final snapshot"


def test_two_rates_set_at_one_step_keep_the_last(digits) -> None:
    train, test = digits
    trainer = Trainer(EPOCH_CONFIG, train, test)
    worker = started_paused(trainer)
    trainer.set_lr(0.5)
    trainer.set_lr(0.002)
    trainer.step()
    paused_at(trainer, 1)
    trainer.set_lr(0.004)
    trainer.step()
    paused_at(trainer, 2)
    trainer.stop()
    worker.join(5)
    assert trainer.snapshot.lr_changes == ((0, 0.002), (1, 0.004))
    with pytest.raises(ValueError, match="Learning rate"):
        trainer.set_lr(-1.0)


def test_resume_forgets_steps_not_yet_taken(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    trainer.pause()  # not started: nothing takes the grant before resume
    assert trainer.step(1000)
    assert trainer.steps_pending
    trainer.resume()
    assert not trainer.steps_pending
    trainer.set_pause_after(3)
    worker = start(trainer)
    try:
        paused_at(trainer, 3)
        time.sleep(0.1)
        assert trainer.snapshot.step == 3
    finally:
        trainer.stop()
        worker.join(5)


def test_slow_motion_spaces_the_steps_and_publishes_each(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    trainer.set_slow_motion(True)
    assert trainer.slow_motion
    worker = start(trainer)
    try:
        wait_for(lambda: trainer.snapshot.step >= 1, timeout=5)
        seen = {trainer.snapshot.step}
        started, first = time.perf_counter(), trainer.snapshot.step
        while time.perf_counter() - started < 0.6:
            seen.add(trainer.snapshot.step)
            time.sleep(0.01)
        taken = trainer.snapshot.step - first
        assert 3 <= taken <= 0.6 / SLOW_STEP_SECONDS + 1
        assert len(seen) >= taken, "every slow step is published"
        assert trainer.snapshot.elapsed < 0.3, "the waits are not training time"
        trainer.set_slow_motion(False)
        wait_for(lambda: trainer.snapshot.step > first + 200, timeout=5)
    finally:
        trainer.stop()
        worker.join(5)
