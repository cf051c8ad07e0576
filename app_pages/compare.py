"""Compare: several models side by side, their test error against latent size, and a sweep over k."""

import streamlit as st

from ui.figures.compare import mse_vs_k_figure
from ui.server.resources import mnist_status, reference
from ui.session.models import all_models
from ui.views.compare import grid_rows, grid_view, model_points, models_picker_ui, table_rows, table_view
from ui.views.compare_sweep import sweep_ui

st.title("Compare models")
st.caption(
    "The same test digits through several models, and how the error falls as the code gets longer. "
    "PCA at the same k is the reference: the best a purely linear encoder and decoder of that size can do "
    "(the autoencoder's sigmoid output lets it go below PCA)."
)
models = all_models()
data = mnist_status()
mnist = data.mnist
ref = reference(mnist) if mnist is not None else None
if mnist is None:
    st.error(data.error)
    st.info(
        "Without MNIST the grid and PCA's curve are missing; the chart and table use each model's recorded test MSE."
    )

st.subheader("Reconstructions")
picked = models_picker_ui(models)
if mnist is not None and ref is not None:
    if picked:
        grid_view(grid_rows(picked, mnist.test.images[ref.sample_index], ref.pca))
        st.caption("One test digit of each class; each model's row is followed by PCA's at the same k.")
    else:
        st.info("Pick at least one model above to see its reconstructions.")

st.subheader("Test error against latent size")
curve = ref.test_mse_curve.tolist() if ref is not None else None
st.plotly_chart(mse_vs_k_figure(model_points(models, mnist, ref), curve), key="compare_chart")
st.caption(
    "Points: your models and the bundled ones, test MSE on the loaded test set. Dashed: PCA, the best purely "
    "linear model of each size. Open markers: linear-output models, which land on PCA's curve (clipped to "
    "[0, 1] in the grid above for display only). Star: the classic tutorial's ReLU model, whose 0.0118 is a "
    "*training* MSE. Hollow circles: denoisers, scored on the task they learned (noisy test digits in, the clean "
    "ones as the target), each beside PCA given the same noisy digits (grey ×), not on PCA's clean-digit curve. "
    "Click a legend entry to hide or show a group."
)

st.subheader("All models")
table_view(table_rows(models, mnist, ref))

st.subheader("Train a sweep")
sweep_ui(mnist)
