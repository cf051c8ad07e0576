"""Adam over one flat parameter buffer: the same update as torch.optim.Adam in one fused kernel.

torch.optim.Adam spends ~0.3 ms of Python and dispatch overhead per step on CPU, more than the arithmetic
of this model's steps. Keeping every parameter as a view of one buffer makes the update a single call: to
model/fast/kernels.c's one-pass update on the CPU (16 µs against the PyTorch kernel's 25 at k = 32), else
PyTorch's fused Adam kernel (the one behind `Adam(fused=True)`), or six vector ops where that is missing.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from model.fast import native
from model.fast.grad_mode import no_grad_unless_off

# A private op, kept on measurement: the public torch.optim.Adam([flat], fused=True) runs the same kernel but
# its step() wrapper (grad mode, profiler hooks, state init, grouping by device) cost the trainer 12-15% of
# its samples per CPU-second (medians 0.848, 0.863 and 0.878 of this kernel's rate in three runs of 16
# alternating 2 s rounds at k = 32, batch 256, one thread: `bench/trainer_speed.py --compare-adam`, PyTorch
# 2.14, 2026-11-27 on a busy shared 2-core machine; wall-clock medians 0.908, 0.794 and 0.926), far over the
# 3% it was allowed.
# Should a release drop the op, the plain update below takes over.
_FUSED = getattr(torch, "_fused_adam_", None)


def _shaped_like(part: torch.Tensor, param: nn.Parameter, column_major: bool) -> torch.Tensor:
    """A slice of a flat buffer viewed with the parameter's shape, row-major or column-major."""
    return part.view(param.shape[1], param.shape[0]).t() if column_major else part.view_as(param)


class FlatAdam:
    """Adam (Kingma & Ba) with bias correction; parameters and gradients become views of flat buffers."""

    def __init__(
        self,
        module: nn.Module,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        fused: bool | None = None,
        transposed: tuple[nn.Parameter, ...] = (),
        use_native: bool = True,
    ):
        """`transposed`: 2-D parameters to store column-major, so that `p.t()` is contiguous.

        `use_native`: take the C kernel's one-pass update (model/fast/native.py) when the buffers are float32 on
        the CPU and the kernels built; else PyTorch's fused kernel, or its plain ops (`fused=False`).

        Matrix products want particular layouts: the encoder's weight gradient, for one, is 1.6x faster
        to compute as (784, k) than as (k, 784). The parameters keep their shapes either way.
        """
        params = [p for p in module.parameters() if p.requires_grad]
        flip = {id(p) for p in transposed}
        self.lr, self.betas, self.eps = lr, betas, eps
        self.flat = torch.cat([(p.detach().t() if id(p) in flip else p.detach()).reshape(-1) for p in params])
        self.flat_grad = torch.zeros_like(self.flat)
        offset = 0
        for p in params:
            n, flipped = p.numel(), id(p) in flip
            p.data = _shaped_like(self.flat[offset : offset + n], p, flipped)
            p.grad = _shaped_like(self.flat_grad[offset : offset + n], p, flipped)
            offset += n
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.steps = 0
        self.fused = _FUSED is not None if fused is None else fused and _FUSED is not None
        self._step_tensor = torch.zeros((), dtype=torch.float32, device=self.flat.device)
        self._native = native.usable(self.flat) if use_native else None
        self._pointers = tuple(t.data_ptr() for t in (self.flat, self.flat_grad, self.exp_avg, self.exp_avg_sq))

    @no_grad_unless_off
    def step(self) -> None:
        beta1, beta2 = self.betas
        self.steps += 1
        if self._native is not None:
            bias1 = 1.0 - beta1**self.steps
            bias2 = 1.0 - beta2**self.steps
            self._native.adam(
                *self._pointers, self.flat.numel(), beta1, beta2, self.lr / bias1, 1.0 / math.sqrt(bias2), self.eps
            )
            return
        if self.fused:
            self._step_tensor.fill_(self.steps)  # the kernel reads the step count; it does not advance it
            _FUSED(
                [self.flat], [self.flat_grad], [self.exp_avg], [self.exp_avg_sq], [], [self._step_tensor],
                lr=self.lr, beta1=beta1, beta2=beta2, weight_decay=0.0, eps=self.eps,
                amsgrad=False, maximize=False,
            )  # fmt: skip
            return
        self.exp_avg.lerp_(self.flat_grad, 1.0 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(self.flat_grad, self.flat_grad, value=1.0 - beta2)
        bias1 = 1.0 - beta1**self.steps
        bias2 = 1.0 - beta2**self.steps
        denom = self.exp_avg_sq.sqrt().div_(math.sqrt(bias2)).add_(self.eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=-self.lr / bias1)
