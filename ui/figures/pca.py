"""Figures of the "How close to PCA?" panel: the gap and the subspace similarity per epoch, the angles."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

GAP_COLOR = "#e15759"
COS_COLOR = "#4e79a7"


def gap_percent(test_mse: Sequence[float], pca_mse: float) -> list[float]:
    """Each epoch's test MSE above (+) or below (-) PCA's at the same k, in percent."""
    return [100.0 * (float(m) / pca_mse - 1.0) for m in test_mse] if pca_mse > 0 else []


def closeness_figure(test_mse: Sequence[float], pca_mse: float, similarity: Sequence[float]) -> go.Figure:
    """Per epoch: the MSE gap to PCA (left axis, %) and the mean cos^2 of the principal angles (right, 0-1)."""
    fig = go.Figure()
    gaps = gap_percent(test_mse, pca_mse)
    fig.add_trace(
        go.Scatter(
            x=list(range(1, len(gaps) + 1)),
            y=gaps,
            mode="lines+markers",
            name="test MSE vs PCA (%)",
            line=dict(color=GAP_COLOR),
            hovertemplate="epoch %{x}: %{y:+.2f}% vs PCA<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=list(range(1, len(similarity) + 1)),
            y=[float(s) for s in similarity],
            mode="lines+markers",
            name="subspace similarity (mean cos²)",
            line=dict(color=COS_COLOR, dash="dot"),
            yaxis="y2",
            hovertemplate="epoch %{x}: mean cos² %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(y=0.0, line=dict(color="gray", dash="dash", width=1))
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis=dict(title="epoch", dtick=1 if len(gaps) <= 20 else None),
        yaxis=dict(title="gap to PCA (%)", zeroline=False),
        yaxis2=dict(
            title="mean cos²",
            overlaying="y",
            side="right",
            range=[0, 1.02],
            tickvals=[0, 0.25, 0.5, 0.75, 1],
            showgrid=False,
        ),
        legend=dict(orientation="h", y=1.18, x=0),
    )
    return fig


def angles_figure(angles: np.ndarray) -> go.Figure:
    """The principal angles in degrees, smallest first: 0 where the decoder holds a PCA direction."""
    degrees = np.sort(np.degrees(np.asarray(angles, dtype=np.float64)))
    fig = go.Figure(
        go.Bar(
            x=list(range(1, len(degrees) + 1)),
            y=degrees.tolist(),
            marker=dict(color=COS_COLOR),
            hovertemplate="angle %{x}: %{y:.1f}°<extra></extra>",
        )
    )
    fig.update_layout(
        height=200,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="principal angle (smallest first)"),
        yaxis=dict(title="degrees", range=[0, 90], dtick=30),
        bargap=0.1,
    )
    return fig
