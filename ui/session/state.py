"""Every per-session key lives here, initialised in one place."""

from __future__ import annotations

import streamlit as st

from service.model_entry import ModelEntry
from ui.text import md

MAX_USER_MODELS = 20  # per session; the oldest trained model makes room for a new one
MAX_USER_MODEL_MB = 64  # per session, too: 13 models at k = 784 (4.9 MB each), 20 at any k up to 500

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
SKETCH = "sketch"  # ui.session.drawing.Sketch: what the Draw canvas last sent, redrawn when the canvas comes back
CANVAS_SEED = "canvas_seed"  # the initial_drawing of the canvas mounted now, fixed while it stays mounted
CANVAS_SHOWN = "canvas_shown"  # the Draw canvas is in the browser: else it mounts afresh (ui.session.drawing)
WORKSPACE = "workspace"  # the browser's workspace id this tab caches, or None (no cookie: the tab's own models)
WORKSPACE_MODELS = "workspace_models"  # dict[model id, name]: which store models USER_MODELS holds
SAVED_WIDGETS = "saved_widgets"  # the widget values last written to the workspace, to write only changes
SAVED_SKETCH = "saved_sketch"  # the sketch last written to the workspace (identity), likewise
NO_WORKSPACE_TOLD = "no_workspace_told"  # the "models will not survive a reload" notice was shown
FORGET_ASKED = "forget_asked"  # the Forget button was pressed once: the confirmation shows

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
    SKETCH: lambda: None,
    CANVAS_SEED: lambda: None,
    CANVAS_SHOWN: lambda: False,
    WORKSPACE: lambda: None,
    WORKSPACE_MODELS: dict,
}


def init_state() -> None:
    """Create any missing key with its default; called once at the start of every full run."""
    for key, make in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = make()


def user_models() -> dict[str, ModelEntry]:
    return st.session_state[USER_MODELS]


def user_models_bytes() -> int:
    """Memory this session's models hold."""
    return sum(e.nbytes for e in user_models().values())


def add_user_model(entry: ModelEntry, make_active: bool = True) -> str | None:
    """Keep a trained or uploaded model; returns a notice when old ones had to go (count or memory)."""
    models = user_models()
    dropped = []
    budget = MAX_USER_MODEL_MB * 2**20 - entry.nbytes
    while models and (len(models) >= MAX_USER_MODELS or user_models_bytes() > budget):
        name = next(iter(models))
        dropped.append(name)
        del models[name]
    models[entry.name] = entry
    if make_active:
        st.session_state[ACTIVE_MODEL] = entry.name
    if not dropped:
        return None
    return (
        f"Kept at most {MAX_USER_MODELS} models or {MAX_USER_MODEL_MB} MB of them: removed the oldest, "
        f"{', '.join(md(name) for name in dropped)}."
    )


def notify(message: str, kind: str = "info") -> None:
    """Show a message at the top of the next run (survives st.rerun)."""
    st.session_state[NOTICES].append((kind, message))


def pop_notices() -> list[tuple[str, str]]:
    notices = list(st.session_state[NOTICES])
    st.session_state[NOTICES].clear()
    return notices
