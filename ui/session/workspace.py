"""This tab's view of the browser's workspace: the session's models and settings are a cache of it.

Every run opens the workspace named by the cookie and lists its model ids (one small query): models another
tab (or a run that ended with no tab open) added are loaded, deleted ones dropped, renamed ones renamed. The
session's first run also brings back the active model, the drawing and the page settings. Without a cookie
the tab keeps its own models, as before workspaces, and says once that they will not survive a reload.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import streamlit as st

from service.entry_codec import EntryDecodeError, entry_from_record
from service.keep_model import ACTIVE, store_entry
from service.model_entry import ModelEntry
from service.workspace_store import StoreError, WorkspaceStore
from ui.server.resources import bundled_models
from ui.server.workspace import browser_token, workspace_store
from ui.session import state
from ui.session.drawing import DRAWING_SETTING, restore_sketch
from ui.text import md

WIDGETS_SETTING = "widgets"  # the Train and Denoise settings: {widget key: value}
NO_COOKIE_NOTE = (
    "This browser does not accept the studio's cookie, so your models and drawing live in this tab only: "
    "they will not survive a reload."
)
INTERRUPTED_NOTE = "The server restarted while your run {label} was training; that run was interrupted. Press Start to train again."
_LOG = logging.getLogger(__name__)


def current_workspace() -> str | None:
    """The workspace id this run works in (set by sync_workspace), or None without a cookie."""
    return st.session_state.get(state.WORKSPACE)


def sync_workspace(widget_keys: Iterable[str] = ()) -> str | None:
    """Open the browser's workspace and bring this tab up to date with it; its id, or None without one."""
    token = browser_token()
    if token is None:
        if not st.session_state.get(state.NO_WORKSPACE_TOLD):
            st.session_state[state.NO_WORKSPACE_TOLD] = True
            state.notify(NO_COOKIE_NOTE)
        st.session_state[state.WORKSPACE] = None
        return None
    try:
        store = workspace_store()
        ws = store.open_workspace(token)
        fresh = st.session_state.get(state.WORKSPACE) != ws
        if fresh:  # the session's first run, or its workspace was forgotten (elsewhere) or swept
            _drop_cache()
            st.session_state[state.WORKSPACE] = ws
        sync_models(store, ws)
        if fresh:
            _restore_settings(store, ws, list(widget_keys))
    except (StoreError, sqlite3.Error, OSError):
        _LOG.warning("The workspace could not be opened; this run uses the tab's own state", exc_info=True)
        return current_workspace()
    return ws


def _drop_cache() -> None:
    st.session_state[state.USER_MODELS] = {}
    st.session_state[state.WORKSPACE_MODELS] = {}
    st.session_state[state.SAVED_WIDGETS] = None
    st.session_state[state.ACTIVE_MODEL] = None


def sync_models(store: WorkspaceStore, ws: str) -> None:
    """Make USER_MODELS hold exactly the workspace's models, in its order, loading only the new ones."""
    records = store.list_models(ws)
    known: dict[str, str] = st.session_state[state.WORKSPACE_MODELS]
    if [(r.id, r.name) for r in records] == list(known.items()):
        return  # the common case: nothing changed since the last run
    cached = state.user_models()
    by_id = {model_id: cached[name] for model_id, name in known.items() if name in cached}
    models: dict[str, ModelEntry] = {}
    ids: dict[str, str] = {}
    for record in records:
        entry = by_id.get(record.id)
        if entry is None:
            try:
                stored = store.load_model(ws, record.id)
                entry = entry_from_record(record.name, stored.tensors, stored.meta)
            except (StoreError, EntryDecodeError):
                _LOG.info("A stored model could not be loaded; it is left out", exc_info=True)
                continue
        elif entry.name != record.name:
            entry = replace(entry, name=record.name)
        models[record.name] = entry
        ids[record.id] = record.name
    active = st.session_state.get(state.ACTIVE_MODEL)
    renamed = {known[i]: ids[i] for i in ids if i in known and known[i] != ids[i]}
    st.session_state[state.ACTIVE_MODEL] = renamed.get(active, active)
    st.session_state[state.USER_MODELS] = models
    st.session_state[state.WORKSPACE_MODELS] = ids


