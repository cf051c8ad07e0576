"""The Compare page's sweep: one model per k, its settings shown and chosen here, its progress live.

Train and Cancel act in callbacks, before the script draws anything, so the buttons, the settings and
the sidebar's sweep line all show the new state in the very run the click causes.
"""

from __future__ import annotations

import streamlit as st

from model.config import MAX_EPOCHS, TrainConfig
from model.data import Mnist
from model.noise import NO_NOISE, noise_kinds, noise_label
from ui.presets import DEFAULT_LEVEL
from ui.run_labels import settings_text
from ui.server.resources import job_manager
from ui.session import state
from ui.session.training import (
    SWEEP_KS,
    cancel_sweep,
    job_k,
    poll_sweep,
    start_sweep,
    status_poll_seconds,
    sweep_jobs,
    sweep_settings,
)

EPOCHS_KEY, NOISE_KEY, LEVEL_KEY = "sweep_epochs", "sweep_noise", "sweep_level"
SEEDED_FROM = "sweep_seeded_from"  # the Train settings the sweep's widgets were last filled from


def _seed_widgets(base: TrainConfig) -> None:
    """Fill the sweep's settings from the Train page's latest ones when those changed (or were dropped)."""
    keys = (EPOCHS_KEY, NOISE_KEY, LEVEL_KEY)
    if st.session_state.get(SEEDED_FROM) == base and all(k in st.session_state for k in keys):
        return
    st.session_state[SEEDED_FROM] = base
    st.session_state[EPOCHS_KEY] = base.epochs
    st.session_state[NOISE_KEY] = base.noise
    st.session_state[LEVEL_KEY] = base.noise_level if base.noise != NO_NOISE else DEFAULT_LEVEL


def sweep_config() -> TrainConfig:
    """The Train page's latest settings with the sweep's own choices of epochs and noise."""
    noise = st.session_state.get(NOISE_KEY, NO_NOISE)
    level = float(st.session_state.get(LEVEL_KEY, DEFAULT_LEVEL)) if noise != NO_NOISE else 0.0
    epochs = int(st.session_state.get(EPOCHS_KEY, sweep_settings().epochs))
    return sweep_settings().with_(epochs=epochs, noise=noise, noise_level=level)


def _start(mnist: Mnist) -> None:
    try:
        start_sweep(sweep_config(), mnist)
    except ValueError as exc:  # out-of-range settings: say which, start nothing
        state.notify(f"The sweep could not start: {exc}", "error")


def _cancel() -> None:
    cancel_sweep()
    state.notify("Sweep cancelled; models already finished are kept.", "info")


def sweep_ui(mnist: Mnist | None) -> None:
    """Settings (epochs, noise), the full list of what the sweep uses, Train / Cancel, and live progress."""
    _seed_widgets(sweep_settings())
    running = bool(sweep_jobs())
    c1, c2, c3 = st.columns(3)
    c1.number_input("Epochs per model", 1, MAX_EPOCHS, step=1, key=EPOCHS_KEY, disabled=running)
    c2.selectbox("Noise", noise_kinds(), key=NOISE_KEY, format_func=noise_label, disabled=running)
    noisy = st.session_state[NOISE_KEY] != NO_NOISE
    c3.slider("Noise level", 0.0, 1.0, step=0.05, key=LEVEL_KEY, disabled=running or not noisy)
    config = sweep_config()
    ks = ", ".join(str(k) for k in SWEEP_KS)
    what = "denoisers (noisy digits in, clean ones out)" if noisy else "autoencoders"
    st.caption(
        f"Trains {len(SWEEP_KS)} {what} with k = {ks} in the background: {settings_text(config)}. Batch, "
        "learning rate, schedule, activation and seed come from the Train page's latest settings. Each model "
        "joins your models as it finishes; you can leave this page meanwhile. On a small shared server it "
        "takes several minutes."
    )
    a, b = st.columns(2)
    a.button(
        "Train a sweep",
        type="primary",
        on_click=_start,
        args=(mnist,),
        disabled=running or mnist is None,
        help="Needs MNIST." if mnist is None else None,
        width="stretch",
    )
    b.button("Cancel the sweep", on_click=_cancel, disabled=not running, width="stretch")
    if running:
        st.fragment(_sweep_progress, run_every=status_poll_seconds(sweep_jobs()))()


def _sweep_progress() -> None:
    """Each sweep job's line, redrawn at the load-aware pace of ui.session.training.poll_seconds."""
    if poll_sweep():
        st.rerun(scope="app")
    manager = job_manager()
    for job in sweep_jobs():
        name = job_k(job)
        if job.queued:
            st.caption(f"{name}: waiting for a free trainer (number {manager.queue_position(job.id)} in line).")
        elif job.snapshot is not None:
            st.progress(job.snapshot.progress, text=f"{name}: {job.snapshot.progress:.0%}")
