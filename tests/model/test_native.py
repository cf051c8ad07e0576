"""The fused C kernels against the eager PyTorch code they replace, and every way of falling back to it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.autoencoder import LinearAutoencoder
from model.config import TrainConfig
from model.data import unit_float
from model.fast import native
from model.fast.batches import ShuffledBatches
from model.fast.gradients import MseGradients
from model.fast.optim import FlatAdam
from model.fast.score import squared_error_sum
from model.train import Trainer, evaluate_mse, init_weights

ROOT = Path(__file__).resolve().parents[2]
needs_cc = pytest.mark.skipif(native.library() is None, reason=f"the C kernels are unavailable: {native.last_error}")


@pytest.fixture
def fresh_library(monkeypatch, tmp_path):
    """A process that has not looked for the kernels yet, with its own cache; the old answer restored after."""
    monkeypatch.setenv(native.ENV_CACHE, str(tmp_path / "cache"))
    native.forget()
    yield tmp_path / "cache"
    monkeypatch.undo()
    native.forget()
    native.library()


def eager(monkeypatch) -> None:
    monkeypatch.setenv(native.ENV_SWITCH, "0")


def make_model(activation: str = "none", output: str = "sigmoid", k: int = 16, spread: float = 4.0):
    model = init_weights(LinearAutoencoder(k, activation, output), seed=5)
    with torch.no_grad():  # weights spread so that outputs cover the sigmoid's whole range, saturation included
        for p in model.parameters():
            p.mul_(spread)
    return model


def step_results(model: LinearAutoencoder, inputs: torch.Tensor, target: torch.Tensor, steps: int = 1):
    """Loss and gradients of `steps` steps of the trainer's MseGradients and FlatAdam (lr 0.01)."""
    opt = FlatAdam(model, lr=0.01, transposed=(model.encoder.weight,))
    grads = MseGradients(model, inputs.shape[0])
    losses = []
    for _ in range(steps):
        losses.append(float(grads(inputs, target)))
        opt.step()
    return losses, {n: p.grad.clone() for n, p in model.named_parameters()}, model.state_dict()


@needs_cc
@pytest.mark.parametrize("output", ["sigmoid", "linear"])
@pytest.mark.parametrize("activation", ["none", "relu"])
def test_fused_step_matches_the_eager_step(monkeypatch, activation: str, output: str) -> None:
    gen = torch.Generator().manual_seed(1)
    target = torch.rand(100, 784, generator=gen)
    inputs = (target + 0.2 * torch.randn(100, 784, generator=gen)).clamp(0, 1)  # a denoiser's: input != target
    fused = step_results(make_model(activation, output), inputs, target)
    assert MseGradients(make_model(activation, output), 8)._native is not None  # the C path really ran
    eager(monkeypatch)
    assert MseGradients(make_model(activation, output), 8)._native is None
    ref = step_results(make_model(activation, output), inputs, target)
    assert fused[0][0] == pytest.approx(ref[0][0], rel=1e-5)
    for name, grad in ref[1].items():
        assert float(grad.abs().max()) > 0, name
        torch.testing.assert_close(fused[1][name], grad, rtol=1e-4, atol=1e-7, msg=lambda m, n=name: f"{n}: {m}")
    for name, value in ref[2].items():  # one Adam step from the same gradients
        torch.testing.assert_close(fused[2][name], value, rtol=1e-5, atol=1e-6, msg=lambda m, n=name: f"{n}: {m}")


@needs_cc
def test_saturated_logits_and_nan_behave_as_eager() -> None:
    model = make_model(spread=400.0)  # logits in the thousands: sigmoid exactly 0 or 1 in float32
    x = torch.rand(32, 784, generator=torch.Generator().manual_seed(2))
    losses, grads, _ = step_results(model, x, x)
    assert 0.1 < losses[0] < 1.0 and all(bool(torch.isfinite(g).all()) for g in grads.values())
    with torch.no_grad():
        model.decoder.bias[3] = float("nan")
    assert torch.isnan(MseGradients(model, 32)(x, x))  # divergence detection relies on a NaN loss


