"""A ModelEntry survives the workspace store: weights, curves, replay, per-epoch lists, angles, words."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.entry_codec import EntryDecodeError, entry_from_record, entry_to_record
from service.keep_model import store_entry
from service.model_entry import ModelEntry
from service.workspace_cookie import new_token
from service.workspace_store import Limits, WorkspaceStore


def trained(name: str = "k=3 linear, 2 epochs", k: int = 3) -> ModelEntry:
    torch.manual_seed(0)
    config = TrainConfig(latent_dim=k, epochs=2, noise="gaussian", noise_level=0.3, output="linear")
    model = LinearAutoencoder(k, "relu", "linear")
    info = ModelInfo(k, "relu", 2, 0.0123456789, config, name, 3.5, output="linear")
    return ModelEntry(
        name=name,
        model=model,
        info=info,
        source="trained",
        replay=(torch.randn(50, 2), torch.randn(50, 2)),
        train_loss=torch.rand(40),
        test_mse_per_epoch=(0.1 / 3, 0.02),
        noisy_test_mse_per_epoch=(0.05, 0.031),
        steps_per_epoch=18.5,
        replay_epochs=(0, 2),
        warning="No better than the average digit.",
        pca_similarity_per_epoch=(0.5, 0.75),
        pca_angles=np.array([0.1, 0.2, 1.0 / 3]),
    )


def roundtrip(entry: ModelEntry, tmp_path) -> ModelEntry:
    store = WorkspaceStore(tmp_path)
    ws = store.open_workspace(new_token())
    tensors, meta = entry_to_record(entry)
    model_id = store.put_model(ws, entry.name, tensors, meta)
    stored = store.load_model(ws, model_id)
    return entry_from_record(stored.record.name, stored.tensors, stored.meta)


def test_round_trip_through_the_store_keeps_everything(tmp_path):
    entry = trained()
    back = roundtrip(entry, tmp_path)
    assert back.name == entry.name and back.source == "trained" and back.info == entry.info
    assert back.model.activation == "relu" and back.model.output == "linear" and back.latent_dim == 3
    for key, value in entry.model.state_dict().items():
        assert torch.equal(back.model.state_dict()[key], value)
    assert len(back.replay) == 2 and all(torch.equal(a, b) for a, b in zip(back.replay, entry.replay, strict=True))
    assert torch.equal(back.train_loss, entry.train_loss)
    assert back.test_mse_per_epoch == entry.test_mse_per_epoch  # exactly: float64 in the file
    assert back.noisy_test_mse_per_epoch == entry.noisy_test_mse_per_epoch
    assert back.pca_similarity_per_epoch == entry.pca_similarity_per_epoch
    assert back.replay_epochs == (0, 2) and back.steps_per_epoch == 18.5 and back.warning == entry.warning
    assert np.array_equal(back.pca_angles, entry.pca_angles)
    assert back.summary() == entry.summary()


def test_an_uploaded_model_without_curves_comes_back_bare(tmp_path):
    info = ModelInfo(4, "none", 1, None, None, "")
    entry = ModelEntry("Uploaded: x", LinearAutoencoder(4), info, "uploaded")
    back = roundtrip(entry, tmp_path)
    assert back.source == "uploaded" and back.info == info and back.replay == () and back.train_loss is None
    assert back.pca_angles is None and back.test_mse_per_epoch == () and back.replay_epochs == ()


def test_the_index_carries_what_a_class_board_reads():
    _, meta = entry_to_record(trained())
    assert {k: meta[k] for k in ("latent_dim", "activation", "output", "source", "epochs")} == {
        "latent_dim": "3", "activation": "relu", "output": "linear", "source": "trained", "epochs": "2",
    }  # fmt: skip
    assert float(meta["test_mse"]) == 0.0123456789


def test_a_foreign_record_is_refused_with_a_sentence():
    tensors, meta = entry_to_record(trained())
    with pytest.raises(EntryDecodeError, match="another version"):
        entry_from_record("x", tensors, {**meta, "codec_version": "99"})
    with pytest.raises(EntryDecodeError, match="could not be read"):
        entry_from_record("x", {}, meta)


def test_the_oldest_model_makes_room_and_the_byte_cap_says_why(tmp_path):
    store = WorkspaceStore(tmp_path, limits=Limits(max_models=2))
    ws = store.open_workspace(new_token())
    for i in range(2):
        assert store_entry(store, ws, trained(f"m{i}"), make_active=False).model_id
    saved = store_entry(store, ws, trained("m2"), make_active=True)
    assert saved.dropped == ("m0",) and [r.name for r in store.list_models(ws)] == ["m1", "m2"]
    assert store.get_setting(ws, "active_model") == {"id": saved.model_id}
    tight = WorkspaceStore(tmp_path / "tight", limits=Limits(max_bytes=1000))
    ws2 = tight.open_workspace(new_token())
    refused = store_entry(tight, ws2, trained("big"), make_active=True)
    assert refused.model_id is None and "limit" in refused.error and tight.list_models(ws2) == []
