"""Latent and Compare figure builders: one WebGL trace per digit, row ids in customdata, compact JSON."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from ui.figures.compare import CLASSIC_K, CLASSIC_TRAIN_MSE, PCA_MAX_K, ModelPoint, mse_vs_k_figure
from ui.figures.latent import DIGITS_META, compact_ids, latent_scatter, plane_figure, replay_figure
from ui.views.latent import selected_ids


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    n = 1000
    labels = rng.integers(0, 10, size=n)
    coords = rng.normal(size=(n, 2)).astype(np.float32)
    ids = rng.permutation(10_000)[:n]
    return coords, labels, ids


def digit_traces(fig):
    return [t for t in fig.data if t.meta == DIGITS_META]


def test_scatter_has_one_webgl_trace_per_digit_with_row_ids(points):
    coords, labels, ids = points
    fig = latent_scatter(coords, labels, ids, ("z₁", "z₂"))
    traces = digit_traces(fig)
    assert [t.name for t in traces] == [str(d) for d in range(10)]
    assert all(t.type == "scattergl" for t in traces)
    assert sum(len(t.x) for t in traces) == len(ids)
    for digit, t in enumerate(traces):
        mask = labels == digit
        assert sorted(np.asarray(t.customdata).tolist()) == sorted(ids[mask].tolist())
        np.testing.assert_array_equal(np.asarray(t.x), coords[mask, 0])
    assert fig.layout.dragmode == "select", "dragging selects: the selection is the page's main interaction"
    assert len(fig.data) == 10, "no star without a drawing"


def test_scatter_skips_missing_digits_and_adds_star_and_neighbours(points):
    coords, labels, ids = points
    keep = labels < 3
    fig = latent_scatter(
        coords[keep], labels[keep], ids[keep], ("a", "b"), star=np.zeros(2), neighbours=np.ones((5, 2))
    )
    assert [t.name for t in digit_traces(fig)] == ["0", "1", "2"]
    names = [t.name for t in fig.data]
    assert "your drawing ★" in names and "5 nearest" in names
    star = fig.data[names.index("your drawing ★")]
    assert star.marker.symbol == "star" and star.customdata is None, "the star is never taken for a digit"


def test_scatter_3d(points):
    coords, labels, ids = points
    xyz = np.c_[coords, coords[:, 0]]
    fig = latent_scatter(xyz, labels, ids, ("a", "b", "c"), star=np.zeros(3))
    assert {t.type for t in fig.data} == {"scatter3d"}
    assert fig.layout.scene.zaxis.title.text == "c"
    drawing = fig.data[-1]
    assert drawing.marker.symbol in go.scatter3d.Marker()._get_validator("symbol").values, "a 3-D symbol"
    assert drawing.marker.symbol == "diamond" and drawing.name == "your drawing ◆", "the legend names it"
    # Room for the cube: the camera further out than plotly's default, the legend across the top.
    eye = fig.layout.scene.camera.eye
    assert min(eye.x, eye.y) > 1.25 and fig.layout.legend.orientation == "h"


def test_scatter_json_is_compact():
    """10,000 points travel as base64 float32 and uint16 arrays: well under 30 bytes a point."""
    rng = np.random.default_rng(1)
    n = 10_000
    fig = latent_scatter(rng.normal(size=(n, 2)), rng.integers(0, 10, n), np.arange(n), ("x", "y"))
    spec = fig.to_json()
    assert len(spec) < 30 * n
    trace = json.loads(spec)["data"][0]
    assert trace["x"]["dtype"] == "f4" and trace["customdata"]["dtype"] == "u2"


def test_compact_ids_widen_for_large_ids():
    assert compact_ids(np.array([1, 2])).dtype == np.uint16
    assert compact_ids(np.array([70_000])).dtype == np.int32
    assert compact_ids(np.array([], dtype=int)).dtype == np.uint16


def test_replay_figure_animates_every_epoch_on_fixed_axes(points):
    coords, labels, _ = points
    epochs = [coords * (e + 1) for e in range(4)]  # before training + 3 epochs
    fig = replay_figure(epochs, labels, (-3, 3), (-4, 4), ("x", "y"))
    assert len(digit_traces(fig)) == 10
    np.testing.assert_array_equal(np.asarray(fig.data[0].x), epochs[-1][labels == 0, 0]), "shows the end first"
    assert list(fig.layout.xaxis.range) == [-3, 3] and fig.layout.xaxis.autorange is False
    assert [f.name for f in fig.frames] == ["0", "1", "2", "3"]
    np.testing.assert_array_equal(np.asarray(fig.frames[2].data[0].x), epochs[2][labels == 0, 0])
    play, pause = fig.layout.updatemenus[0].buttons
    assert play.label.endswith("Play") and play.method == "animate" and list(play.args[0]) == ["0", "1", "2", "3"]
    assert pause.label.endswith("Pause") and list(pause.args[0]) == [None]
    slider = fig.layout.sliders[0]
    assert slider.active == 3 and [list(step.args[0]) for step in slider.steps] == [["0"], ["1"], ["2"], ["3"]]


def test_plane_figure_covers_the_range_with_click_targets():
    fig = plane_figure("data:image/png;base64,AAAA", (-1.0, 1.0), (0.0, 2.0), cells=15, targets=11)
    targets = fig.data[0]
    assert len(targets.x) == 121
    half = 2.0 / 14 / 2  # the picture's cells are centred on the decoded codes: half a cell beyond each end
    assert min(targets.x) == pytest.approx(-1.0 - half) and max(targets.y) == pytest.approx(2.0 + half)
    image = fig.layout.images[0]
    assert image.x == pytest.approx(-1.0 - half) and image.sizex == pytest.approx(2.0 + 2 * half)
    assert targets.selected.marker.color is not None, "a clicked target shows"


def test_selected_ids_reads_customdata_across_traces():
    event = {
        "selection": {
            "points": [
                {"curve_number": 3, "point_index": 0, "customdata": 412},
                {"curve_number": 7, "point_index": 5, "customdata": [9]},
                {"curve_number": 3, "point_index": 0, "customdata": 412},  # repeats dropped
                {"curve_number": 10, "point_index": 0},  # the star: no row id
            ]
        }
    }
    assert selected_ids(event) == [412, 9]
    assert selected_ids(None) == [] and selected_ids({"selection": {"points": []}}) == []


def test_mse_chart_has_pca_curve_models_by_source_and_classic_point():
    curve = np.linspace(0.05, 0.001, 784).tolist()
    pts = [
        ModelPoint("Bundled: k=2", 2, 0.03, "bundled"),
        ModelPoint("Bundled: k=32", 32, 0.01, "bundled"),
        ModelPoint("mine", 8, 0.02, "trained"),
    ]
    fig = mse_vs_k_figure(pts, curve)
    names = [t.name for t in fig.data]
    assert names == ["PCA (test MSE)", "bundled models", "trained models", "classic tutorial (training MSE)"]
    assert len(fig.data[0].x) == PCA_MAX_K
    assert list(fig.data[1].customdata) == ["Bundled: k=2", "Bundled: k=32"]
    classic = fig.data[-1]
    assert (classic.x[0], classic.y[0]) == (CLASSIC_K, CLASSIC_TRAIN_MSE)
    assert "training" in classic.hovertemplate and "not the test set" in classic.hovertemplate
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_mse_chart_without_pca_or_models():
    fig = mse_vs_k_figure([], None)
    assert [t.name for t in fig.data] == ["classic tutorial (training MSE)"]


def test_replay_slider_names_the_kept_epochs(points):
    """A long run keeps only some epochs: the slider reads their real numbers, the frames stay in order."""
    coords, labels, _ = points
    fig = replay_figure(
        [coords, coords * 2, coords * 3], labels, (-3, 3), (-4, 4), ("x", "y"), epoch_numbers=[0, 20, 40]
    )
    slider = fig.layout.sliders[0]
    assert [step.label for step in slider.steps] == ["0", "20", "40"]
    assert [list(step.args[0]) for step in slider.steps] == [["0"], ["1"], ["2"]]


def test_mse_chart_marks_linear_output_models_apart():
    pts = [
        ModelPoint("sig", 8, 0.02, "trained"),
        ModelPoint("lin", 32, 0.0168, "trained", output="linear"),
        ModelPoint("lin up", 16, 0.025, "uploaded", output="linear"),
    ]
    fig = mse_vs_k_figure(pts, [0.05] * 784)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["trained models"].customdata) == ["sig"]
    linear = by_name["trained models, linear output"]
    assert list(linear.customdata) == ["lin"] and linear.marker.symbol == "diamond-open"
    assert by_name["uploaded models, linear output"].marker.symbol == "square-open"
    assert by_name["trained models"].marker.symbol == "diamond"
