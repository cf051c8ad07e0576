"""The class board's data: every workspace's trained models from the store's index, read once a moment server-wide.

One query reads the whole board (service.workspace_store.all_models_meta) and st.cache_data keeps its result
for CACHE_SECONDS, so a hundred tabs refreshing the board cost one query between them. Every replica sharing
the data dir reads the same store, so the board covers them all. Only models trained on this server count:
uploaded files are left out (their figures were not measured here, and a copy of a bundled model would show
as someone's run); bundled models are never in a workspace.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import dataclass, replace

import streamlit as st

from model.autoencoder import Activation, Output, activation_label
from model.noise import NO_NOISE
from service.workspace_store import StoreError, default_data_dir
from ui.figures.class_board import BoardPoint
from ui.server.workspace import workspace_store

CACHE_SECONDS = 2.0
BOARD_KEYS = ("source", "latent_dim", "test_mse", "activation", "output", "epochs", "config")
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class BoardRow:
    """A trained model on the board; its workspace id stays on the server (it only tells a browser its own)."""

    workspace: str
    point: BoardPoint  # with mine=False: whose it is is decided per viewer


@dataclass(frozen=True)
class Board:
    rows: tuple[BoardRow, ...]

    @property
    def participants(self) -> int:
        """Browsers (workspaces) with at least one trained model on the board."""
        return len({r.workspace for r in self.rows})

    @property
    def models(self) -> int:
        return len(self.rows)


def board_row(workspace: str, meta: dict[str, str]) -> BoardRow | None:
    """A stored model's row on the board, or None when it does not belong there (uploaded) or says too little."""
    if meta.get("source") != "trained" or meta.get("activation") not in list(Activation):
        return None
    if meta.get("output") not in list(Output):
        return None
    try:
        k, epochs, mse = int(meta["latent_dim"]), int(meta["epochs"]), float(meta["test_mse"])
    except (KeyError, ValueError):
        return None
    if not (1 <= k <= 784 and epochs >= 0 and math.isfinite(mse) and mse > 0):
        return None
    point = BoardPoint(k, mse, activation_label(meta["activation"]), meta["output"], epochs, _denoiser(meta))
    return BoardRow(workspace, point)


def _denoiser(meta: dict[str, str]) -> bool:
    """Trained on noisy digits (its recorded test MSE is for noisy digits in, like the Compare page's)."""
    try:
        config = json.loads(meta.get("config") or "{}")
    except ValueError:
        return False
    return isinstance(config, dict) and config.get("noise", NO_NOISE) != NO_NOISE


def read_board(rows: list[tuple[str, dict[str, str]]]) -> Board:
    """The board from the store's rows: trained models only, oldest first."""
    return Board(tuple(row for ws, meta in rows if (row := board_row(ws, meta)) is not None))


@st.cache_data(ttl=CACHE_SECONDS, max_entries=4, show_spinner=False)
def _board(data_dir: str) -> Board:  # data_dir: the cache key, so a test's own data dir gets its own board
    return read_board(workspace_store().all_models_meta(BOARD_KEYS))


def class_board() -> Board | None:
    """Everyone's trained models, at most CACHE_SECONDS old; None when the store cannot be read just now."""
    try:
        return _board(str(default_data_dir()))
    except (StoreError, sqlite3.Error, OSError):
        _LOG.warning("The class board could not read the workspace store", exc_info=True)
        return None


def board_points(board: Board, my_workspace: str | None) -> list[BoardPoint]:
    """The board as one viewer sees it: their own models marked, and no workspace ids left."""
    return [replace(r.point, mine=my_workspace is not None and r.workspace == my_workspace) for r in board.rows]
