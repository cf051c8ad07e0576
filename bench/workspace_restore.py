"""Restoring a workspace: open it, list and load its 20 models, read its settings (issue target: < 1 s).

Fills a throwaway data dir with 20 models at each latent size (weights, biases, 20 epochs of curves, a
replay of 2,000 test codes in 2-D per epoch), then, with a fresh store object each round (as after a server
restart), times open_workspace + load_models + get_settings. Beside it, the floor: reading the same files'
bytes and nothing else. Files come from the page cache (a warm disk), as on a running server.
Usage: python bench/workspace_restore.py [--rounds 5] [--k 32 784]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from service.workspace_cookie import new_token  # noqa: E402
from service.workspace_store import WorkspaceStore  # noqa: E402

MODELS = 20
EPOCHS = 20


def model_tensors(k: int, seed: int) -> dict[str, torch.Tensor]:
    """What a trained model keeps: its weights, its curves, its replay."""
    g = torch.Generator().manual_seed(seed)
    return {
        "encoder.weight": torch.randn(k, 784, generator=g),  # (k, 784)
        "encoder.bias": torch.randn(k, generator=g),
        "decoder.weight": torch.randn(784, k, generator=g),  # (784, k)
        "decoder.bias": torch.randn(784, generator=g),
        "curves.train_mse": torch.rand(EPOCHS, generator=g),
        "curves.test_mse": torch.rand(EPOCHS, generator=g),
        "replay.codes": torch.randn(EPOCHS, 2000, 2, generator=g),  # (epochs, test points, 2)
    }


def fill(data_dir: Path, k: int) -> tuple[str, int]:
    store = WorkspaceStore(data_dir)
    token = new_token()
    ws = store.open_workspace(token)
    for i in range(MODELS):
        store.put_model(ws, f"k={k} #{i}", model_tensors(k, i), {"latent_dim": str(k), "epochs": str(EPOCHS)})
    store.set_setting(ws, "drawing", [0.5] * 784)
    store.set_setting(ws, "active_model", store.list_models(ws)[-1].id)
    return token, store.usage(ws)[1]


def restore(data_dir: Path, token: str) -> float:
    t0 = time.perf_counter()
    store = WorkspaceStore(data_dir)
    ws = store.open_workspace(token)
    models = store.load_models(ws)
    settings = store.get_settings(ws)
    elapsed = time.perf_counter() - t0
    assert len(models) == MODELS and "drawing" in settings
    return elapsed


def read_bytes(data_dir: Path) -> float:
    t0 = time.perf_counter()
    for path in (data_dir / "workspaces" / "models").iterdir():
        path.read_bytes()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--k", type=int, nargs="+", default=[32, 784])
    args = p.parse_args()
    print(f"{'k':>4} {'MB':>6} {'restore s (median)':>19} {'max':>7} {'read bytes s':>13} {'ratio':>6}")
    for k in args.k:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            token, total = fill(data_dir, k)
            restore(data_dir, token)  # warm-up: imports, page cache
            times = [restore(data_dir, token) for _ in range(args.rounds)]
            floor = statistics.median(read_bytes(data_dir) for _ in range(args.rounds))
            median = statistics.median(times)
            print(
                f"{k:>4} {total / 2**20:>6.1f} {median:>19.3f} {max(times):>7.3f} {floor:>13.3f} {median / floor:>6.1f}"
            )


if __name__ == "__main__":
    main()
