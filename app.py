"""Entry point of the studio: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="Linear Autoencoder Studio", page_icon="🔢", layout="wide")
st.title("Linear Autoencoder Studio")
st.write("The pages are being built.")
