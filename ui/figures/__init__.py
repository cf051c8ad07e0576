"""Plotly figures and pictures, pure functions: imports model/, plotly, numpy, Pillow, ui.text; never Streamlit."""
