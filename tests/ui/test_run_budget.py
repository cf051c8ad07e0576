"""The run budget, the estimate behind the warning before Start, and what a kept model costs a session."""

from __future__ import annotations

import types

import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from model.train import Trainer
from service.keep_model import entry_from_snapshot, kept_curve
from service.model_entry import ModelEntry
from ui.session import state
from ui.session.training import estimated_seconds, run_budget_seconds, with_budget

MNIST_TRAIN = 60_000


def test_budget_defaults_to_ten_minutes_and_the_instructor_can_raise_it(monkeypatch):
    monkeypatch.delenv("STUDIO_MAX_RUN_MINUTES", raising=False)
    assert run_budget_seconds() == 600
    monkeypatch.setenv("STUDIO_MAX_RUN_MINUTES", "45")
    assert run_budget_seconds() == 2700
    for bad in ("", "soon", "-3", "0"):
        monkeypatch.setenv("STUDIO_MAX_RUN_MINUTES", bad)
        assert run_budget_seconds() == 600, bad


def test_every_run_gets_the_budget_unless_its_own_is_shorter(monkeypatch):
    monkeypatch.delenv("STUDIO_MAX_RUN_MINUTES", raising=False)
    assert with_budget(TrainConfig()).max_seconds == 600
    assert with_budget(TrainConfig(max_seconds=30)).max_seconds == 30
    assert with_budget(TrainConfig(max_seconds=5000)).max_seconds == 600


def test_estimate_flags_the_hours_long_settings_and_not_the_usual_ones():
    slow = estimated_seconds(TrainConfig(latent_dim=784, batch_size=1, epochs=200), MNIST_TRAIN)
    assert 4 * 3600 < slow < 16 * 3600, "the issue's run showed 605 min left"
    assert estimated_seconds(TrainConfig(), MNIST_TRAIN) < 30
    assert estimated_seconds(TrainConfig.classic(), MNIST_TRAIN) < 600
    assert estimated_seconds(TrainConfig(epochs=20), MNIST_TRAIN) == pytest.approx(
        2 * estimated_seconds(TrainConfig(epochs=10), MNIST_TRAIN)
    )


def test_kept_curve_averages_long_curves_and_keeps_short_ones():
    short, bucket = kept_curve(torch.arange(10.0))
    assert bucket == 1 and torch.equal(short, torch.arange(10.0))
    curve, bucket = kept_curve(torch.arange(1000.0), max_points=100)
    assert bucket == 10 and curve.shape == (100,) and curve[0] == 4.5
    curve, bucket = kept_curve(torch.arange(1005.0), max_points=100)
    assert bucket == 11 and curve.shape == (92,) and curve[-1] == 1002.5  # the partial last bucket: 1001..1004


def test_a_kept_model_holds_2d_replay_points_and_a_short_curve():
    gen = torch.Generator().manual_seed(0)
    train, test = torch.rand(64, 784, generator=gen), torch.rand(32, 784, generator=gen)
    config = TrainConfig(latent_dim=40, epochs=30, batch_size=8, lr=0.001)  # 240 steps, 31 epochs of codes
    snap = Trainer(config, train, test, replay_images=test[:20]).run()
    assert len(snap.replay) == 11 and snap.replay[0].dtype == torch.float16
    entry = entry_from_snapshot(snap, set())
    assert [tuple(f.shape) for f in entry.replay] == [(20, 2)] * 11
    assert entry.replay_epochs == (0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30)
    assert entry.train_loss.shape[0] <= 6000 and entry.steps_per_epoch == 8


def model_entry(name: str, k: int) -> ModelEntry:
    info = ModelInfo(k, "none", 1, 0.01, TrainConfig(latent_dim=k), name, 1.0)
    return ModelEntry(name, LinearAutoencoder(k), info, "trained")


def test_a_session_keeps_models_within_its_memory_budget(monkeypatch):
    monkeypatch.setattr(state, "st", types.SimpleNamespace(session_state={}))
    state.init_state()
    assert model_entry("big", 784).nbytes == pytest.approx(4.9e6, rel=0.02)
    notices = [state.add_user_model(model_entry(f"m{i}", 784)) for i in range(16)]
    assert state.user_models_bytes() <= state.MAX_USER_MODEL_MB * 2**20
    assert len(state.user_models()) == 13 and "m15" in state.user_models() and "m0" not in state.user_models()
    assert notices[12] is None and "removed the oldest, m0" in notices[13]
    for i in range(30):
        state.add_user_model(model_entry(f"small{i}", 2))
    assert len(state.user_models()) == state.MAX_USER_MODELS
