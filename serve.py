"""The studio as a server for a room: `streamlit run serve.py` (what `make run` does) serves app.py behind
ui.server.guards.StudioGuards (metrics private, over-long links explained). `streamlit run app.py` still works,
without those guards.
"""

import streamlit as st
from starlette.middleware import Middleware

from ui.server.guards import StudioGuards

app = st.App("app.py", middleware=[Middleware(StudioGuards)])
