"""The server's one workspace store, its housekeeping thread, and the ids of its runs.

Nothing here touches a session. Several replicas may share one data dir (deploy/): each beats only its own
runs, and the retention sweep is done by whichever replica holds the store's lease for it. The browser's
token is read from `st.context.cookies` and only ever handed to the store, which keeps its hash: it is never
shown or logged.
"""

from __future__ import annotations

import logging
import secrets
import threading
from pathlib import Path

import streamlit as st

from service.jobs import Job
from service.keep_model import BEAT_SECONDS, STALE_SECONDS
from service.workspace_cookie import workspace_token
from service.workspace_store import StoreError, WorkspaceStore, default_data_dir
from ui.server.resources import job_manager

SWEEP_SECONDS = 3600.0  # expired workspaces and stray files are removed this often (by one replica)
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


def new_run_id() -> str:
    """An id for a run in the workspace's run list, unique across replicas and restarts."""
    return f"{SERVER_ID}-{secrets.token_hex(8)}"


def run_id(job: Job) -> str:
    """A job's id in the workspace's run list (given at submit; older jobs: from the job id)."""
    return job.run_id or f"{SERVER_ID}-{job.id}"


def record_active_runs(store: WorkspaceStore) -> None:
    """Beat this process's active workspace runs, then mark those nobody beat (server and worker gone) interrupted.

    A beat only refreshes a run that is still active: it never undoes a worker's having kept the model.
    """
    for job in job_manager().active_jobs():
        if job.workspace:
            try:
                store.beat_run(job.workspace, run_id(job))
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
                if store.take_lease("retention-sweep", SERVER_ID, SWEEP_SECONDS - BEAT_SECONDS):
                    store.sweep_expired()
        except Exception:  # a full disk or a locked database must not end the thread; try again later
            _LOG.warning("Workspace housekeeping failed; retrying", exc_info=True)
        threading.Event().wait(BEAT_SECONDS)
        since_sweep += BEAT_SECONDS
