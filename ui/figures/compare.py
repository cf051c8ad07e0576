"""The Compare page's chart: test MSE against latent size, the models as points, PCA as the reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import plotly.graph_objects as go

from model.autoencoder import Output
from ui.figures.palette import BLUE, NEUTRAL, PURPLE, RED, TEAL
from ui.text import plotly_text

PCA_MAX_K = 128  # the reference curve's range; the interesting part of 1..784
CLASSIC_K = 32
CLASSIC_TRAIN_MSE = 0.0118  # the classic tutorial's final *training* MSE (ReLU, batch 20, Adam 1e-3, 20 epochs)
CLASSIC_HOVER = (
    "classic tutorial: ReLU encoder, batch 20, Adam 1e-3, 20 epochs, k = 32<br>"
    f"training MSE ≈ {CLASSIC_TRAIN_MSE} (measured on the training set, not the test set)<extra></extra>"
)
SOURCE_STYLE = {  # marker symbol and colour per kind of model: the shape alone tells them apart
    "bundled": ("circle", BLUE),
    "trained": ("diamond", RED),
    "uploaded": ("square", TEAL),
}


DENOISER_STYLE = ("circle-open", PURPLE)  # hollow: scored on another task than the filled points
PCA_NOISY_STYLE = ("x-thin-open", NEUTRAL)


@dataclass(frozen=True)
class ModelPoint:
    name: str
    k: int
    mse: float  # test MSE on the task the model learned: noisy digits in for a denoiser
    source: str  # "bundled", "trained" or "uploaded"
    task: str = ""  # a denoiser's noise ("denoising, Gaussian noise 0.3"); empty for a plain autoencoder
    pca_mse: float | None = None  # a denoiser's reference: PCA at the same k given the same noisy digits
    # The decoder's output: linear-output models get open markers and their own legend entry.
    output: str = Output.SIGMOID

    @property
    def denoiser(self) -> bool:
        return bool(self.task)


def mse_vs_k_figure(points: Sequence[ModelPoint], pca_curve: Sequence[float] | None) -> go.Figure:
    """Test MSE (log) against k (log 2): PCA's curve for k = 1..128, each model a point, the classic figure."""
    fig = go.Figure()
    if pca_curve is not None and len(pca_curve):
        n = min(len(pca_curve), PCA_MAX_K)
        fig.add_trace(
            go.Scatter(
                x=list(range(1, n + 1)),
                y=[float(v) for v in pca_curve[:n]],
                mode="lines",
                name="PCA (test MSE)",
                line=dict(color=NEUTRAL, dash="dash"),
                hovertemplate="PCA, k = %{x}: test MSE %{y:.4f}<extra></extra>",
            )
        )
    for (source, (symbol, color)), output in product(SOURCE_STYLE.items(), Output):
        group = [p for p in points if p.source == source and p.output == output and not p.denoiser]
        if not group:
            continue
        linear = output == Output.LINEAR  # the theorem's model: its points should land on PCA's curve
        fig.add_trace(
            go.Scatter(
                x=[p.k for p in group],
                y=[p.mse for p in group],
                mode="markers",
                name=f"{source} models" + (", linear output" if linear else ""),
                marker=dict(
                    size=11,
                    symbol=f"{symbol}-open" if linear else symbol,
                    color=color,
                    line=dict(width=2 if linear else 1, color=color if linear else "white"),
                ),
                customdata=[plotly_text(p.name) for p in group],
                hovertemplate="%{customdata}<br>k = %{x}: test MSE %{y:.4f}<extra></extra>",
            )
        )
    _add_denoisers(fig, [p for p in points if p.denoiser])
    fig.add_trace(
        go.Scatter(
            x=[CLASSIC_K],
            y=[CLASSIC_TRAIN_MSE],
            mode="markers+text",
            name="classic tutorial (training MSE)",
            marker=dict(size=16, symbol="star", color="#edc948", line=dict(width=1, color="#333")),
            text=["classic tutorial (train)"],
            textposition="top left",
            hovertemplate=CLASSIC_HOVER,
        )
    )
    ticks = [1, 2, 4, 8, 16, 32, 64, 128]
    fig.update_layout(
        height=420,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="latent size k", type="log", tickvals=ticks, ticktext=[str(t) for t in ticks]),
        yaxis=dict(title="mean squared error", type="log", dtick="D2", tickformat=".3~f"),
        legend=dict(orientation="h", y=1.1, x=0),
    )
    return fig


def _add_denoisers(fig: go.Figure, group: Sequence[ModelPoint]) -> None:
    """Denoisers on their own task (noisy digits in), each beside PCA given the same noisy digits."""
    if not group:
        return
    symbol, color = DENOISER_STYLE
    fig.add_trace(
        go.Scatter(
            x=[p.k for p in group],
            y=[p.mse for p in group],
            mode="markers",
            name="denoisers (test MSE, noisy digits in)",
            marker=dict(size=12, symbol=symbol, color=color, line=dict(width=2.5, color=color)),
            customdata=[[plotly_text(p.name), p.task] for p in group],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>k = %{x}: test MSE %{y:.4f} for noisy digits in"
            "<extra></extra>",
        )
    )
    with_pca = [p for p in group if p.pca_mse is not None]
    if with_pca:
        symbol, color = PCA_NOISY_STYLE
        fig.add_trace(
            go.Scatter(
                x=[p.k for p in with_pca],
                y=[p.pca_mse for p in with_pca],
                mode="markers",
                name="PCA, same noisy digits in",
                marker=dict(size=10, symbol=symbol, color=color, line=dict(width=2, color=color)),
                customdata=[[plotly_text(p.name), p.task] for p in with_pca],
                hovertemplate="PCA, k = %{x}, for the noisy digits of %{customdata[0]}<br>%{customdata[1]}<br>"
                "test MSE %{y:.4f}<extra></extra>",
            )
        )