@needs_cc
def test_adam_matches_torch_adam_over_many_steps(monkeypatch) -> None:
    def run(native_on: bool) -> dict[str, torch.Tensor]:
        model = make_model(spread=1.0)
        opt = FlatAdam(model, lr=0.003, transposed=(model.encoder.weight,), use_native=native_on)
        assert (opt._native is not None) == native_on
        gen = torch.Generator().manual_seed(4)
        for _ in range(30):
            opt.flat_grad.copy_(torch.randn(opt.flat_grad.shape, generator=gen))
            opt.step()
        return {k: v.clone() for k, v in model.state_dict().items()}

    ours, ref = run(True), run(False)
    start = make_model(spread=1.0).state_dict()
    for name, value in ref.items():
        assert not torch.allclose(value, start[name])
        torch.testing.assert_close(ours[name], value, rtol=1e-5, atol=1e-6)


@needs_cc
@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_fused_score_matches_a_float64_reference(output: str) -> None:
    model = make_model(output=output, spread=1.0)
    gen = torch.Generator().manual_seed(6)
    pixels = torch.randint(0, 256, (2300, 784), dtype=torch.uint8, generator=gen)  # more than one chunk
    clean = unit_float(pixels)  # exactly bytes: read through its uint8 copy
    noisy = (clean + 0.1 * torch.randn(clean.shape, generator=gen)).clamp(0, 1)  # not bytes: read as floats
    for images, targets in ((clean, None), (noisy, clean)):
        fused = squared_error_sum(model, images, targets)
        assert fused is not None
        want = clean.double()
        with torch.no_grad():
            ref = float(((model.double()(images.double()) - want) ** 2).sum())
        model.float()
        assert fused == pytest.approx(ref, rel=1e-6)
        assert evaluate_mse(model, images, targets) == pytest.approx(ref / clean.numel(), rel=1e-6)


def test_score_falls_back_where_the_kernels_cannot_go(monkeypatch) -> None:
    model = make_model(spread=1.0)
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(7))
    assert squared_error_sum(model.double(), x.double()) is None  # float64: the eager loop's
    assert squared_error_sum(model.float(), x.t().contiguous().t()) is None  # not contiguous
    eager(monkeypatch)
    assert squared_error_sum(model, x) is None
    assert evaluate_mse(model, x) > 0


@needs_cc
def test_byte_conversion_is_bitwise_the_loaders() -> None:
    pixels = torch.arange(256, dtype=torch.uint8).repeat(3)
    ours = torch.empty(pixels.shape)
    native.library().unit_float(pixels.data_ptr(), ours.data_ptr(), pixels.numel())
    assert torch.equal(ours.view(torch.int32), unit_float(pixels).view(torch.int32))


@needs_cc
def test_batches_are_the_same_with_and_without_the_kernels(monkeypatch) -> None:
    images = unit_float(
        torch.randint(0, 256, (300, 784), dtype=torch.uint8, generator=torch.Generator().manual_seed(8))
    )
    fused_batches = ShuffledBatches(images, 64, seed=3)
    assert fused_batches._native is not None
    fused = [b.clone() for b in fused_batches.epoch()]
    eager(monkeypatch)
    plain = ShuffledBatches(images, 64, seed=3)
    assert plain._native is None
    for ours, ref in zip(fused, plain.epoch(), strict=True):
        assert torch.equal(ours.view(torch.int32), ref.view(torch.int32))


