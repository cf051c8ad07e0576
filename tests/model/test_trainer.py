"""The trainer: it learns, matches PCA where theory says it should, repeats, obeys its controls, fails cleanly."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.config import TrainConfig
from model.noise import add_noise
from model.pca import fit_pca
from model.train import (
    FINISHED,
    FIRST_PUBLISH_STEPS,
    Snapshot,
    Trainer,
    divergence_window,
    evaluate_mse,
    init_weights,
    is_stuck,
    stuck_advice,
)

CONTROL_SECONDS = 0.2  # pause and stop must act within this much of the trainer thread's own CPU time
PATIENCE = 10.0  # wall seconds a test waits for something that does happen: a loaded machine can be slow


def wait_for(condition: Callable[[], bool], timeout: float, poll: float = 0.002) -> float:
    """Seconds until condition() holds; fails the test after timeout."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(poll)
    return time.perf_counter() - started


def cpu_until(worker: threading.Thread, condition: Callable[[], bool]) -> float:
    """CPU seconds the trainer's thread spends until condition() holds.

    Wall time also counts the waits for a core on a loaded machine (the trainer's and this poller's), which
    say nothing about the trainer: under load a pause seen 0.2 s late failed a wall-clock bound.
    """
    clock = time.pthread_getcpuclockid(worker.ident)
    start, spent = time.clock_gettime(clock), 0.0

    def check() -> bool:
        nonlocal spent
        done = condition()
        try:
            spent = time.clock_gettime(clock) - start
        except OSError:  # the thread has ended (stopped): its CPU time stays at the last reading
            pass
        return done

    wait_for(check, PATIENCE)
    return spent


def start(trainer: Trainer) -> threading.Thread:
    worker = threading.Thread(target=trainer.run, daemon=True)
    worker.start()
    return worker


def assert_finite_charts(snap: Snapshot) -> None:
    """Everything a chart draws is finite and consistent with the step count."""
    assert snap.train_loss.shape == (snap.step,)
    assert bool(torch.isfinite(snap.train_loss).all())
    assert all(math.isfinite(v) for v in snap.test_mse)
    assert math.isfinite(snap.progress) and 0.0 <= snap.progress <= 1.0
    assert snap.seconds_left is None or (math.isfinite(snap.seconds_left) and snap.seconds_left >= 0.0)


def long_config(**changes: object) -> TrainConfig:
    """A run far longer than any test waits: batch size 1, many epochs."""
    return TrainConfig(latent_dim=8, epochs=200, batch_size=1, lr=0.001, **changes)


def test_ready_snapshot_before_running(digits) -> None:
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=8, epochs=3, batch_size=100), train, test)
    snap = trainer.snapshot
    assert snap.status == "ready" and not snap.finished
    assert snap.step == 0 and snap.epoch == 0 and snap.samples_seen == 0
    assert snap.total_steps == 3 * 6 == trainer.total_steps
    assert snap.progress == 0.0
    assert snap.seconds_left is None
    assert snap.train_loss.shape == (0,) and snap.test_mse == ()
    assert snap.final_test_mse is None


def test_loss_decreases_and_final_snapshot_is_complete(digits) -> None:
    train, test = digits
    config = TrainConfig(latent_dim=8, epochs=4, batch_size=50)
    trainer = Trainer(config, train, test)
    initial_mse = evaluate_mse(trainer.model, test.to(trainer.device))
    snap = trainer.run()
    assert snap is trainer.snapshot
    assert snap.status == "done" and snap.finished and snap.message == ""
    assert snap.epoch == 4 and snap.step == snap.total_steps == 4 * 12
    assert snap.samples_seen == 4 * 600
    assert snap.progress == 1.0 and snap.seconds_left == 0.0
    assert snap.elapsed > 0 and snap.samples_per_second > 0
    assert_finite_charts(snap)
    losses = snap.train_loss
    # It starts near the average digit (TrainConfig.bias_init) and learns well beyond it.
    assert float(losses[-5:].mean()) < 0.6 * trainer.average_digit_mse < 0.6 * float(losses[0])
    assert snap.warning == ""
    assert len(snap.test_mse) == 4
    assert snap.test_mse[-1] < snap.test_mse[0] < initial_mse
    # The published weights are the trained ones, and the reported test MSE is theirs.
    model = snap.to_model()
    assert isinstance(model, LinearAutoencoder) and not model.training
    assert evaluate_mse(model, test) == pytest.approx(snap.final_test_mse, rel=1e-5)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(snap.state[name], value.cpu())


