"""The session's one drawing: what the Draw canvas shows is what Draw, Denoise and Latent use.

Streamlit drops a widget's state when a run does not draw it (the user picks a test digit, or leaves the
page), and the canvas would come back empty while the other pages kept the old digit. So the canvas's last
drawing is kept under a key of our own, and a canvas that mounts afresh is handed it as initial_drawing.

Only a run that finishes removes the canvas from the browser: one cut short by the next stroke or a moved
slider leaves it there, still drawing. So the canvas mounts afresh only after a run that left it out (another
page, "Pick a test digit", a failure), never because a run was cut short before reaching it: a new key would
replace the canvas under the user's pen, losing the stroke in flight and the undo history.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image

from model.preprocess import Processed, preprocess_canvas
from service.workspace_store import StoreError
from ui.server.workspace import workspace_store
from ui.session import state

DRAWING_SETTING = "drawing"  # the workspace keeps the sketch: its Fabric JSON and its pixels as a PNG
DRAW_PAGE = "draw"  # the url_path of the page with the canvas (ui.pages)
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sketch:
    """What the canvas last sent: its Fabric JSON (to redraw it) and its pixels (to process them)."""

    objects: dict[str, Any] | None  # Fabric.js canvas JSON; fed back as the canvas's initial_drawing
    rgba: np.ndarray  # (H, W, 4) uint8 as rendered by the canvas

    @property
    def strokes(self) -> int:
        return len((self.objects or {}).get("objects") or [])


def canvas_key() -> str:
    return f"draw_canvas_{st.session_state[state.CANVAS_GENERATION]}"


def clear_drawing() -> None:
    """A new canvas key gives an empty canvas; the kept drawing goes with it."""
    st.session_state[state.CANVAS_GENERATION] += 1
    st.session_state[state.SKETCH] = None
    st.session_state[state.CANVAS_SEED] = None
    st.session_state[state.DRAWING] = None
    _save_sketch(None)


def _pending_rgba(value: object) -> np.ndarray | None:
    """The pixels in a canvas's widget state ({"drawing": {"raw": json, "data": PNG data URL}}), if any."""
    drawing = value.get("drawing") if isinstance(value, Mapping) else None
    if not isinstance(drawing, Mapping) or not isinstance(drawing.get("data"), str):
        return None
    try:
        encoded = drawing["data"].split(";base64,", 1)[1]
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))
    except (IndexError, ValueError, OSError):  # not an image data URL: nothing to keep
        return None


def canvas_left() -> None:
    """This run leaves the canvas out (another page, a test digit): once it finishes, the browser drops it."""
    st.session_state[state.CANVAS_SHOWN] = False


@contextmanager
def canvas_tracking(url_path: str) -> Iterator[None]:
    """Around a page's run: another page, or a run that fails, takes the canvas out of the browser."""
    if url_path != DRAW_PAGE:
        canvas_left()
    try:
        yield
    except Exception:  # a failure shows in its place; st.stop and reruns are no Exception and pass as they are
        canvas_left()
        raise


def canvas_mount() -> tuple[str, dict[str, Any] | None]:
    """The canvas's key and initial_drawing for this run.

    A canvas a finished run left out (the user picked a test digit, or was on another page) has left the
    browser: it comes back under a new key, starting from the kept sketch. One still there keeps its key and
    the same initial_drawing, because a change of either makes the component redraw itself from scratch.
    """
    if not st.session_state[state.CANVAS_SHOWN]:
        # The last stroke may have reached the server only in a run that was cut short: keep what it sent.
        pending = st.session_state.get(canvas_key())
        rgba = _pending_rgba(pending)
        if rgba is not None:
            current_sketch(pending["drawing"].get("raw"), rgba)  # type: ignore[index]
        st.session_state[state.CANVAS_GENERATION] += 1
        sketch = st.session_state[state.SKETCH]
        st.session_state[state.CANVAS_SEED] = sketch.objects if sketch is not None else None
    st.session_state[state.CANVAS_SHOWN] = True
    return canvas_key(), st.session_state[state.CANVAS_SEED]


def current_sketch(objects: dict[str, Any] | None, rgba: np.ndarray | None) -> Sketch | None:
    """Keep what the canvas sent; a canvas that has sent nothing since it mounted shows the kept sketch."""
    if rgba is not None:
        kept = st.session_state.get(state.SKETCH)
        if kept is None or kept.objects != objects or not np.array_equal(kept.rgba, rgba):
            st.session_state[state.SKETCH] = Sketch(objects, np.asarray(rgba))
            _save_sketch(st.session_state[state.SKETCH])
    return st.session_state.get(state.SKETCH)


def _png(rgba: np.ndarray) -> str:
    """The drawing as base64 PNG at the fastest compression: it is saved after every stroke (2.2 -> 1.5 ms here)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _save_sketch(sketch: Sketch | None) -> None:
    """Keep the drawing in the browser's workspace (a drawing of a few strokes is a few KB)."""
    ws = st.session_state.get(state.WORKSPACE)
    if ws is None:
        return
    try:
        if sketch is None:
            workspace_store().delete_setting(ws, DRAWING_SETTING)
        else:
            workspace_store().set_setting(ws, DRAWING_SETTING, {"objects": sketch.objects, "png": _png(sketch.rgba)})
    except (StoreError, ValueError, OSError):  # too big, or the workspace was forgotten: the tab keeps it anyway
        _LOG.info("The drawing was not saved to the workspace", exc_info=True)


def restore_sketch(saved: object) -> None:
    """Bring back a workspace's drawing: the canvas redraws its strokes, the other pages use its digit."""
    if not isinstance(saved, Mapping) or not isinstance(saved.get("png"), str):
        return
    objects = saved.get("objects")
    rgba = _pending_rgba({"drawing": {"data": "data:image/png;base64," + saved["png"]}})
    if rgba is None or rgba.ndim != 3:
        return
    st.session_state[state.SKETCH] = Sketch(objects if isinstance(objects, dict) else None, rgba)
    try:
        processed = preprocess_canvas(rgba, "mnist")
    except ValueError:
        return
    st.session_state[state.DRAWING] = torch.from_numpy(processed.image).reshape(784) if processed.ok else None


def process_drawing(rgba: np.ndarray | None) -> tuple[Processed, Processed]:
    """The canvas by the MNIST recipe and by a naive resize; keeps the MNIST-style one for the other pages."""
    try:
        mnist_like, naive = preprocess_canvas(rgba, "mnist"), preprocess_canvas(rgba, "naive")
    except ValueError as exc:  # an odd image from the component: say so rather than fail
        return Processed(None, f"The canvas sent an image this page cannot read: {exc}"), Processed(None)
    # An empty, nearly empty or too small drawing is no digit: the other pages must not keep an older one.
    st.session_state[state.DRAWING] = torch.from_numpy(mnist_like.image).reshape(784) if mnist_like.ok else None
    return mnist_like, naive
