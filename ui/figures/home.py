"""The Home page's diagram of the autoencoder for a chosen latent size."""

from __future__ import annotations

import math

import plotly.graph_objects as go


def diagram_figure(latent_dim: int) -> go.Figure:
    """The autoencoder drawn to scale-ish: 784 pixels -> k numbers -> 784 pixels."""
    fig = go.Figure()
    full = 1.0
    narrow = max(0.08, math.sqrt(latent_dim / 784))  # area-like shrink keeps k = 2 visible
    xs = {"in": 0.0, "code": 2.0, "out": 4.0}
    shapes = [
        ("in", full, "#94a3b8", "input<br>784 pixels"),
        ("code", narrow, "#4f46e5", f"code<br>k = {latent_dim}"),
        ("out", full, "#94a3b8", "output<br>784 pixels"),
    ]
    for key, h, color, label in shapes:
        x = xs[key]
        fig.add_shape(type="rect", x0=x - 0.15, x1=x + 0.15, y0=-h / 2, y1=h / 2, fillcolor=color, line_width=0)
        fig.add_annotation(x=x, y=-0.62, text=label, showarrow=False)
    for a, b, text in (("in", "code", "encoder<br>Linear 784→k"), ("code", "out", "decoder<br>Linear k→784 + sigmoid")):
        ha = full if a == "in" else narrow
        hb = full if b == "out" else narrow
        x0, x1 = xs[a] + 0.15, xs[b] - 0.15
        fig.add_shape(
            type="path",
            path=f"M {x0},{-ha / 2} L {x1},{-hb / 2} L {x1},{hb / 2} L {x0},{ha / 2} Z",
            fillcolor="rgba(79,70,229,0.15)",
            line=dict(color="rgba(79,70,229,0.5)"),
        )
        fig.add_annotation(x=(x0 + x1) / 2, y=0.62, text=text, showarrow=False)
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(visible=False, range=[-0.6, 4.6]),
        yaxis=dict(visible=False, range=[-0.8, 0.8]),
        showlegend=False,
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig
