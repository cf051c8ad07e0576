"""Home: what a linear autoencoder is, drawn with the chosen latent size, and where to go next."""

import streamlit as st

from model.config import TrainConfig
from model.plural import plural
from ui.figures.home import diagram_figure
from ui.pages import PAGES, page_on, page_path
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
links = [spec for spec in PAGES if spec.blurb and page_on(spec)]
for col, spec in zip(st.columns(len(links)), links, strict=True):
    with col:
        st.page_link(spec.path, label=f"**{spec.title}**")
        st.caption(spec.blurb)

st.subheader("Watch it become PCA")
st.caption(
    "Take the sigmoid away (a linear output) and the theorem holds: training lands on PCA's error and subspace. "
    "This opens the Train page set for it (k = 32, linear output, 10 epochs); press Start there and watch the "
    "'How close to PCA?' panel."
)
if st.button("Watch it become PCA", key="home_watch_pca"):
    apply_config(TrainConfig.watch_pca())
    st.switch_page(page_path("train"))
