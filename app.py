"""Entry point of the studio: page config, shared state, sidebar and navigation; each page does its own work."""

from pathlib import Path

import streamlit as st

from ui.server.resources import configure_torch
from ui.session import state
from ui.widgets.sidebar import sidebar_ui
from ui.widgets.train_settings import apply_url_preset_once, persist_settings

st.set_page_config(page_title="Linear Autoencoder Studio", page_icon="🔢", layout="wide")
st.html(Path(__file__).parent / "assets" / "studio.css")  # style only: takes no space on the page
configure_torch()
state.init_state()
apply_url_preset_once()
persist_settings()

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:", url_path="draw"),
    st.Page("app_pages/denoise.py", title="Denoise", icon=":material/blur_on:", url_path="denoise"),
    st.Page("app_pages/latent.py", title="Latent space", icon=":material/scatter_plot:", url_path="latent"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:", url_path="compare"),
]
page = st.navigation(PAGES)
sidebar_ui(show_training_status=page.url_path != "train")
with st.container():  # a fixed slot: notices never shift the page's elements (no doubled widgets mid-run)
    for kind, message in state.pop_notices():
        getattr(st, kind)(message)
page.run()
