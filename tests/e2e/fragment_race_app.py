"""A page that makes Streamlit's fragment race happen on purpose, for tests/e2e/test_fragment_race.py.

At the end of every full run it blocks the server's event loop for a moment and queues, behind that, a rerun
request for its fragment, as if the browser's run_every tick had arrived just then; the run's own last events
(its script_finished) reach the loop after both. With FRAGMENT_RACE_PATCH=1 the studio's fix is installed.
"""

import os
import time

import streamlit as st
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import get_instance
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

if os.environ.get("FRAGMENT_RACE_PATCH") == "1":
    from ui.server.fragment_race import install

    install()

LOOP_BUSY_SECONDS = 0.5  # long enough for the script thread to finish the run and its runner to stop


@st.fragment
def panel() -> None:
    st.session_state["panel_id"] = ThreadState.get().fragment_id
    st.markdown(f"panel run {st.session_state.setdefault('panel_runs', 0) + 1}")
    st.session_state["panel_runs"] += 1


panel()
st.markdown("the end of the page")
ctx = get_script_run_ctx()
if not ctx.fragment_ids_this_run:  # a full run: a fragment tick arrives as it ends
    session = get_instance()._session_mgr.get_active_session_info(ctx.session_id).session
    tick = ClientState(fragment_id=st.session_state["panel_id"], is_auto_rerun=True)
    tick.page_script_hash = ctx.page_script_hash
    loop = session._event_loop
    loop.call_soon_threadsafe(time.sleep, LOOP_BUSY_SECONDS)
    loop.call_soon_threadsafe(session._handle_rerun_script_request, tick)
