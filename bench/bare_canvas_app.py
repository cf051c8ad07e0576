"""The floor for bench/draw_latency.py: a page holding only the canvas and a text that counts the strokes."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

canvas = st_canvas(
    stroke_width=20,
    stroke_color="#FFFFFF",
    background_color="#000000",
    height=280,
    width=280,
    drawing_mode="freedraw",
    return_image_data=True,
    update_streamlit=True,
    key="bare_canvas",
)
strokes = len((canvas.json_data or {}).get("objects") or [])
st.markdown(f"({strokes} stroke{'s' if strokes != 1 else ''})")
