"""Draw: coming soon."""

import streamlit as st

st.title("Draw")
st.info(
    "This page is being built. It will show: Draw a digit on a canvas and see it reconstructed, with the MNIST-style preprocessing, the error heatmap and the latent code."
)
