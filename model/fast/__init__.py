"""The trainer's measured speed code, fenced off so the readable model stays readable.

Why it exists: at this model's size, per-step overhead (autograd's graph, fresh allocations, optimiser
dispatch, gathering batch rows) costs as much as the arithmetic; each module here removes one such cost and
is checked against its plain-PyTorch reference in tests/model. What it may import: torch, the standard
library, model.autoencoder (the model it computes for), model.config and model.data (the pixel conversion).
Only the trainer (model/train.py), the engine's workers (service/worker_side.py keeps ByteImages and builds the
C kernels in its preload), its tests and the benchmarks import it. kernels.c, built by native.py with the system's
C compiler, holds the step's elementwise passes; the eager PyTorch code stays for whatever it cannot take.
"""
