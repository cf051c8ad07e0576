"""The Train page's loss chart: pure functions from numbers to figures, tested in tests/ui."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch

MAX_LOSS_POINTS = 600  # enough for a smooth curve; keeps each poll's payload small
# PCA's error below this reads 0.0000 and is float rounding (4.5e-12 at k = 784): drawn as a line on the log
# axis it would stretch the chart down to "1p", so it is reported as exact instead.
PCA_EXACT_MSE = 1e-5
# A running job's charts are mounted anew at every poll (Streamlit's element id hashes the figure), so their hover
# and zoom last under a second: they are drawn static then (plotly builds no drag, hover or toolbar layers at each
# mount), and interactive again once the run is paused or over.
LIVE_CHART_CONFIG = {"staticPlot": True}
LOSS_MARGIN = {"l": 72, "r": 12, "t": 44, "b": 46}  # px: room for the y ticks and title, the legend, the x title


def smooth_curve(losses: torch.Tensor, steps_per_epoch: int, max_points: int = MAX_LOSS_POINTS):
    """Average per-step losses into at most max_points buckets; x in epochs (bucket centres)."""
    n = losses.shape[0]
    if n == 0:
        return [], []
    bucket = max(1, -(-n // max_points))
    usable = (n // bucket) * bucket
    means = losses[:usable].reshape(-1, bucket).mean(dim=1).tolist()
    xs = [((i + 0.5) * bucket) / steps_per_epoch for i in range(len(means))]
    if usable < n:  # the partial last bucket
        means.append(float(losses[usable:].mean()))
        xs.append(((usable + n) / 2) / steps_per_epoch)
    return xs, means


def log_ticks(values: list[float]) -> dict:
    """Tick values and labels for a log axis: every decade, plus 2 and 5 when the data span 2 decades or less.

    Plotly's own minor labels are bare digits ("2" ... "9"), so 0.2 and 0.02 both read "2"; these are full
    decimals ("0.02", "0.2").
    """
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return {}
    lo, hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    steps = (1, 2, 5) if hi - lo <= 2 else (1,)
    ticks = [m * 10.0**d for d in range(lo, hi + 1) for m in steps]
    return dict(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def lr_label(x: float, lr: float) -> dict:
    """The words on a learning-rate marker: the new rate, at the top of the chart."""
    return dict(x=x, yref="paper", y=1, xanchor="left", yanchor="top", showarrow=False, text=f"lr → {lr:g}")


def loss_figure(
    losses: torch.Tensor,
    steps_per_epoch: int,
    test_mse: tuple[float, ...],
    pca_mse: float | None,
    latent_dim: int,
    epochs: int,
    noisy_test_mse: tuple[float, ...] = (),
    lr_changes: tuple[tuple[int, float], ...] = (),
) -> go.Figure:
    """Training loss (bucket-averaged), test MSE per epoch, and PCA's error at the same k as a line.

    A learning rate changed during the run (while paused) is a dotted vertical line at its first step,
    labelled with the new rate.

    For a denoiser, whose training loss is noisy digits in against clean ones out, the test MSE comes twice:
    for noisy test digits (the task it trains on, comparable with its training loss) and for clean ones.

    Built in one constructor call: this figure is redrawn on every poll during training, and plotly's
    incremental helpers (add_hline, update_layout) cost ~20 ms of the server's time each redraw.
    """
    xs, ys = smooth_curve(losses, steps_per_epoch)
    # As arrays: plotly validates a list point by point (most of this figure's cost at 600 points) and sends
    # an array as one typed block; the values drawn are the same float64s.
    curve = dict(x=np.asarray(xs, dtype=np.float64), y=np.asarray(ys, dtype=np.float64))
    traces = [go.Scatter(**curve, mode="lines", name="train MSE (averaged)", line=dict(width=2))]
    per_epoch = (
        [(noisy_test_mse, "test MSE, noisy digits in"), (test_mse, "test MSE, clean digits in")]
        if noisy_test_mse
        else [(test_mse, "test MSE (per epoch)")]
    )
    for values, name in per_epoch:
        if values:
            epochs_x = list(range(1, len(values) + 1))
            traces.append(go.Scatter(x=epochs_x, y=list(values), mode="lines+markers", name=name, marker=dict(size=8)))
    shapes, annotations = [], []
    shown_pca = [pca_mse] if pca_mse is not None and pca_mse >= PCA_EXACT_MSE else []
    if shown_pca:
        shapes.append(
            dict(type="line", xref="paper", x0=0, x1=1, y0=pca_mse, y1=pca_mse, line=dict(dash="dash", color="gray"))
        )
        annotations.append(
            dict(
                xref="paper",
                x=1,
                y=math.log10(pca_mse),
                xanchor="right",
                yanchor="bottom",
                showarrow=False,
                text=f"PCA, k={latent_dim}: {pca_mse:.4f}",
            )
        )
    elif pca_mse is not None:  # k near 784: no line a log axis could draw
        exact = f"PCA, k={latent_dim}: exact (error 0)"
        annotations.append(dict(xref="paper", yref="paper", x=1, y=1, xanchor="right", showarrow=False, text=exact))
    for step, lr in lr_changes:
        x = step / steps_per_epoch
        shapes.append(
            dict(type="line", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(dash="dot", color="gray", width=1.5))
        )
        annotations.append(lr_label(x, lr))
    layout = dict(
        height=320,
        # Fixed margins that fit the legend above the plot, the tick labels and the axis titles: with margins
        # left to grow, plotly measures what pushes them and draws the chart again when they moved. Streamlit
        # mounts this chart anew at every poll (its element id hashes the figure), so any such second pass would
        # be paid at each redraw (its saving alone was within the noise of bench/train_page.py's profile).
        margin=dict(l=LOSS_MARGIN["l"], r=LOSS_MARGIN["r"], t=LOSS_MARGIN["t"], b=LOSS_MARGIN["b"], autoexpand=False),
        xaxis=dict(title="epoch", range=[0, max(epochs, 1)]),
        yaxis=dict(title="mean squared error", type="log", **log_ticks([*ys, *test_mse, *noisy_test_mse, *shown_pca])),
        legend=dict(orientation="h", y=1.12, x=0),
        shapes=shapes,
        annotations=annotations,
        uirevision="loss",  # keep the user's zoom while the chart updates
    )
    return go.Figure(data=traces, layout=layout)