def test_state_in_a_snapshot_is_a_copy(digits) -> None:
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=4, epochs=1, batch_size=100), train, test)
    ready = trainer.snapshot
    before = {k: v.clone() for k, v in ready.state.items()}
    trainer.run()
    for k, v in ready.state.items():  # training changed the model, not what was already published
        assert torch.equal(v, before[k])
    assert not torch.equal(trainer.snapshot.state["encoder.weight"], before["encoder.weight"])
    # Published weights are plain contiguous tensors, whatever layout the optimiser trains them in.
    assert all(v.is_contiguous() for v in trainer.snapshot.state.values())


def test_matches_pca_on_low_rank_data(low_rank) -> None:
    """On a sigmoid of rank-4 data, k = 4 is enough to do as well as PCA; k = 2 is not (a bottleneck)."""
    train, test, rank = low_rank
    pca = fit_pca(train)
    results = {}
    for k in (rank, 2):
        snap = Trainer(TrainConfig(latent_dim=k, epochs=12, batch_size=64), train, test).run()
        assert snap.status == "done"
        results[k] = (snap.final_test_mse, pca.mse(test, k))
    ae_full, pca_full = results[rank]
    ae_small, pca_small = results[2]
    # With k = rank the sigmoid decoder can model the data exactly (up to noise): at least as good as PCA.
    assert ae_full <= 1.05 * pca_full
    # With k < rank neither can keep everything; the autoencoder cannot beat PCA by much (no leak of the
    # test set, no evaluation on fewer pixels), and it is far worse than with k = rank.
    assert ae_small >= 0.75 * pca_small
    assert ae_small > 10 * ae_full


@pytest.mark.parametrize("threads", [1, 2])
def test_seeded_runs_repeat_exactly(digits, threads: int) -> None:
    train, test = digits
    train = train[:200]  # few steps: two threads on small tensors are slow when other processes share the cores
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        config = TrainConfig(latent_dim=6, epochs=2, batch_size=50, seed=3, noise="gaussian", noise_level=0.2)
        replay = test[:5]
        a = Trainer(config, train, test, replay_images=replay).run()
        b = Trainer(config, train, test, replay_images=replay).run()
        c = Trainer(config.with_(seed=4), train, test, replay_images=replay).run()
    finally:
        torch.set_num_threads(before)
    assert a.status == b.status == c.status == "done"
    assert torch.equal(a.train_loss, b.train_loss)
    assert a.test_mse == b.test_mse
    assert a.noisy_test_mse == b.noisy_test_mse
    for name in a.state:
        assert torch.equal(a.state[name], b.state[name]), name
    for x, y in zip(a.replay, b.replay, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a.train_loss, c.train_loss)
    assert not torch.equal(a.state["encoder.weight"], c.state["encoder.weight"])


def test_a_denoiser_is_also_scored_on_noisy_test_digits(digits) -> None:
    """Per epoch: its output for a seeded noisy copy of the test set against the clean digits."""
    train, test = digits
    config = TrainConfig(latent_dim=8, epochs=3, batch_size=50, seed=7, noise="gaussian", noise_level=0.4)
    snap = Trainer(config, train, test).run()
    assert snap.status == "done" and len(snap.noisy_test_mse) == len(snap.test_mse) == 3
    noisy = add_noise(test, "gaussian", 0.4, seed=7)
    model = snap.to_model()
    assert snap.noisy_test_mse[-1] == pytest.approx(evaluate_mse(model, noisy, targets=test), rel=1e-5)
    assert snap.test_mse[-1] == pytest.approx(evaluate_mse(model, test), rel=1e-5)
    assert snap.noisy_test_mse[-1] < snap.noisy_test_mse[0]  # it learns the task it is scored on
    assert snap.noisy_test_mse[-1] != pytest.approx(snap.test_mse[-1], rel=1e-3)
    plain = Trainer(config.with_(noise="none", noise_level=0.0), train, test).run()
    assert plain.noisy_test_mse == () and len(plain.test_mse) == 3


