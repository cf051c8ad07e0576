"""Figure builders return the traces the pages rely on."""

from __future__ import annotations

import torch

from ui.figures.home import diagram_figure
from ui.figures.images import mosaic, normalise_each, to_uint8
from ui.figures.train import MAX_LOSS_POINTS, log_ticks, loss_figure, smooth_curve


def test_smooth_curve_buckets_and_scales_to_epochs():
    losses = torch.arange(1000, dtype=torch.float32)
    xs, ys = smooth_curve(losses, steps_per_epoch=100, max_points=100)
    assert len(xs) == len(ys) == 100
    assert ys[0] == 4.5  # mean of 0..9
    assert abs(xs[-1] - 9.95) < 1e-9  # last bucket centre, in epochs


def test_smooth_curve_keeps_partial_bucket():
    losses = torch.ones(1005)
    losses[-4:] = 3.0  # bucket size 11: 91 full buckets, then a partial one of 4 steps
    xs, ys = smooth_curve(losses, steps_per_epoch=10, max_points=100)
    assert len(xs) == 92 and ys[-1] == 3.0 and ys[-2] == 1.0


def test_loss_figure_traces_and_pca_line():
    fig = loss_figure(torch.rand(5000), 500, (0.03, 0.02), 0.0168, 32, 10)
    names = [t.name for t in fig.data]
    assert names == ["train MSE (averaged)", "test MSE (per epoch)"]
    assert len(fig.data[0].x) <= MAX_LOSS_POINTS + 1
    assert list(fig.data[1].y) == [0.03, 0.02]
    assert any("PCA, k=32" in a.text for a in fig.layout.annotations)


def test_loss_figure_of_a_denoiser_shows_both_test_errors():
    fig = loss_figure(torch.rand(500), 50, (0.07, 0.06), 0.0168, 32, 10, noisy_test_mse=(0.02, 0.015))
    by_name = {t.name: list(t.y) for t in fig.data}
    assert by_name["test MSE, noisy digits in"] == [0.02, 0.015]
    assert by_name["test MSE, clean digits in"] == [0.07, 0.06]
    assert "test MSE (per epoch)" not in by_name


def test_loss_figure_marks_each_learning_rate_change_at_its_step():
    fig = loss_figure(torch.rand(500), 50, (0.03,), 0.0168, 32, 10, lr_changes=((25, 0.003), (100, 0.0005)))
    markers = [s for s in fig.layout.shapes if s.yref == "paper"]
    assert [m.x0 for m in markers] == [0.5, 2.0]  # steps 25 and 100 at 50 steps an epoch
    texts = [a.text for a in fig.layout.annotations]
    assert "lr → 0.003" in texts and "lr → 0.0005" in texts
    plain = loss_figure(torch.rand(500), 50, (0.03,), 0.0168, 32, 10)
    assert not [s for s in plain.layout.shapes if s.yref == "paper"]


def test_loss_figure_before_any_epoch():
    fig = loss_figure(torch.empty(0), 10, (), None, 2, 1)
    assert len(fig.data) == 1 and len(fig.data[0].x) == 0


def test_diagram_labels_follow_k():
    texts = " ".join(a.text for a in diagram_figure(7).layout.annotations)
    assert "k = 7" in texts and "784 pixels" in texts


def test_mosaic_shape_and_values():
    images = torch.zeros(5, 784)
    images[1] = 1.0
    pic = mosaic(images, columns=3, scale=2, gap=1)
    assert pic.shape == ((2 * 29 - 1) * 2, (3 * 29 - 1) * 2)
    assert pic[0, 0] == 0 and pic[0, 29 * 2] == 255  # image 0 black, image 1 white


def test_normalise_each_and_to_uint8():
    x = torch.tensor([[-2.0, 0.0, 2.0], [5.0, 5.0, 5.0]])
    n = normalise_each(x)
    assert n[0].tolist() == [0.0, 0.5, 1.0] and torch.isfinite(n).all()
    assert to_uint8(torch.tensor([-1.0, 0.5, 2.0])).tolist() == [0, 128, 255]


def test_loss_figure_when_pca_is_exact():
    """At k = 784 PCA's error is 0, which a log axis cannot show: no line, no crash."""
    fig = loss_figure(torch.rand(100), 10, (0.01,), 0.0, 784, 10)
    assert len(fig.layout.shapes) == 0 and len(fig.data) == 2


def test_loss_figure_when_pca_is_float_rounding():
    """PCA's 4.5e-12 at k = 784 is not drawn (it stretched the axis to "1p") but named as exact."""
    fig = loss_figure(torch.full((100,), 0.002), 10, (0.0015,), 4.5e-12, 784, 3)
    assert len(fig.layout.shapes) == 0
    assert [a.text for a in fig.layout.annotations] == ["PCA, k=784: exact (error 0)"]
    assert min(fig.layout.yaxis.tickvals) >= 1e-3  # the axis follows the data, not the 1e-12


def test_log_axis_labels_are_full_decimals():
    """Plotly's minor log labels read "2" for 0.2 and 0.02 alike; these name the value."""
    fig = loss_figure(torch.linspace(0.2, 0.02, 100), 10, (0.03,), 0.0168, 32, 3)
    axis = fig.layout.yaxis
    labels = dict(zip(axis.tickvals, axis.ticktext, strict=True))
    assert labels[0.2] == "0.2" and labels[0.02] == "0.02" and labels[0.01] == "0.01"
    assert len(set(axis.ticktext)) == len(axis.ticktext)
    wide = log_ticks([1e-4, 0.3])  # four decades: decades only, or the labels would crowd
    assert wide["ticktext"] == ["0.0001", "0.001", "0.01", "0.1", "1"]
    assert log_ticks([]) == {}


def test_loss_figure_margins_are_fixed_so_plotly_lays_it_out_once():
    """Streamlit mounts the live chart anew at each poll; margins that grow would make plotly draw it twice."""
    margin = loss_figure(torch.rand(500), 50, (0.03,), 0.0168, 32, 10).layout.margin
    assert margin.autoexpand is False
    assert margin.l >= 60 and margin.b >= 40 and margin.t >= 40, "room for the y title and ticks, x title, legend"
