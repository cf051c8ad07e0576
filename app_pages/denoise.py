"""Denoise: corrupt a digit, then compare the model's reconstruction of it with PCA's at the same k."""

import streamlit as st
import torch

from model.noise import NOISE_LABELS
from model.scoring import CURVE_DIGITS, denoise_rows
from ui import state
from ui.draw_figures import noise_curve_figure
from ui.draw_views import denoiser_sentence, noise_controls_ui, pick_test_index_ui, rows_view
from ui.resources import mnist_status, reference
from ui.scores import cached_noise_curve
from ui.sidebar import active_model

DRAWING, TEST_DIGIT, BATCH = "Current drawing", "A test digit", "Random batch of 8"
BATCH_SIZE = 8

st.title("Denoise")
entry = active_model()
if entry is None:
    st.warning("There is no model to denoise with. Train one on the **Train** page.")
    st.stop()
st.caption("Add noise to a digit and see what the active model (change it in the sidebar) and PCA make of it.")
st.markdown(denoiser_sentence(entry))
data = mnist_status()
mnist = data.mnist
ref = reference(mnist) if mnist is not None else None
drawing = st.session_state.get(state.DRAWING)

if st.session_state.get("denoise_source") is None:
    st.session_state["denoise_source"] = DRAWING if drawing is not None or mnist is None else TEST_DIGIT
source = st.radio("Source", [DRAWING, TEST_DIGIT, BATCH], horizontal=True, key="denoise_source")
kind, level, seed = noise_controls_ui()

clean = None
if source == DRAWING:
    if drawing is None:
        st.info("There is no drawing yet: draw a digit on the Draw page, or pick a test digit here.")
        st.page_link("app_pages/draw.py", label="Go to the Draw page", icon=":material/draw:")
    else:
        clean = drawing.reshape(1, 784)
elif mnist is None:
    st.error(data.error)
    st.info("Test digits need MNIST; the current drawing works without it.")
elif source == TEST_DIGIT:
    index = pick_test_index_ui(len(mnist.test), key="denoise_test_index")
    clean = mnist.test.images[index : index + 1]
else:
    gen = torch.Generator().manual_seed(seed)
    clean = mnist.test.images[torch.randperm(len(mnist.test), generator=gen)[:BATCH_SIZE]]
    st.caption("The batch is drawn with the seed: change the seed for other digits (and other noise).")

if clean is not None:
    rows = denoise_rows(entry.model, ref.pca if ref else None, clean, kind, level, seed)
    rows_view(rows)
    if ref is None:
        st.caption("PCA's row needs MNIST (PCA is fitted on the training digits).")

st.subheader("Error against noise level")
if mnist is None:
    st.caption("The curve is measured on MNIST test digits, which are not available.")
else:
    curve = cached_noise_curve(entry, ref.pca, mnist, kind)
    st.plotly_chart(
        noise_curve_figure(curve, level, entry.latent_dim), config={"displayModeBar": False}, key="denoise_curve"
    )
    n = min(CURVE_DIGITS, len(mnist.test))
    st.caption(
        f"{NOISE_LABELS[kind]}: mean squared error against the clean digits over {n} fixed test digits, "
        "for the model, for PCA at the same k (output clipped to [0, 1]), and for the noisy input left as it is."
    )
