"""Model files: a faithful round trip, and every kind of foreign, damaged or hostile file refused."""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from model.autoencoder import LinearAutoencoder
from model.checkpoint import (
    FORMAT_VERSION,
    MAX_FILE_BYTES,
    MAX_HEADER_BYTES,
    ModelFileError,
    ModelInfo,
    load_model,
    model_from_bytes,
    model_to_bytes,
    save_model,
)
from model.config import TrainConfig
from model.train import init_weights


def trained_like(latent_dim: int = 32, activation: str = "none", seed: int = 0) -> LinearAutoencoder:
    return init_weights(LinearAutoencoder(latent_dim, activation), seed)


def info_for(model: LinearAutoencoder, **changes: object) -> ModelInfo:
    config = TrainConfig(latent_dim=model.latent_dim, activation=model.activation, epochs=7, lr=0.003, seed=5)
    fields = dict(
        latent_dim=model.latent_dim,
        activation=model.activation,
        epochs=7,
        test_mse=0.0123456789,
        config=config,
        name="my model ✓",
        seconds=12.5,
    )
    return ModelInfo(**{**fields, **changes})


def metadata_of(data: bytes) -> dict[str, str]:
    header_len = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + header_len])["__metadata__"]


def resave(data: bytes, tensors: dict[str, torch.Tensor] | None = None, **meta_changes: str) -> bytes:
    """The same file rewritten with other tensors and/or changed metadata."""
    meta = {**metadata_of(data), **meta_changes}
    return st_save(st_load(data) if tensors is None else tensors, metadata=meta)


@pytest.fixture(scope="module")
def good_bytes() -> bytes:
    model = trained_like()
    return model_to_bytes(model, info_for(model))


def refused(data: bytes, match: str | None = None) -> str:
    with pytest.raises(ModelFileError, match=match) as excinfo:
        model_from_bytes(data)
    return str(excinfo.value)


@pytest.mark.parametrize(("latent_dim", "activation"), [(1, "none"), (32, "none"), (8, "relu"), (784, "relu")])
def test_round_trip_through_a_file(tmp_path: Path, latent_dim: int, activation: str) -> None:
    model = trained_like(latent_dim, activation, seed=latent_dim)
    info = info_for(model)
    path = save_model(model, info, tmp_path / "sub" / "model.safetensors")
    assert path.is_file() and path.stat().st_size <= MAX_FILE_BYTES
    loaded, loaded_info = load_model(path)
    assert isinstance(loaded, LinearAutoencoder) and not loaded.training
    assert (loaded.latent_dim, loaded.activation) == (latent_dim, activation)
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    x = torch.rand(3, 784)
    assert torch.equal(loaded(x), model(x))
    assert loaded_info == info  # every field, the training settings included


def test_round_trip_through_bytes_with_optional_fields_empty(good_bytes: bytes) -> None:
    model = trained_like(4)
    info = ModelInfo(latent_dim=4, activation="none", epochs=0, test_mse=None, config=None)
    loaded, loaded_info = model_from_bytes(model_to_bytes(model, info))
    assert loaded_info == info
    assert torch.equal(loaded.encoder.weight, model.encoder.weight)


def test_a_long_name_is_cut(good_bytes: bytes) -> None:
    _, info = model_from_bytes(resave(good_bytes, name="n" * 500))
    assert info.name == "n" * 80


def test_unreadable_informative_metadata_is_dropped_not_fatal(good_bytes: bytes) -> None:
    _, info = model_from_bytes(resave(good_bytes, test_mse="abc", seconds="nan", epochs="x", config="{not json"))
    assert (info.test_mse, info.seconds, info.epochs, info.config) == (None, None, 0, None)
    assert info.latent_dim == 32


def test_half_precision_weights_load_as_float32(good_bytes: bytes) -> None:
    tensors = {k: v.half() for k, v in st_load(good_bytes).items()}
    model, _ = model_from_bytes(resave(good_bytes, tensors))
    assert model.encoder.weight.dtype == torch.float32
    torch.testing.assert_close(model.encoder.weight, tensors["encoder.weight"].float())


def test_empty_file_is_refused(tmp_path: Path) -> None:
    refused(b"", "empty")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        load_model(tmp_path / "empty.safetensors")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="Cannot read"):
        load_model(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [3, 100, 5000])
def test_random_bytes_are_refused(seed: int, size: int) -> None:
    data = random.Random(seed * 1000 + size).randbytes(size)
    refused(data)


