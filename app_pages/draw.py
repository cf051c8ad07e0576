"""Draw: a digit on the canvas (or a test digit) -> MNIST-style 28x28 -> the model's reconstruction and code."""

import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from ui.server.resources import mnist_status
from ui.server.scores import test_errors
from ui.session.drawing import canvas_left, canvas_mount, clear_drawing, current_sketch, process_drawing
from ui.session.models import active_model
from ui.text import md
from ui.views.digit import digit_views, mse_of, pick_test_index_ui

CANVAS_SIDE = 280  # ten canvas pixels per MNIST pixel

st.title("Draw a digit")
entry = active_model()
if entry is None:
    canvas_left()
    st.warning("There is no model to reconstruct with. Train one on the **Train** page.")
    st.stop()
st.caption(f"Reconstructed by the active model, **{md(entry.name)}** ({entry.summary()}). Change it in the sidebar.")
data = mnist_status()
errors = test_errors(entry, data.mnist) if data.mnist is not None else None

source = st.radio("Digit", ["Draw one", "Pick a test digit"], horizontal=True, key="draw_source")
if source == "Pick a test digit":
    canvas_left()
    if data.mnist is None:
        st.error(data.error)
        st.info("Picking a test digit needs MNIST; drawing works without it.")
        st.stop()
    test = data.mnist.test
    left, right = st.columns([2, 3], gap="large")
    with left:
        index = pick_test_index_ui(len(test), key="draw_test_index")
    with right:
        digit_views(test.images[index], entry, errors, f"Test digit #{index}, a {int(test.labels[index])}")
    st.stop()

left, right = st.columns([2, 3], gap="large")
with left:
    # persist_state: the width survives "Pick a test digit" and a visit to another page, like the drawing.
    stroke = st.slider(
        "Stroke width",
        6,
        40,
        20,
        key="draw_stroke",
        persist_state="session",
        help="In canvas pixels; 10 make one MNIST pixel.",
    )
    key, initial = canvas_mount()
    canvas = st_canvas(
        stroke_width=stroke,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        initial_drawing=initial,
        return_image_data=True,
        update_streamlit=True,
        key=key,
    )
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Clear", on_click=clear_drawing, key="draw_clear", icon=":material/delete:")
        naive = st.toggle(
            "Show the naive resize",
            key="draw_naive",
            persist_state="session",
            help="The whole canvas squashed to 28 x 28, instead of the MNIST-style input.",
        )

sketch = current_sketch(canvas.json_data, canvas.image_data)
rgba = sketch.rgba if sketch is not None else None
mnist_like, plain = process_drawing(rgba)
with right:
    if rgba is None:
        st.info(
            "Draw a digit with the mouse or a finger: its reconstruction appears when you lift it. "
            "No mouse? The canvas needs a pointer, so choose **Pick a test digit** above (arrow keys in the "
            "Digit choice): the index box and Random work from the keyboard."
        )
    elif not mnist_like.ok:
        st.info(mnist_like.hint)
    else:
        x_mnist = torch.from_numpy(mnist_like.image).reshape(784)
        x_plain = torch.from_numpy(plain.image).reshape(784)
        shown = x_plain if naive else x_mnist
        label = "Naive resize of the canvas" if naive else "Processed input (MNIST-style)"
        note = f" ({sketch.strokes} stroke{'s' if sketch.strokes != 1 else ''})"
        digit_views(shown, entry, errors, label, note)
        st.caption(
            f"Error with the MNIST-style input: {mse_of(entry, x_mnist):.4f} · with the naive resize: "
            f"{mse_of(entry, x_plain):.4f}. MNIST digits were cropped, scaled to 20 px and centred by mass."
        )
# Below both columns, not under the canvas: on a phone the columns stack and the result comes first.
st.caption("Undo, redo and reset are in the canvas toolbar. The reconstruction updates when you lift the mouse.")
