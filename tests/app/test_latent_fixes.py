"""Latent space: the sliders' reset without a Session State warning, the CSV named after the model, the
3-D view's marker and hint."""

from __future__ import annotations

import types
from dataclasses import replace

import torch

from tests.app.conftest import open_page, texts
from tests.app.test_latent_compare import LATENT, charts, pick_model, user_model
from ui.session import state


def test_back_to_the_average_code_sets_the_sliders_without_a_warning(with_mnist, monkeypatch):
    from streamlit.elements.lib import policies

    warnings: list[str] = []
    # AppTest has no runtime, so Streamlit skips this check there: make it run, and record what it logs.
    monkeypatch.setattr(policies, "runtime", types.SimpleNamespace(exists=lambda: True))
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *args, **kw: warnings.append(msg % args))
    at = pick_model(open_page(LATENT), 8)
    assert at.slider(key="latent_pc_0").value == 0.0, "the sliders start at the average code"
    at.slider(key="latent_pc_0").set_value(2.0).run()
    at.slider(key="latent_pc_1").set_value(-1.0).run()
    next(b for b in at.button if b.label == "Back to the average code").click().run()
    assert not at.exception, at.exception
    assert at.slider(key="latent_pc_0").value == 0.0 and at.slider(key="latent_pc_1").value == 0.0
    at.run()
    assert not [w for w in warnings if "latent_pc_" in w], warnings


def test_the_codes_csv_is_named_after_the_model(with_mnist, monkeypatch):
    import streamlit as st

    names: list[str] = []
    real = st.download_button

    def recording(*args, **kwargs):  # the CSV is built on click, so its name is only in the call
        names.append(kwargs.get("file_name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    at = open_page(LATENT)
    assert names[-1] == "latent-codes-bundled-k-32-linear-20-epochs.csv"
    entry = user_model(32)
    twin = replace(user_model(32), name=f"{entry.name} (2)")
    at.session_state[state.USER_MODELS] = {entry.name: entry, twin.name: twin}
    for model, stem in ((entry, "k-32-none-1-epoch"), (twin, "k-32-none-1-epoch-2")):
        at.session_state[state.ACTIVE_MODEL] = model.name
        at.run()
        assert not at.exception, at.exception
        assert names[-1] == f"latent-codes-{stem}.csv"


def test_the_3d_view_names_its_marker_and_drops_the_box_hint(with_mnist):
    at = open_page(LATENT)
    at.session_state[state.DRAWING] = torch.rand(784)
    at.run()
    assert "Drag a box" in texts(at) and "Your drawing ★" in texts(at)
    assert any(t.get("name") == "your drawing ★" for t in charts(at)[0]["data"])
    at.toggle(key="latent_3d").set_value(True).run()
    assert not at.exception, at.exception
    spec = charts(at)[0]
    star = next(t for t in spec["data"] if t.get("name", "").startswith("your drawing"))
    assert star["type"] == "scatter3d" and star["marker"]["symbol"] == "diamond"
    assert star["name"] == "your drawing ◆", "the legend says which marker is the drawing"
    assert "Your drawing ◆" in texts(at)
    assert "Drag a box" not in texts(at) and "switch 3-D off" in texts(at)
