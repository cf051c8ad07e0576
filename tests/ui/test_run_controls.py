"""The Train page's run phase comes from the trainer's requests first, its snapshot second."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from model.config import TrainConfig
from model.train import Trainer
from service.jobs import Job
from ui.widgets.run_controls import run_phase


def job_with(status: str, pause: bool = False, stop: bool = False, stepping: bool = False) -> Job:
    trainer = SimpleNamespace(
        snapshot=SimpleNamespace(status=status, finished=status in ("done", "stopped")),
        pause_requested=pause,
        stop_requested=stop,
        paused_since=1.0 if pause else None,
        steps_pending=stepping,
    )
    return Job(1, "s", "k=2", make_trainer=lambda: None, trainer=trainer, has_slot=True)


@pytest.mark.parametrize(
    ("status", "pause", "stop", "phase"),
    [
        ("ready", False, False, "starting"),
        ("running", False, False, "running"),
        ("running", True, False, "pausing"),  # asked to pause, not there yet: the button already reads Resume
        ("paused", True, False, "paused"),
        ("paused", False, False, "resuming"),  # asked to resume: the button already reads Pause
        ("paused", False, True, "stopping"),
        ("stopped", False, True, "idle"),
    ],
)
def test_phase(status, pause, stop, phase) -> None:
    assert run_phase(job_with(status, pause, stop)) == phase


def test_a_paused_run_taking_granted_steps_is_stepping() -> None:
    assert run_phase(job_with("running", pause=True, stepping=True)) == "stepping"
    assert run_phase(job_with("paused", pause=True, stepping=True)) == "stepping"


def test_no_job_or_queued() -> None:
    assert run_phase(None) == "idle"
    assert run_phase(Job(1, "s", "k=2", make_trainer=lambda: None)) == "queued"


def test_trainer_requests_are_true_at_once() -> None:
    images = torch.rand(64, 784)
    trainer = Trainer(TrainConfig(latent_dim=2, epochs=1, batch_size=16), images, images[:16])
    assert not trainer.pause_requested and not trainer.stop_requested
    trainer.pause()
    assert trainer.pause_requested and trainer.snapshot.status == "ready", "the snapshot has not moved"
    trainer.resume()
    assert not trainer.pause_requested
    trainer.pause()
    trainer.stop()
    assert trainer.stop_requested and not trainer.pause_requested, "a stop wakes a paused run"


def test_a_run_without_its_slot() -> None:
    """Held for someone else it waits in line; paused so long it gave its slot up, it still offers Resume."""
    held = job_with("paused")
    held.has_slot = False
    assert run_phase(held) == "queued"
    released = job_with("paused", pause=True)
    released.has_slot = False
    assert run_phase(released) == "paused"
