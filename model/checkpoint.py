"""Model files: safetensors with the settings in its metadata. Loading never runs code from the file."""

from __future__ import annotations

import json
import logging
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from model.autoencoder import INPUT_DIM, Activation, LinearAutoencoder, Output
from model.config import TrainConfig

FORMAT = "linear-autoencoder"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 8 * 1024 * 1024  # a k = 784 model is about 4.9 MB; anything much larger is not ours
MAX_HEADER_BYTES = 64 * 1024  # the JSON header of a real model file is under 1 KB; parse nothing bigger
ZIP_MAGIC = b"PK\x03\x04"  # torch.save archives
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
_LOG = logging.getLogger(__name__)


class ModelFileError(ValueError):
    """A model file was refused; the message says what is wrong with it."""


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself."""

    latent_dim: int
    activation: str
    epochs: int
    test_mse: float | None
    config: TrainConfig | None
    name: str = ""
    seconds: float | None = None  # training time
    output: str = "sigmoid"  # the decoder's output; files written before it existed are sigmoid models


def model_to_bytes(model: LinearAutoencoder, info: ModelInfo) -> bytes:
    """Serialise weights and settings into safetensors bytes."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "latent_dim": str(model.latent_dim),
        "activation": model.activation,
        "output": model.output,
        "epochs": str(info.epochs),
        "test_mse": "" if info.test_mse is None else repr(float(info.test_mse)),
        "seconds": "" if info.seconds is None else repr(float(info.seconds)),
        "name": info.name,
        "config": info.config.to_json() if info.config else "",
    }
    return st_save(tensors, metadata=metadata)


def save_model(model: LinearAutoencoder, info: ModelInfo, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model_to_bytes(model, info))
    return path


def _read_metadata(data: bytes) -> dict[str, str]:
    """Parse the safetensors JSON header by hand to give precise errors before any tensor is read."""
    if len(data) == 0:
        raise ModelFileError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(
            f"The file is {len(data) / 1e6:.1f} MB; model files are at most {MAX_FILE_BYTES / 1e6:.0f} MB."
        )
    if data.startswith(ZIP_MAGIC) or data[:2] in PICKLE_MAGIC:
        raise ModelFileError(
            "This is a PyTorch pickle (.pt/.pth) file. The app never opens pickles, because loading one can run "
            "arbitrary code. Save the model as .safetensors (the app's Download button does)."
        )
    if len(data) < 8:
        raise ModelFileError("The file is too short to be a safetensors model file; it may be truncated.")
    header_len = struct.unpack("<Q", data[:8])[0]
    if header_len > len(data) - 8:
        raise ModelFileError("This is not a safetensors model file, or it is truncated (its header runs past the end).")
    if header_len > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"This is not a model file made by this app: its header is {header_len:,} bytes "
            f"(this app's are under {MAX_HEADER_BYTES // 1024} KB)."
        )
    header = _parse_json(data[8 : 8 + header_len])
    if header is None:
        raise ModelFileError("This is not a safetensors model file (its header is not readable).")
    if not isinstance(header, dict):
        raise ModelFileError("This is not a safetensors model file (its header is not a table of tensors).")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError("This is not a safetensors model file (its metadata is not a table of text values).")
    if meta.get("format") != FORMAT:
        raise ModelFileError(
            "This safetensors file was not made by this app: it lacks the linear-autoencoder metadata."
        )
    version = meta.get("format_version", "")
    if not version.isdecimal() or int(version) > FORMAT_VERSION:  # isdigit() would pass "²", which int() refuses
        raise ModelFileError(
            f"This model file has format version {_short(version)}; this app reads up to {FORMAT_VERSION}."
        )
    return meta


def _parse_json(text: bytes | str) -> object | None:
    """json.loads, or None for anything it cannot read: a deeply nested file raises RecursionError."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _short(value: str, limit: int = 40) -> str:
    """A value from the file, quoted and cut short for an error message."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _float_or_none(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def model_from_bytes(data: bytes) -> tuple[LinearAutoencoder, ModelInfo]:
    """Rebuild a model from safetensors bytes, checking metadata, tensor names, shapes and values.

    Every failure is a ModelFileError: a crafted file must get the friendly refusal, never a traceback.
    """
    try:
        return _model_from_bytes(data)
    except ModelFileError:
        raise
    except Exception:  # a case the checks above missed; the server log keeps the details
        _LOG.warning("Refused a model file that failed in an unexpected way", exc_info=True)
        raise ModelFileError("The model file could not be read; it may be damaged or not made by this app.") from None


def _model_from_bytes(data: bytes) -> tuple[LinearAutoencoder, ModelInfo]:
    meta = _read_metadata(data)
    try:
        latent_dim = int(meta.get("latent_dim", ""))
        activation = meta.get("activation", Activation.NONE)
        output = meta.get("output", Output.SIGMOID)  # older files have no such key: they are sigmoid models
        model = LinearAutoencoder(latent_dim, activation, output)
    except ValueError as exc:
        raise ModelFileError(f"The model file's settings are invalid: {str(exc)[:200]}") from None
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"The model file is damaged or truncated: {exc}") from None
    expected = {name: tuple(p.shape) for name, p in model.state_dict().items()}
    if set(tensors) != set(expected):
        raise ModelFileError(
            f"The model file holds tensors {str(sorted(tensors))[:120]}; a linear autoencoder needs {sorted(expected)}."
        )
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise ModelFileError(
                f"Tensor {name} has shape {tuple(tensors[name].shape)}, but a k={latent_dim} model needs {shape} "
                f"(784 = {INPUT_DIM} pixels)."
            )
        if not torch.isfinite(tensors[name].float()).all():
            raise ModelFileError(f"Tensor {name} holds NaN or infinite values; the model is unusable.")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    config = None
    settings = _parse_json(meta["config"]) if meta.get("config") else None
    if isinstance(settings, dict):
        try:
            config = TrainConfig.from_dict(settings)
        except (ValueError, TypeError):
            config = None  # settings are informative only; the weights are what matter
    try:
        epochs = int(meta.get("epochs", "0"))
    except ValueError:
        epochs = 0
    info = ModelInfo(
        latent_dim=latent_dim,
        activation=activation,
        epochs=epochs,
        test_mse=_float_or_none(meta.get("test_mse")),
        config=config,
        name=meta.get("name", "")[:80],
        seconds=_float_or_none(meta.get("seconds")),
        output=output,
    )
    return model.eval(), info


def load_model(path: str | Path) -> tuple[LinearAutoencoder, ModelInfo]:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelFileError(f"Cannot read {path}: {exc.strerror}.") from None
    if size > MAX_FILE_BYTES:
        raise ModelFileError(
            f"{path.name} is {size / 1e6:.1f} MB; model files are at most {MAX_FILE_BYTES / 1e6:.0f} MB."
        )
    return model_from_bytes(path.read_bytes())
