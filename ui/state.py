"""Every per-session key lives here, initialised in one place."""

from __future__ import annotations

import streamlit as st

from ui.models import ModelEntry
from ui.text import md

MAX_USER_MODELS = 20  # per session; the oldest trained model makes room for a new one

USER_MODELS = "user_models"  # dict[str, ModelEntry], insertion-ordered
ACTIVE_MODEL = "active_model"  # name of the model the pages use
JOB_ID = "job_id"  # the running or queued training job, or None
NOTICES = "notices"  # one-shot messages shown at the top of the next run
DRAWING = "drawing"  # latest processed drawing (784,) tensor, shared by Draw, Denoise and Latent
TRAIN_SETTINGS = "train_settings"  # the TrainConfig last used, for presets and sweeps
SWEEP = "sweep"  # list of job ids a "train a sweep" submitted
PRESET_DONE = "preset_done"  # the URL preset is applied once, on the session's first run
LAST_RUN = "last_run"  # name of the model the latest finished run produced, shown on the Train page
CANVAS_GENERATION = "canvas_generation"  # part of the Draw canvas key: Clear bumps it, which empties the canvas

_DEFAULTS = {
    USER_MODELS: dict,
    ACTIVE_MODEL: lambda: None,
    JOB_ID: lambda: None,
    NOTICES: list,
    DRAWING: lambda: None,
    TRAIN_SETTINGS: lambda: None,
    SWEEP: list,
    LAST_RUN: lambda: None,
    PRESET_DONE: lambda: False,
    CANVAS_GENERATION: int,
}


def init_state() -> None:
    """Create any missing key with its default; safe to call on every run."""
    for key, make in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = make()


def user_models() -> dict[str, ModelEntry]:
    return st.session_state[USER_MODELS]


def add_user_model(entry: ModelEntry, make_active: bool = True) -> str | None:
    """Keep a trained or uploaded model; returns a notice when an old one had to go."""
    models = user_models()
    dropped = None
    if len(models) >= MAX_USER_MODELS:
        dropped = next(iter(models))
        del models[dropped]
    models[entry.name] = entry
    if make_active:
        st.session_state[ACTIVE_MODEL] = entry.name
    return None if dropped is None else f"Kept at most {MAX_USER_MODELS} models: removed the oldest, {md(dropped)}."


def notify(message: str, kind: str = "info") -> None:
    """Show a message at the top of the next run (survives st.rerun)."""
    st.session_state[NOTICES].append((kind, message))


def pop_notices() -> list[tuple[str, str]]:
    notices = list(st.session_state[NOTICES])
    st.session_state[NOTICES].clear()
    return notices
