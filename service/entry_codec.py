"""A ModelEntry as the workspace store keeps it (named tensors + string metadata) and back; no Streamlit.

The metadata carries what a class board may read from the store's index alone (latent_dim, test_mse,
activation, output, source, epochs); everything with a shape goes into tensors. The model's name is the
store row's label, never read from the metadata.
"""

from __future__ import annotations

import json
import math

import numpy as np
import torch

from model.autoencoder import LinearAutoencoder
from model.checkpoint import ModelInfo
from model.config import TrainConfig
from service.model_entry import ModelEntry

CODEC = "studio-entry"
CODEC_VERSION = "1"
WEIGHT = "model."  # prefix of the autoencoder's state_dict tensors
REPLAY = "replay."  # replay.0, replay.1, ...: (R, 2) points per frame
PER_EPOCH = ("test_mse_per_epoch", "noisy_test_mse_per_epoch", "pca_similarity_per_epoch")


class EntryDecodeError(ValueError):
    """A stored model could not be rebuilt (written by a newer version, or damaged)."""


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _num_or_none(text: str) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def entry_to_record(entry: ModelEntry) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata a ModelEntry is stored as (its name goes to the store row separately)."""
    tensors = {WEIGHT + k: v.detach().to("cpu") for k, v in entry.model.state_dict().items()}
    for i, frame in enumerate(entry.replay):
        tensors[f"{REPLAY}{i}"] = frame.detach().to("cpu")  # (R, 2)
    if entry.train_loss is not None:
        tensors["train_loss"] = entry.train_loss.detach().to("cpu")
    for field in PER_EPOCH:
        values = getattr(entry, field)
        if values:
            tensors[field] = torch.tensor(values, dtype=torch.float64)  # float64: the floats come back exactly
    if entry.replay_epochs:
        tensors["replay_epochs"] = torch.tensor(entry.replay_epochs, dtype=torch.int64)
    if entry.pca_angles is not None:
        tensors["pca_angles"] = torch.from_numpy(np.ascontiguousarray(entry.pca_angles))
    info = entry.info
    meta = {
        "codec": CODEC,
        "codec_version": CODEC_VERSION,
        "latent_dim": str(entry.latent_dim),
        "activation": str(entry.model.activation),
        "output": str(entry.model.output),
        "source": entry.source,
        "epochs": str(info.epochs),
        "test_mse": _num(info.test_mse),
        "seconds": _num(info.seconds),
        "info_name": info.name,
        "config": info.config.to_json() if info.config is not None else "",
        "steps_per_epoch": repr(float(entry.steps_per_epoch)),
        "warning": entry.warning,
        "replay_frames": str(len(entry.replay)),
    }
    return tensors, meta


def entry_from_record(name: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> ModelEntry:
    """Rebuild the ModelEntry that entry_to_record stored; raises EntryDecodeError when it cannot."""
    if meta.get("codec") != CODEC or meta.get("codec_version") != CODEC_VERSION:
        raise EntryDecodeError("This stored model was written by another version of the app.")
    try:
        model = LinearAutoencoder(int(meta["latent_dim"]), meta["activation"], meta["output"])
        weights = {k.removeprefix(WEIGHT): v.float() for k, v in tensors.items() if k.startswith(WEIGHT)}
        model.load_state_dict(weights)
        config = TrainConfig.from_dict(json.loads(meta["config"])) if meta.get("config") else None
        info = ModelInfo(
            latent_dim=model.latent_dim,
            activation=meta["activation"],
            epochs=int(meta["epochs"]),
            test_mse=_num_or_none(meta.get("test_mse", "")),
            config=config,
            name=meta.get("info_name", ""),
            seconds=_num_or_none(meta.get("seconds", "")),
            output=meta["output"],
        )
        replay = tuple(tensors[f"{REPLAY}{i}"] for i in range(int(meta.get("replay_frames", "0"))))
        per_epoch = {
            field: tuple(float(x) for x in tensors[field].tolist()) if field in tensors else () for field in PER_EPOCH
        }
        angles = tensors.get("pca_angles")
        return ModelEntry(
            name=name,
            model=model.eval(),
            info=info,
            source=meta.get("source", "trained"),
            replay=replay,
            train_loss=tensors.get("train_loss"),
            steps_per_epoch=float(meta.get("steps_per_epoch", "1")),
            replay_epochs=tuple(int(x) for x in tensors["replay_epochs"].tolist()) if "replay_epochs" in tensors else (),
            warning=meta.get("warning", ""),
            pca_angles=angles.numpy() if angles is not None else None,
            **per_epoch,
        )
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise EntryDecodeError(f"This stored model could not be read: {str(exc)[:200]}") from None
