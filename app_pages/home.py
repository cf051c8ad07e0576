"""Home: what a linear autoencoder is, drawn with the chosen latent size, and where to go next."""

import streamlit as st

from model.config import TrainConfig
from model.plural import plural
from ui.figures.home import diagram_figure
from ui.session.models import active_model
from ui.widgets.train_settings import apply_config

st.title("Linear Autoencoder Studio")
st.markdown(
    """
An **autoencoder** learns to squeeze an image into a few numbers and rebuild it from them.
Here both halves are a single linear layer:

- the **encoder** multiplies the 784 pixels of a 28×28 digit by a matrix and gets **k numbers**, the
  *compressed representation* (or *code*);
- the **decoder** multiplies those k numbers by another matrix and squashes the result with a
  **sigmoid**, so each of the 784 output pixels lies between 0 (black) and 1 (white).

Training adjusts both matrices so the output matches the input as closely as possible (it minimises the
*mean squared error*). With k much smaller than 784 the model has to find what digits have in common.
Without the sigmoid, the best such model is exactly **PCA**; every page shows PCA beside it for reference.
"""
)
entry = active_model()
default_k = entry.latent_dim if entry else 32
k = st.slider("Latent size k for the diagram", 1, 128, min(default_k, 128), key="home_k")
st.plotly_chart(diagram_figure(k), config={"displayModeBar": False}, key="home_diagram")
st.caption(f"Compression: 784 pixels -> {plural(k, 'number')}, {784 / k:.1f}x fewer.")

st.subheader("Where to go")
cols = st.columns(5)
links = [
    ("app_pages/train.py", "Train", "Train a model live with the latent size you choose."),
    ("app_pages/draw.py", "Draw", "Draw a digit and see what the model makes of it."),
    ("app_pages/denoise.py", "Denoise", "Add noise and watch a denoiser clean it up, beside a plain model and PCA."),
    ("app_pages/latent.py", "Latent space", "See where digits land in the compressed space."),
    ("app_pages/compare.py", "Compare", "Put models of different sizes side by side."),
]
for col, (path, label, text) in zip(cols, links, strict=True):
    with col:
        st.page_link(path, label=f"**{label}**")
        st.caption(text)

st.subheader("Watch it become PCA")
st.caption(
    "Take the sigmoid away (a linear output) and the theorem holds: training lands on PCA's error and subspace. "
    "This opens the Train page set for it (k = 32, linear output, 10 epochs); press Start there and watch the "
    "'How close to PCA?' panel."
)
if st.button("Watch it become PCA", key="home_watch_pca"):
    apply_config(TrainConfig.watch_pca())
    st.switch_page("app_pages/train.py")