def test_evaluate_mse_against_other_targets() -> None:
    model = init_weights(LinearAutoencoder(4), seed=0).eval()
    images, targets = torch.rand(2500, 784), torch.rand(2500, 784)  # more than one evaluation chunk
    with torch.no_grad():
        expected = float(((model(images) - targets) ** 2).mean())
    assert evaluate_mse(model, images, targets=targets) == pytest.approx(expected, rel=1e-5)


def test_seed_sets_initial_weights() -> None:
    a = init_weights(LinearAutoencoder(5), seed=1).state_dict()
    b = init_weights(LinearAutoencoder(5), seed=1).state_dict()
    c = init_weights(LinearAutoencoder(5), seed=2).state_dict()
    bound = 1 / math.sqrt(784)
    for name in a:
        assert torch.equal(a[name], b[name])
        assert not torch.equal(a[name], c[name])
    assert float(a["encoder.weight"].abs().max()) <= bound
    assert float(a["decoder.weight"].abs().max()) <= 1 / math.sqrt(5)


def test_pause_resume_and_stop_from_another_thread(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    worker = start(trainer)
    try:
        wait_for(lambda: trainer.snapshot.status == "running" and trainer.snapshot.step > 0, timeout=10)
        running = trainer.snapshot
        assert not running.finished
        assert 0.0 < running.progress < 1.0
        assert running.seconds_left is not None and running.seconds_left > 0
        assert len(running.test_mse) == running.epoch

        trainer.pause()
        assert cpu_until(worker, lambda: trainer.snapshot.status == "paused") <= CONTROL_SECONDS
        paused = trainer.snapshot
        weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        time.sleep(0.3)
        assert trainer.snapshot.step == paused.step  # nothing advances while paused
        assert trainer.snapshot.status == "paused"
        for k, v in trainer.model.state_dict().items():
            assert torch.equal(v, weights[k]), k
        assert paused.train_loss.shape == (paused.step,)

        resumed = time.perf_counter()
        trainer.resume()
        wait_for(lambda: trainer.snapshot.step > paused.step, timeout=PATIENCE)
        after = trainer.snapshot  # read once, before the clock: a later snapshot would have trained for longer
        since_resume = time.perf_counter() - resumed
        assert after.status == "running"
        # The 0.3 s pause does not count as training time.
        assert after.elapsed - paused.elapsed <= since_resume + 1e-3

        trainer.stop()
        assert cpu_until(worker, lambda: trainer.snapshot.status == "stopped") <= CONTROL_SECONDS
        worker.join(timeout=2)
        assert not worker.is_alive()
    finally:
        trainer.stop()
        worker.join(timeout=5)
    snap = trainer.snapshot
    assert snap.finished and snap.message
    assert snap.step < snap.total_steps
    assert_finite_charts(snap)
    partial = snap.step > snap.epoch * trainer.steps_per_epoch
    assert len(snap.test_mse) == snap.epoch + partial  # a partial epoch is scored too
    assert snap.seconds_left == 0.0


def test_stop_while_paused(digits) -> None:
    train, test = digits
    trainer = Trainer(long_config(), train, test)
    worker = start(trainer)
    try:
        wait_for(lambda: trainer.snapshot.step > 0, timeout=10)
        trainer.pause()
        wait_for(lambda: trainer.snapshot.status == "paused", timeout=PATIENCE)
        trainer.stop()
        assert cpu_until(worker, lambda: trainer.snapshot.status == "stopped") <= CONTROL_SECONDS
    finally:
        trainer.stop()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert_finite_charts(trainer.snapshot)


def test_stop_before_run_takes_no_step(digits) -> None:
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=4, epochs=2), train, test)
    trainer.stop()
    snap = trainer.run()
    assert snap.status == "stopped"
    assert snap.step == 0 and snap.samples_seen == 0
    assert len(snap.test_mse) == 1  # the untrained model is still scored, so there is a number to show
    assert_finite_charts(snap)


