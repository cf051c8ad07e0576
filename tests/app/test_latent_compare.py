"""AppTest: the Latent space and Compare pages with and without MNIST, every projection, the drawing, a sweep."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from service.model_entry import ModelEntry
from tests.app.conftest import open_page, texts, visible
from ui.figures.latent import DIGITS_META
from ui.session import state

LATENT, COMPARE = "app_pages/latent.py", "app_pages/compare.py"
N_TEST = 200  # the with_mnist fixture's test set
DTYPES = {"f4": np.float32, "f8": np.float64, "u2": np.uint16, "i4": np.int32, "u1": np.uint8, "i2": np.int16}


def charts(at) -> list[dict]:
    """The plotly specs on the page, in order."""
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def values(array) -> np.ndarray:
    """A trace array as plotly sent it: a base64 typed array or a plain list."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=DTYPES[array["dtype"]])
    return np.asarray(array)


def digit_points(spec: dict) -> int:
    return sum(len(values(t["x"])) for t in spec["data"] if t.get("meta") == DIGITS_META)


def pick_model(at, k: int):
    name = next(o for o in at.sidebar.selectbox[0].options if o.startswith(f"Bundled: k={k} "))
    return at.sidebar.selectbox[0].select(name).run()


def test_latent_page_plots_every_test_digit(with_mnist):
    at = open_page(LATENT)
    assert not at.exception, at.exception
    scatter = charts(at)[0]
    assert digit_points(scatter) == N_TEST
    ids = np.concatenate([values(t["customdata"]) for t in scatter["data"] if t.get("meta") == DIGITS_META])
    assert sorted(ids.tolist()) == list(range(N_TEST)), "every test row once, across the per-digit traces"
    assert f"{N_TEST:,} test digits" in texts(at)
    assert "of the codes' variance" in texts(at), "k = 32 starts with PCA and says how much it keeps"


def test_latent_points_slider_lowers_the_count(with_mnist):
    at = open_page(LATENT)
    at.slider(key="latent_points").set_value(100).run()
    assert not at.exception
    assert digit_points(charts(at)[0]) == 100


def test_latent_projections(with_mnist):
    at = open_page(LATENT)
    at.radio(key="latent_method").set_value("dims").run()
    assert not at.exception
    assert charts(at)[0]["layout"]["xaxis"]["title"]["text"] == "z1"
    at.number_input(key="latent_dim_y").set_value(1).run()
    assert "Pick different latent dimensions" in texts(at), "a repeated axis gets a sentence, not a traceback"
    assert not at.exception
    at.number_input(key="latent_dim_y").set_value(5).run()
    at.toggle(key="latent_3d").set_value(True).run()
    assert not at.exception
    assert charts(at)[0]["data"][0]["type"] == "scatter3d"
    at.radio(key="latent_method").set_value("tsne").run()
    assert not at.exception
    spec = charts(at)[0]
    assert spec["data"][0]["type"] == "scattergl" and digit_points(spec) == N_TEST
    assert "t-SNE" in texts(at)


