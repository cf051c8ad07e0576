"""The training engine against in-process training, in one run: k = 32, 10 epochs, seconds and memory.

For each round: the same run submitted to the engine (a LocalCluster of single-thread process workers, with
the app's job: replay digits and PCA basis) and run in this process like the CLI (one thread). Prints
submit -> first snapshot with a step, submit -> final snapshot, the CLI's training seconds, their ratios,
and the resident memory of this process plus the workers (psutil). Needs the real MNIST (MNIST_DIR).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import psutil
import torch
from common import mnist_or_exit  # also puts the repository on sys.path

from model.config import TrainConfig
from model.pca import fit_pca
from model.train import Trainer
from service import engine as eng
from service.job_spec import JobSpec, MnistData
from service.remote_trainer import RemoteTrainer


def rss_mb() -> tuple[float, float]:
    """Resident MB of this process, and of all its descendants (nannies and workers)."""
    me = psutil.Process()
    children = me.children(recursive=True)
    return me.memory_info().rss / 2**20, sum(c.memory_info().rss for c in children) / 2**20


def engine_round(spec: JobSpec, engine: eng.Engine) -> tuple[float, float, str]:
    """(submit -> first snapshot with a step, submit -> final snapshot, final status)."""
    started = time.perf_counter()
    remote = RemoteTrainer(spec, engine)
    thread = threading.Thread(target=remote.run, daemon=True)
    thread.start()
    first = None
    while thread.is_alive():
        if first is None and remote.snapshot.step > 0:  # reading it is what keeps the pulls coming
            first = time.perf_counter() - started
        time.sleep(0.005)
    final = time.perf_counter() - started
    return first if first is not None else final, final, remote.snapshot.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    mnist = mnist_or_exit()
    config = TrainConfig(latent_dim=32, epochs=args.epochs)
    pca = fit_pca(mnist.train.images)
    replay = torch.randperm(len(mnist.test), generator=torch.Generator().manual_seed(0))[:2000]
    spec = JobSpec(config, MnistData.as_server_sees_it(len(mnist.train)), replay, pca.components)
    base_server, _ = rss_mb()

    began = time.perf_counter()
    engine = eng.start(mode="processes", address="", n_workers=args.workers)
    print(f"engine: {engine.mode}, {len(engine.workers())} workers, started in {time.perf_counter() - began:.2f} s")
    try:
        cold_first, cold_final, status = engine_round(spec, engine)
        print(f"cold (worker loads MNIST): first snapshot {cold_first:.2f} s, final {cold_final:.2f} s ({status})")
        rows = []
        for r in range(args.rounds):
            first, final, status = engine_round(spec, engine)
            local = Trainer(config, mnist.train.images, mnist.test.images)
            t0 = time.perf_counter()
            snap = local.run()
            wall = time.perf_counter() - t0
            rows.append((first, final, snap.elapsed, wall))
            print(
                f"round {r + 1}: engine first {first:.2f} s, final {final:.2f} s ({status}); in-process training "
                f"{snap.elapsed:.2f} s (wall {wall:.2f} s); engine/CLI {final / snap.elapsed:.2f}x, "
                f"target {1.25 * snap.elapsed + 1:.2f} s"
            )
        server, workers = rss_mb()
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(
            f"median: first snapshot {med[0]:.2f} s; engine {med[1]:.2f} s vs CLI training {med[2]:.2f} s = "
            f"{med[1] / med[2]:.2f}x (in-process wall {med[3]:.2f} s); "
            f"target <= 1.25 x CLI + 1 s = {1.25 * med[2] + 1:.2f} s: {'met' if med[1] <= 1.25 * med[2] + 1 else 'missed'}"
        )
        print(
            f"memory: this process {server:.0f} MB (before the engine {base_server:.0f} MB, it holds MNIST and "
            f"ran the in-process trainer), workers and nannies {workers:.0f} MB, total {server + workers:.0f} MB"
        )
    finally:
        engine.close()


if __name__ == "__main__":
    main()
