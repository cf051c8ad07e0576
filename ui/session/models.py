"""The session's list of models: the bundled defaults, then this user's, and which one every page uses."""

from __future__ import annotations

import streamlit as st

from service.model_entry import ModelEntry
from ui.server.resources import bundled_models
from ui.session import state

DEFAULT_BUNDLED_K = 32


def all_models() -> dict[str, ModelEntry]:
    """Bundled defaults first, then this session's models in the order they arrived."""
    models = {e.name: e for e in bundled_models()}
    models.update(state.user_models())
    return models


def active_model() -> ModelEntry | None:
    """The model the pages use: the user's pick, else the bundled k=32, else the first there is."""
    models = all_models()
    chosen = st.session_state.get(state.ACTIVE_MODEL)
    if chosen in models:
        return models[chosen]
    for entry in models.values():
        if entry.latent_dim == DEFAULT_BUNDLED_K:
            return entry
    return next(iter(models.values()), None)