def test_latent_k2_has_the_decoding_plane(with_mnist):
    at = pick_model(open_page(LATENT), 2)
    assert not at.exception, at.exception
    assert "k = 2: these are the codes themselves" in texts(at)
    plane = charts(at)[1]
    assert plane["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert any(c.startswith("decoded at z = (") for c in captions), captions


def test_latent_sliders_decode_for_k_above_2(with_mnist):
    at = pick_model(open_page(LATENT), 8)
    assert not at.exception
    at.slider(key="latent_pc_0").set_value(2.0).run()
    assert not at.exception
    at.button[0].click().run()  # back to the average code
    assert at.slider(key="latent_pc_0").value == 0.0


def test_latent_drawing_star_and_neighbours(with_mnist):
    at = open_page(LATENT)
    at.session_state[state.DRAWING] = torch.rand(784)
    at.run()
    assert not at.exception, at.exception
    names = [t.get("name") for t in charts(at)[0]["data"]]
    assert "your drawing ★" in names and "5 nearest" in names
    assert "5 nearest test digits" in texts(at)
    assert at.toggle(key="interp_drawing").value is True, "the interpolation starts from the drawing"


def test_latent_interpolation_inputs(with_mnist):
    at = open_page(LATENT)
    at.number_input(key=f"interp_a_{N_TEST}").set_value(5).run()
    at.number_input(key=f"interp_b_{N_TEST}").set_value(N_TEST - 1).run()
    assert not at.exception
    assert f"test digit #{N_TEST - 1}" in texts(at)


def test_latent_replay_of_a_trained_model(with_mnist):
    at = open_page(LATENT)
    torch.manual_seed(0)
    frames = tuple(torch.randn(N_TEST, 3) * (e + 1) for e in range(4))  # before training + 3 epochs
    entry = user_model(3, replay=frames)
    at.session_state[state.USER_MODELS] = {entry.name: entry}
    at.session_state[state.ACTIVE_MODEL] = entry.name
    at.run()
    assert not at.exception, at.exception
    replay = charts(at)[-1]  # played in the browser: the epochs are frames, with Play and a slider
    assert [f["name"] for f in replay["frames"]] == ["0", "1", "2", "3"]
    assert replay["layout"]["sliders"][0]["active"] == 3, "the final layout first"
    assert [b["label"] for b in replay["layout"]["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    assert "Press Play" in texts(at)


def user_model(k: int, activation: str = "none", replay: tuple = ()) -> ModelEntry:
    name = f"k={k} {activation}, 1 epoch"
    torch.manual_seed(k)
    info = ModelInfo(k, activation, 1, 0.05, None, name, 1.0)
    return ModelEntry(name, LinearAutoencoder(k, activation).eval(), info, "trained", replay=replay)


@pytest.mark.parametrize(("k", "activation"), [(1, "none"), (3, "relu"), (784, "none")])
def test_latent_and_compare_handle_unusual_sizes(with_mnist, k, activation):
    at = open_page(LATENT)
    entry = user_model(k, activation)
    at.session_state[state.USER_MODELS] = {entry.name: entry}
    at.session_state[state.ACTIVE_MODEL] = entry.name
    at.run()
    assert not at.exception, at.exception
    assert digit_points(charts(at)[0]) == N_TEST
    if k == 1:
        assert "k = 1: each digit is a single number" in texts(at)
    at.switch_page(COMPARE).run()
    assert not at.exception, at.exception
    assert entry.name in list(at.dataframe[0].value["model"])


def test_latent_without_mnist_explains(without_mnist):
    at = open_page(LATENT)
    assert not at.exception
    assert "MNIST_DIR" in texts(at)
    assert not at.get("plotly_chart")


def test_compare_grid_for_two_models(with_mnist):
    at = open_page(COMPARE)
    assert not at.exception, at.exception
    options = at.multiselect(key="compare_models").options
    two = [o for o in options if o.startswith(("Bundled: k=2 ", "Bundled: k=64 "))]
    at.multiselect(key="compare_models").set_value(two).run()
    assert not at.exception
    labels = [visible(m.value) for m in at.markdown]
    assert "**original**" in labels and f"**{two[0]}**" in labels and "PCA, k = 64" in labels
    table = at.dataframe[0].value
    assert len(table) == 4 and list(table["k"]) == [2, 8, 32, 64]
    assert (table["PCA MSE at k, same input"] > 0).all()
    chart = charts(at)[0]
    assert [t["name"] for t in chart["data"]][0] == "PCA (test MSE)"
    assert any(t["name"] == "classic tutorial (training MSE)" for t in chart["data"])


def test_compare_with_nothing_picked(with_mnist):
    at = open_page(COMPARE)
    at.multiselect(key="compare_models").set_value([]).run()
    assert not at.exception
    assert "Pick at least one model" in texts(at)


def test_compare_without_mnist_keeps_table_and_chart(without_mnist):
    at = open_page(COMPARE)
    assert not at.exception, at.exception
    assert "MNIST_DIR" in texts(at)
    assert len(at.dataframe[0].value) == 4, "the recorded test MSEs still fill the table"
    assert [t["name"] for t in charts(at)[0]["data"]] == ["bundled models", "classic tutorial (training MSE)"]
    assert at.button[0].disabled, "no sweep without MNIST"


@pytest.mark.timeout(180)
def test_sweep_trains_every_k_in_the_background(with_mnist):
    at = open_page(COMPARE)
    active = at.sidebar.selectbox[0].value
    at.button[0].click().run()  # Train a sweep
    assert not at.exception, at.exception
    # Six jobs: on this tiny MNIST the first may end, and be collected by the sidebar, within the same run.
    assert len(at.session_state[state.SWEEP]) + len(at.session_state[state.USER_MODELS]) == 6
    at.switch_page("app_pages/train.py").run()  # the sidebar keeps the sweep alive on every page, Train too
    deadline = time.monotonic() + 120
    while at.session_state[state.SWEEP] and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()  # the sidebar's status fragment heartbeats and collects, as it does every second live
    assert not at.exception
    at.switch_page(COMPARE).run()
    assert not at.session_state[state.SWEEP], "every sweep job was collected"
    kept = list(at.session_state[state.USER_MODELS].values())
    assert sorted(e.latent_dim for e in kept) == [2, 4, 8, 16, 32, 64]
    assert all(e.source == "trained" and e.replay for e in kept)
    assert at.sidebar.selectbox[0].value == active, "a sweep does not change the active model"
    assert len(at.dataframe[0].value) == 10
    trained = next(t for t in charts(at)[0]["data"] if t["name"] == "trained models")
    assert len(values(trained["x"])) == 6


def test_sweep_can_be_cancelled(with_mnist, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_JOBS", "1")
    at = open_page(COMPARE)
    at.button[0].click().run()
    at.button[1].click().run()  # Cancel the sweep
    assert not at.exception
    assert at.session_state[state.SWEEP] == []
    assert "Sweep cancelled" in texts(at)


def test_latent_page_offers_the_codes_as_csv(with_mnist):
    at = open_page("app_pages/latent.py")
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert any("test codes (CSV)" in label for label in labels), labels
