"""The class board's one read of the store: every workspace's models, only the chosen metadata, no files."""

from __future__ import annotations

import pytest
import torch

from service.workspace_cookie import new_token
from service.workspace_store import WorkspaceStore

WEIGHTS = {"encoder.weight": torch.zeros(2, 784)}


def meta(k: int, source: str = "trained", **extra: str) -> dict[str, str]:
    return {"latent_dim": str(k), "test_mse": "0.05", "source": source, "name_inside": "Alice's model", **extra}


def test_reads_every_workspaces_models_with_their_workspace(tmp_path):
    store = WorkspaceStore(tmp_path)
    alice, bob = store.open_workspace(new_token()), store.open_workspace(new_token())
    store.put_model(alice, "a1", WEIGHTS, meta(2))
    store.put_model(bob, "b1", WEIGHTS, meta(8, config='{"noise": "gaussian"}'))
    store.put_model(alice, "a2", WEIGHTS, meta(32, source="uploaded"))
    rows = store.all_models_meta(("latent_dim", "source", "config"))
    assert rows == [
        (alice, {"latent_dim": "2", "source": "trained", "config": ""}),  # a missing key reads as ""
        (bob, {"latent_dim": "8", "source": "trained", "config": '{"noise": "gaussian"}'}),
        (alice, {"latent_dim": "32", "source": "uploaded", "config": ""}),
    ]


def test_a_second_process_sees_the_same_board(tmp_path):
    writer, reader = WorkspaceStore(tmp_path), WorkspaceStore(tmp_path)  # two replicas on one data dir
    ws = writer.open_workspace(new_token())
    writer.put_model(ws, "m", WEIGHTS, meta(4))
    assert reader.all_models_meta(("latent_dim",)) == [(ws, {"latent_dim": "4"})]
    writer.forget_workspace(ws)
    assert reader.all_models_meta(("latent_dim",)) == []


def test_only_plain_keys_reach_the_json_path(tmp_path):
    store = WorkspaceStore(tmp_path)
    with pytest.raises(ValueError, match="not a metadata key"):
        store.all_models_meta(("latent_dim') FROM models; --",))
