"""Hand-derived gradients of the reconstruction MSE, written into preallocated buffers.

The trainer's steps are small (a batch of 256 through a 784-k-784 model), so per-step overhead rivals the
arithmetic: autograd's graph, fresh 800 KB allocations for every intermediate, and copies of each
gradient into the optimiser's buffer. Writing the backward pass out (two matmuls forward, three back)
with every result going `out=` into buffers made once removes most of it. On the CPU the elementwise work between
the products is two C passes (model/fast/kernels.c) instead of about ten PyTorch operations.
tests/model/test_gradients.py checks every gradient against autograd, test_native.py the C passes against eager.
"""

from __future__ import annotations

import torch

from model.autoencoder import INPUT_DIM, Activation, LinearAutoencoder, Output
from model.fast import native
from model.fast.grad_mode import no_grad_unless_off


class MseGradients:
    """One training step's forward and backward pass for `model`, for batches of up to `max_batch` rows.

    Each call overwrites every parameter's .grad in place (so .grad may be a view of a flat optimiser
    buffer) and returns the batch's MSE as a 0-dim tensor. Without `loss_out` the returned loss is reused
    by the next call: copy it if it must outlive that.
    """

    def __init__(self, model: LinearAutoencoder, max_batch: int) -> None:
        self.model = model
        self.relu = model.activation == Activation.RELU
        self.sigmoid = model.output == Output.SIGMOID  # a linear output's d loss / d out is the logits' gradient
        self._params = (model.encoder.weight, model.encoder.bias, model.decoder.weight, model.decoder.bias)
        weight = model.encoder.weight
        k = model.latent_dim
        like = {"dtype": weight.dtype, "device": weight.device}
        for p in self._params:
            if p.grad is None or p.grad.shape != p.shape or p.grad.stride() != p.stride():
                p.grad = torch.zeros_like(p)  # same layout as the parameter
        self._code = torch.empty(max_batch, k, **like)
        self._out = torch.empty(max_batch, INPUT_DIM, **like)
        self._diff = torch.empty(max_batch, INPUT_DIM, **like)
        self._grad_code = torch.empty(max_batch, k, **like)
        self._loss = torch.empty((), **like)
        # The fused C passes (model/fast/native.py) when the model is float32 on the CPU; else the eager ones.
        self._native = native.usable(self._out)
        self._pointers: tuple[int, ...] = ()
        # Views made once and reused: at ~15 small operations a step, making them anew (slices, .t(),
        # module attribute look-ups) cost as much Python time as some of the arithmetic.
        self._by_batch: dict[int, tuple[torch.Tensor, ...]] = {}
        self._layout: tuple[int, ...] = ()
        self._weights: tuple[torch.Tensor, ...] = ()
        self._grads: tuple[torch.Tensor, ...] = ()
        self._check_layout()

    def _check_layout(self) -> None:
        """(Re)make the parameter and gradient views when either storage changed (e.g. a new optimiser)."""
        # Checked at every step, so spelled out: a generator over (pointer, strides) pairs cost 3.6 µs, this 1.
        # A new optimiser's views always sit in new storage, so the pointers alone tell.
        enc_w, enc_b, dec_w, dec_b = self._params
        layout = (
            enc_w.data_ptr(), enc_b.data_ptr(), dec_w.data_ptr(), dec_b.data_ptr(),
            enc_w.grad.data_ptr(), enc_b.grad.data_ptr(), dec_w.grad.data_ptr(), dec_b.grad.data_ptr(),
        )  # fmt: skip
        if layout == self._layout:
            return
        grads = [p.grad for p in self._params]
        self._weights = (enc_w.t(), enc_b, dec_w, dec_w.t(), dec_b)
        self._grads = (grads[0].t(), *grads[1:])  # the encoder weight's as (784, k), like its product
        # What the C passes read and write: the decoder bias, both bias gradients, the three buffers.
        self._pointers = tuple(
            t.data_ptr() for t in (dec_b, grads[3], grads[1], self._out, self._code, self._grad_code)
        )
        if self._native is not None and not all(t.is_contiguous() for t in (dec_b, grads[1], grads[3])):
            self._native = None
        self._layout = layout

    def _buffers(self, b: int) -> tuple[torch.Tensor, ...]:
        views = self._by_batch.get(b)
        if views is None:
            code, out, diff = self._code[:b], self._out[:b], self._diff[:b]
            views = self._by_batch[b] = (code, out, diff, diff.view(-1), self._grad_code[:b])
        return views

    @no_grad_unless_off  # the out= products below write into tensors autograd must not track
    def __call__(
        self, inputs: torch.Tensor, target: torch.Tensor, loss_out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Set the gradients; the loss goes into `loss_out` (a 0-dim tensor, e.g. a view into a curve)."""
        self._check_layout()
        loss = self._loss if loss_out is None else loss_out
        enc_wt, enc_b, dec_w, dec_wt, dec_b = self._weights
        enc_wt_grad, enc_b_grad, dec_w_grad, dec_b_grad = self._grads
        b = inputs.shape[0]
        code, out, diff, flat_diff, grad_code = self._buffers(b)
        lib = self._native
        if lib is not None and target.is_contiguous() and target.dtype == loss.dtype == torch.float32:
            # The same step with the elementwise work fused into two C passes (model/fast/kernels.c).
            dec_b_ptr, dec_b_grad_ptr, enc_b_grad_ptr, out_ptr, code_ptr, grad_code_ptr = self._pointers
            scale = 2.0 / (b * INPUT_DIM)
            torch.addmm(enc_b, inputs, enc_wt, out=code)  # (B, 784) -> (B, k)
            if self.relu:
                code.clamp_(min=0.0)
            torch.mm(code, dec_wt, out=out)  # (B, k) -> (B, 784); the pass adds the bias
            # out <- d loss / d logits (unscaled), the decoder bias's gradient, the loss: one pass over out.
            lib.decoder_pass(
                out_ptr, dec_b_ptr, target.data_ptr(), b, INPUT_DIM, self.sigmoid, scale, dec_b_grad_ptr,
                loss.data_ptr(),
            )  # fmt: skip
            torch.addmm(dec_w_grad, out.t(), code, beta=0, alpha=scale, out=dec_w_grad)  # (784, k)
            torch.mm(out, dec_w, out=grad_code)  # (B, 784) -> (B, k), unscaled
            lib.code_pass(grad_code_ptr, code_ptr, b, code.shape[1], self.relu, scale, enc_b_grad_ptr)
            torch.addmm(enc_wt_grad, inputs.t(), grad_code, beta=0, alpha=scale, out=enc_wt_grad)
            return loss
        torch.addmm(enc_b, inputs, enc_wt, out=code)  # (B, 784) -> (B, k)
        if self.relu:
            code.clamp_(min=0.0)
        torch.addmm(dec_b, code, dec_wt, out=out)  # (B, k) -> (B, 784)
        if self.sigmoid:
            out.sigmoid_()
        torch.sub(out, target, out=diff)
        torch.dot(flat_diff, flat_diff, out=loss).div_(flat_diff.numel())
        # d loss / d logits = scale * (y - t) * y * (1 - y). The scale is left out of the (B, 784) buffers and
        # put on the gradients only: as the weight products' alpha (free in the GEMM) and on the two bias sums.
        scale = 2.0 / flat_diff.numel()
        if self.sigmoid:
            # Written over the outputs, which are not needed after it: one buffer less keeps more in cache.
            grad_logits = torch.ops.aten.sigmoid_backward.grad_input(diff, out, grad_input=out)
        else:
            grad_logits = diff  # linear output: d loss / d logits = scale * (y - t)
        # beta=0: the buffer's old contents are ignored, as by mm; it is only named because addmm needs an input.
        torch.addmm(dec_w_grad, grad_logits.t(), code, beta=0, alpha=scale, out=dec_w_grad)  # (784, k)
        torch.sum(grad_logits, dim=0, out=dec_b_grad).mul_(scale)
        torch.mm(grad_logits, dec_w, out=grad_code)  # (B, 784) -> (B, k), unscaled
        if self.relu:
            grad_code.mul_(code > 0)
        # (784, k): no copy when stored column-major
        torch.addmm(enc_wt_grad, inputs.t(), grad_code, beta=0, alpha=scale, out=enc_wt_grad)
        torch.sum(grad_code, dim=0, out=enc_b_grad).mul_(scale)
        return loss


def set_mse_gradients(model: LinearAutoencoder, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fill every parameter's .grad with d MSE(model(inputs), target); return the loss (0-dim tensor).

    A one-off convenience: loops should keep one MseGradients and call it every step.
    """
    return MseGradients(model, inputs.shape[0])(inputs, target).clone()
