"""The class board: which stored models it shows, whose they are, and its chart (points, highlight, PCA)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.entry_codec import entry_to_record
from service.model_entry import ModelEntry
from service.workspace_cookie import new_token
from service.workspace_store import WorkspaceStore
from tests.service.test_entry_codec import trained
from ui.figures.class_board import MINE_COLOR, OTHERS_COLOR, BoardPoint, class_board_figure
from ui.pages import CLASS_BOARD_ENV, page_on, spec_of
from ui.server.class_board import BOARD_KEYS, board_points, board_row, read_board


def plain(name: str, k: int, output: str = "sigmoid", mse: float = 0.02, source: str = "trained") -> ModelEntry:
    """A plain (not denoising) model as a run or an upload leaves it."""
    config = TrainConfig(latent_dim=k, epochs=3, output=output)
    info = ModelInfo(k, "none", 3, mse, config, name, 1.0, output=output)
    return ModelEntry(name=name, model=LinearAutoencoder(k, "none", output), info=info, source=source)


def stored_meta(entry: ModelEntry) -> dict[str, str]:
    return entry_to_record(entry)[1]


def test_a_trained_models_row_carries_only_what_the_chart_shows():
    row = board_row("ws1", stored_meta(plain("Alice's k=8", 8, "linear", 0.031)))
    assert row is not None and row.workspace == "ws1"
    assert row.point == BoardPoint(8, 0.031, "linear", "linear", 3, denoiser=False, mine=False)
    assert "Alice" not in repr(row.point)


def test_uploads_and_rows_without_a_test_mse_stay_off_the_board():
    assert board_row("ws", stored_meta(plain("up", 8, source="uploaded"))) is None
    assert board_row("ws", {**stored_meta(plain("m", 8)), "test_mse": ""}) is None
    assert board_row("ws", {**stored_meta(plain("m", 8)), "test_mse": "nan"}) is None
    assert board_row("ws", {**stored_meta(plain("m", 8)), "output": "<b>x</b>"}) is None


def test_a_denoiser_is_marked_as_one():
    row = board_row("ws", stored_meta(trained("k=3 denoiser")))
    assert row is not None and row.point.denoiser and row.point.kind == "denoiser"
    assert row.point.activation == "ReLU" and row.point.mse == pytest.approx(0.0123456789)


def test_board_from_the_store_counts_participants_and_marks_each_viewers_own(tmp_path):
    store = WorkspaceStore(tmp_path)
    me, you, lurker = (store.open_workspace(new_token()) for _ in range(3))
    for ws, entry in [
        (me, plain("a", 4)),
        (you, plain("b", 16)),
        (you, plain("c", 32, "linear")),
        (me, plain("u", 8, source="uploaded")),
    ]:
        tensors, meta = entry_to_record(entry)
        store.put_model(ws, entry.name, tensors, meta)
    board = read_board(store.all_models_meta(BOARD_KEYS))
    assert (board.participants, board.models) == (2, 3), "the lurker and the upload do not count"
    mine = board_points(board, me)
    assert [(p.k, p.mine) for p in mine] == [(4, True), (16, False), (32, False)]
    assert [p.mine for p in board_points(board, you)] == [False, True, True]
    assert not any(p.mine for p in board_points(board, None)), "without a cookie nothing is anyone's"
    assert not any(p.mine for p in board_points(board, lurker))


def points() -> list[BoardPoint]:
    return [
        BoardPoint(4, 0.05, "linear", "sigmoid", 3),
        BoardPoint(16, 0.02, "linear", "linear", 5),
        BoardPoint(32, 0.01, "ReLU", "sigmoid", 10, mine=True),
        BoardPoint(3, 0.06, "linear", "linear", 2, denoiser=True),
    ]


def test_figure_has_pcas_curve_and_a_trace_per_kind_and_owner():
    curve = torch.linspace(0.1, 0.0, 784).tolist()  # PCA's error falls to 0 at k = 784
    fig = class_board_figure(points(), curve)
    names = [t.name for t in fig.data]
    assert names == [
        "PCA (test MSE)",
        "class: sigmoid output",
        "class: linear output",
        "class: denoisers, noisy digits in",
        "you: sigmoid output",
    ]
    pca = fig.data[0]
    assert list(pca.x) == list(range(1, 129)) and pca.y[0] == pytest.approx(0.1)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_the_pca_curve_reaches_the_largest_k_but_never_its_zero():
    curve = torch.linspace(0.1, 0.0, 784).tolist()
    fig = class_board_figure([BoardPoint(784, 0.001, "linear", "sigmoid", 1)], curve)
    assert max(fig.data[0].x) == 783, "k = 784's error is 0, which a log axis cannot show"


def test_own_points_are_larger_outlined_and_coloured_apart():
    fig = class_board_figure(points(), None)
    mine = next(t for t in fig.data if t.name.startswith("you"))
    theirs = next(t for t in fig.data if t.name == "class: sigmoid output")
    assert mine.marker.size > theirs.marker.size and mine.marker.line.width > theirs.marker.line.width
    assert (mine.marker.color, theirs.marker.color) == (MINE_COLOR, OTHERS_COLOR)
    assert list(mine.x) == [32] and list(mine.y) == [0.01]


def test_hover_tells_the_models_settings_and_nothing_more():
    fig = class_board_figure([replace(points()[0], activation="<a href='x'>ReLU</a>")], None)
    [trace] = fig.data
    assert list(trace.customdata[0]) == ["&lt;a href='x'&gt;ReLU&lt;/a&gt;", "sigmoid", "3"]
    for word in ("k = %{x}", "test MSE %{y", "activation", "output", "epochs"):
        assert word in trace.hovertemplate
    assert trace.text is None and trace.hovertext is None


@pytest.mark.parametrize(("value", "on"), [(None, True), ("1", True), ("", True), ("0", False), (" OFF ", False)])
def test_the_class_page_is_on_unless_its_variable_says_off(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(CLASS_BOARD_ENV, raising=False)
    else:
        monkeypatch.setenv(CLASS_BOARD_ENV, value)
    assert page_on(spec_of("class")) is on
    assert page_on(spec_of("train")), "pages without a switch are always on"
