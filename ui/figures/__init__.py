"""Plotly figures and pictures: pure functions from numbers, no Streamlit. Imports model/, plotly, numpy, Pillow
and ui.text only."""