@pytest.mark.parametrize("keep", [1, 7, 8, 20, 0.5, -1])
def test_truncated_file_is_refused(good_bytes: bytes, keep: float) -> None:
    cut = int(len(good_bytes) * keep) if isinstance(keep, float) else keep % len(good_bytes)
    message = refused(good_bytes[:cut])
    assert "truncated" in message or "not a safetensors" in message


def test_torch_save_archives_are_refused(tmp_path: Path) -> None:
    model = trained_like(8)
    for legacy in (False, True):
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf, _use_new_zipfile_serialization=not legacy)
        refused(buf.getvalue(), "pickle")
        path = tmp_path / f"model{legacy}.pt"
        path.write_bytes(buf.getvalue())
        with pytest.raises(ModelFileError, match="never opens pickles"):
            load_model(path)


class _TouchOnLoad:
    """Unpickling this creates a file: the proof that code from the file ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickles_are_refused_and_never_run(tmp_path: Path, protocol: int) -> None:
    # First show the payload is live: plain unpickling does create its file.
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_TouchOnLoad(probe), protocol=protocol)).close()
    assert probe.exists()

    marker = tmp_path / "marker"
    payload = pickle.dumps({"encoder.weight": _TouchOnLoad(marker)}, protocol=protocol)
    message = refused(payload)
    if protocol >= 2:
        assert "pickle" in message
    path = tmp_path / "model.pth"
    path.write_bytes(payload)
    with pytest.raises(ModelFileError):
        load_model(path)
    buf = io.BytesIO()
    torch.save({"weights": _TouchOnLoad(marker)}, buf)  # the same payload inside a torch.save archive
    refused(buf.getvalue(), "pickle")
    assert not marker.exists()


def test_foreign_safetensors_file_is_refused() -> None:
    data = st_save({"weight": torch.zeros(3, 3), "bias": torch.zeros(3)})
    refused(data, "not made by this app")
    # Our tensor names but no metadata is still not ours.
    refused(st_save(trained_like(4).state_dict()), "not made by this app")


def test_wrong_tensor_shapes_are_refused(good_bytes: bytes) -> None:
    tensors = st_load(good_bytes)
    tensors["encoder.weight"] = torch.zeros(10, 784)  # the metadata says k = 32
    message = refused(resave(good_bytes, tensors), "encoder.weight")
    assert "(10, 784)" in message and "(32, 784)" in message


def test_wrong_or_extra_tensor_names_are_refused(good_bytes: bytes) -> None:
    tensors = st_load(good_bytes)
    refused(resave(good_bytes, {**tensors, "extra": torch.zeros(1)}), "extra")
    del tensors["decoder.bias"]
    refused(resave(good_bytes, tensors), "decoder.bias")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights_are_refused(good_bytes: bytes, value: float) -> None:
    tensors = st_load(good_bytes)
    tensors["decoder.weight"][5, 3] = value
    refused(resave(good_bytes, tensors), "NaN or infinite")


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    refused(b"\0" * (MAX_FILE_BYTES + 1), "at most")
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ModelFileError, match="at most"):
        load_model(path)


def test_largest_real_model_fits_the_limit() -> None:
    model = trained_like(784)
    assert len(model_to_bytes(model, info_for(model))) < MAX_FILE_BYTES


@pytest.mark.parametrize("version", [str(FORMAT_VERSION + 1), "99", "", "1.0", "x", "²"])
def test_newer_or_bad_format_version_is_refused(good_bytes: bytes, version: str) -> None:
    refused(resave(good_bytes, format_version=version), "format version")


@pytest.mark.parametrize("latent_dim", ["0", "785", "abc", ""])
def test_bad_latent_size_in_metadata_is_refused(good_bytes: bytes, latent_dim: str) -> None:
    refused(resave(good_bytes, latent_dim=latent_dim), "settings are invalid")


def test_bad_activation_in_metadata_is_refused(good_bytes: bytes) -> None:
    refused(resave(good_bytes, activation="tanh"), "settings are invalid")


@pytest.mark.parametrize(
    "header",
    [
        {"__metadata__": ["x"]},
        {"__metadata__": "x"},
        {"__metadata__": {"format": "linear-autoencoder", "format_version": 1}},
        {"__metadata__": {"format": "linear-autoencoder", "format_version": "1", "latent_dim": [4]}},
        [],
        None,
        "x",
    ],
    ids=["meta-list", "meta-str", "version-int", "latent-list", "header-list", "header-null", "header-str"],
)
def test_hand_made_headers_are_refused_with_model_file_error(header: object) -> None:
    """A crafted header must give ModelFileError, never an AttributeError or TypeError from deep inside."""
    raw = json.dumps(header).encode()
    refused(struct.pack("<Q", len(raw)) + raw)


def test_loading_does_not_change_the_bytes_or_the_file(tmp_path: Path, good_bytes: bytes) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(good_bytes)
    mtime = os.stat(path).st_mtime_ns
    load_model(path)
    assert path.read_bytes() == good_bytes and os.stat(path).st_mtime_ns == mtime


def raw_file(header: bytes, body: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + body


@pytest.mark.parametrize("depth", [2_000, 50_000])
def test_deeply_nested_header_is_refused_not_a_crash(depth: int) -> None:
    """json.loads raises RecursionError on deep nesting; the user must get the model-file error instead."""
    nested = b"[" * depth + b"]" * depth
    refused(raw_file(b'{"x": ' + nested + b"}"))


def test_header_over_the_cap_is_refused_before_parsing(good_bytes: bytes) -> None:
    header = json.dumps({"__metadata__": {"format": "linear-autoencoder", "pad": "x" * MAX_HEADER_BYTES}}).encode()
    assert "header" in refused(raw_file(header, b"\0" * 16))
    assert struct.unpack("<Q", good_bytes[:8])[0] < MAX_HEADER_BYTES // 16, "real headers are far under the cap"


def test_deeply_nested_settings_are_ignored_and_the_weights_load(good_bytes: bytes) -> None:
    depth = 5_000
    model, info = model_from_bytes(resave(good_bytes, config="[" * depth + "]" * depth))
    assert info.config is None and model.latent_dim == 32
    model, info = model_from_bytes(resave(good_bytes, config='["not", "a", "table"]'))
    assert info.config is None


def test_hostile_values_in_error_messages_are_cut_short(good_bytes: bytes) -> None:
    message = refused(resave(good_bytes, format_version="[x](https://evil.example)" * 500))
    assert len(message) < 200
    message = refused(resave(good_bytes, activation="![p](https://evil.example/p.png)" * 500))
    assert len(message) < 300


def test_an_unexpected_failure_is_still_a_model_file_error(good_bytes: bytes, monkeypatch) -> None:
    def boom(data: bytes) -> dict:
        raise KeyError("/srv/secret/path.py")

    monkeypatch.setattr("model.checkpoint.st_load", boom)
    assert "/srv" not in refused(good_bytes, "could not be read")


def test_a_linear_output_model_round_trips_and_keeps_its_unclipped_outputs(tmp_path: Path) -> None:
    model = init_weights(LinearAutoencoder(8, "none", "linear"), 3)
    with torch.no_grad():
        model.decoder.bias.fill_(2.0)  # outputs well above 1: a sigmoid on loading would squash them
    info = info_for(model, output="linear", config=TrainConfig(latent_dim=8, output="linear"))
    data = model_to_bytes(model, info)
    assert metadata_of(data)["output"] == "linear"
    loaded, loaded_info = model_from_bytes(data)
    assert loaded.output == "linear" and loaded_info.output == "linear"
    assert loaded_info.config is not None and loaded_info.config.output == "linear"
    x = torch.rand(3, 784)
    with torch.no_grad():
        assert float(loaded(x).max()) > 1.0
        assert torch.equal(loaded(x), model(x))


def test_files_from_before_the_output_setting_are_sigmoid_models(good_bytes: bytes) -> None:
    meta = metadata_of(good_bytes)
    meta.pop("output")
    config = json.loads(meta["config"])
    config.pop("output")
    meta["config"] = json.dumps(config)
    old = st_save(st_load(good_bytes), metadata=meta)
    loaded, info = model_from_bytes(old)
    assert loaded.output == "sigmoid" and info.output == "sigmoid" and info.config.output == "sigmoid"
    with torch.no_grad():
        assert float(loaded(torch.rand(2, 784)).max()) <= 1.0


def test_an_unknown_output_is_refused_with_the_choices(good_bytes: bytes) -> None:
    message = refused(resave(good_bytes, output="tanh"), match="output")
    assert "sigmoid" in message and "linear" in message