def _restore_settings(store: WorkspaceStore, ws: str, widget_keys: list[str]) -> None:
    settings = store.get_settings(ws)
    active = settings.get(ACTIVE)
    if isinstance(active, dict):
        names = st.session_state[state.WORKSPACE_MODELS]
        if active.get("id") in names:
            st.session_state[state.ACTIVE_MODEL] = names[active["id"]]
        elif active.get("bundled") in {e.name for e in bundled_models()}:
            st.session_state[state.ACTIVE_MODEL] = active["bundled"]
    restore_sketch(settings.get(DRAWING_SETTING))
    widgets = settings.get(WIDGETS_SETTING)
    if isinstance(widgets, dict):
        for key in widget_keys:
            if key in widgets and key not in st.session_state:
                st.session_state[key] = widgets[key]
        st.session_state[state.SAVED_WIDGETS] = {k: widgets[k] for k in widget_keys if k in widgets}
    for run in store.list_runs(ws, ["interrupted"]):
        label = run.detail.get("label", "") if isinstance(run.detail, dict) else ""
        state.notify(INTERRUPTED_NOTE.format(label=f"({md(label)})" if label else "").replace("  ", " "), "warning")
        store.record_run(ws, run.run_id, "interrupted-told", run.detail)


def save_widgets(widget_keys: Iterable[str]) -> None:
    """Write the page settings to the workspace when they changed since the last write."""
    ws = current_workspace()
    if ws is None:
        return
    values: dict[str, Any] = {k: st.session_state[k] for k in widget_keys if k in st.session_state}
    values = {k: v for k, v in values.items() if isinstance(v, (str, int, float, bool)) or v is None}
    if values == st.session_state.get(state.SAVED_WIDGETS):
        return
    try:
        workspace_store().set_setting(ws, WIDGETS_SETTING, values)
        st.session_state[state.SAVED_WIDGETS] = values
    except (StoreError, ValueError):
        _LOG.info("The settings were not saved to the workspace", exc_info=True)


def set_active(name: str) -> None:
    """Make a model the one every page uses, in this tab and for the browser's next visit."""
    st.session_state[state.ACTIVE_MODEL] = name
    ws = current_workspace()
    if ws is None:
        return
    ids = {n: i for i, n in st.session_state[state.WORKSPACE_MODELS].items()}
    value = {"id": ids[name]} if name in ids else {"bundled": name}
    try:
        workspace_store().set_setting(ws, ACTIVE, value)
    except StoreError:
        _LOG.info("The active model was not saved to the workspace", exc_info=True)


def keep_model(entry: ModelEntry, make_active: bool = True) -> str | None:
    """Keep a trained or uploaded model (in the workspace when there is one); a notice when old ones had to go.

    A model the workspace refuses (its byte limit) is not kept: the notice says why, as an error.
    """
    ws = current_workspace()
    if ws is None:
        return state.add_user_model(entry, make_active)
    store = workspace_store()
    saved = store_entry(store, ws, entry, make_active)
    sync_models(store, ws)
    if saved.model_id is None:
        state.notify(f"**{md(entry.name)}** was not kept: {saved.error}", "error")
    elif make_active:
        st.session_state[state.ACTIVE_MODEL] = entry.name
    return dropped_note(saved.dropped)


def dropped_note(dropped: Iterable[str]) -> str | None:
    """The sentence for models removed to make room, or None."""
    names = list(dropped)
    if not names:
        return None
    return (
        f"Kept at most {state.MAX_USER_MODELS} models: removed the oldest, {', '.join(md(n) for n in names)}."
    )


def forget_workspace() -> None:
    """Delete everything the browser's workspace holds; this tab starts empty (and so does the next visit)."""
    ws = current_workspace()
    if ws is not None:
        workspace_store().forget_workspace(ws)
    _drop_cache()
    st.session_state[state.WORKSPACE] = None  # the next run opens a new, empty workspace for the same cookie
    for key in (state.SKETCH, state.CANVAS_SEED, state.DRAWING, state.LAST_RUN):
        st.session_state[key] = None
    st.session_state[state.CANVAS_GENERATION] += 1
