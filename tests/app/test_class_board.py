"""The Class page in AppTest: everyone's models with the viewer's own marked; STUDIO_CLASS_BOARD=0 turns it off."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from service.entry_codec import entry_to_record
from service.workspace_cookie import new_token
from service.workspace_store import WorkspaceStore
from tests.app.conftest import open_page, texts
from tests.ui.test_class_board import plain
from ui.server import class_board as server_board

PAGE = "app_pages/class_board.py"


@pytest.fixture
def store(monkeypatch, tmp_path) -> tuple[WorkspaceStore, str]:
    """A store in a tmp STUDIO_DATA_DIR and the workspace this tab's cookie opens: (store, its id)."""
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    token = new_token()
    monkeypatch.setattr("ui.session.workspace.browser_token", lambda: token)
    store = WorkspaceStore(tmp_path / "data")
    return store, store.open_workspace(token)


def keep(store: WorkspaceStore, ws: str, name: str, k: int, output: str = "sigmoid") -> None:
    tensors, meta = entry_to_record(plain(name, k, output))
    store.put_model(ws, name, tensors, meta)


def values(array) -> list:
    """A trace's numbers from the chart's JSON: plotly sends numpy arrays as typed arrays (base64)."""
    if isinstance(array, list):
        return array
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()


def chart_traces(at) -> list[dict]:
    [chart] = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"]


def test_the_board_shows_everyones_models_and_marks_this_browsers(store, with_mnist):
    store, mine = store
    other = store.open_workspace(new_token())
    keep(store, mine, "my k=4", 4)
    keep(store, other, "Bob's k=16", 16)
    keep(store, other, "Bob's k=32", 32, "linear")
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert [(m.label, m.value) for m in at.metric] == [("Participants", "2"), ("Trained models", "3"), ("Yours", "1")]
    traces = {t["name"]: t for t in chart_traces(at)}
    assert set(traces) == {"PCA (test MSE)", "class: sigmoid output", "class: linear output", "you: sigmoid output"}
    assert values(traces["you: sigmoid output"]["x"]) == [4] and values(traces["class: linear output"]["x"]) == [32]
    assert "Bob" not in json.dumps(traces), "no model name (nor anything else a person typed) reaches the chart"
    assert "Each dot is one model trained on this server" in texts(at)


def test_the_board_follows_new_models_within_its_cache_time(store, with_mnist, monkeypatch):
    store, mine = store
    at = open_page(PAGE)
    assert "No model has been trained on this server yet" in texts(at)
    keep(store, mine, "k=8", 8)
    server_board._board.clear()  # instead of waiting CACHE_SECONDS
    at.run()
    assert at.metric[2].value == "1" and "you: sigmoid output" in {t["name"] for t in chart_traces(at)}


def test_many_views_within_the_cache_time_cost_one_query(store, monkeypatch):
    store, _ = store
    calls = []
    real = WorkspaceStore.all_models_meta
    monkeypatch.setattr(WorkspaceStore, "all_models_meta", lambda self, keys: calls.append(1) or real(self, keys))
    boards = [server_board.class_board() for _ in range(20)]
    assert len(calls) == 1 and all(b == boards[0] for b in boards)


def test_turned_off_the_page_leaves_home_and_says_so_at_its_address(store, with_mnist, monkeypatch):
    monkeypatch.setenv("STUDIO_CLASS_BOARD", "0")
    home = open_page("app_pages/home.py")
    assert not home.exception
    assert [e.proto.page for e in home.get("page_link")] == ["train", "draw", "denoise", "latent", "compare"]
    at = open_page(PAGE)
    assert not at.exception
    assert "The class board is turned off on this server" in texts(at)
    assert not at.get("plotly_chart") and not at.metric


def test_on_by_default_home_links_to_it(with_mnist, monkeypatch):
    monkeypatch.delenv("STUDIO_CLASS_BOARD", raising=False)
    home = open_page("app_pages/home.py")
    assert "class" in [e.proto.page for e in home.get("page_link")]
