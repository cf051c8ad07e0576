"""The Train page's Start, Pause/Resume, Stop and Reset: each drawn from what the run has been asked to do.

The buttons sit outside the page's live fragment, so they change only on a full rerun: every click that
changes what they should show is one (a callback, or Start read before anything is drawn), and the
fragment reruns the app when the job leaves the queue or ends. Their labels read the trainer's requested state, which is true
at once, not its snapshot, which follows within a step: a click does what its label says.
"""

from __future__ import annotations

import streamlit as st

from model.train import Status
from service.jobs import Job
from ui.server.resources import job_manager
from ui.session.training import current_job, reset_run, set_paused

# What the user sees of a run; "idle" when there is none (or it ended and is about to be collected).
PHASE_WORDS = {
    "queued": "Queued",
    "starting": "Starting…",
    "running": "Running",
    "pausing": "Pausing…",
    "paused": "Paused",
    "resuming": "Resuming…",
    "stopping": "Stopping…",
}


def run_phase(job: Job | None) -> str:
    """The run's phase from the trainer's requests and its latest snapshot."""
    if job is None or job.finished:
        return "idle"
    if job.queued or job.trainer is None:
        return "queued"
    trainer, status = job.trainer, job.snapshot.status
    if trainer.stop_requested:
        return "stopping"
    if trainer.pause_requested:
        return "paused" if status == Status.PAUSED else "pausing"
    if status == Status.PAUSED:
        return "resuming"
    return "starting" if status == Status.READY else "running"


START_KEY = "train_start"


def start_clicked() -> bool:
    """True in the run a Start click caused, readable before the button is drawn."""
    return bool(st.session_state.get(START_KEY))


def _stop() -> None:
    job = current_job()
    if job is not None:
        job_manager().cancel(job.id)


def run_controls_ui(phase: str, can_start: bool) -> None:
    """Draw the four buttons for this phase (the page reads a Start click with start_clicked())."""
    c1, c2, c3, c4 = st.columns(4)
    c1.button("Start", key=START_KEY, type="primary", disabled=phase != "idle" or not can_start, width="stretch")
    paused = phase in ("pausing", "paused")
    c2.button(
        "Resume" if paused else "Pause",
        key="train_pause",
        on_click=set_paused,
        args=(not paused,),  # bound to the label drawn, whatever the run did since
        disabled=phase not in ("starting", "running", "pausing", "paused", "resuming"),
        width="stretch",
    )
    c3.button(
        "Stop",
        key="train_stop",
        on_click=_stop,
        disabled=phase in ("idle", "stopping"),
        width="stretch",
        help="End now and keep the model so far.",
    )
    c4.button(
        "Reset",
        key="train_reset",
        on_click=reset_run,
        width="stretch",
        help="Discard the run; show this seed's initial weights.",
    )
