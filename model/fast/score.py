"""The test score's forward pass on the CPU, fused: test digits read as bytes, the error summed in one C pass.

The trainer scores the 10,000 test digits after every epoch, inside its timed run (7% of it at k = 32). Beyond
its two matrix products, the eager score streamed the 31 MB float32 test set from memory twice (product and
error) and made four passes over each (chunk, 784) output (bias, sigmoid, difference, dot). Here digits that
are exactly bytes (MNIST as loaded) are read from their uint8 copy, a chunk at a time into a buffer that stays
in cache, and the bias, sigmoid, difference and sum are one C pass (model/fast/kernels.c) that never writes
the output. model.train.evaluate_mse calls this first and keeps its eager loop for everything else.
"""

from __future__ import annotations

import torch

from model.autoencoder import INPUT_DIM, LinearAutoencoder, Output
from model.fast import native
from model.fast.batches import exact_bytes

CHUNK = 1000  # test digits per product: 3 MB of float32 output, measured as fast as 512 and faster than 256


def _float_rows(
    images: torch.Tensor, pixels: torch.Tensor | None, start: int, end: int, buffer: torch.Tensor, lib
) -> torch.Tensor:
    """Rows start:end of `images` as float32: converted from their bytes into `buffer` when they have bytes."""
    if pixels is None:
        return images[start:end]
    out = buffer[: end - start]
    lib.unit_float(pixels[start].data_ptr(), out.data_ptr(), out.numel())
    return out


@torch.no_grad()
def squared_error_sum(
    model: LinearAutoencoder, images: torch.Tensor, targets: torch.Tensor | None = None
) -> float | None:
    """sum((model(images) - targets)^2) (targets default to the images), or None when the C path cannot run.

    None: the kernels are off or unbuilt, or the model or digits are not contiguous float32 on the CPU.
    """
    dec = model.decoder
    if dec.weight.dtype != torch.float32 or dec.weight.device.type != "cpu":
        return None
    lib = native.usable(dec.bias, images)
    if lib is None or images.dim() != 2 or images.shape[1] != INPUT_DIM or images.shape[0] == 0:
        return None
    if targets is not None and (native.usable(targets) is None or targets.shape != images.shape):
        return None
    sigmoid = int(model.output == Output.SIGMOID)
    rows = min(CHUNK, images.shape[0])
    pixels = exact_bytes(images)  # None: read the float32 rows as they are
    target_pixels = None if targets is None else exact_bytes(targets)
    out = torch.empty(rows, INPUT_DIM, dtype=torch.float32)  # (chunk, 784) the product, then read by the C pass
    x_buffer = torch.empty_like(out) if pixels is not None else out
    t_buffer = torch.empty_like(out) if target_pixels is not None else out
    weight_t, bias_ptr, total = dec.weight.t(), dec.bias.data_ptr(), 0.0
    for start in range(0, images.shape[0], CHUNK):
        end = min(start + CHUNK, images.shape[0])
        x = _float_rows(images, pixels, start, end, x_buffer, lib)  # (B, 784)
        target = x if targets is None else _float_rows(targets, target_pixels, start, end, t_buffer, lib)
        logits = torch.mm(model.encode(x), weight_t, out=out[: end - start])  # (B, k) -> (B, 784), no bias yet
        total += lib.squared_error(logits.data_ptr(), bias_ptr, target.data_ptr(), end - start, INPUT_DIM, sigmoid)
    return total
