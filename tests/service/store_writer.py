"""A separate process that writes to a workspace store in a loop (`python -m tests.service.store_writer`).

Used by the tests to kill a writer mid-write and to run two writers at once. It prints one line per
committed model, so the test knows how far it got, and exits 1 with the error if any call fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from service.workspace_store import Limits, WorkspaceStore


def wait_for_others(folder: Path, tag: str, parties: int) -> None:
    """Start the loop only once every writer has imported torch and opened the store, so their writes overlap."""
    (folder / tag).touch()
    deadline = time.monotonic() + 120
    while len(list(folder.iterdir())) < parties and time.monotonic() < deadline:
        time.sleep(0.01)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("data_dir")
    p.add_argument("token")
    p.add_argument("--models", type=int, default=10**9, help="how many models to write")
    p.add_argument("--k", type=int, default=32, help="latent size: the weights are 784 x k twice")
    p.add_argument("--tag", default="w")
    p.add_argument("--barrier", default="", help="a folder: wait there until --parties writers are ready")
    p.add_argument("--parties", type=int, default=1)
    args = p.parse_args()
    store = WorkspaceStore(args.data_dir, Limits(max_models=10**6, max_bytes=2**40))
    ws = store.open_workspace(args.token)
    if args.barrier:
        wait_for_others(Path(args.barrier), args.tag, args.parties)
    g = torch.Generator().manual_seed(sum(args.tag.encode()))
    for i in range(args.models):
        tensors = {
            "encoder.weight": torch.rand(args.k, 784, generator=g),
            "decoder.weight": torch.rand(784, args.k, generator=g),
            "curves.train": torch.full((20,), float(i)),
        }
        model_id = store.put_model(ws, f"{args.tag}-{i}", tensors, {"tag": args.tag, "i": str(i)})
        store.set_setting(ws, f"last-{args.tag}", i)
        store.record_run(ws, f"{args.tag}-{i}", "finished", {"model": model_id})
        print(model_id, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