def test_time_budget_ends_the_run_as_done(digits) -> None:
    train, test = digits
    budget = 0.5
    trainer = Trainer(long_config(max_seconds=budget), train, test)
    started = time.perf_counter()
    snap = trainer.run()
    wall = time.perf_counter() - started
    assert snap.status == "done"
    assert "time budget" in snap.message
    assert 0 < snap.step < snap.total_steps
    assert budget <= snap.elapsed < budget + 2.0  # one step past the budget, plus any scheduling delay
    assert wall < budget + 10.0
    assert snap.progress == 1.0 and snap.seconds_left == 0.0
    partial = snap.step > snap.epoch * trainer.steps_per_epoch
    assert len(snap.test_mse) == snap.epoch + partial  # a partial epoch is scored too
    assert_finite_charts(snap)


def test_nan_in_the_data_ends_as_diverged_without_nan_charts(digits) -> None:
    train, test = digits
    bad = train.clone()
    bad[100, 400] = float("nan")  # reached in the first epoch, after some good steps
    snap = Trainer(TrainConfig(latent_dim=4, epochs=3, batch_size=20, seed=1), bad, test).run()
    assert snap.status == "diverged" and snap.finished
    assert "diverged" in snap.message and "learning rate" in snap.message
    assert snap.step < snap.total_steps
    assert_finite_charts(snap)


class _Recording(Trainer):
    """A Trainer that keeps every snapshot it makes, in order."""

    def _make_snapshot(self, *args, **kwargs) -> Snapshot:
        snap = super()._make_snapshot(*args, **kwargs)
        self.made = [*getattr(self, "made", []), snap]
        return snap


def test_first_snapshot_comes_after_a_few_steps_then_at_the_publish_pace(digits, monkeypatch) -> None:
    """A watching page gets a loss curve at once: the first running snapshot after FIRST_PUBLISH_STEPS steps,
    not after PUBLISH_SECONDS; later ones only at that pace (here never, so only the epochs' ends publish)."""
    monkeypatch.setattr("model.train.PUBLISH_SECONDS", 1e9)
    train, test = digits
    trainer = _Recording(TrainConfig(latent_dim=4, epochs=2, batch_size=10, seed=1), train, test)
    trainer.run()
    running = [s.step for s in trainer.made if s.status == "running"]
    assert running == [FIRST_PUBLISH_STEPS, 60, 120], running  # 600 digits, batch 10: 60 steps an epoch
    first = next(s for s in trainer.made if s.status == "running")
    assert first.train_loss.shape == (FIRST_PUBLISH_STEPS,) and bool(torch.isfinite(first.train_loss).all())


def test_divergence_found_when_pausing_is_not_published_as_paused(digits, monkeypatch) -> None:
    """Losses waiting to be published when the user pauses are checked too: a NaN there ends the run."""
    monkeypatch.setattr("model.train.PUBLISH_SECONDS", 1e9)  # nothing is checked until the pause
    monkeypatch.setattr("model.train.FIRST_PUBLISH_STEPS", 10**9)
    _, test = digits
    bad = torch.full((5000, 784), float("nan"))
    trainer = Trainer(TrainConfig(latent_dim=4, epochs=5, batch_size=1), bad, test)
    worker = start(trainer)
    try:
        wait_for(lambda: not bool(torch.isfinite(trainer.model.encoder.weight).all()), timeout=10)  # a step ran
        trainer.pause()
        wait_for(lambda: trainer.snapshot.status != "ready", timeout=2)
        snap = trainer.snapshot
        assert snap.status == "diverged", snap.status
        assert_finite_charts(snap)
    finally:
        trainer.stop()
        worker.join(timeout=5)


