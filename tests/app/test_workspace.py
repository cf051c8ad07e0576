"""AppTest with a workspace: a cookie's token injected where the page reads it (AppTest sends no cookies)."""

from __future__ import annotations

import pytest

from service.keep_model import store_entry
from service.workspace_cookie import new_token
from service.workspace_store import WorkspaceStore
from tests.app.conftest import open_page, texts
from tests.app.test_train_page import wait_for_model
from tests.service.test_entry_codec import trained
from ui.session.workspace import NO_COOKIE_NOTE


@pytest.fixture
def workspace(monkeypatch, tmp_path):
    """A store in a tmp STUDIO_DATA_DIR, and the token the page will see; returns (store, workspace id)."""
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    token = new_token()
    monkeypatch.setattr("ui.session.workspace.browser_token", lambda: token)
    store = WorkspaceStore(tmp_path / "data")
    return store, store.open_workspace(token)


def picker(at):
    return at.sidebar.selectbox(key="sidebar_model_picker")


def test_a_new_tab_restores_models_active_model_and_settings(workspace, with_mnist):
    store, ws = workspace
    store_entry(store, ws, trained("k=3 first"), make_active=False)
    store_entry(store, ws, trained("k=3 second"), make_active=True)
    store_entry(store, ws, trained("k=3 third"), make_active=False)
    store.set_setting(ws, "widgets", {"train_k": 7, "train_epochs": 3})
    at = open_page("app_pages/train.py")
    assert not at.exception
    assert picker(at).value == "k=3 second"
    assert {"k=3 first", "k=3 second", "k=3 third"} <= set(picker(at).options)
    assert at.number_input(key="train_k").value == 7 and at.number_input(key="train_epochs").value == 3
    assert NO_COOKIE_NOTE not in texts(at)


def test_another_tabs_model_and_choices_reach_this_tab_and_the_store(workspace):
    store, ws = workspace
    at = open_page("app_pages/home.py")
    assert "k=3 elsewhere" not in picker(at).options
    store_entry(store, ws, trained("k=3 elsewhere"), make_active=False)  # trained in another tab
    at.run()
    assert "k=3 elsewhere" in picker(at).options
    picker(at).set_value("k=3 elsewhere").run()
    [record] = store.list_models(ws)
    assert store.get_setting(ws, "active_model") == {"id": record.id}
    store.rename_model(ws, record.id, "renamed")
    store_entry(store, ws, trained("k=3 later"), make_active=False)
    at.run()
    assert picker(at).value == "renamed" and "k=3 later" in picker(at).options
    store.delete_model(ws, record.id)
    at.run()
    assert "renamed" not in picker(at).options and not at.exception


def test_forget_asks_first_then_deletes_everything(workspace):
    store, ws = workspace
    store_entry(store, ws, trained("k=3 mine"), make_active=True)
    store.set_setting(ws, "widgets", {"train_k": 7})
    at = open_page("app_pages/home.py")
    assert picker(at).value == "k=3 mine"
    at.sidebar.button(key="workspace_forget").click().run()
    assert store.workspace_exists(ws), "one click only asks"
    at.sidebar.button(key="workspace_forget_yes").click().run()
    assert not at.exception
    assert not store.workspace_exists(ws)
    assert "k=3 mine" not in picker(at).options
    assert "Deleted this browser's workspace" in texts(at)


def test_without_a_cookie_the_tab_says_once_that_models_will_not_survive_a_reload():
    at = open_page("app_pages/home.py")
    assert texts(at).count(NO_COOKIE_NOTE) == 1
    at.run()
    assert NO_COOKIE_NOTE not in texts(at)
    assert not at.sidebar.button  # no workspace panel, no Forget button


def test_a_run_lands_in_the_workspace_and_a_new_tab_reattaches_to_it(workspace, with_mnist):
    store, ws = workspace
    at = open_page("app_pages/train.py")
    at.number_input(key="train_k").set_value(4).run()
    at.number_input(key="train_epochs").set_value(2).run()
    next(b for b in at.button if b.label == "Start").click().run()
    other = open_page("app_pages/train.py")  # another tab of the same browser, opened mid-run (or just after)
    assert not other.exception
    at = wait_for_model(at, "k=4 linear, 2 epochs")
    [record] = store.list_models(ws)
    assert record.name == "k=4 linear, 2 epochs" and record.meta["latent_dim"] == "4"
    assert store.get_setting(ws, "active_model") == {"id": record.id}
    assert [r.status for r in store.list_runs(ws)] == ["finished"]
    other = wait_for_model(other, "k=4 linear, 2 epochs")
    assert [o for o in picker(other).options if "k=4" in o] == ["k=4 linear, 2 epochs"], "kept once"
