"""The Latent space page's scatter panel: how many points, which projection, the selection, the drawing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from model.data import Mnist
from model.latent import TSNE_MAX_POINTS, nearest_neighbours, select_dims, strip_coords, subset_order, tsne_available
from model.plural import plural
from service.model_entry import ModelEntry
from ui.figures.images import mosaic
from ui.server.latent import code_pca, tsne_view

MAX_SHOWN_SELECTION = 40  # digits drawn for a selection; the count covers all of them
NEIGHBOURS = 5
METHODS = {"pca": "PCA of the codes", "dims": "Latent dimensions", "tsne": "t-SNE"}


@dataclass(frozen=True)
class Choice:
    method: str  # "strip" (k = 1), "codes" (k = 2), "pca", "dims" or "tsne"
    dims: tuple[int, ...] = (0, 1)  # 0-based latent dimensions for "dims"
    three_d: bool = False


@dataclass(frozen=True)
class LatentView:
    coords: np.ndarray  # (n, 2 or 3) float32, the points shown
    ids: np.ndarray  # (n,) test-set row of each point
    axis_titles: tuple[str, ...]
    note: str  # what the axes mean, shown under the chart
    place: Callable[[torch.Tensor], np.ndarray] | None  # (m, k) codes -> (m, d) on the same axes; None for t-SNE


def points_ui(n_test: int) -> int:
    """How many test digits to plot (all by default)."""
    if n_test <= 100:
        return n_test
    step = 100 if n_test <= 20_000 else 1000
    return st.slider("Digits shown", min(step, n_test), n_test, n_test, step=step, key="latent_points")


def projection_ui(k: int) -> Choice:
    """k = 1 and k = 2 need no choice; above, PCA, chosen dimensions or t-SNE, in 2-D or 3-D."""
    if k == 1:
        return Choice("strip")
    if k == 2:
        return Choice("codes")
    methods = [m for m in METHODS if m != "tsne" or tsne_available()]
    a, b, c = st.columns([4, 2, 1])
    method = a.radio(
        "Projection",
        methods,
        format_func=METHODS.get,
        horizontal=True,
        key="latent_method",
        help=f"t-SNE runs on {TSNE_MAX_POINTS:,} digits at most: a few seconds, once per model.",
    )
    three_d = c.toggle("3-D", key="latent_3d", disabled=method == "tsne", help="Selections work in 2-D only.")
    three_d = three_d and method != "tsne"
    dims: tuple[int, ...] = (0, 1, 2) if three_d else (0, 1)
    if method == "dims":
        cols = b.columns(len(dims))
        dims = tuple(
            int(col.number_input(f"{axis} axis: z", 1, k, i + 1, key=f"latent_dim_{axis}")) - 1
            for i, (col, axis) in enumerate(zip(cols, "xyz", strict=False))
        )
    return Choice(method, dims, three_d)


def build_view(
    entry: ModelEntry, mnist: Mnist, codes: torch.Tensor, n_points: int, choice: Choice
) -> LatentView | None:
    """Coordinates of the shown digits under the chosen projection; None (after a message) when impossible."""
    n_total, k = codes.shape
    shown = subset_order(n_total)[:n_points]
    if choice.method == "tsne":
        n = min(n_points, TSNE_MAX_POINTS)
        with st.spinner(f"Running t-SNE on {n:,} digits (a few seconds, once per model)…"):
            try:
                ids, coords = tsne_view(entry, mnist, n)
            except (RuntimeError, ValueError) as exc:
                st.warning(f"t-SNE is not available: {exc}")
                return None
        note = f"t-SNE of {n:,} digits' codes: near means similar, but distances and axes carry no meaning."
        return LatentView(coords, ids, ("t-SNE 1", "t-SNE 2"), note, None)
    if choice.method == "strip":
        labels = mnist.test.labels

        def place(z: torch.Tensor) -> np.ndarray:
            return strip_coords(z[:, 0], torch.full((z.shape[0],), -1.0)).numpy()

        coords = strip_coords(codes[:, 0], labels).numpy()
        titles = ("z₁ (the one number)", "digit (spread out)")
        note = "k = 1: each digit is a single number (x); the rows only separate the classes, and the star sits below."
    elif choice.method == "codes":

        def place(z: torch.Tensor) -> np.ndarray:
            return z[:, :2].numpy()

        coords, titles = codes.numpy(), ("z₁", "z₂")
        note = "k = 2: these are the codes themselves, no projection."
    elif choice.method == "pca":
        pca = code_pca(entry, mnist)
        d = len(choice.dims)

        def place(z: torch.Tensor) -> np.ndarray:
            return pca.project(z, d).numpy()

        explained = pca.explained(d)
        coords = place(codes)
        titles = tuple(f"PC{i + 1} ({e:.0%} of variance)" for i, e in enumerate(explained))
        note = f"PCA of the {plural(k, 'number')}: these {plural(d, 'direction')} keep {sum(explained):.0%} of the codes' variance."
    else:
        try:
            coords = select_dims(codes, choice.dims).numpy()
        except ValueError as exc:
            st.warning(str(exc))
            return None

        def place(z: torch.Tensor) -> np.ndarray:
            return select_dims(z, choice.dims).numpy()

        titles = tuple(f"z{d + 1}" for d in choice.dims)
        note = f"Latent dimensions {', '.join(str(d + 1) for d in choice.dims)} of {k}, as they are."
    ids = shown.numpy()
    return LatentView(np.asarray(coords)[ids], ids, titles, note, place)


def selected_ids(event: object) -> list[int]:
    """Test-set rows of the selected points (from customdata), in order, without repeats."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError, AttributeError):
        return []
    ids = []
    for point in points or []:
        value = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, int | float) and value >= 0:
            ids.append(int(value))
    return list(dict.fromkeys(ids))


