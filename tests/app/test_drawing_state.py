"""The Draw page keeps one drawing: the canvas comes back with it (and the stroke width) after "Pick a test
digit" or another page, and Denoise and Latent use exactly what the canvas shows.

A fake canvas stands in for the component: it records what the page hands it and answers either with a
drawing (the user drew) or, like a freshly mounted component, with its initial_drawing and no pixels."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from tests.app.conftest import open_page, texts
from tests.app.test_draw_denoise import DENOISE, DRAW, a_one, canvas_png
from ui.server import resources
from ui.server.resources import mnist_status
from ui.session import state

TWO_STROKES = {"version": "6", "objects": [{"type": "Path"}, {"type": "Path"}]}


class FakeCanvas:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.sends: tuple[dict, str] | None = None  # (json, PNG data URL) the user's next drawing, else fresh

    def __call__(self, **kwargs: Any):
        self.calls.append(kwargs)
        component = sys.modules["streamlit_drawable_canvas"]
        if self.sends is not None:
            return component.CanvasResult(self.sends[0], self.sends[1], True)
        return component.CanvasResult(kwargs.get("initial_drawing") or {"objects": []}, None, True)


@pytest.fixture
def canvas(monkeypatch):
    return FakeCanvas()


def open_draw(canvas: FakeCanvas, monkeypatch) -> AppTest:
    """The Draw page with the fake canvas: the first run imports the component (as the page does), the
    second is the fake's."""
    at = open_page(DRAW)
    monkeypatch.setattr(sys.modules["streamlit_drawable_canvas"], "st_canvas", canvas)
    return at.run()


def test_the_drawing_and_stroke_width_survive_picking_a_test_digit(with_mnist, canvas, monkeypatch):
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    at.slider(key="draw_stroke").set_value(30).run()
    assert "(2 strokes)" in texts(at)
    drawing = at.session_state[state.DRAWING]
    first_key = canvas.calls[-1]["key"]

    at.radio(key="draw_source").set_value("Pick a test digit").run()
    canvas.sends = None  # the canvas mounts afresh and has sent nothing yet
    at.radio(key="draw_source").set_value("Draw one").run()
    assert not at.exception, at.exception
    call = canvas.calls[-1]
    assert call["key"] != first_key, "a new canvas, so the component draws the initial drawing"
    assert call["initial_drawing"] == TWO_STROKES
    assert call["stroke_width"] == 30
    assert at.slider(key="draw_stroke").value == 30
    assert "(2 strokes)" in texts(at) and "**MSE 0." in texts(at)
    assert torch.equal(at.session_state[state.DRAWING], drawing)


def test_the_drawing_comes_back_after_another_page(with_mnist, canvas, monkeypatch):
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    drawing = at.session_state[state.DRAWING]
    canvas.sends = None
    at.switch_page(DENOISE).run()
    assert at.radio(key="denoise_source").value == "Current drawing"
    at.switch_page(DRAW).run()
    assert not at.exception, at.exception
    assert canvas.calls[-1]["initial_drawing"] == TWO_STROKES
    assert "(2 strokes)" in texts(at)
    assert torch.equal(at.session_state[state.DRAWING], drawing)


def test_a_mounted_canvas_keeps_its_key_and_initial_drawing(with_mnist, canvas, monkeypatch):
    """A new initial_drawing makes the component redraw from scratch and lose its undo history."""
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    canvas.sends = ({"objects": [{"type": "Path"}] * 3}, canvas_png(a_one))
    at.run()
    at.toggle(key="draw_naive").set_value(True).run()
    assert not at.exception, at.exception
    assert "(3 strokes)" in texts(at)
    assert len({c["key"] for c in canvas.calls}) == 1
    assert all(c["initial_drawing"] is None for c in canvas.calls)


def test_clear_forgets_the_drawing_everywhere(with_mnist, canvas, monkeypatch):
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    canvas.sends = None
    next(b for b in at.button if b.label == "Clear").click().run()
    assert not at.exception, at.exception
    assert canvas.calls[-1]["initial_drawing"] is None
    assert "Draw a digit with the mouse" in texts(at)
    assert at.session_state[state.DRAWING] is None and at.session_state[state.SKETCH] is None
    at.switch_page(DRAW.replace("draw", "latent")).run()
    assert "Draw a digit on the **Draw** page" in texts(at)


