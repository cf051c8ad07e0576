"""The Train page's "How close to PCA?" panel: the decoder's subspace against PCA's, live, and the G experiment."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np
import streamlit as st
import torch

from model.autoencoder import Activation, LinearAutoencoder
from model.plural import plural
from model.subspace import (
    Closeness,
    Recovered,
    closeness,
    closeness_from_angles,
    decoder_images,
    eckart_young_mse,
    random_invertible,
    rayleigh_ritz,
    rotate_code,
)
from ui.figures.images import mosaic, normalise_each
from ui.figures.pca import angles_figure, closeness_figure
from ui.figures.train import LIVE_CHART_CONFIG, PCA_EXACT_MSE
from ui.server.resources import Reference

CACHE_KEY = "pca_panel_cache"  # {"key": snapshot key, what: value}: only the latest snapshot's entries are kept
ROTATION_KEY = "pca_panel_rotation"  # seed of the rotation shown (0: none yet)
RECOVER_KEY = "pca_panel_recover"  # whether the recovered components are shown
SHOWN = 16  # decoder images and components drawn side by side (first 16 of k)
THEORY = (
    "**Which theorem applies.** With a linear encoder, a **linear output** and squared error, the best model "
    "reconstructs exactly as PCA does and its decoder spans PCA's top-k subspace (Baldi & Hornik 1989), so "
    "the gap goes to 0 and the similarity to 1; with the **sigmoid** output (or a ReLU encoder) no such "
    "theorem holds, and the model can beat PCA's error while spanning a different subspace."
)
WHY = (
    "The sigmoid model can go below PCA because its output is not a linear function of the code: the squashing "
    "pins the many background pixels at 0 and the strokes near 1, which no rank-k linear map can do. The "
    "decoder images are not the principal components because any invertible k×k matrix G can mix the code "
    "(D → D G, E → G⁻¹ E) without changing a single reconstruction, so training fixes only their span: "
    "press **Rotate the code**, then **Recover the components** from that span."
)

T = TypeVar("T")


def cached(key: Hashable, what: str, compute: Callable[[], T]) -> T:
    """Compute once per snapshot: the live view redraws every poll, the weights change only per snapshot."""
    store = st.session_state.setdefault(CACHE_KEY, {"key": None})
    if store["key"] != key:
        store.clear()  # a newer snapshot: drop the older one's numbers
        store["key"] = key
    if what not in store:
        store[what] = compute()
    return store[what]


def _rotation(model: LinearAutoencoder, seed: int) -> LinearAutoencoder:
    """The model with its code mixed by a seeded G (a scaled permutation for a ReLU encoder)."""
    g = random_invertible(model.latent_dim, seed, positive=model.activation == Activation.RELU)
    return rotate_code(model, g)


def _bump_rotation() -> None:
    st.session_state[ROTATION_KEY] = st.session_state.get(ROTATION_KEY, 0) + 1


def _toggle_recover() -> None:
    st.session_state[RECOVER_KEY] = not st.session_state.get(RECOVER_KEY, False)


def _gap_text(mse: float | None, pca_mse: float) -> str:
    if mse is None:
        return "after the first epoch"
    if pca_mse < PCA_EXACT_MSE:  # k near 784: PCA is exact, so a ratio means nothing
        return f"{mse - pca_mse:+.4f} vs PCA's exact 0"
    return f"{100 * (mse / pca_mse - 1):+.2f}% vs PCA"


def numbers_view(model: LinearAutoencoder, ref: Reference, test_mse: Sequence[float], close: Closeness) -> None:
    """Three numbers: test MSE beside PCA's, mean cos^2, and the largest principal angle."""
    k = model.latent_dim
    pca_mse = float(ref.test_mse_curve[k - 1])
    mse = float(test_mse[-1]) if test_mse else None
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Test MSE (latest epoch)",
        "—" if mse is None else f"{mse:.4f}",
        delta=_gap_text(mse, pca_mse),
        delta_color="inverse" if mse is not None else "off",
        help=f"PCA with {plural(k, 'component')}: test MSE {pca_mse:.4f}. On the training set the least error of any "
        f"rank-{k} linear map (Eckart–Young: the mean discarded variance per pixel) is "
        f"{eckart_young_mse(ref.pca.variances, k):.4f}.",
    )
    c2.metric(
        "Subspace similarity",
        f"{close.similarity:.3f}",
        help="Mean cos² of the principal angles between the decoder's column space and PCA's top-k subspace: "
        "1 = the same subspace, 0 = orthogonal.",
    )
    c3.metric(
        "Largest principal angle",
        f"{np.degrees(close.angles.max()):.0f}°",
        help="0° would mean even the worst-matched decoder direction lies in PCA's subspace.",
    )
    when = f"at the end of epoch {len(test_mse)}" if test_mse else "before the first epoch's end"
    st.caption(f"PCA at k = {k}: test MSE **{pca_mse:.4f}**. Angles {when}; updated every epoch.")


