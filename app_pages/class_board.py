"""Class: every workspace's trained models on this server as anonymous points beside PCA's curve, live."""

import streamlit as st

from ui.pages import CLASS_BOARD_ENV, page_on, spec_of
from ui.server.resources import mnist_status, reference
from ui.views.class_board import EXPLANATION, class_board_ui

st.title("Class board")
if not page_on(spec_of("class")):
    st.info(f"The class board is turned off on this server (its instructor set {CLASS_BOARD_ENV}=0).")
    st.stop()
st.caption(EXPLANATION)
data = mnist_status()
ref = reference(data.mnist) if data.mnist is not None else None
if ref is None:
    st.info("PCA's curve needs MNIST, which this server could not load; the dots are each run's recorded test MSE.")
class_board_ui(ref.test_mse_curve.tolist() if ref is not None else None)
