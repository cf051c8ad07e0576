"""The hand-written backward pass against autograd, the trusted reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from model.autoencoder import LinearAutoencoder
from model.fast.gradients import MseGradients, set_mse_gradients
from model.fast.optim import FlatAdam
from model.noise import add_noise
from model.train import init_weights


def autograd_reference(model: LinearAutoencoder, inputs: torch.Tensor, target: torch.Tensor):
    """Loss and gradients from autograd on an independent copy of the model."""
    ref = LinearAutoencoder(model.latent_dim, model.activation, model.output).to(inputs.dtype)
    ref.load_state_dict(model.state_dict())
    loss = F.mse_loss(ref(inputs), target)
    loss.backward()
    return loss.detach(), {name: p.grad.clone() for name, p in ref.named_parameters()}


def make_case(
    activation: str, dtype: torch.dtype, denoise: bool, k: int = 16, batch: int = 48, output: str = "sigmoid"
):
    gen = torch.Generator().manual_seed(3)
    model = init_weights(LinearAutoencoder(k, activation, output), seed=5).to(dtype)
    with torch.no_grad():  # spread the weights so codes and outputs cover a real range
        for p in model.parameters():
            p.mul_(4.0)
    target = torch.rand(batch, 784, generator=gen, dtype=torch.float32).to(dtype)
    inputs = add_noise(target, "gaussian", 0.3, seed=9) if denoise else target
    return model, inputs, target


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
@pytest.mark.parametrize("denoise", [False, True], ids=["autoencode", "denoise"])
@pytest.mark.parametrize("activation", ["none", "relu"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_gradients_match_autograd(activation: str, dtype: torch.dtype, denoise: bool, output: str) -> None:
    model, inputs, target = make_case(activation, dtype, denoise, output=output)
    if output == "linear":
        with torch.no_grad():
            out = model(inputs)
        assert float(out.min()) < 0 or float(out.max()) > 1  # outside [0, 1]: a sigmoid would change it
    if denoise:
        assert not torch.equal(inputs, target)
    if activation == "relu":
        code = model.encoder(inputs)
        assert bool((code < 0).any()) and bool((code > 0).any())  # the ReLU mask matters
    ref_loss, ref_grads = autograd_reference(model, inputs, target)
    loss = set_mse_gradients(model, inputs, target)
    tol = {"rtol": 1e-10, "atol": 1e-13} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-7}
    assert loss.dim() == 0
    torch.testing.assert_close(loss, ref_loss, **tol)
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.shape == p.shape, name
        assert float(ref_grads[name].abs().max()) > 0, name  # a zero gradient would make the check vacuous
        torch.testing.assert_close(p.grad, ref_grads[name], **tol, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("stale", [123.0, float("nan")])
def test_gradients_are_replaced_not_accumulated(stale: float) -> None:
    """Old contents never leak in, not even NaN: the weight products overwrite their buffer with beta=0."""
    model, inputs, target = make_case("none", torch.float64, denoise=False)
    for p in model.parameters():
        p.grad = torch.full_like(p, stale)  # stale values from an earlier step
    set_mse_gradients(model, inputs, target)
    first = {name: p.grad.clone() for name, p in model.named_parameters()}
    set_mse_gradients(model, inputs, target)
    _, ref = autograd_reference(model, inputs, target)
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, first[name])
        torch.testing.assert_close(p.grad, ref[name])


def test_parameters_and_inputs_are_not_modified() -> None:
    model, inputs, target = make_case("relu", torch.float32, denoise=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    inputs_before, target_before = inputs.clone(), target.clone()
    set_mse_gradients(model, inputs, target)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert torch.equal(inputs, inputs_before)
    assert torch.equal(target, target_before)


def test_workspace_handles_short_batches_and_writes_the_loss_where_asked() -> None:
    """The last batch of an epoch is shorter; losses land in the caller's curve, not a shared buffer."""
    model, inputs, target = make_case("relu", torch.float64, denoise=True, batch=48)
    grads = MseGradients(model, max_batch=48)
    curve = torch.zeros(2, dtype=torch.float64)
    grads(inputs, target, loss_out=curve[0])
    grads(inputs[:17], target[:17], loss_out=curve[1])  # a short batch after a full one
    ref_full, _ = autograd_reference(model, inputs, target)
    ref_short, ref_grads = autograd_reference(model, inputs[:17], target[:17])
    assert float(ref_full) != pytest.approx(float(ref_short))
    torch.testing.assert_close(curve, torch.stack([ref_full, ref_short]))
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, ref_grads[name], msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
@pytest.mark.parametrize("transposed", [False, True], ids=["row-major", "encoder-column-major"])
def test_gradients_into_a_flat_optimizer_buffer_match_autograd(transposed: bool, output: str) -> None:
    """Gradients written into FlatAdam's views (the encoder's column-major or not) keep their values."""
    model, inputs, target = make_case("relu", torch.float64, denoise=True, output=output)
    ref_loss, ref_grads = autograd_reference(model, inputs, target)
    opt = FlatAdam(model, lr=0.01, transposed=(model.encoder.weight,) if transposed else ())
    opt.flat_grad.fill_(float("nan"))  # a product with beta=0 must not read what the buffer held
    grads = MseGradients(model, max_batch=inputs.shape[0])
    torch.testing.assert_close(grads(inputs, target), ref_loss)
    for name, p in model.named_parameters():
        assert p.grad.data_ptr() >= opt.flat_grad.data_ptr()  # still a view of the buffer, not replaced
        torch.testing.assert_close(p.grad, ref_grads[name], msg=lambda m, n=name: f"{n}: {m}")


def test_an_optimiser_made_afterwards_is_followed() -> None:
    """FlatAdam moves parameters and gradients into new buffers; views cached before that must not be used."""
    model, inputs, target = make_case("none", torch.float64, denoise=False)
    grads = MseGradients(model, max_batch=inputs.shape[0])
    grads(inputs, target)  # caches views of the original storage
    opt = FlatAdam(model, lr=0.01, transposed=(model.encoder.weight,))
    loss = grads(inputs, target).clone()
    ref_loss, ref_grads = autograd_reference(model, inputs, target)
    torch.testing.assert_close(loss, ref_loss)
    assert all(p.grad._base is opt.flat_grad for p in model.parameters())
    assert bool((opt.flat_grad != 0).all())  # written into the new buffer (made as zeros), not the old storage
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, ref_grads[name], msg=lambda m, n=name: f"{n}: {m}")


def test_linear_output_gradients_differ_from_the_sigmoids() -> None:
    """The same weights give other gradients without the sigmoid: the output setting is not ignored."""
    sig, inputs, target = make_case("none", torch.float64, denoise=False)
    lin, _, _ = make_case("none", torch.float64, denoise=False, output="linear")
    set_mse_gradients(sig, inputs, target)
    set_mse_gradients(lin, inputs, target)
    assert not torch.allclose(sig.decoder.weight.grad, lin.decoder.weight.grad)
    torch.testing.assert_close(lin(inputs), lin.decoder(lin.encoder(inputs)))  # no squashing at all
