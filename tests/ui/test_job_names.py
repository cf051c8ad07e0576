"""Pages name a sweep's job by the settings it carries, never by parsing its label."""

from __future__ import annotations

from model.config import TrainConfig
from service.jobs import SWEEP, JobManager
from ui.session.training import job_k


def no_trainer():
    raise ValueError("this test never trains")


def test_a_job_carries_its_settings_and_pages_name_it_by_them():
    manager = JobManager(max_running=1, orphan_seconds=60)
    config = TrainConfig(latent_dim=16, epochs=3)
    job = manager.submit("s", "k=16, 3 epochs, denoising", no_trainer, kind=SWEEP, config=config)
    assert job.config is config
    assert job_k(job) == "k=16"  # from the value, whatever the label says
    assert job_k(manager.submit("s", "free text", no_trainer)) == "free text"  # no settings: the label
