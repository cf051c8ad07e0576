"""The page script (app.py serves it): page config, shared state, sidebar and navigation; each page does its own work."""

from pathlib import Path

import streamlit as st

from ui.pages import PAGES, page_on
from ui.server.resources import configure_torch
from ui.session import state
from ui.session.drawing import canvas_tracking
from ui.session.training import reattach_jobs
from ui.session.workspace import save_widgets, sync_workspace
from ui.widgets.sidebar import sidebar_ui
from ui.widgets.train_settings import SAVED_KEYS, apply_url_preset_once, persist_settings

KEPT_WIDGETS = (*SAVED_KEYS, "denoise_source")  # what the workspace keeps of the pages' settings: Train, Denoise

st.set_page_config(page_title="Linear Autoencoder Studio", page_icon="🔢", layout="wide")
st.html(Path(__file__).parent / "assets" / "studio.css")  # style only: takes no space on the page
configure_torch()
state.init_state()
sync_workspace(KEPT_WIDGETS)  # the browser's models and settings, before any page reads them
reattach_jobs()
apply_url_preset_once()
persist_settings()
save_widgets(KEPT_WIDGETS)

page = st.navigation(
    [  # a page turned off stays reachable by its URL (it says it is off) but leaves the menu
        st.Page(
            p.path,
            title=p.title,
            icon=p.icon,
            url_path=p.url_path,
            default=p is PAGES[0],
            visibility="visible" if page_on(p) else "hidden",
        )
        for p in PAGES
    ]
)
sidebar_ui(show_training_status=page.url_path != "train")
with st.container():  # a fixed slot: notices never shift the page's elements (no doubled widgets mid-run)
    for kind, message in state.pop_notices():
        getattr(st, kind)(message)
with canvas_tracking(page.url_path):  # whether the Draw canvas is still in the browser for the next run
    page.run()
