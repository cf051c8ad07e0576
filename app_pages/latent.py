"""Latent space: coming soon."""

import streamlit as st

st.title("Latent space")
st.info(
    "This page is being built. It will show: Scatter plots of the test set's codes, decoding from any point, interpolation and the training replay."
)
