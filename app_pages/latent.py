"""Latent space: where the test digits land in the model's k numbers, and what the decoder makes of any point."""

import streamlit as st

from model.latent import codes_csv
from ui.figures.latent import drawing_label, latent_scatter
from ui.figures.palette import legend_key
from ui.server.latent import test_codes
from ui.server.resources import mnist_status, reference
from ui.session import state
from ui.session.models import active_model
from ui.text import md
from ui.views.latent import (
    build_view,
    drawing_code,
    drawing_neighbours,
    neighbours_view,
    points_ui,
    projection_ui,
    selected_digits_view,
    selected_ids,
)
from ui.views.latent_decode import decode_ui, interpolation_ui, replay_ui

st.title("Latent space")
entry = active_model()
if entry is None:
    st.warning("No model yet. Train one on the **Train** page.")
    st.stop()
data = mnist_status()
if data.mnist is None:
    st.error(data.error)
    st.info(
        "This page places the test digits by their codes, so it needs MNIST. "
        "The Draw and Denoise pages work without it, with the bundled models."
    )
    st.stop()
mnist = data.mnist
k = entry.latent_dim
st.caption(
    f"**{md(entry.name)}** squeezes every digit into {k} number{'s' if k != 1 else ''}, its *code*. "
    "Each dot is one test digit's code; digits the model finds alike land close together."
)

codes = test_codes(entry, mnist)  # (N, k), cached per model
left_ctl, right_ctl = st.columns([1, 3])
with left_ctl:
    n_points = points_ui(len(mnist.test))
with right_ctl:
    choice = projection_ui(k)
view = build_view(entry, mnist, codes, n_points, choice)
three_d = view is not None and view.coords.shape[1] == 3

drawing = st.session_state.get(state.DRAWING)
z_drawing = drawing_code(entry, drawing)
near_index, near_dist = drawing_neighbours(codes, z_drawing) if z_drawing is not None else (None, None)

chart_col, side_col = st.columns([3, 2])
event = None
with chart_col:
    if view is not None:
        star = neighbours = None
        if z_drawing is not None and view.place is not None:
            star = view.place(z_drawing.reshape(1, -1))
            neighbours = view.place(codes[near_index])
        labels = mnist.test.labels.numpy()[view.ids]
        fig = latent_scatter(view.coords, labels, view.ids, view.axis_titles, star=star, neighbours=neighbours)
        event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key="latent_scatter")
        st.caption(
            f"{len(view.ids):,} test digits. {view.note} {legend_key(three_d)} Click a digit in the legend to hide it."
        )
        st.download_button(
            f"Download all {len(codes):,} test codes (CSV)",
            data=lambda: codes_csv(codes, mnist.test.labels),  # built only when clicked
            file_name=f"latent-codes-{entry.file_stem}.csv",  # two k = 32 models must not collide
            mime="text/csv",
            on_click="ignore",
        )
with side_col:
    ids = selected_ids(event)
    if ids:
        selected_digits_view(ids, mnist, entry)
    elif three_d:
        st.info(
            "Drag to turn the cloud, scroll to zoom. Picking digits works in 2-D: switch 3-D off to drag a box "
            "around some points and see them here."
        )
    else:
        st.info(
            "Drag a box (or pick the lasso in the chart's toolbar) around some points, or click one, "
            "to see those digits and their reconstructions here."
        )
    if z_drawing is not None:
        neighbours_view(drawing, near_index, near_dist, mnist, k, drawing_label(three_d))
        if view is not None and view.place is None:
            st.caption("t-SNE cannot place new points, so the star shows in the other projections only.")
    else:
        st.caption(
            f"Draw a digit on the **Draw** page: it appears here as a {'diamond ◆' if three_d else 'star ★'}, "
            "with its 5 nearest test digits."
        )

ref = reference(mnist)
samples = ref.sample_index.tolist()
defaults = (samples[3 % len(samples)], samples[8 % len(samples)]) if samples else (0, 1)

# Tabs: a hidden tab costs the browser little, so the scatter above is drawn sooner.
decode_tab, interp_tab, replay_tab = st.tabs(["Decode from the latent space", "Interpolation", "Training replay"])
with decode_tab:
    decode_ui(entry, mnist)
with interp_tab:
    interpolation_ui(entry, mnist, defaults, drawing if z_drawing is not None else None)
with replay_tab:
    replay_ui(entry, mnist, ref.replay_index)