def test_huge_learning_rate_ends_as_diverged_with_finite_charts(digits) -> None:
    """The sigmoid keeps the loss finite even then; the run must still end as diverged, with a message."""
    train, test = digits
    snap = Trainer(TrainConfig(latent_dim=4, epochs=3, batch_size=5, lr=10.0), train, test).run()
    assert snap.status == "diverged" and snap.finished
    assert "diverged" in snap.message and "learning rate" in snap.message
    assert snap.step < snap.total_steps
    assert_finite_charts(snap)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_a_healthy_batch_1_run_is_not_called_diverged(digits, seed) -> None:
    """One digit's error is a noisy loss: a faint first digit against the next few is no divergence.

    Every other digit here has 30% of the ink; these seeds ended as "diverged" when step 0's loss was the start.
    """
    train, test = digits
    mixed = train.clone()
    mixed[::2] *= 0.3
    snap = Trainer(TrainConfig(latent_dim=1, epochs=3, batch_size=1, seed=seed), mixed, test).run()
    assert snap.status == "done", snap.message
    assert snap.test_mse[-1] < snap.test_mse[0]
    assert_finite_charts(snap)


def test_huge_learning_rate_at_batch_1_still_ends_as_diverged(digits) -> None:
    train, test = digits
    snap = Trainer(TrainConfig(latent_dim=4, epochs=3, batch_size=1, lr=10.0), train, test).run()
    assert snap.status == "diverged" and "learning rate" in snap.message
    assert snap.step < snap.total_steps


def test_the_recent_loss_spans_enough_digits() -> None:
    assert divergence_window(256) == 10  # large batches: the last 10 steps, as before
    assert divergence_window(1) == 256
    assert divergence_window(5) * 5 >= 256


def test_batch_larger_than_the_dataset(digits) -> None:
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=4, epochs=3, batch_size=10_000), train[:50], test)
    assert trainer.batch_size == 50 and trainer.steps_per_epoch == 1
    snap = trainer.run()
    assert snap.status == "done"
    assert snap.step == 3 and snap.samples_seen == 150 and len(snap.test_mse) == 3
    assert_finite_charts(snap)


def test_uneven_last_batch(digits) -> None:
    train, test = digits
    snap = Trainer(TrainConfig(latent_dim=4, epochs=2, batch_size=256), train, test).run()
    assert snap.step == 2 * 3  # 600 = 256 + 256 + 88
    assert snap.samples_seen == 1200


@pytest.mark.parametrize("activation", ["none", "relu"])
def test_replay_records_one_code_tensor_per_epoch_plus_the_start(digits, activation: str) -> None:
    train, test = digits
    replay = test[:7]
    config = TrainConfig(latent_dim=3, activation=activation, epochs=3, batch_size=100)
    trainer = Trainer(config, train, test, replay_images=replay)
    start_codes = trainer.model.encode(replay.to(trainer.device)).detach().cpu()
    snap = trainer.run()
    assert len(snap.replay) == len(snap.test_mse) + 1 == 4 and snap.replay_epochs == (0, 1, 2, 3)
    for codes in snap.replay:
        assert codes.shape == (7, 3) and codes.device.type == "cpu" and codes.dtype == torch.float16
    torch.testing.assert_close(snap.replay[0], start_codes.half())
    torch.testing.assert_close(snap.replay[-1], snap.to_model().encode(replay).detach().half())
    assert not torch.equal(snap.replay[0], snap.replay[-1])
    if activation == "relu":
        assert all(bool((codes >= 0).all()) for codes in snap.replay)


def test_replay_keeps_a_bounded_number_of_frames_ending_at_the_latest_epoch(digits) -> None:
    """A long run keeps 11 frames (start + 10 spread epochs), not one per epoch; a cut-short run ends on its last."""
    train, test = digits
    train = train[:100]
    snap = Trainer(TrainConfig(latent_dim=2, epochs=40, batch_size=100), train, test, replay_images=test[:5]).run()
    assert snap.replay_epochs == (0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40)
    assert len(snap.replay) == len(snap.replay_epochs)
    trainer = Trainer(TrainConfig(latent_dim=2, epochs=40, batch_size=100), train, test, replay_images=test[:5])
    worker = start(trainer)
    wait_for(lambda: trainer.snapshot.epoch >= 6, timeout=20)
    trainer.stop()
    worker.join(5)
    epochs = trainer.snapshot.replay_epochs
    assert epochs[-1] == trainer.snapshot.epoch and set(epochs[:-1]) <= {0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40}


