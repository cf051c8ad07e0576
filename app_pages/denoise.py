"""Denoise: coming soon."""

import streamlit as st

st.title("Denoise")
st.info(
    "This page is being built. It will show: Add Gaussian, salt-and-pepper, dropout or block noise and compare the noisy input, the model's reconstruction and PCA's."
)
