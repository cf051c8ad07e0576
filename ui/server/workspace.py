"""The server's one workspace store, its housekeeping thread, and saving a model into a workspace.

Nothing here touches a session: the finish callback of a training job (a thread, no page) saves through
`store_entry` too. The browser's token is read from `st.context.cookies` and only ever handed to the store,
which keeps its hash: it is never shown or logged.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from service.jobs import Job
from service.workspace_cookie import workspace_token
from service.workspace_store import QuotaError, StoreError, WorkspaceStore, default_data_dir
from ui.model_entry import ModelEntry
from ui.server.entry_codec import entry_to_record
from ui.server.resources import job_manager

BEAT_SECONDS = 20.0  # a running workspace job is re-recorded this often ...
STALE_SECONDS = 3 * BEAT_SECONDS  # ... so a run not re-recorded for this long died with its server
SWEEP_SECONDS = 3600.0  # expired workspaces and stray files are removed this often
ACTIVE = "active_model"  # setting: {"id": model id} or {"bundled": name}
SERVER_ID = secrets.token_hex(4)  # tells this process's run ids from another replica's
_LOG = logging.getLogger(__name__)


def browser_token() -> str | None:
    """The workspace token of this browser, or None (cookies blocked, AppTest)."""
    return workspace_token(st.context.cookies)


@st.cache_resource(show_spinner=False)
def _store(data_dir: str) -> WorkspaceStore:
    store = WorkspaceStore(Path(data_dir))
    store.interrupt_stale_runs(STALE_SECONDS)  # runs a dead server left "running"
    threading.Thread(target=_housekeeping, args=(store,), name="workspace-housekeeping", daemon=True).start()
    return store


def workspace_store() -> WorkspaceStore:
    """The store under STUDIO_DATA_DIR, one per process and data dir, with its housekeeping started."""
    return _store(str(default_data_dir()))


def run_id(job: Job) -> str:
    """A job's id in the workspace's run list (job ids restart with each server process)."""
    return f"{SERVER_ID}-{job.id}"


def record_active_runs(store: WorkspaceStore) -> None:
    """Re-record this process's running workspace jobs, then mark those no server re-recorded as interrupted."""
    for job in job_manager().active_jobs():
        if job.workspace:
            try:
                store.record_run(job.workspace, run_id(job), "running", {"label": job.label, "kind": job.kind})
            except (StoreError, ValueError):
                continue  # forgotten meanwhile: its job is cancelled by the forget button
    store.interrupt_stale_runs(STALE_SECONDS)


def _housekeeping(store: WorkspaceStore) -> None:
    """Beats for running jobs, and the retention sweep: forever, in a daemon thread."""
    since_sweep = SWEEP_SECONDS
    while True:
        try:
            record_active_runs(store)
            if since_sweep >= SWEEP_SECONDS:
                since_sweep = 0.0
                store.sweep_expired()
        except Exception:  # a full disk or a locked database must not end the thread; try again later
            _LOG.warning("Workspace housekeeping failed; retrying", exc_info=True)
        threading.Event().wait(BEAT_SECONDS)
        since_sweep += BEAT_SECONDS


@dataclass(frozen=True)
class Saved:
    """What saving a model did: its id (None when refused), the models removed to make room, or why it failed."""

    model_id: str | None
    dropped: tuple[str, ...] = ()
    error: str = ""


def store_entry(store: WorkspaceStore, ws: str, entry: ModelEntry, make_active: bool) -> Saved:
    """Save a model; at the model limit the oldest makes room (as before workspaces), a byte limit is reported."""
    tensors, meta = entry_to_record(entry)
    dropped: list[str] = []
    while True:
        try:
            model_id = store.put_model(ws, entry.name, tensors, meta)
            break
        except QuotaError as exc:
            records = store.list_models(ws)
            if len(records) < store.limits.max_models or not records:
                return Saved(None, tuple(dropped), str(exc))  # the byte cap: the user chooses what to delete
            store.delete_model(ws, records[0].id)
            dropped.append(records[0].name)
        except StoreError as exc:
            return Saved(None, tuple(dropped), str(exc))
    if make_active:
        store.set_setting(ws, ACTIVE, {"id": model_id})
    return Saved(model_id, tuple(dropped))
