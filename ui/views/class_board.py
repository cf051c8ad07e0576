"""The Class page's live part: the board's counts and chart, redrawn every few seconds from the shared cache."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from model.plural import plural
from ui.figures.class_board import class_board_figure
from ui.server.class_board import CACHE_SECONDS, board_points, class_board
from ui.session.workspace import current_workspace

REFRESH_SECONDS = 5.0  # each tab's redraw; the query behind it runs at most once per CACHE_SECONDS server-wide
EXPLANATION = (
    "Each dot is one model trained on this server, by anyone in the room; yours are the large outlined ones "
    '("you" in the legend). Nothing on the board says whose a dot is: only its k, activation, output, '
    "test MSE and epochs. The dashed curve is PCA: the smallest test error a purely linear encoder and decoder "
    "with k numbers can reach. Linear-output models therefore sit on it or above it (above while they are "
    "still learning: too few epochs or a poor learning rate). Sigmoid-output models can sit below it: the "
    "sigmoid is not linear, and squashing every pixel into [0, 1] keeps the black background exactly black, "
    "so the theorem does not bind them. Denoisers (triangles) are scored on noisy digits in, a harder task, "
    "so they sit higher."
)


def class_board_ui(pca_curve: Sequence[float] | None) -> None:
    """The counts and the chart in a fragment that redraws itself every REFRESH_SECONDS."""
    st.fragment(_board_body, run_every=REFRESH_SECONDS)(pca_curve)


def _board_body(pca_curve: Sequence[float] | None) -> None:
    board = class_board()
    if board is None:
        st.warning(f"The class board could not be read just now; it tries again in {REFRESH_SECONDS:g} seconds.")
        return
    points = board_points(board, current_workspace())
    yours = sum(p.mine for p in points)
    participants, models, own = st.columns(3)
    participants.metric(
        "Participants",
        board.participants,
        help="Browsers with at least one trained model on the board (one person in two browsers counts twice).",
    )
    models.metric("Trained models", board.models, help="Every model trained here, uploaded files left out.")
    own.metric("Yours", yours, help="Trained in this browser.")
    st.plotly_chart(
        class_board_figure(points, pca_curve),
        key="class_chart",
        alt=f"Test error against latent size k: {plural(len(points), 'model')} of the class, {yours} of them yours, "
        "beside PCA's curve.",
    )
    if not points:
        st.info("No model has been trained on this server yet: train one on the Train page and it appears here.")
    elif current_workspace() is None:
        st.caption("This browser does not keep the studio's cookie, so none of the dots can be marked as yours.")
    st.caption(f"Updates every {REFRESH_SECONDS:g} s; what it shows is at most {CACHE_SECONDS:g} s older than that.")
