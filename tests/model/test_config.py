"""TrainConfig: defaults are valid, bad values are refused with a message, JSON round-trips."""

from __future__ import annotations

import json

import pytest

from model.config import TrainConfig


def test_defaults_and_classic_recipe() -> None:
    config = TrainConfig()
    assert (config.latent_dim, config.activation, config.noise, config.max_seconds) == (32, "none", "none", None)
    classic = TrainConfig.classic()
    assert (classic.activation, classic.lr, classic.batch_size, classic.epochs) == ("relu", 0.001, 20, 20)
    assert classic.schedule == "constant"
    assert TrainConfig.classic(latent_dim=8).latent_dim == 8


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"latent_dim": 0}, "1 to 784"),
        ({"latent_dim": 785}, "1 to 784"),
        ({"activation": "tanh"}, "activation"),
        ({"output": "tanh"}, "output"),
        ({"epochs": 0}, "Epochs"),
        ({"epochs": 201}, "Epochs"),
        ({"epochs": True}, "Epochs"),
        ({"batch_size": 0}, "Batch size"),
        ({"batch_size": 2.5}, "Batch size"),
        ({"lr": -0.1}, "Learning rate"),
        ({"lr": float("nan")}, "Learning rate"),
        ({"lr": float("inf")}, "Learning rate"),
        ({"lr": 1e38}, "Learning rate"),
        ({"bias_init": "zeros"}, "Bias init"),
        ({"schedule": "linear"}, "Schedule"),
        ({"max_seconds": 0}, "time budget"),
        ({"max_seconds": -5.0}, "time budget"),
        ({"noise": "speckle"}, "Noise type"),
        ({"noise": "gaussian", "noise_level": 2.0}, "between 0 and 1"),
    ],
)
def test_bad_values_are_refused(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TrainConfig(**changes)
    with pytest.raises(ValueError, match=match):
        TrainConfig().with_(**changes)  # with_ validates again


def test_json_round_trip_ignores_unknown_keys() -> None:
    config = TrainConfig(latent_dim=7, activation="relu", noise="dropout", noise_level=0.25, max_seconds=3.0)
    data = json.loads(config.to_json())
    assert TrainConfig.from_dict(data) == config
    assert TrainConfig.from_dict({**data, "from_a_newer_version": 1}) == config
    assert TrainConfig.from_dict({"latent_dim": 5}) == TrainConfig(latent_dim=5)


def test_the_output_defaults_to_sigmoid_and_round_trips() -> None:
    assert TrainConfig().output == "sigmoid"
    config = TrainConfig(output="linear")
    assert TrainConfig.from_dict(json.loads(config.to_json())) == config
    assert TrainConfig.from_dict({"latent_dim": 5}).output == "sigmoid"  # settings saved before it existed
