"""The "How close to PCA?" figures: the per-epoch gap and similarity, and the angles in degrees."""

from __future__ import annotations

import numpy as np
import pytest

from ui.figures.pca import angles_figure, closeness_figure, gap_percent


def test_gap_is_the_percentage_above_pca():
    assert gap_percent([0.02, 0.0168, 0.0084], 0.0168) == pytest.approx([100 * (0.02 / 0.0168 - 1), 0.0, -50.0])
    assert gap_percent([0.01], 0.0) == []  # no PCA error to compare with (k = 784 on a tiny set)


def test_closeness_figure_has_both_series_per_epoch_on_two_axes():
    fig = closeness_figure([0.0335, 0.0200, 0.0170], 0.0168, [0.37, 0.64, 0.97])
    gap, cos2 = fig.data
    assert list(gap.x) == [1, 2, 3] and gap.y[0] == pytest.approx(100 * (0.0335 / 0.0168 - 1))
    assert list(cos2.y) == [0.37, 0.64, 0.97] and cos2.yaxis == "y2"
    assert tuple(fig.layout.yaxis2.range) == (0, 1.02)


def test_angles_figure_shows_degrees_smallest_first():
    fig = angles_figure(np.radians([80.0, 10.0, 45.0]))
    assert list(fig.data[0].y) == pytest.approx([10.0, 45.0, 80.0])
    assert tuple(fig.layout.yaxis.range) == (0, 90)
