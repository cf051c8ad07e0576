"""The Class page's chart: everyone's trained models as anonymous points on test MSE against k, with PCA's curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import plotly.graph_objects as go

from model.autoencoder import Output
from ui.text import plotly_text

PCA_MIN_K = 128  # PCA's curve runs to k = 128, or further when a model sits beyond it
KINDS = {  # kind of model -> (legend words, marker symbol): the shape tells the kind, the colour whose it is
    "sigmoid": ("sigmoid output", "circle"),
    "linear": ("linear output", "diamond"),
    "denoiser": ("denoisers, noisy digits in", "triangle-up"),
}
OTHERS_COLOR = "#0072B2"  # Okabe-Ito blue ...
MINE_COLOR = "#D55E00"  # ... and vermillion: told apart by colour-blind eyes too, and by size and outline
OUTLINE = "#222222"


@dataclass(frozen=True)
class BoardPoint:
    """One trained model as the board shows it: nothing that names its owner."""

    k: int
    mse: float  # the test MSE its run recorded: noisy digits in for a denoiser
    activation: str  # the encoder's activation, as its label
    output: str  # "sigmoid" or "linear"
    epochs: int
    denoiser: bool = False
    mine: bool = False  # trained in the viewer's own browser

    @property
    def kind(self) -> str:
        return "denoiser" if self.denoiser else "linear" if self.output == Output.LINEAR else "sigmoid"


def class_board_figure(points: Sequence[BoardPoint], pca_curve: Sequence[float] | None) -> go.Figure:
    """Test MSE (log) against k (log): PCA's dashed curve, the class's points, the viewer's own larger and outlined."""
    fig = go.Figure()
    if pca_curve is not None and len(pca_curve):
        n = min(len(pca_curve), max([PCA_MIN_K, *(p.k for p in points)]))
        ks = np.arange(1, n + 1)
        mse = np.asarray(pca_curve[:n], dtype=float)
        shown = mse > 0  # a log axis cannot show PCA's 0 at k = 784
        fig.add_trace(
            go.Scatter(
                x=ks[shown],
                y=mse[shown],
                mode="lines",
                name="PCA (test MSE)",
                line=dict(color="gray", dash="dash"),
                hovertemplate="PCA, k = %{x}: test MSE %{y:.4f}<extra></extra>",
            )
        )
    for mine, (kind, (words, symbol)) in product((False, True), KINDS.items()):
        group = [p for p in points if p.mine == mine and p.kind == kind]
        if group:
            fig.add_trace(_points_trace(group, f"{'you' if mine else 'class'}: {words}", symbol, mine))
    ticks = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    fig.update_layout(
        height=460,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="latent size k", type="log", tickvals=ticks, ticktext=[str(t) for t in ticks]),
        yaxis=dict(title="test mean squared error", type="log", dtick="D2", tickformat=".3~f"),
        legend=dict(orientation="h", y=1.12, x=0),
    )
    return fig


def _points_trace(group: Sequence[BoardPoint], name: str, symbol: str, mine: bool) -> go.Scatter:
    """One legend entry of points; the hover tells k, activation, output, test MSE and epochs, and no more."""
    marker = (
        dict(size=15, symbol=symbol, color=MINE_COLOR, line=dict(width=2.5, color=OUTLINE))
        if mine
        else dict(size=9, symbol=symbol, color=OTHERS_COLOR, opacity=0.6, line=dict(width=0.5, color="white"))
    )
    words = {v: plotly_text(v) for p in group for v in (p.activation, p.output)}  # a few labels, escaped once
    # numpy arrays, no objects: plotly validates and copies them whole, not value by value
    return go.Scatter(
        x=np.array([p.k for p in group]),
        y=np.array([p.mse for p in group]),
        mode="markers",
        name=name,
        marker=marker,
        customdata=np.array([[words[p.activation], words[p.output], str(p.epochs)] for p in group]),  # str array
        hovertemplate="k = %{x}: test MSE %{y:.4f}<br>activation %{customdata[0]}, %{customdata[1]} output, "
        "%{customdata[2]} epochs<extra></extra>",
        cliponaxis=False,
    )
