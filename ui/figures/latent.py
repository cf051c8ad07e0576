"""Plotly figures of latent codes: the 10,000-point scatter, the training replay and the k = 2 decoding plane.

Built for speed: WebGL traces, one per digit (the legend toggles digits), coordinates as float32 arrays
(plotly sends numpy arrays as base64 typed arrays, about 2.7 bytes a number) and the test-set row id of
each point in customdata, so a selection across traces names the right digits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures.palette import DIGIT_COLORS, DIGIT_SYMBOLS, NEUTRAL

DIGITS_META = "digits"  # meta of the per-digit traces, so tests and the benchmark can count their points
# The drawing's marker: plotly's scatter3d has no star (an unknown symbol silently becomes a diamond), so 3-D
# uses a diamond and says so; the glyph goes in the legend and in the page's text.
DRAWING_MARKER = {False: ("star", "★"), True: ("diamond", "◆")}
BUTTON_STYLE = dict(bgcolor="#e8e8ef", bordercolor=NEUTRAL, font=dict(color="#131211"))
# The 3-D view from a little further out than plotly's (1.25, 1.25, 1.25): the cube and its axis titles fit.
CAMERA_3D = dict(eye=dict(x=1.55, y=1.55, z=1.05), center=dict(x=0, y=0, z=-0.08))


def drawing_label(three_d: bool) -> str:
    """The drawing's name in the legend, with its marker: 'your drawing ★' (2-D) or 'your drawing ◆' (3-D)."""
    return f"your drawing {DRAWING_MARKER[three_d][1]}"


def compact_ids(ids: np.ndarray) -> np.ndarray:
    """Row ids in the narrowest integer type that holds them (uint16 for the 10,000 test digits)."""
    ids = np.asarray(ids)
    return ids.astype(np.uint16) if ids.size == 0 or ids.max() < 2**16 else ids.astype(np.int32)


def _xyz(coords: np.ndarray) -> dict[str, np.ndarray]:
    names = ("x", "y", "z")
    return {names[i]: np.ascontiguousarray(coords[:, i], dtype=np.float32) for i in range(coords.shape[1])}


def latent_scatter(
    coords: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray,
    axis_titles: Sequence[str],
    star: np.ndarray | None = None,
    neighbours: np.ndarray | None = None,
    height: int = 560,
) -> go.Figure:
    """Codes (N, 2 or 3) coloured by digit; the drawing as a star and its nearest digits ringed."""
    coords = np.asarray(coords, dtype=np.float32)
    labels, ids = np.asarray(labels), compact_ids(ids)
    three_d = coords.shape[1] == 3
    trace = go.Scatter3d if three_d else go.Scattergl
    fig = go.Figure()
    for digit in range(10):
        mask = labels == digit
        if not mask.any():
            continue
        fig.add_trace(
            trace(
                **_xyz(coords[mask]),
                **_digit_style(digit, three_d),
                name=str(digit),
                meta=DIGITS_META,
                customdata=ids[mask],
                hovertemplate=f"digit {digit} · test #%{{customdata}}<extra></extra>",
            )
        )
    if neighbours is not None and len(neighbours):
        near = _xyz(np.asarray(neighbours, dtype=np.float32).reshape(-1, coords.shape[1]))
        size = 12 if not three_d else 6
        # A dark ring inside a light one: it shows on light and dark themes alike, over any digit's colour.
        for ring, width, color in ((0, 4.5, "#ffffff"), (1, 2, "#111111")):
            fig.add_trace(
                trace(
                    **near,
                    mode="markers",
                    name="5 nearest",
                    legendgroup="nearest",
                    showlegend=bool(ring),
                    marker=dict(size=size, color="rgba(0,0,0,0)", line=dict(width=width, color=color)),
                    hoverinfo="skip",
                )
            )
    if star is not None:
        fig.add_trace(
            trace(
                **_xyz(np.asarray(star, dtype=np.float32).reshape(1, -1)),
                mode="markers",
                name=drawing_label(three_d),
                marker=dict(
                    size=20 if not three_d else 12,
                    symbol=DRAWING_MARKER[three_d][0],
                    color="#ffd400",
                    line=dict(width=1.5, color="#000"),
                ),
                hovertemplate="your drawing<extra></extra>",
            )
        )
    layout = dict(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(title="digit", itemsizing="constant"),
        uirevision="latent",
    )
    if three_d:
        layout["scene"] = dict(
            xaxis_title=axis_titles[0],
            yaxis_title=axis_titles[1],
            zaxis_title=axis_titles[2],
            aspectmode="cube",
            camera=CAMERA_3D,
        )
        # A legend across the top leaves the scene the chart's whole width.
        layout["legend"] = dict(orientation="h", x=0, y=1.0, yanchor="bottom", itemsizing="constant")
        layout["margin"] = dict(l=0, r=0, t=30, b=0)
    else:
        layout.update(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], dragmode="select")
    fig.update_layout(**layout)
    return fig


def _digit_style(digit: int, three_d: bool) -> dict:
    """A digit's look: its colour and shape in 2-D; in 3-D (eight symbols only) its numeral in its colour."""
    color = DIGIT_COLORS[digit]
    if three_d:
        return dict(mode="text", text=str(digit), textfont=dict(color=color, size=11))
    return dict(mode="markers", marker=dict(size=6, color=color, symbol=DIGIT_SYMBOLS[digit], opacity=0.8))


