"""Hand-derived gradients of the reconstruction MSE, written into preallocated buffers.

The trainer's steps are small (a batch of 256 through a 784-k-784 model), so per-step overhead rivals the
arithmetic: autograd's graph, fresh 800 KB allocations for every intermediate, and copies of each
gradient into the optimiser's buffer. Writing the backward pass out (two matmuls forward, three back)
with every result going `out=` into buffers made once removes most of it.
tests/model/test_gradients.py checks every gradient against autograd.
"""

from __future__ import annotations

import torch

from model.autoencoder import INPUT_DIM, LinearAutoencoder


class MseGradients:
    """One training step's forward and backward pass for `model`, for batches of up to `max_batch` rows.

    Each call overwrites every parameter's .grad in place (so .grad may be a view of a flat optimiser
    buffer) and returns the batch's MSE as a 0-dim tensor. Without `loss_out` the returned loss, and any
    tensor from gather(), are reused by the next call: copy them if they must outlive it.
    """

    def __init__(self, model: LinearAutoencoder, max_batch: int) -> None:
        self.model = model
        weight = model.encoder.weight
        k = model.latent_dim
        like = {"dtype": weight.dtype, "device": weight.device}
        for p in model.parameters():
            if p.grad is None or p.grad.shape != p.shape or p.grad.stride() != p.stride():
                p.grad = torch.zeros_like(p)  # same layout as the parameter
        # When the gradients are views that exactly tile one flat buffer (FlatAdam's), the loss scale is
        # applied to that buffer in one operation instead of four.
        grads = [p.grad for p in model.parameters()]
        base = grads[0]._base
        tiled = (
            base is not None and all(g._base is base for g in grads) and base.numel() == sum(g.numel() for g in grads)
        )
        self._scale_targets = [base] if tiled else grads
        self._batch = torch.empty(max_batch, INPUT_DIM, **like)  # gathered rows
        self._code = torch.empty(max_batch, k, **like)
        self._out = torch.empty(max_batch, INPUT_DIM, **like)
        self._diff = torch.empty(max_batch, INPUT_DIM, **like)
        self._grad_code = torch.empty(max_batch, k, **like)
        self._loss = torch.empty((), **like)

    def gather(self, images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """images[index] written into the batch buffer (no fresh allocation per step)."""
        return torch.index_select(images, 0, index, out=self._batch[: index.shape[0]])

    @torch.no_grad()
    def __call__(
        self, inputs: torch.Tensor, target: torch.Tensor, loss_out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Set the gradients; the loss goes into `loss_out` (a 0-dim tensor, e.g. a view into a curve)."""
        model, b = self.model, inputs.shape[0]
        loss = self._loss if loss_out is None else loss_out
        enc_w, enc_b = model.encoder.weight, model.encoder.bias  # (k, 784), (k,)
        dec_w, dec_b = model.decoder.weight, model.decoder.bias  # (784, k), (784,)
        code, out = self._code[:b], self._out[:b]
        diff, grad_code = self._diff[:b], self._grad_code[:b]
        torch.addmm(enc_b, inputs, enc_w.t(), out=code)  # (B, 784) -> (B, k)
        if model.activation == "relu":
            code.clamp_(min=0.0)
        torch.addmm(dec_b, code, dec_w.t(), out=out).sigmoid_()  # (B, k) -> (B, 784)
        torch.sub(out, target, out=diff)
        torch.dot(diff.view(-1), diff.view(-1), out=loss).div_(diff.numel())
        # d loss / d logits = scale * (y - t) * y * (1 - y); the scale goes on the small gradients only.
        scale = 2.0 / diff.numel()
        # Written over the outputs, which are not needed after it: one buffer less keeps more in cache.
        grad_logits = torch.ops.aten.sigmoid_backward.grad_input(diff, out, grad_input=out)
        torch.mm(grad_logits.t(), code, out=dec_w.grad)  # (784, k)
        torch.sum(grad_logits, dim=0, out=dec_b.grad)
        torch.mm(grad_logits, dec_w, out=grad_code)  # (B, 784) -> (B, k)
        if model.activation == "relu":
            grad_code.mul_(code > 0)
        torch.mm(inputs.t(), grad_code, out=enc_w.grad.t())  # (784, k): no copy when stored column-major
        torch.sum(grad_code, dim=0, out=enc_b.grad)
        for grads in self._scale_targets:
            grads.mul_(scale)
        return loss


def set_mse_gradients(model: LinearAutoencoder, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fill every parameter's .grad with d MSE(model(inputs), target); return the loss (0-dim tensor).

    A one-off convenience: loops should keep one MseGradients and call it every step.
    """
    return MseGradients(model, inputs.shape[0])(inputs, target).clone()
