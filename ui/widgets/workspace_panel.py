"""The sidebar's workspace panel: what this browser keeps on the server, and the button that forgets it all."""

from __future__ import annotations

import streamlit as st

from service.workspace_store import retention_days
from ui.server.workspace import workspace_store
from ui.session import state
from ui.session.training import forget_everything
from ui.session.workspace import current_workspace

FORGOTTEN = "Deleted this browser's workspace: its models, drawing, settings and runs are gone from the server."


def _days() -> str:
    try:
        days = retention_days()
    except ValueError:  # the server refuses to sweep with a bad setting; say nothing precise
        return "a while"
    return f"{days:g} day{'' if days == 1 else 's'}"


def _ask() -> None:
    st.session_state[state.FORGET_ASKED] = True


def _cancel() -> None:
    st.session_state[state.FORGET_ASKED] = False


def _forget() -> None:
    st.session_state[state.FORGET_ASKED] = False
    forget_everything()
    state.notify(FORGOTTEN, "success")


def workspace_panel_ui() -> None:
    """Usage against the limits, and Forget with a confirmation; nothing without a workspace (no cookie)."""
    ws = current_workspace()
    if ws is None:
        return
    store = workspace_store()
    count, used = store.usage(ws)
    with st.expander("This browser's workspace"):
        st.caption(
            f"{count} of {store.limits.max_models} models kept on the server ({used / 2**20:.1f} of "
            f"{store.limits.max_bytes // 2**20} MB), with the drawing and settings; any tab of this browser "
            f"sees them. A workspace unused for {_days()} is deleted."
        )
        if not st.session_state.get(state.FORGET_ASKED):
            st.button("Forget this browser's workspace", key="workspace_forget", on_click=_ask)
            return
        st.warning("Delete every model, the drawing, the settings and any run of this browser? This cannot be undone.")
        c1, c2 = st.columns(2)
        c1.button("Delete everything", key="workspace_forget_yes", type="primary", on_click=_forget)
        c2.button("Cancel", key="workspace_forget_no", on_click=_cancel)