def _label_summary(labels: torch.Tensor) -> str:
    counts = Counter(int(d) for d in labels.tolist()).most_common()
    return "By label: " + " · ".join(f"{d} ({n})" for d, n in counts)


def spread_sample(ids: list[int], limit: int) -> list[int]:
    """At most limit ids, evenly spaced through the list: a selection arrives grouped by digit, so every
    digit in it keeps its share."""
    if len(ids) <= limit:
        return list(ids)
    return [ids[i * len(ids) // limit] for i in range(limit)]


def selected_digits_view(ids: list[int], mnist: Mnist, entry: ModelEntry) -> None:
    """The selected test digits (top) and the model's reconstructions of them (below)."""
    shown = spread_sample(ids, MAX_SHOWN_SELECTION)
    images = mnist.test.images[shown]
    with torch.no_grad():
        recon = entry.model(images)
    more = f" ({len(shown)} of them shown)" if len(ids) > len(shown) else ""
    st.markdown(f"**{len(ids)} selected digit{'s' if len(ids) != 1 else ''}**{more}")
    st.caption(_label_summary(mnist.test.labels[ids]))
    st.image(
        mosaic(images, columns=10, scale=2),
        caption="the test digits",
        output_format="PNG",
        alt=f"The {plural(len(shown), 'selected test digit')}, in rows of ten",
    )
    st.image(
        mosaic(recon, columns=10, scale=2),
        caption=f"their reconstructions from {plural(entry.latent_dim, 'number')}",
        output_format="PNG",
        alt="The model's reconstructions of those digits, in the same order",
    )


def drawing_code(entry: ModelEntry, drawing: object) -> torch.Tensor | None:
    """The drawing's code (k,), or None when there is no usable drawing."""
    if not isinstance(drawing, torch.Tensor) or drawing.numel() != 784:
        return None
    with torch.no_grad():
        return entry.model.encode(drawing.reshape(1, 784).float())[0]


def drawing_neighbours(codes: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The drawing's nearest test digits in the full k-dimensional latent space."""
    return nearest_neighbours(codes, z, NEIGHBOURS)


def neighbours_view(
    drawing: torch.Tensor, index: torch.Tensor, dist: torch.Tensor, mnist: Mnist, k: int, label: str
) -> None:
    """The drawing next to its nearest test digits, with their labels and distances; label names its marker."""
    st.markdown(
        f"**{label.capitalize()} and its {plural(len(index), 'nearest test digit')}** "
        f"(in all {plural(k, 'latent number')})"
    )
    strip = torch.cat([drawing.reshape(1, 784).float(), mnist.test.images[index]])
    st.image(
        mosaic(strip, columns=strip.shape[0], scale=2),
        output_format="PNG",
        alt=f"Your drawing, then its {plural(len(index), 'nearest test digit')}, nearest first",
    )
    near = ", ".join(
        f"a {int(mnist.test.labels[i])} (#{i}, {d:.2f})" for i, d in zip(index.tolist(), dist.tolist(), strict=True)
    )
    st.caption(f"Left: your drawing. Then, nearest first, with the distance between codes: {near}.")