def test_an_emptied_canvas_leaves_no_drawing_for_the_other_pages(with_mnist, canvas, monkeypatch):
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    canvas.sends = ({"objects": []}, canvas_png(lambda rgba: None))  # the toolbar's reset
    at.run()
    assert "it is empty" in texts(at)
    assert at.session_state[state.DRAWING] is None


def test_a_tiny_scribble_asks_to_be_drawn_bigger(with_mnist, canvas, monkeypatch):
    def scribble(rgba) -> None:  # a "1" 40 px tall in a 20 px stroke: a blob once scaled to MNIST's 20 px
        rgba[120:160, 130:150, :3] = 255

    canvas.sends = ({"objects": [{"type": "Path"}]}, canvas_png(scribble))
    at = open_draw(canvas, monkeypatch)
    assert not at.exception, at.exception
    assert "draw it bigger" in texts(at)
    assert "**MSE" not in texts(at), "no reconstruction rated unusual for a blob"
    assert at.session_state[state.DRAWING] is None


def test_a_run_cut_short_before_the_canvas_keeps_it_mounted(with_mnist, canvas, monkeypatch):
    """A run the next stroke (or a moved slider) cuts short leaves the canvas in the browser: only a finished
    run removes elements. The next run keeps its key, so the canvas is not replaced under the user's pen."""
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    key = canvas.calls[-1]["key"]
    cuts = []

    def cut_short_once():  # the page's first call: the run stops for a rerun before reaching the canvas
        if not cuts:
            cuts.append(len(canvas.calls))
            st.rerun()
        return mnist_status()

    monkeypatch.setattr(resources, "mnist_status", cut_short_once)
    canvas.sends = ({"objects": [{"type": "Path"}] * 3}, canvas_png(a_one))
    at.slider(key="draw_stroke").set_value(30).run()
    assert not at.exception, at.exception
    assert cuts and len(canvas.calls) == cuts[0] + 1, "one run cut short, then one that drew the canvas"
    call = canvas.calls[-1]
    assert call["key"] == key and call["initial_drawing"] is None and call["stroke_width"] == 30
    assert "(3 strokes)" in texts(at)


def test_a_run_that_fails_before_the_canvas_mounts_it_afresh(with_mnist, canvas, monkeypatch):
    """A failed run finishes: the browser drops the canvas it did not redraw, so the next run brings it back."""
    canvas.sends = (TWO_STROKES, canvas_png(a_one))
    at = open_draw(canvas, monkeypatch)
    key = canvas.calls[-1]["key"]

    def broken():
        raise RuntimeError("a bug before the canvas")

    monkeypatch.setattr(resources, "mnist_status", broken)
    at.run()
    assert at.exception
    monkeypatch.setattr(resources, "mnist_status", mnist_status)
    canvas.sends = None
    at.run()
    assert not at.exception, at.exception
    assert canvas.calls[-1]["key"] != key and canvas.calls[-1]["initial_drawing"] == TWO_STROKES
    assert "(2 strokes)" in texts(at)


def test_a_stroke_sent_during_a_cut_short_run_is_kept(with_mnist, canvas, monkeypatch):
    """A stroke can reach the server only in a run that is cut short (by "Pick a test digit"); when the
    canvas mounts afresh it starts from the kept sketch plus what the old canvas had sent."""
    at = open_draw(canvas, monkeypatch)  # nothing drawn: the fake answers like a fresh canvas
    at.radio(key="draw_source").set_value("Pick a test digit").run()  # a run that does not draw the canvas
    key = canvas.calls[-1]["key"]
    at.session_state[key] = {"drawing": {"raw": TWO_STROKES, "data": canvas_png(a_one)}}
    at.radio(key="draw_source").set_value("Draw one").run()
    assert not at.exception, at.exception
    assert canvas.calls[-1]["key"] != key and canvas.calls[-1]["initial_drawing"] == TWO_STROKES
    assert "(2 strokes)" in texts(at)
    assert at.session_state[state.DRAWING] is not None
