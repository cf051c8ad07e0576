"""The sidebar on every page: the active model and, away from the Train page, the training status."""

from __future__ import annotations

import time

import streamlit as st

from model.autoencoder import Output
from service.model_entry import ModelEntry
from ui.figures.images import CLIP_NOTE
from ui.server.resources import job_manager
from ui.session import state
from ui.session.models import active_model, all_models
from ui.session.training import (
    collect_finished,
    current_job,
    poll_sweep,
    status_poll_seconds,
    sweep_jobs,
    sweep_summary,
)
from ui.session.workspace import set_active
from ui.widgets.workspace_panel import workspace_panel_ui

PICKER_KEY = "sidebar_model_picker"
# Characters of a model name the sidebar's select box shows whole at its default width ("Bundled: k=32
# linear, 20 epochs" just fits); a longer name is cut off there, so it is written out in full below.
NAME_FITS = 32


OVERRIDDEN = "sidebar_model_picker_overridden"  # (value the script replaced, monotonic time) of the last override
ECHO_SECONDS = 10.0  # a loaded server (six processes on two cores) sent the echo 3+ s late in tests/e2e/test_replicas.py


def _on_pick() -> None:
    picked = st.session_state[PICKER_KEY]
    replaced, when = st.session_state.get(OVERRIDDEN) or (None, 0.0)
    if picked == replaced and time.monotonic() - when < ECHO_SECONDS:
        # The browser sent back the value the script had just replaced (a rerun it queued before the new value
        # arrived, e.g. when a finished run became the active model): not the user's choice, so not kept.
        st.session_state[PICKER_KEY] = st.session_state.get(state.ACTIVE_MODEL)
        return
    set_active(picked)


def model_picker_ui() -> ModelEntry | None:
    """Select box of every model, kept in step with the active model, plus its details."""
    models = all_models()
    active = active_model()
    if active is None:
        st.warning("No model yet. Train one on the **Train** page.")
        return None
    names = list(models)
    if st.session_state.get(PICKER_KEY) not in names or st.session_state.get(PICKER_KEY) != active.name:
        st.session_state[OVERRIDDEN] = (st.session_state.get(PICKER_KEY), time.monotonic())
        st.session_state[PICKER_KEY] = active.name
    st.selectbox("Active model", names, key=PICKER_KEY, on_change=_on_pick, help="Used by every page.")
    if len(active.name) > NAME_FITS:
        st.text(active.name, width="stretch")  # plain text that wraps: the box cannot, and the name is the user's
    st.caption(active.summary())
    if active.model.output == Output.LINEAR:
        st.caption(CLIP_NOTE)  # once, here, rather than under every picture of its output
    return active


def training_status_ui(include_job: bool = True) -> None:
    """A small live status of this session's jobs: the Train page's run (off that page) and any sweep.

    Its polls are the heartbeats that keep the jobs alive while the user is on another page; they come
    at the load-aware pace of ui.session.training.poll_seconds (1 to 6 s).
    """
    jobs = [*sweep_jobs(), *([current_job()] if include_job else [])]
    st.fragment(_status_body, run_every=status_poll_seconds(jobs))(include_job)


def _status_body(include_job: bool) -> None:
    if poll_sweep():
        st.rerun(scope="app")
    sweep = sweep_jobs()
    if sweep:
        st.caption(sweep_summary(sweep))
    job = current_job() if include_job else None
    if job is None:
        return
    if job.finished:
        collect_finished(job)
        st.rerun(scope="app")
    if job.queued:
        st.caption(f"Training queued: position {job_manager().queue_position(job.id)}.")
        return
    snap = job.snapshot
    st.progress(snap.progress, text=f"Training {job.label}: {snap.progress:.0%} ({snap.status})")


def sidebar_ui(show_training_status: bool) -> ModelEntry | None:
    with st.sidebar:
        entry = model_picker_ui()
        job = show_training_status and st.session_state.get(state.JOB_ID) is not None
        if job or st.session_state.get(state.SWEEP):
            training_status_ui(include_job=show_training_status)
        workspace_panel_ui()
    return entry
