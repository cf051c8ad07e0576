"""Compare: coming soon."""

import streamlit as st

st.title("Compare")
st.info(
    "This page is being built. It will show: Several models side by side: reconstructions, test MSE against latent size, and a sweep over k."
)
