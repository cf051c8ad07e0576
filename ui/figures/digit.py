"""Figures and pictures of the Draw and Denoise pages: pure functions from numbers, tested in tests/ui."""

from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import sample_colorscale

from model.plural import plural
from model.scoring import NoiseCurve
from ui.figures.images import SIDE, to_uint8

ERROR_COLORSCALE = "Inferno"  # black for no error, through red, to yellow for an error of 1
MODEL_COLOR = "#4f46e5"
PCA_COLOR = "#64748b"
NOISY_COLOR = "#f59e0b"
OTHER_COLOR = "#db2777"


@cache
def _lut(colorscale: str) -> np.ndarray:
    """256 RGB entries sampled from a plotly colour scale: (256, 3) uint8."""
    samples = sample_colorscale(colorscale, list(np.linspace(0.0, 1.0, 256)), colortype="rgb")
    rgb = [tuple(round(float(v)) for v in re.findall(r"[\d.]+", s)[:3]) for s in samples]
    return np.array(rgb, dtype=np.uint8)


def error_image(error: torch.Tensor, scale: int = 6, hi: float = 1.0) -> np.ndarray:
    """Per-pixel absolute error (784,) as a colour picture (28*scale, 28*scale, 3); 0 -> black, hi -> yellow."""
    levels = to_uint8(error.reshape(SIDE, SIDE).abs(), 0.0, hi)  # (28, 28) bytes
    rgb = _lut(ERROR_COLORSCALE)[levels]  # (28, 28, 3)
    return np.kron(rgb, np.ones((scale, scale, 1), dtype=np.uint8))


def latent_bar_figure(code: torch.Tensor, height: int = 220) -> go.Figure:
    """The k numbers of one digit's code as bars: positive up, negative down.

    Built in one constructor call: a separate update_layout validates everything again and made this
    figure 4x slower (about 18 ms against 4.5 ms), on a page that redraws it on every stroke.
    """
    values = code.detach().reshape(-1).tolist()
    bar = go.Bar(
        x=list(range(1, len(values) + 1)),
        y=values,
        marker=dict(color=[MODEL_COLOR if v >= 0 else "#db2777" for v in values]),
        hovertemplate="z<sub>%{x}</sub> = %{y:.3f}<extra></extra>",
    )
    layout = go.Layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        title=dict(text=f"Latent code: {plural(len(values), 'number')}", font=dict(size=14)),
        xaxis=dict(title=dict(text="component"), tickmode="auto", nticks=min(len(values), 16)),
        yaxis=dict(title=dict(text="value"), zeroline=True),
        showlegend=False,
        bargap=0.15,
    )
    return go.Figure(data=[bar], layout=layout)


def noise_curve_figure(
    curve: NoiseCurve,
    level: float | None = None,
    latent_dim: int | None = None,
    model_name: str = "model",
    other_name: str = "other model",
) -> go.Figure:
    """Error against noise level for the model, PCA at the same k, the noisy input, and any other model."""
    k = f", k={latent_dim}" if latent_dim is not None else ""
    fig = go.Figure()
    series = [
        (f"{model_name}{k}", curve.model_mse, MODEL_COLOR, "solid"),
        (f"PCA{k}", curve.pca_mse, PCA_COLOR, "dash"),
        ("noisy input (no denoising)", curve.noisy_mse, NOISY_COLOR, "dot"),
    ]
    if curve.other_mse:
        series.insert(1, (other_name, curve.other_mse, OTHER_COLOR, "solid"))
    for name, ys, color, dash in series:
        fig.add_trace(
            go.Scatter(
                x=list(curve.levels),
                y=list(ys),
                mode="lines+markers",
                name=name,
                line=dict(color=color, dash=dash, width=2),
                hovertemplate=f"{name}<br>level %{{x:.2f}}: MSE %{{y:.4f}}<extra></extra>",
            )
        )
    if level is not None:
        fig.add_vline(x=level, line=dict(color="gray", dash="dot"), annotation_text="chosen level")
    fig.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis=dict(title="noise level", range=[min(curve.levels) - 0.02, max(curve.levels) + 0.02]),
        yaxis=dict(title="MSE against the clean digits", rangemode="tozero"),
        legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0),  # above the plot: four names wrap on a phone
    )
    return fig


def format_psnr(value: float | None) -> str:
    """'21.3 dB', or '∞ dB' for an exact copy."""
    if value is None or math.isnan(value):
        return "n/a"
    return "∞ dB" if math.isinf(value) else f"{value:.1f} dB"