def test_a_held_trainer_waits_until_released_even_when_resumed(digits) -> None:
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=4, epochs=50, batch_size=10), train, test)
    worker = start(trainer)
    wait_for(lambda: trainer.snapshot.step > 0, timeout=5)
    trainer.pause()
    assert trainer.paused_since is not None
    trainer.hold("Your trainer went to someone waiting.")
    assert cpu_until(worker, lambda: trainer.snapshot.status == "paused") <= CONTROL_SECONDS
    assert trainer.snapshot.message == "Your trainer went to someone waiting."
    trainer.resume()
    assert trainer.paused_since is None
    step = trainer.snapshot.step
    time.sleep(0.2)
    assert trainer.snapshot.step == step and trainer.snapshot.status == "paused", "held: resume alone does not run"
    trainer.release()
    wait_for(lambda: trainer.snapshot.step > step, timeout=2)
    assert trainer.snapshot.message == ""
    trainer.hold("held again")
    trainer.stop()  # a stop wakes a held loop
    worker.join(2)
    assert trainer.snapshot.status == "stopped"


def test_no_replay_without_replay_images(digits) -> None:
    train, test = digits
    snap = Trainer(TrainConfig(latent_dim=3, epochs=1, batch_size=100), train, test).run()
    assert snap.replay == ()


def test_snapshots_published_while_running_are_consistent(digits) -> None:
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=8, epochs=4, batch_size=1, lr=0.001), train, test)
    seen: list[Snapshot] = []
    worker = start(trainer)
    try:
        while worker.is_alive():
            snap = trainer.snapshot
            if not seen or snap is not seen[-1]:
                seen.append(snap)
            time.sleep(0.001)
    finally:
        trainer.stop()
        worker.join(timeout=5)
    seen.append(trainer.snapshot)
    running = [s for s in seen if s.status == "running"]
    assert len(running) >= 2
    for s in seen:
        assert_finite_charts(s)
        assert s.status in ("ready", "running", "paused", *FINISHED)
        assert s.samples_seen == s.step  # batch size 1
        if not s.finished:
            assert len(s.test_mse) == s.epoch
    for before, after in zip(seen, seen[1:], strict=False):
        assert after.step >= before.step and after.epoch >= before.epoch
        assert after.elapsed >= before.elapsed
        assert torch.equal(after.train_loss[: before.step], before.train_loss)  # the curve only grows
    final = seen[-1]
    assert final.status == "done" and final.epoch == 4 and len(final.test_mse) == 4


def test_untrained_model_draws_the_average_digit(digits) -> None:
    """The decoder's bias starts at the average training digit's logit, not at PyTorch's grey."""
    train, test = digits
    mean = train.mean(dim=0)
    trainer = Trainer(TrainConfig(latent_dim=16, epochs=1), train, test)
    bias = trainer.model.decoder.bias.detach().cpu()
    assert torch.allclose(torch.sigmoid(bias), mean.clamp(0.01, 0.99), atol=1e-5)
    grey = Trainer(TrainConfig(latent_dim=16, epochs=1, bias_init="uniform"), train, test)
    assert float(grey.model.decoder.bias.detach().abs().max()) <= 1 / math.sqrt(16)
    assert evaluate_mse(trainer.model, test) < evaluate_mse(grey.model, test)
    assert trainer.average_digit_mse == pytest.approx(float(((test - mean) ** 2).mean()), rel=1e-5)


def test_is_stuck_wants_a_flat_loss_above_the_average_digit() -> None:
    flat_high = torch.full((300,), 0.11)
    assert is_stuck(flat_high, average_digit_mse=0.067)
    assert not is_stuck(flat_high[:199], average_digit_mse=0.067)  # too early to judge
    assert not is_stuck(torch.full((300,), 0.03), average_digit_mse=0.067)  # flat but learned
    falling = torch.linspace(0.12, 0.07, 300)  # still above the line, but falling: a slow start
    assert not is_stuck(falling, average_digit_mse=0.067)
    assert is_stuck(torch.cat([falling, torch.full((200,), 0.07)]), average_digit_mse=0.067)


