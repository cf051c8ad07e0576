"""The autoencoder's shapes, output range and argument checks."""

from __future__ import annotations

import pytest
import torch

from model.autoencoder import INPUT_DIM, LinearAutoencoder


@pytest.mark.parametrize("activation", ["none", "relu"])
@pytest.mark.parametrize("latent_dim", [1, 7, 32, 784])
def test_shapes_and_output_range(latent_dim: int, activation: str) -> None:
    torch.manual_seed(0)
    model = LinearAutoencoder(latent_dim, activation)
    x = torch.rand(5, INPUT_DIM)
    code = model.encode(x)
    assert code.shape == (5, latent_dim)
    out = model(x)
    assert out.shape == (5, INPUT_DIM)
    assert out.dtype == torch.float32
    assert bool(((out >= 0) & (out <= 1)).all())
    assert torch.allclose(model.decode(code), out)
    assert torch.allclose(torch.sigmoid(model.decode_logits(code)), out)


def test_output_stays_in_range_for_extreme_inputs() -> None:
    torch.manual_seed(0)
    model = LinearAutoencoder(16)
    x = torch.cat([torch.full((1, INPUT_DIM), 1e4), torch.full((1, INPUT_DIM), -1e4), torch.zeros(1, INPUT_DIM)])
    out = model(x)
    assert torch.isfinite(out).all()
    assert bool(((out >= 0) & (out <= 1)).all())


def test_relu_codes_are_non_negative_and_linear_codes_are_not() -> None:
    torch.manual_seed(0)
    linear = LinearAutoencoder(32, "none")
    relu = LinearAutoencoder(32, "relu")
    relu.load_state_dict(linear.state_dict())
    x = torch.rand(64, INPUT_DIM)
    plain = linear.encode(x)
    assert bool((plain < 0).any())  # otherwise the ReLU check below proves nothing
    assert bool((relu.encode(x) >= 0).all())
    assert torch.equal(relu.encode(x), plain.clamp(min=0))


def test_describe() -> None:
    assert LinearAutoencoder(32).describe() == "k=32 linear"
    assert LinearAutoencoder(8, "relu").describe() == "k=8 ReLU"


@pytest.mark.parametrize("bad", [0, -1, 785, 10_000, "x", "32", 3.0, True, False, None])
def test_bad_latent_sizes_are_rejected_naming_the_range(bad: object) -> None:
    with pytest.raises(ValueError, match="1 to 784"):
        LinearAutoencoder(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["sigmoid", "", "RELU", None])
def test_bad_activation_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="none, relu"):
        LinearAutoencoder(8, bad)  # type: ignore[arg-type]
