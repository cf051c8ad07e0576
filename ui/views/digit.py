"""What the Draw and Denoise pages show for a digit: input, reconstruction, error, code, noisy rows."""

from __future__ import annotations

import random

import numpy as np
import streamlit as st
import torch

from model.config import MAX_SEED
from model.noise import NO_NOISE, NOISES, noise_label, noise_name
from model.scoring import Row, percentile_of, unusual_sentence
from service.model_entry import ModelEntry
from ui.figures.digit import error_image, format_psnr, latent_bar_figure
from ui.figures.images import enlarge, mosaic, png_data_url
from ui.server.scores import reconstruct
from ui.text import md, plain

SCALE = 6  # 28 px digits shown at 168 px
DIGIT_ROW = "digit_row"  # the container of a digit's three pictures, styled by its class st-key-digit_row


def mse_of(entry: ModelEntry, x: torch.Tensor) -> float:
    """Reconstruction MSE of one (784,) digit."""
    _, recon = reconstruct(entry, x[None])
    return float(((recon[0] - x) ** 2).mean())


def rank_text(mse: float, errors: np.ndarray | None) -> str:
    if errors is None:
        return "ranking it among the test digits needs MNIST"
    return unusual_sentence(percentile_of(mse, errors))


def digit_views(x: torch.Tensor, entry: ModelEntry, errors: np.ndarray | None, label: str, note: str = "") -> float:
    """Input, reconstruction, |error| heatmap, MSE with its rank, and the latent code of one (784,) digit."""
    code, recon = reconstruct(entry, x[None])  # (1, k), (1, 784)
    error = (recon[0] - x).abs()
    mse = float((error**2).mean())
    # In one row on a phone too (assets/studio.css lets the columns shrink), so the result sits near the canvas.
    c1, c2, c3 = st.container(key=DIGIT_ROW).columns(3, wrap=False)
    c1.image(png_data_url(enlarge(x, SCALE)), caption=label, alt=f"{plain(label)}: the 28 × 28 digit going in")
    c2.image(png_data_url(enlarge(recon[0], SCALE)), caption="Reconstruction", alt="The model's reconstruction")
    c3.image(
        png_data_url(error_image(error, SCALE)),
        caption="|error| per pixel: black 0, yellow 1",
        alt=f"Map of the error per pixel, bright where the reconstruction differs; MSE {mse:.4f}",
    )
    st.markdown(f"**MSE {mse:.4f}**{note}: {rank_text(mse, errors)}.")
    st.plotly_chart(latent_bar_figure(code[0]), config={"displayModeBar": False}, key="digit_code")
    return mse


def pick_test_index_ui(n: int, key: str) -> int:
    """A test-digit index box with a Random button beside it."""
    if not 0 <= st.session_state.get(key, 0) < n:
        st.session_state[key] = 0  # a smaller test set than before: start again at the first digit

    def _random() -> None:
        st.session_state[key] = random.randrange(n)

    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    index = c1.number_input(f"Test digit index (0–{n - 1})", 0, n - 1, step=1, key=key)
    c2.button("Random", on_click=_random, key=f"{key}_random", width="stretch")
    return int(index)


def denoiser_sentence(entry: ModelEntry) -> str:
    """Whether the model was trained to denoise, in one sentence."""
    config = entry.info.config
    if config is None:
        return f"**{md(entry.name)}** carries no training settings, so it is treated as a plain autoencoder."
    if config.noise != NO_NOISE:
        kind = noise_name(config.noise)
        return (
            f"**{md(entry.name)}** was trained as a **denoiser**: {kind} noise at level {config.noise_level:g} on its "
            "inputs, the clean digits as targets."
        )
    return (
        f"**{md(entry.name)}** was trained on clean digits (a plain autoencoder). Train one with a noise setting on "
        "the Train page to see a denoiser do better."
    )


def noise_controls_ui() -> tuple[str, float, int]:
    """Noise type, level and seed."""
    c1, c2, c3 = st.columns([2, 2, 1])
    kind = c1.selectbox("Noise type", list(NOISES), format_func=noise_label, key="denoise_kind")
    level = c2.slider("Noise level", 0.0, 1.0, NOISES[kind].default_level, 0.05, key=f"denoise_level_{kind}")
    seed = c3.number_input("Seed", 0, MAX_SEED, 0, step=1, key="denoise_seed")
    return kind, float(level), int(seed)


def _metrics(row: Row) -> str:
    return "the reference" if row.mse is None else f"MSE {row.mse:.4f} · PSNR {format_psnr(row.psnr)}"


def rows_view(rows: list[Row]) -> None:
    """Clean / noisy / model / PCA: side by side for one digit, one row per stage for a batch."""
    columns = rows[0].images.shape[0]
    if columns == 1:
        for col, row in zip(st.columns(len(rows)), rows, strict=True):
            col.markdown(f"**{row.label}**")
            col.image(png_data_url(enlarge(row.images[0].clamp(0, 1), SCALE)), alt=f"{plain(row.label)}: one digit")
            col.caption(_metrics(row))
        return
    for row in rows:
        left, right = st.columns([1, 3], vertical_alignment="center")
        left.markdown(f"**{row.label}**")
        left.caption(_metrics(row))
        right.image(
            png_data_url(mosaic(row.images.clamp(0, 1), columns=columns, scale=4)),
            alt=f"{plain(row.label)}: {columns} digits in a row",
        )


BUNDLED, ACTIVE = "bundled", "active"  # whom the Denoise page cleans with


def active_label(entry: ModelEntry) -> str:
    """The active model's row label: whether it is plain is the point of the comparison."""
    config = entry.info.config
    return "Active model (denoiser)" if config is not None and config.noise != NO_NOISE else "Active model (plain)"


def denoise_with_ui(denoiser: ModelEntry | None) -> str:
    """'bundled' or 'active': the bundled denoiser for the chosen noise unless the user picks the active model."""
    if denoiser is None:  # no file for this noise type (a damaged or missing asset): nothing to choose
        return ACTIVE
    labels = {BUNDLED: "Bundled denoiser for this noise", ACTIVE: "Your active model"}
    choice = st.radio("Clean up with", list(labels), format_func=labels.get, horizontal=True, key="denoise_with")
    return str(choice)


def bundled_sentence(denoiser: ModelEntry) -> str:
    """One line: which denoiser cleans up, how it learnt, and that the active model is beside it."""
    # The name is built from the file's settings (ui.server.resources.denoiser_name), never its text: safe as markdown.
    return (
        f"Cleaning up with the **{denoiser.name[0].lower()}{denoiser.name[1:]}**, trained on noisy digits with "
        "the clean ones as targets; your active model is shown beside it."
    )
