"""The Train page's Start, Pause/Resume, Step, Step epoch, Stop and Reset, slow motion and the learning rate
set while paused: each drawn from what the run has been asked to do.

The buttons sit outside the page's live fragment, so they change only on a full rerun: every click that
changes what they should show is one (a callback, or Start read before anything is drawn), and the
fragment reruns the app when the job leaves the queue or ends. Their labels read the trainer's requested state, which is true
at once, not its snapshot, which follows within a step: a click does what its label says.
"""

from __future__ import annotations

import streamlit as st

from model.config import LIMITS
from model.train import SLOW_STEP_SECONDS, Status
from service.jobs import Job
from ui.server.resources import job_manager
from ui.session import state
from ui.session.training import current_job, reset_run, set_paused
from ui.widgets.train_settings import SLOW_KEY

# What the user sees of a run; "idle" when there is none (or it ended and is about to be collected).
PHASE_WORDS = {
    "queued": "Queued",
    "starting": "Starting…",
    "running": "Running",
    "pausing": "Pausing…",
    "paused": "Paused",
    "stepping": "Stepping…",
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
        if trainer.steps_pending:
            return "stepping"
        return "paused" if status == Status.PAUSED else "pausing"
    if status == Status.PAUSED:
        return "resuming"
    return "starting" if status == Status.READY else "running"


START_KEY = "train_start"
RUN_LR_KEY, RUN_LR_JOB_KEY = "train_run_lr", "train_run_lr_job"  # the rate set while paused, and whose run it shows
STEPPABLE = ("pausing", "paused", "stepping")  # paused by the user: Step and Step epoch train while it waits
STEPPING_HELP = (
    "While paused, Step trains one batch and Step epoch to the end of the current epoch; the chart, "
    "reconstructions and decoder images follow each. Keys: space pauses or resumes, s steps (not while typing)."
)


def start_clicked() -> bool:
    """True in the run a Start click caused, readable before the button is drawn."""
    return bool(st.session_state.get(START_KEY))


def _stop() -> None:
    job = current_job()
    if job is not None:
        job_manager().cancel(job.id)


def _step(whole_epoch: bool) -> None:
    """Step or Step epoch: the paused run trains that far, then waits again (ignored unless paused)."""
    job = current_job()
    if job is not None and job.trainer is not None and not job.finished:
        if whole_epoch:
            job.trainer.step_epoch()
        else:
            job.trainer.step()


def _set_run_lr() -> None:
    """The learning rate typed while paused: the run uses it from its next step (a marker on the chart)."""
    job = current_job()
    if job is not None and job.trainer is not None and not job.finished:
        try:
            job.trainer.set_lr(float(st.session_state[RUN_LR_KEY]))
        except ValueError as exc:
            state.notify(str(exc), "warning")


def slow_motion_wished() -> bool:
    """The slow-motion switch: a new run starts with it, a running one follows it."""
    return bool(st.session_state.get(SLOW_KEY, False))


def _sync_run(job: Job | None) -> None:
    """Bring the run to the switch (flipped while it queued) and the rate box to the run it shows."""
    trainer = job.trainer if job is not None and not job.finished else None
    if trainer is None:
        return
    if trainer.slow_motion != slow_motion_wished():
        trainer.set_slow_motion(slow_motion_wished())
    if st.session_state.get(RUN_LR_JOB_KEY) != job.id or RUN_LR_KEY not in st.session_state:  # new run, or undrawn
        st.session_state[RUN_LR_JOB_KEY] = job.id
        st.session_state[RUN_LR_KEY] = float(trainer.lr)


def _slow_changed() -> None:
    _sync_run(current_job())


def run_controls_ui(phase: str, can_start: bool) -> None:
    """Draw the run's buttons and switches for this phase (the page reads a Start click with start_clicked())."""
    job = current_job()
    _sync_run(job)
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    c1.button("Start", key=START_KEY, type="primary", disabled=phase != "idle" or not can_start, width="stretch")
    paused = phase in STEPPABLE
    c2.button(
        "Resume" if paused else "Pause",
        key="train_pause",
        on_click=set_paused,
        args=(not paused,),  # bound to the label drawn, whatever the run did since
        disabled=phase not in ("starting", "running", "pausing", "paused", "stepping", "resuming"),
        width="stretch",
        shortcut="Space",
    )
    c3.button(
        "Step",
        key="train_step",
        on_click=_step,
        args=(False,),
        disabled=phase not in STEPPABLE,
        width="stretch",
        shortcut="S",
        help="Train one batch, then wait again (while paused).",
    )
    c4.button(
        "Step epoch",
        key="train_step_epoch",
        on_click=_step,
        args=(True,),
        disabled=phase not in STEPPABLE,
        width="stretch",
        help="Train to the end of the current epoch, then wait again (while paused).",
    )
    c5.button(
        "Stop",
        key="train_stop",
        on_click=_stop,
        disabled=phase in ("idle", "stopping"),
        width="stretch",
        help="End now and keep the model so far.",
    )
    c6.button(
        "Reset",
        key="train_reset",
        on_click=reset_run,
        width="stretch",
        help="Discard the run; show this seed's initial weights.",
    )
    s1, s2 = st.columns([3, 2])
    s1.toggle(
        f"Slow motion ({1 / SLOW_STEP_SECONDS:g} steps a second)",
        key=SLOW_KEY,
        on_change=_slow_changed,
        help="Spaces the steps so the first second of learning can be watched; switch it off for full speed.",
    )
    if job is not None and phase not in ("idle", "queued"):
        s2.number_input(
            "Learning rate from the next step",
            *LIMITS["lr"],
            step=0.001,
            format="%.4f",
            key=RUN_LR_KEY,
            on_change=_set_run_lr,
            disabled=phase not in STEPPABLE,
            help="Change it while paused: the run uses it when it resumes or steps (a marker on the loss chart). "
            "With the cosine schedule this is the new peak, still decayed by the schedule.",
        )
    st.caption(STEPPING_HELP)