@needs_cc
def test_a_short_run_learns_the_same_with_and_without_the_kernels(monkeypatch) -> None:
    gen = torch.Generator().manual_seed(9)
    basis = torch.rand(10, 784, generator=gen)
    images = unit_float((torch.rand(1200, 10, generator=gen) @ basis / 5 * 255).clamp(0, 255).to(torch.uint8))
    config = TrainConfig(latent_dim=8, epochs=3, batch_size=64, lr=0.01)

    def run():
        snap = Trainer(config, images[:1000], images[1000:], device=torch.device("cpu")).run()
        assert snap.status == "done"
        return snap

    fused = run()
    eager(monkeypatch)
    ref = run()
    assert ref.train_loss[-1] < 0.85 * ref.train_loss[0]  # it learned: the comparison is not of two flat lines
    torch.testing.assert_close(fused.train_loss, ref.train_loss, rtol=2e-3, atol=1e-5)
    assert fused.test_mse == pytest.approx(ref.test_mse, rel=2e-3)


def test_the_switch_turns_the_kernels_off(monkeypatch) -> None:
    eager(monkeypatch)
    assert native.library() is None
    model = make_model()
    assert MseGradients(model, 4)._native is None
    assert FlatAdam(model, lr=0.1)._native is None


def test_cuda_or_any_non_cpu_tensor_goes_eager() -> None:
    on_meta = torch.empty(4, 784, device="meta")  # stands in for CUDA: the check is on the device type
    assert native.usable(on_meta) is None
    assert native.usable(torch.empty(4, 784, dtype=torch.float64)) is None
    assert native.usable(torch.empty(784, 4).t()) is None


def test_no_compiler_means_eager(monkeypatch, fresh_library) -> None:
    monkeypatch.setenv("CC", "no-such-compiler-anywhere")
    assert native.library() is None
    assert "compiler" in native.last_error
    assert MseGradients(make_model(), 4)._native is None


def test_a_failed_build_means_eager(monkeypatch, fresh_library, tmp_path) -> None:
    failing = tmp_path / "broken-cc"
    failing.write_text("#!/bin/sh\necho 'cc: internal error' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setenv("CC", str(failing))
    assert native.library() is None
    assert "did not build" in native.last_error and "internal error" in native.last_error
    assert not any(fresh_library.glob("*.so"))  # no half-written library left behind


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_racing_processes_build_one_library(fresh_library) -> None:
    """Several engine workers starting at once: each builds into a temporary file, one library stays."""
    code = "from model.fast import native; import sys; sys.exit(0 if native.library() is not None else 1)"
    env = {**os.environ, native.ENV_CACHE: str(fresh_library), "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert len(list(fresh_library.glob("kernels-*.so"))) == 1
    assert [p.name for p in fresh_library.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_the_cache_key_follows_source_compiler_and_machine(monkeypatch) -> None:
    key = native.library_key("/usr/bin/cc", b"int x;")
    assert native.library_key("/usr/bin/cc", b"int y;") != key
    assert native.library_key("/usr/bin/gcc-13", b"int x;") != key
    monkeypatch.setattr(native, "machine_identity", lambda: "another CPU")
    assert native.library_key("/usr/bin/cc", b"int x;") != key


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_a_compiler_without_march_native_gets_the_portable_build(monkeypatch, fresh_library, tmp_path) -> None:
    picky = tmp_path / "picky-cc"
    picky.write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = -march=native ] && exit 1; done\nexec {shutil.which("cc")} "$@"\n'
    )
    picky.chmod(0o755)
    monkeypatch.setenv("CC", str(picky))
    lib = native.library()
    assert lib is not None, native.last_error
    x = torch.rand(8, 784)
    assert MseGradients(make_model(), 8)(x, x) > 0


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_a_damaged_library_is_built_anew(fresh_library) -> None:
    """Checked in fresh processes: one that has loaded a library keeps using it whatever the file holds."""
    code = "from model.fast import native; import sys; sys.exit(0 if native.library() is not None else 1)"
    env = {**os.environ, native.ENV_CACHE: str(fresh_library), "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, timeout=120).returncode == 0
    (built,) = fresh_library.glob("kernels-*.so")
    built.write_bytes(b"not a shared object")
    assert subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, timeout=120).returncode == 0
    assert built.read_bytes()[:4] == b"\x7fELF"