def _replay_traces(coords: np.ndarray, labels: np.ndarray) -> list[go.Scatter]:
    """One SVG trace per digit: 2,000 points animate smoothly from epoch to epoch, which WebGL would not."""
    coords = np.asarray(coords, dtype=np.float32)
    return [
        go.Scatter(
            **_xyz(coords[labels == digit]),
            **_digit_style(digit, three_d=False),
            name=str(digit),
            meta=DIGITS_META,
            hoverinfo="skip",
        )
        for digit in range(10)
        if (labels == digit).any()
    ]


def replay_figure(
    epochs: Sequence[np.ndarray],
    labels: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    axis_titles: Sequence[str],
    frame_ms: int = 700,
    epoch_numbers: Sequence[int] | None = None,
) -> go.Figure:
    """The training replay as a plotly animation: the codes (n, 2) after each epoch, on fixed axes so the
    digits visibly move. Play, Pause and the epoch slider run in the browser: no rerun, no server work.
    epoch_numbers names each frame's epoch on the slider (default 0, 1, 2, ...)."""
    labels = np.asarray(labels)
    last = len(epochs) - 1
    # The slider's "epoch N" follows the frames as they play; a title in each frame would not (plotly
    # applies a frame's layout only when it redraws the whole chart).
    frames = [go.Frame(data=_replay_traces(coords, labels), name=str(epoch)) for epoch, coords in enumerate(epochs)]
    play = dict(
        frame=dict(duration=frame_ms, redraw=False), transition=dict(duration=frame_ms * 7 // 10), mode="immediate"
    )
    names = [f.name for f in frames]
    buttons = [
        dict(label="▶ Play", method="animate", args=[names, {**play, "fromcurrent": False}]),
        dict(label="❚❚ Pause", method="animate", args=[[None], dict(frame=dict(duration=0), mode="immediate")]),
    ]
    numbers = list(epoch_numbers) if epoch_numbers is not None else list(range(len(epochs)))
    steps = [
        dict(label=str(n), method="animate", args=[[str(i)], dict(frame=dict(duration=0), mode="immediate")])
        for i, n in enumerate(numbers)
    ]
    return go.Figure(
        data=_replay_traces(epochs[last], labels),  # the final layout until Play is pressed
        frames=frames,
        layout=go.Layout(
            height=480,
            title=dict(text="The codes after each epoch (epoch 0: before training)", x=0.01, y=0.98),
            margin=dict(l=10, r=10, t=40, b=110),  # room for the buttons and the slider under the plot
            xaxis=dict(title=dict(text=axis_titles[0]), range=list(x_range), autorange=False),
            yaxis=dict(title=dict(text=axis_titles[1]), range=list(y_range), autorange=False),
            legend=dict(title=dict(text="digit"), itemsizing="constant"),
            updatemenus=[
                dict(
                    type="buttons",
                    direction="left",
                    x=0,
                    y=-0.2,
                    xanchor="left",
                    yanchor="top",
                    buttons=buttons,
                    # Plotly's pale buttons take the theme's text colour: light on light in the dark theme.
                    # A fixed pair (7:1 and more) reads the same in both themes.
                    **BUTTON_STYLE,
                )
            ],
            sliders=[
                dict(
                    active=last,
                    steps=steps,
                    x=0.25,
                    len=0.75,
                    y=-0.12,
                    yanchor="top",
                    currentvalue=dict(prefix="epoch "),
                )
            ],
        ),
    )


def plane_figure(
    picture_uri: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    cells: int = 15,
    targets: int = 31,
) -> go.Figure:
    """The k = 2 manifold picture on latent axes, covered by invisible click targets that decode a point.

    The picture's cells are decoded at evenly spaced points from one end of each range to the other, so the
    picture reaches half a cell beyond the ranges: each cell then sits centred on the code it shows.
    """
    half_x = (x_range[1] - x_range[0]) / max(cells - 1, 1) / 2
    half_y = (y_range[1] - y_range[0]) / max(cells - 1, 1) / 2
    x_range = (x_range[0] - half_x, x_range[1] + half_x)
    y_range = (y_range[0] - half_y, y_range[1] + half_y)
    xs = np.linspace(x_range[0], x_range[1], targets, dtype=np.float32)
    ys = np.linspace(y_range[0], y_range[1], targets, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    fig = go.Figure(
        go.Scatter(
            x=gx.reshape(-1),
            y=gy.reshape(-1),
            mode="markers",
            name="decode here",
            marker=dict(size=14, color="rgba(0,0,0,0)"),
            # The clicked target turns into a red dot: plotly styles selected points itself, so the figure (and
            # with it Streamlit's selection state) stays the same from run to run.
            selected=dict(marker=dict(color="rgba(225,87,89,0.9)", size=16)),
            unselected=dict(marker=dict(opacity=0)),
            hovertemplate="decode z = (%{x:.2f}, %{y:.2f})<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_layout_image(
        source=picture_uri,
        xref="x",
        yref="y",
        x=x_range[0],
        y=y_range[1],
        sizex=x_range[1] - x_range[0],
        sizey=y_range[1] - y_range[0],
        sizing="stretch",
        layer="below",
    )
    fig.update_layout(
        height=480,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="z₁", range=list(x_range), showgrid=False, zeroline=False),
        yaxis=dict(title="z₂", range=list(y_range), showgrid=False, zeroline=False),
        dragmode=False,
        hovermode="closest",
    )
    return fig