def test_a_stuck_run_is_told_so_with_advice(digits) -> None:
    """With learning rate 0 nothing changes: the loss stays flat at the untrained model's, above the line."""
    train, test = digits
    trainer = Trainer(TrainConfig(latent_dim=8, epochs=4, batch_size=10, lr=0.0), train, test)
    seen: list[str] = []
    worker = start(trainer)
    while worker.is_alive():
        seen.append(trainer.snapshot.warning)
        time.sleep(0.01)
    snap = trainer.snapshot
    assert snap.status == "done" and snap.step == 240
    assert "stuck" in snap.warning and "learning rate above 0" in snap.warning
    assert "0.0" in snap.warning  # names the error and the average digit's, to 4 places
    assert seen[0] == ""  # no warning before there are 2 x 100 steps to judge


def test_a_healthy_run_has_no_warning_and_a_lower_lr_is_advised(digits) -> None:
    train, test = digits
    snap = Trainer(TrainConfig(latent_dim=8, epochs=4, batch_size=10), train, test).run()
    assert snap.status == "done" and snap.warning == ""
    assert "3x lower" in stuck_advice(0.11, 0.067, lr=0.01)


def planted_linear_data(n: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 784) points around 0.3 along 4 pixel-block directions of variance 9, 6.25, 4 and 2.25, a little noise."""
    basis = torch.zeros(784, 4)
    for i in range(4):
        basis[i * 150 : (i + 1) * 150, i] = torch.linspace(0.2, 1.0, 150)
    basis /= basis.norm(dim=0)  # (784, 4) orthonormal: disjoint blocks
    z = torch.randn(n, 4, generator=gen) * torch.tensor([3.0, 2.5, 2.0, 1.5])  # (n, 4)
    return 0.3 + z @ basis.T + 0.02 * torch.randn(n, 784, generator=gen)


def test_a_linear_output_model_heads_for_pca_and_reports_the_subspace() -> None:
    """The theorem's model: epoch by epoch its decoder's subspace turns towards PCA's and its error falls to it.

    (On the real MNIST the preset gets within 1% of PCA's error: tests/model/test_real_mnist.py.)
    """
    gen = torch.Generator().manual_seed(0)
    train, test = planted_linear_data(2000, gen), planted_linear_data(500, gen)
    pca = fit_pca(train)
    config = TrainConfig(latent_dim=4, epochs=8, batch_size=16, lr=0.003, output="linear")
    snap = Trainer(config, train, test, pca_basis=pca.components).run()
    assert snap.status == "done" and snap.to_model().output == "linear"
    assert len(snap.pca_similarity) == len(snap.test_mse) == 8
    assert all(0.0 <= c <= 1.0 for c in snap.pca_similarity)
    assert snap.pca_angles is not None and snap.pca_angles.shape == (4,)
    assert float(np.mean(np.cos(snap.pca_angles) ** 2)) == pytest.approx(snap.pca_similarity[-1])
    assert snap.pca_similarity[0] < 0.2 and snap.pca_similarity[-1] > 0.5  # from nearly random to mostly PCA's
    assert snap.test_mse[-1] < 0.3 * snap.test_mse[0]
    with torch.no_grad():
        out = snap.to_model()(test)  # (500, 784)
    plain = float(((out - test) ** 2).mean())
    assert plain == pytest.approx(snap.final_test_mse, rel=1e-4)  # scored without a sigmoid, like its forward
    assert float(out.min()) < 0.0  # outputs below 0: nothing squashes them


def test_without_a_pca_basis_no_similarity_is_recorded(digits) -> None:
    train, test = digits
    snap = Trainer(TrainConfig(latent_dim=4, epochs=1, batch_size=100), train, test).run()
    assert snap.pca_similarity == () and snap.pca_angles is None
