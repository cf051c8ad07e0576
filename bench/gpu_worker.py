"""The engine's GPU-worker path, end to end: `dask scheduler`, a `--resources GPU=1` worker and a CPU worker.

Starts the three processes with the `dask` command line (as a real deployment does), connects the app's engine
through their address, and submits the app's jobs (replay digits and PCA basis included):
- one k = 32 run: it must go to the GPU worker and train there with CUDA;
- two runs at once: the GPU worker takes one, the CPU worker the other (the queue's second slot);
- a k = 784 run on the GPU worker;
and, for the ratio, the same k = 32 run in this process on one CPU thread, as the CLI runs it.
Prints each run's worker, device, seconds (submit -> first snapshot with a step, submit -> final snapshot, the
trainer's own seconds) and test MSE. Without CUDA the "GPU" worker trains on its CPU, and the bench says so.
Needs the real MNIST (MNIST_DIR), which the workers read too.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch
from common import mnist_or_exit  # also puts the repository on sys.path

from model.config import TrainConfig
from model.pca import fit_pca
from model.train import Trainer
from service import engine as eng
from service.job_spec import JobSpec, MnistData
from service.remote_trainer import RemoteTrainer

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(port: int, log: Path) -> list[subprocess.Popen]:
    """A scheduler, a GPU worker and a CPU worker, one thread each, as `dask` commands (their output to `log`)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    common = ["--no-dashboard"]
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab")
    run = lambda cmd: subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: E731
    procs = [run([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common])]
    worker = [*dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", *common]
    procs.append(run([*worker, "--name", "gpu", "--resources", "GPU=1"]))
    procs.append(run([*worker, "--name", "cpu"]))
    return procs


def connect(address: str, n_workers: int) -> eng.Engine:
    deadline = time.monotonic() + 120
    while True:
        try:
            engine = eng.start(address=address)
            break
        except eng.EngineUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    while len(engine.workers()) < n_workers:
        if time.monotonic() > deadline:
            raise SystemExit("the workers never joined")
        time.sleep(0.2)
    return engine


class Run:
    """One job on the engine, timed from submission, in its own thread (as the job queue runs it)."""

    def __init__(self, spec: JobSpec, engine: eng.Engine) -> None:
        self.remote = RemoteTrainer(spec, engine)
        self.first: float | None = None
        self.final = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._began = time.perf_counter()
        self._thread.start()

    def _run(self) -> None:
        self.remote.run()
        self.final = time.perf_counter() - self._began

    def poll(self) -> bool:
        """Read the snapshot as a page does (which keeps the pulls coming); True while the run goes on."""
        if self.first is None and self.remote.snapshot.step > 0:
            self.first = time.perf_counter() - self._began
        return self._thread.is_alive()

    def line(self, label: str, gpu_worker: str) -> str:
        snap = self.remote.snapshot
        where = "GPU worker" if self.remote.worker == gpu_worker else "CPU worker"
        mse = f"{snap.test_mse[-1]:.6f}" if snap.test_mse else "-"
        first = f"{self.first:.2f}" if self.first is not None else "-"
        return (
            f"{label}: {where}, {snap.status}, first snapshot {first} s, final {self.final:.2f} s, "
            f"training {snap.elapsed:.2f} s, {snap.step} steps, test MSE {mse}"
        )


def wait(*runs: Run) -> None:
    """Poll every run until all have ended."""
    while any([run.poll() for run in runs]):
        time.sleep(0.005)


def gpu_worker_address(engine: eng.Engine) -> str:
    return next(a for a, info in engine.workers().items() if info.get("resources", {}).get("GPU"))


def cuda_bytes(engine: eng.Engine, worker: str) -> int:
    """The most CUDA memory the worker's process has held: above 0 only if a job trained there with CUDA."""

    def peak() -> int:
        import torch as t

        return t.cuda.max_memory_allocated() if t.cuda.is_available() else 0

    return engine.client.run(peak, workers=[worker])[worker]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--big-epochs", type=int, default=3, help="epochs of the k = 784 run")
    parser.add_argument("--log", type=Path, default=REPO / "bench" / "results" / "gpu_worker_cluster.log", help="the dask processes' output")
    args = parser.parse_args()
    torch.set_num_threads(1)
    mnist = mnist_or_exit()
    print(
        f"CUDA here: {torch.cuda.is_available()} ({torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-'})"
    )
    pca = fit_pca(mnist.train.images)
    replay = torch.randperm(len(mnist.test), generator=torch.Generator().manual_seed(0))[:2000]

    def spec(k: int, epochs: int) -> JobSpec:
        config = TrainConfig(latent_dim=k, epochs=epochs)
        return JobSpec(config, MnistData.as_server_sees_it(len(mnist.train)), replay, pca.components)

    port = free_port()
    began = time.perf_counter()
    procs = start_cluster(port, args.log)
    try:
        engine = connect(f"tcp://127.0.0.1:{port}", 2)
        print(f"scheduler and 2 workers joined in {time.perf_counter() - began:.2f} s; capacity {engine.capacity()}")
        gpu = gpu_worker_address(engine)
        warm = Run(spec(32, 1), engine)  # the worker loads MNIST (and CUDA) once
        wait(warm)
        print(warm.line("warm-up k=32, 1 epoch (cold worker)", gpu))
        lone = Run(spec(32, args.epochs), engine)
        wait(lone)
        print(lone.line(f"k=32, {args.epochs} epochs, alone", gpu))
        pair = [Run(spec(32, args.epochs), engine), Run(spec(32, args.epochs), engine)]
        wait(*pair)
        for i, run in enumerate(pair, 1):
            print(run.line(f"k=32, {args.epochs} epochs, two at once, #{i}", gpu))
        big = Run(spec(784, args.big_epochs), engine)
        wait(big)
        print(big.line(f"k=784, {args.big_epochs} epochs", gpu))
        print(f"GPU worker's peak CUDA memory: {cuda_bytes(engine, gpu) / 2**20:.1f} MiB (0: it trained on its CPU)")
        engine.close()
    finally:
        for proc in procs[::-1]:  # the workers first, then their scheduler
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    local = Trainer(
        TrainConfig(latent_dim=32, epochs=args.epochs),
        mnist.train.images,
        mnist.test.images,
        device=torch.device("cpu"),
    )
    snap = local.run()
    print(
        f"k=32, {args.epochs} epochs in this process on 1 CPU thread (the CLI's way): training {snap.elapsed:.2f} s, "
        f"test MSE {snap.test_mse[-1]:.6f}"
    )
    print(f"GPU worker alone / CPU in-process, training seconds: {lone.remote.snapshot.elapsed / snap.elapsed:.2f}x")


if __name__ == "__main__":
    main()