def rotation_view(model: LinearAutoencoder, samples: torch.Tensor, seed: int, key: Hashable) -> None:
    """Decoder images and reconstructions before and after D -> D G, E -> G^-1 E."""
    rotated = cached(key, f"rotated{seed}", lambda: _rotation(model, seed))
    shown = min(model.latent_dim, SHOWN)
    with torch.no_grad():
        before, after = model(samples), rotated(samples)  # (10, 784) each
    change = float((after - before).abs().max())
    left, right = st.columns(2)
    left.image(
        mosaic(normalise_each(decoder_images(model)[:shown]), columns=8, scale=2),
        caption="Decoder images",
        alt=f"The decoder's first {shown} images",
    )
    right.image(
        mosaic(normalise_each(decoder_images(rotated)[:shown]), columns=8, scale=2),
        caption=f"…after the code is mixed by a random invertible G (rotation {seed})",
        alt=f"The same {shown} decoder images after mixing the code: different pictures",
    )
    st.image(
        mosaic(torch.cat([before, after]), columns=samples.shape[0], scale=2),
        alt="Two rows of reconstructions, before and after mixing the code: identical",
    )
    kind = "a random scaled permutation (a ReLU passes only those)" if model.activation == Activation.RELU else "G"
    st.caption(
        f"Reconstructions before (top) and after (bottom) mixing by {kind}: the largest pixel difference is "
        f"{change:.1e}, rounding error. The decoder images changed; what they span did not."
    )


def recovered_view(model: LinearAutoencoder, ref: Reference, key: Hashable) -> None:
    """Rayleigh-Ritz directions from the decoder's span beside PCA's components, with |cos| per pair."""
    rec: Recovered = cached(
        key, "recovered", lambda: rayleigh_ritz(model.decoder.weight.detach(), ref.pca.components, ref.pca.variances)
    )
    shown = min(rec.directions.shape[1], SHOWN)
    left, right = st.columns(2)
    left.image(
        mosaic(normalise_each(rec.directions.T[:shown]), columns=8, scale=2),
        caption="Recovered from the decoder's span (Rayleigh–Ritz)",
        alt=f"{shown} directions recovered from the decoder's span, as images",
    )
    right.image(
        mosaic(normalise_each(ref.pca.components.T[:shown]), columns=8, scale=2),
        caption="PCA's components",
        alt=f"PCA's first {shown} components, as images, in the same order",
    )
    pairs = " · ".join(f"{i + 1}: {c:.2f}" for i, c in enumerate(rec.abs_cos[:shown]))
    st.caption(
        f"|cos| between each recovered direction and PCA's component of the same rank: {pairs} "
        f"(mean over all {len(rec.abs_cos)}: {float(np.mean(rec.abs_cos)):.3f}). The step: Q = orth(D), the "
        "eigenvectors of Qᵀ C Q with C the training covariance, mapped back by Q; the order is by the variance "
        "each captures. Close pairs that swap or mix have nearly equal variances."
    )


def pca_panel(
    model: LinearAutoencoder,
    ref: Reference,
    samples: torch.Tensor,
    test_mse: Sequence[float],
    similarity: Sequence[float],
    key: Hashable,
    angles: np.ndarray | None = None,
    live: bool = False,
) -> None:
    """The whole panel for one snapshot (key identifies it, so its numbers are computed once).

    `angles`: the principal angles the trainer scored at the latest epoch's end, when there are any; else
    they are computed here from the model's decoder. `live`: a running job's, redrawn at every poll (static charts).
    """
    st.subheader("How close to PCA?")
    if angles is not None:
        close = closeness_from_angles(angles)
    else:
        close = cached(key, "closeness", lambda: closeness(model, ref.pca.components))
    numbers_view(model, ref, test_mse, close)
    pca_mse = float(ref.test_mse_curve[model.latent_dim - 1])
    left, right = st.columns([3, 2])
    config = LIVE_CHART_CONFIG if live else None
    # Both charts change once per epoch (the key's), not at every poll: built once, drawn again from the cache.
    if test_mse or similarity:
        gap = cached(key, "closeness_figure", lambda: closeness_figure(test_mse, pca_mse, similarity))
        left.plotly_chart(gap, key="pca_closeness_chart", config=config)
    else:
        left.caption("The gap to PCA and the similarity are plotted per epoch, from the first one on.")
    right.plotly_chart(
        cached(key, "angles_figure", lambda: angles_figure(close.angles)), key="pca_angles_chart", config=config
    )
    st.markdown(THEORY)
    st.caption(WHY)
    b1, b2 = st.columns(2)
    b1.button("Rotate the code", on_click=_bump_rotation, width="stretch", key="pca_rotate")
    recover = st.session_state.get(RECOVER_KEY, False)
    b2.button(
        "Hide the recovered components" if recover else "Recover the components",
        on_click=_toggle_recover,
        width="stretch",
        key="pca_recover",
    )
    seed = st.session_state.get(ROTATION_KEY, 0)
    if seed:
        rotation_view(model, samples, seed, key)
    if recover:  # from the rotated decoder when there is one: the same span gives the same directions
        recovered_view(cached(key, f"rotated{seed}", lambda: _rotation(model, seed)) if seed else model, ref, key)
