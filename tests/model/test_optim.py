"""FlatAdam against torch.optim.Adam, the trusted reference, in both its fused and plain forms."""

from __future__ import annotations

import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.fast.optim import FlatAdam
from model.train import init_weights


def run_steps(opt_factory, steps: int = 25, lr_schedule=(0.01, 0.003)) -> dict[str, torch.Tensor]:
    """Seeded model, random gradients each step, a learning rate that changes halfway; final weights."""
    model = init_weights(LinearAutoencoder(8), seed=1).double()
    opt = opt_factory(model)
    gen = torch.Generator().manual_seed(2)
    for i in range(steps):
        lr = lr_schedule[0] if i < steps // 2 else lr_schedule[1]
        if isinstance(opt, FlatAdam):
            opt.lr = lr
        else:
            for group in opt.param_groups:
                group["lr"] = lr
        for p in model.parameters():
            grad = torch.randn(p.shape, generator=gen, dtype=p.dtype)
            if p.grad is None:
                p.grad = grad
            else:  # FlatAdam's .grad is a view of its flat buffer: fill it, do not replace it
                p.grad.copy_(grad)
        opt.step()
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("transposed", [False, True], ids=["row-major", "encoder-column-major"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
def test_flat_adam_matches_torch_adam(fused: bool, transposed: bool) -> None:
    def make(m):
        return FlatAdam(m, lr=0.01, fused=fused, transposed=(m.encoder.weight,) if transposed else ())

    ours = run_steps(make)
    ref = run_steps(lambda m: torch.optim.Adam(m.parameters(), lr=0.01))
    start = init_weights(LinearAutoencoder(8), seed=1).double().state_dict()
    for name, value in ref.items():
        assert not torch.allclose(value, start[name])  # the steps really moved every parameter
        torch.testing.assert_close(ours[name], value, rtol=1e-9, atol=1e-12, msg=lambda m, n=name: f"{n}: {m}")


def test_fused_kernel_is_used_when_available() -> None:
    model = LinearAutoencoder(4)
    assert FlatAdam(model, lr=0.1).fused == hasattr(torch, "_fused_adam_")
    assert FlatAdam(LinearAutoencoder(4), lr=0.1, fused=False).fused is False


def test_parameters_become_views_of_the_flat_buffer() -> None:
    model = LinearAutoencoder(4)
    opt = FlatAdam(model, lr=0.1)
    opt.flat.fill_(0.5)
    opt.flat_grad.fill_(0.25)
    for p in model.parameters():
        assert bool((p == 0.5).all()) and bool((p.grad == 0.25).all())


def test_transposed_parameters_keep_their_values_and_shapes() -> None:
    model = init_weights(LinearAutoencoder(5), seed=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = FlatAdam(model, lr=0.1, transposed=(model.encoder.weight,))
    weight = model.encoder.weight
    assert weight.shape == (5, 784) and weight.t().is_contiguous() and not weight.is_contiguous()
    assert weight.grad.shape == weight.shape and weight.grad.stride() == weight.stride()
    assert weight.data_ptr() >= opt.flat.data_ptr()
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
