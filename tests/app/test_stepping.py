"""AppTest: Step, Step epoch, the learning rate set while paused, pause after N steps and slow motion."""

from __future__ import annotations

import time

from tests.app import test_run_controls
from tests.app.conftest import texts
from tests.app.test_run_controls import button, current_trainer, wait_until

long_run_page = test_run_controls.long_run_page  # the same fixture: a long run, its jobs ended after each test

STEP_BUTTONS = ("train_step", "train_step_epoch")


def paused_at_rest(at, beyond: int = -1) -> int:
    """Wait for a paused snapshot past step `beyond`, let it settle, redraw the page, and return its step."""
    trainer = current_trainer(at)
    wait_until(lambda: trainer.snapshot.status == "paused" and trainer.snapshot.step > beyond)
    time.sleep(0.3)  # a step too many would show by now
    at.run()
    assert trainer.snapshot.status == "paused"
    return trainer.snapshot.step


def test_step_is_on_only_while_paused(long_run_page):
    at = long_run_page
    assert all(button(at, key).disabled for key in STEP_BUTTONS), "no run: nothing to step"
    assert "space pauses or resumes, s steps" in texts(at)
    button(at, "train_start").click().run()
    assert all(button(at, key).disabled for key in STEP_BUTTONS), "running: Pause first"
    assert at.number_input(key="train_run_lr").disabled, "the rate changes only while paused"
    button(at, "train_pause").click().run()
    assert not any(button(at, key).disabled for key in STEP_BUTTONS)
    assert not at.number_input(key="train_run_lr").disabled
    button(at, "train_pause").click().run()  # Resume
    assert all(button(at, key).disabled for key in STEP_BUTTONS)


def test_step_advances_the_paused_run_by_one_and_the_page_shows_it(long_run_page):
    at = long_run_page
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    button(at, "train_pause").click().run()
    step = paused_at_rest(at)
    assert f"step {step:,}/" in at.progress[0].text
    button(at, "train_step").click().run()
    assert paused_at_rest(at, beyond=step) == step + 1
    assert f"step {step + 1:,}/" in at.progress[0].text and "Paused" in at.progress[0].text
    button(at, "train_step_epoch").click().run()
    after = paused_at_rest(at, beyond=step + 1)
    assert after % trainer.steps_per_epoch == 0 and after > step + 1, "on the next epoch boundary"
    assert not button(at, "train_step").disabled, "still paused, still steppable"


def test_a_learning_rate_typed_while_paused_reaches_the_run(long_run_page):
    at = long_run_page
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    assert at.number_input(key="train_run_lr").value == trainer.config.lr
    button(at, "train_pause").click().run()
    step = paused_at_rest(at)
    at.number_input(key="train_run_lr").set_value(0.0005).run()
    assert trainer.lr == 0.0005
    button(at, "train_pause").click().run()  # Resume
    wait_until(lambda: trainer.snapshot.lr_changes)
    assert trainer.snapshot.lr_changes[0] == (step, 0.0005)


def test_pause_after_n_steps_and_slow_motion_go_with_start(long_run_page):
    at = long_run_page
    at.number_input(key="train_pause_after").set_value(40).run()
    at.toggle(key="train_slow_motion").set_value(True).run()
    button(at, "train_start").click().run()
    trainer = current_trainer(at)
    assert trainer.slow_motion
    at.toggle(key="train_slow_motion").set_value(False).run()  # a running run follows the switch
    assert not trainer.slow_motion
    assert paused_at_rest(at) == 40
    assert button(at, "train_pause").label == "Resume" and not button(at, "train_step").disabled
    assert "Paused" in at.progress[0].text
