"""The Latent space page's generative half: decode any point, interpolate between digits, replay training."""

from __future__ import annotations

import streamlit as st
import torch

from model.data import Mnist
from model.latent import fit_code_pca, interpolate, populated_range, strip_coords
from service.model_entry import ModelEntry
from ui.figures.images import enlarge, mosaic
from ui.figures.latent import plane_figure, replay_figure
from ui.server.latent import MANIFOLD_N, code_pca, latent_plane

MAX_SLIDERS = 4  # principal directions offered for k > 2
STEPS = 10  # decoded steps of an interpolation


def _clicked_point(event: object) -> tuple[float, float] | None:
    try:
        point = event["selection"]["points"][0]  # type: ignore[index]
        return float(point["x"]), float(point["y"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def decode_plane_ui(entry: ModelEntry, mnist: Mnist) -> None:
    """k = 2: the manifold of decodings over the populated plane; a click decodes that point."""
    x_range, y_range, picture = latent_plane(entry, mnist)
    left, right = st.columns([3, 2])
    with left:
        fig = plane_figure(picture, x_range, y_range, cells=MANIFOLD_N)
        event = st.plotly_chart(
            fig, on_select="rerun", selection_mode="points", key="latent_plane", config={"displayModeBar": False}
        )
        st.caption(
            f"What the decoder draws at each point of a {MANIFOLD_N} × {MANIFOLD_N} grid spanning where 98% of "
            "the test codes lie. Click anywhere on it to decode that exact point."
        )
    point = _clicked_point(event) or ((x_range[0] + x_range[1]) / 2, (y_range[0] + y_range[1]) / 2)
    with torch.no_grad():
        image = entry.model.decode(torch.tensor([point], dtype=torch.float32))[0]
    right.image(
        enlarge(image, scale=8),
        caption=f"decoded at z = ({point[0]:.2f}, {point[1]:.2f})",
        output_format="PNG",
        alt=f"What the decoder draws for the code ({point[0]:.2f}, {point[1]:.2f})",
    )


def decode_sliders_ui(entry: ModelEntry, mnist: Mnist) -> None:
    """k != 2: walk from the average code along the codes' first principal directions."""
    pca = code_pca(entry, mnist)
    n = min(entry.latent_dim, MAX_SLIDERS)
    explained = pca.explained(n)
    keys = [f"latent_pc_{i}" for i in range(n)]

    def _centre() -> None:
        for key in keys:
            st.session_state[key] = 0.0

    # The start value goes in through session state, not value=: the button also sets these keys, and a
    # widget given both warns ("created with a default value but also set via Session State API").
    for key in keys:
        st.session_state.setdefault(key, 0.0)
    left, right = st.columns([3, 2])
    with left:
        steps = [
            st.slider(f"Direction {i + 1} ({e:.0%} of the codes' variance)", -3.0, 3.0, step=0.25, key=key)
            for i, (key, e) in enumerate(zip(keys, explained, strict=True))
        ]
        st.button("Back to the average code", on_click=_centre)
        st.caption(
            "Each slider moves the code from the test digits' average along one principal direction of the "
            "codes, in standard deviations; the decoder turns the code into the image on the right."
        )
    with torch.no_grad():
        image = entry.model.decode(pca.code_at(steps).reshape(1, -1))[0]
    right.image(
        enlarge(image, scale=8), caption="decoded", output_format="PNG", alt="What the decoder draws for this code"
    )


def decode_ui(entry: ModelEntry, mnist: Mnist) -> None:
    (decode_plane_ui if entry.latent_dim == 2 else decode_sliders_ui)(entry, mnist)


def interpolation_ui(entry: ModelEntry, mnist: Mnist, defaults: tuple[int, int], drawing: torch.Tensor | None) -> None:
    """Decode 10 evenly spaced codes on the line from one digit (or the drawing) to another."""
    n = len(mnist.test)
    a_col, b_col, d_col = st.columns(3)
    use_drawing = drawing is not None and d_col.toggle("Start from my drawing", value=True, key="interp_drawing")
    a = a_col.number_input(
        f"From test digit # (0–{n - 1})", 0, n - 1, min(defaults[0], n - 1), key=f"interp_a_{n}", disabled=use_drawing
    )
    b = b_col.number_input(f"To test digit # (0–{n - 1})", 0, n - 1, min(defaults[1], n - 1), key=f"interp_b_{n}")
    start = drawing.reshape(784).float() if use_drawing else mnist.test.images[int(a)]
    end = mnist.test.images[int(b)]
    with torch.no_grad():
        codes = interpolate(entry.model.encode(start[None])[0], entry.model.encode(end[None])[0], STEPS)
        decoded = entry.model.decode(codes)  # (STEPS, 784)
    strip = torch.cat([start[None], decoded, end[None]])
    st.image(
        mosaic(strip, columns=STEPS + 2, scale=3),
        output_format="PNG",
        alt=f"A row of {STEPS + 2} digits morphing from the first to the last, decoded from evenly spaced codes",
    )
    first = "your drawing" if use_drawing else f"test digit #{int(a)} (a {int(mnist.test.labels[int(a)])})"
    st.caption(
        f"Left: {first}; right: test digit #{int(b)} (a {int(mnist.test.labels[int(b)])}). Between them, the "
        f"decodings of {STEPS} evenly spaced codes on the straight line from one code to the other, ends included."
    )


def replay_ui(entry: ModelEntry, mnist: Mnist, replay_index: torch.Tensor) -> None:
    """Scrub through the codes of a fixed set of test digits as they were after each epoch of training."""
    frames = entry.replay
    if not frames:
        st.info(
            "The replay exists for models trained in this session: the Train page records the codes of 2,000 "
            "fixed test digits before training and after up to 10 evenly spaced epochs. Pick such a model in "
            "the sidebar."
        )
        return
    labels = mnist.test.labels[replay_index]
    if frames[0].shape[0] != labels.shape[0]:
        st.info("This model's replay was recorded on a different test set than the one loaded now.")
        return
    k = entry.latent_dim  # kept frames of k > 2 are already the final codes' PCA plane (model.latent.project_replay)
    if k == 1:
        coords = [strip_coords(f[:, 0], labels) for f in frames]
        titles = ("z₁", "digit (spread out)")
    elif k == 2:
        coords, titles = [f.float() for f in frames], ("z₁", "z₂")
    else:
        pca = fit_code_pca(frames[-1].float())  # the final layout's axes, kept for every epoch
        coords, titles = [pca.project(f) for f in frames], ("PC1 of the final codes", "PC2 of the final codes")
    everything = torch.cat(coords)
    x_range = populated_range(everything[:, 0], 0.002, 0.998)
    y_range = populated_range(everything[:, 1], 0.002, 0.998)
    # Kept frames are the start and up to 10 evenly spaced epochs: the slider names the real epoch numbers.
    epochs = list(entry.replay_epochs) if len(entry.replay_epochs) == len(frames) else list(range(len(frames)))
    fig = replay_figure([c.numpy() for c in coords], labels.numpy(), x_range, y_range, titles, epoch_numbers=epochs)
    st.plotly_chart(fig, key="latent_replay_chart")
    st.caption(
        f"{labels.shape[0]:,} fixed test digits after each epoch; the axes stay put while the codes move into place. "
        "Press Play, or drag the epoch slider."
    )
