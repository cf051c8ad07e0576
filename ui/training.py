"""A session's training job: start it, poll it (with a heartbeat), and keep its model when it ends."""

from __future__ import annotations

import streamlit as st

from model.checkpoint import ModelInfo
from model.config import TrainConfig
from model.data import Mnist
from model.train import Snapshot, Trainer
from ui import state
from ui.jobs import Job
from ui.models import ModelEntry, readable_name
from ui.resources import job_manager, reference


def start_training(config: TrainConfig, mnist: Mnist) -> Job:
    """Queue a job for this session; the trainer is built when a slot frees up."""
    replay = mnist.test.images[reference(mnist).replay_index]

    def make_trainer() -> Trainer:
        return Trainer(config, mnist.train.images, mnist.test.images, replay_images=replay)

    label = f"k={config.latent_dim}, {config.epochs} epochs"
    job = job_manager().submit(st.session_state[state.SESSION_ID], label, make_trainer)
    st.session_state[state.JOB_ID] = job.id
    st.session_state[state.TRAIN_SETTINGS] = config
    return job


def current_job() -> Job | None:
    """This session's job, with a heartbeat so the reaper knows the tab is still open."""
    job_id = st.session_state.get(state.JOB_ID)
    if job_id is None:
        return None
    job = job_manager().heartbeat(job_id)
    if job is None:  # reaped (tab was gone too long) or already collected
        st.session_state[state.JOB_ID] = None
    return job


def entry_from_snapshot(snap: Snapshot, taken: set[str]) -> ModelEntry:
    """A finished run as a model the user can pick, download and compare."""
    cfg = snap.config
    epochs = snap.epoch if snap.step % max(1, snap.total_steps // cfg.epochs) == 0 else snap.epoch + 1
    epochs = max(1, min(epochs, cfg.epochs))
    name = readable_name(cfg.latent_dim, cfg.activation, epochs, taken, cfg.noise)
    info = ModelInfo(cfg.latent_dim, cfg.activation, epochs, snap.final_test_mse, cfg, name, snap.elapsed)
    return ModelEntry(
        name=name,
        model=snap.to_model(),
        info=info,
        source="trained",
        replay=snap.replay,
        train_loss=snap.train_loss,
        test_mse_per_epoch=snap.test_mse,
        steps_per_epoch=max(1, snap.total_steps // cfg.epochs),
    )


def collect_finished(job: Job) -> ModelEntry | None:
    """Keep a finished job's model (unless it diverged or failed) and free the job; notify the user."""
    job_manager().collect(job.id)
    st.session_state[state.JOB_ID] = None
    snap = job.snapshot
    if job.error or snap is None:
        state.notify(job.error or "Training was cancelled.", "warning")
        return None
    if snap.status in ("diverged", "failed"):
        state.notify(snap.message, "error")
        return None
    if snap.step == 0:
        state.notify("Training stopped before the first step; no model was kept.", "warning")
        return None
    from ui.sidebar import all_models  # local: sidebar imports this module

    entry = entry_from_snapshot(snap, set(all_models()))
    dropped = state.add_user_model(entry)
    st.session_state[state.LAST_RUN] = entry.name
    how = "Stopped early" if snap.status == "stopped" else "Finished"
    state.notify(f"{how}: **{entry.name}** (test MSE {snap.final_test_mse:.4f}) is now the active model.", "success")
    if dropped:
        state.notify(dropped, "info")
    return entry
