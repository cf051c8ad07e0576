"""Denoise: corrupt a digit, then compare a bundled denoiser's output (by default) or the active model's with PCA."""

import streamlit as st
import torch

from model.noise import noise_label
from model.scoring import CURVE_DIGITS, denoise_rows
from ui.figures.digit import noise_curve_figure
from ui.pages import page_path
from ui.server.resources import bundled_denoisers, mnist_status, reference
from ui.server.scores import cached_noise_curve
from ui.session import state
from ui.session.models import active_model
from ui.views.digit import (
    BUNDLED,
    active_label,
    bundled_sentence,
    denoise_with_ui,
    denoiser_sentence,
    noise_controls_ui,
    pick_test_index_ui,
    rows_view,
)

DRAWING, TEST_DIGIT, BATCH = "Current drawing", "A test digit", "Random batch of 8"
BATCH_SIZE = 8

st.title("Denoise")
entry = active_model()
if entry is None:
    st.warning("There is no model to denoise with. Train one on the **Train** page.")
    st.stop()
st.caption(
    "Add noise to a digit and see what a denoiser, the active model (change it in the sidebar) and PCA make of it."
)
data = mnist_status()
mnist = data.mnist
ref = reference(mnist) if mnist is not None else None
drawing = st.session_state.get(state.DRAWING)

if st.session_state.get("denoise_source") is None:
    st.session_state["denoise_source"] = DRAWING if drawing is not None or mnist is None else TEST_DIGIT
source = st.radio("Source", [DRAWING, TEST_DIGIT, BATCH], horizontal=True, key="denoise_source")
kind, level, seed = noise_controls_ui()
denoiser = bundled_denoisers().get(kind)
if denoise_with_ui(denoiser) == BUNDLED:
    # The denoiser leads; the active model comes second, so what training on noise changes is in plain view.
    lead, lead_label, other = denoiser, "Bundled denoiser", entry
    st.markdown(bundled_sentence(denoiser))
else:
    lead, lead_label, other = entry, active_label(entry), None
    st.markdown(denoiser_sentence(entry))

clean = None
if source == DRAWING:
    if drawing is None:
        st.info("There is no drawing yet: draw a digit on the Draw page, or pick a test digit here.")
        st.page_link(page_path("draw"), label="Go to the Draw page", icon=":material/draw:")
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
    second = None
    if other is not None:  # say the active model's k when it differs from PCA's row, which follows the lead
        k_note = f", k={other.latent_dim}" if other.latent_dim != lead.latent_dim else ""
        second = (active_label(other) + k_note, other.model)
    rows = denoise_rows(lead.model, ref.pca if ref else None, clean, kind, level, seed, lead_label, second)
    rows_view(rows)
    if ref is None:
        st.caption("PCA's row needs MNIST (PCA is fitted on the training digits).")

st.subheader("Error against noise level")
if mnist is None:
    st.caption("The curve is measured on MNIST test digits, which are not available.")
else:
    curve = cached_noise_curve(lead, ref.pca, mnist, kind, other)
    other_name = f"{active_label(other).lower()}, k={other.latent_dim}" if other is not None else ""
    figure = noise_curve_figure(curve, level, lead.latent_dim, lead_label.lower(), other_name)
    st.plotly_chart(figure, config={"displayModeBar": False}, key="denoise_curve")
    n = min(CURVE_DIGITS, len(mnist.test))
    who = "the bundled denoiser, the active model" if other is not None else "the active model"
    st.caption(
        f"{noise_label(kind)}: mean squared error against the clean digits over {n} fixed test digits, "
        f"for {who}, for PCA at the same k (output clipped to [0, 1]), and for the noisy input left as it is."
    )
