"""What runs on an engine worker: MNIST loaded once per process, and an actor that owns one Trainer.

A process worker keeps only what its jobs read: the training digits as shuffled bytes (ByteImages, 47 MB)
and the float32 test digits (31 MB), not the float32 training images and their shuffled copy (376 MB).

Dask runs an actor's plain methods one at a time on a single thread per worker, so nothing here blocks:
the trainer runs in a thread of its own, control calls only flip its flags, and `wait_end` is a coroutine
(run on the worker's event loop) that sleeps in short ticks until the run ends or its time is up.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.data import Mnist, load_mnist_pixels, unit_float
from model.fast import native
from model.fast.batches import ByteImages
from model.train import Snapshot, Trainer
from service import allocator
from service.job_spec import InlineData, JobSpec, MnistData
from service.run_watch import RunWatch

WAIT_TICK = 0.01  # how soon wait_end sees the end of a run (or a new snapshot)
NICE_ENV = "STUDIO_TRAINER_NICE"  # the trainer thread's nice value (0-19); 0 leaves it as it was
# An interactive server before batch training: a trainer in a worker process of its own runs at nice 10, so
# where the trainers take every core the server's page runs preempt them (bench/draw_latency.py, two watched
# jobs: 1.04x idle at nice 10, 1.39x at 0), while a trainer with a free core still trains at full speed
# (bench/train_page.py, a lone user: not slower). A trainer thread inside the server's (or a test's) process
# stays at 0: lowering it there would only slow the process that draws the pages. Set 0 on a machine busy
# with other work, where a niced trainer gets little CPU (see the README).
DEFAULT_NICE = 10


@dataclass(frozen=True)
class WorkerData:
    """The digits jobs on this process train and score on."""

    train: torch.Tensor | ByteImages  # (N, 784) float32 (thread workers: the server's), or bytes
    test: torch.Tensor  # (M, 784) float32


_mnist: dict[str, WorkerData] = {}  # data folder ("" for the worker's own MNIST_DIR) -> its data, once per process
_mnist_lock = threading.Lock()


def _mnist_key(data_dir: str | None) -> str:
    """The worker's view of a folder: a server's path that does not exist here means this worker's own MNIST_DIR."""
    if not data_dir:
        return ""
    folder = Path(data_dir).expanduser().resolve()  # one key however the path is spelled
    return str(folder) if folder.is_dir() else ""


def worker_mnist(data_dir: str | None) -> WorkerData:
    """MNIST for this process, loaded by the first job that needs it and shared by every later one."""
    key = _mnist_key(data_dir)
    with _mnist_lock:
        if key not in _mnist:
            pixels = load_mnist_pixels(key or None)  # uint8; the float32 training images are never kept
            _mnist[key] = WorkerData(ByteImages.from_pixels(pixels.train.images), unit_float(pixels.test.images))
        return _mnist[key]


def share_mnist(data_dir: str | None, mnist: Mnist) -> None:
    """Hand this process's loaded MNIST to jobs (thread workers live in the server, which has it already).

    A server that keeps its training digits as uint8 pixels (ui/server/resources.py) gives its thread workers
    their shuffled bytes, as a process worker has; float32 images are shared as they are.
    """
    key = _mnist_key(data_dir)
    with _mnist_lock:
        if key not in _mnist:
            train = mnist.train.images
            shared = ByteImages.from_pixels(train) if train.dtype == torch.uint8 else train
            _mnist[key] = WorkerData(shared, mnist.test.images)


def preload(data_dir: str | None) -> None:
    """Load MNIST (and with it torch) before the first job asks; errors wait for that job to report them.

    Also builds (or finds built) the trainer's C kernels, so the first job's start does not wait for `cc`.
    """
    native.library()  # never raises: kernels that cannot be built leave the eager code in use
    try:
        worker_mnist(data_dir)
    except Exception:  # noqa: BLE001 - the job that needs MNIST reports the problem in words
        return


def _this_worker() -> object | None:
    """The Dask worker running this task, or None (called directly in a test)."""
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def trainer_nice() -> int:
    """STUDIO_TRAINER_NICE (0-19); by default DEFAULT_NICE in a worker process of its own, else 0."""
    value = os.environ.get(NICE_ENV, "").strip()
    if value.isdigit():
        return min(int(value), 19)
    return DEFAULT_NICE if multiprocessing.parent_process() is not None else 0  # a spawned engine worker


def lower_priority(nice: int) -> bool:
    """Give the calling thread (a trainer's) this nice value, so a web server on the same cores runs first.

    On Linux a nice value belongs to a thread: this one only, never the process that hosts it (a thread worker
    lives in the server). Elsewhere nothing changes. True when it was applied.
    """
    if nice <= 0 or sys.platform != "linux":
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError:  # a nice value lower than this thread's own cannot be set without privileges
        return False
    return True


def job_device() -> torch.device:
    """CUDA on a worker started with a GPU resource (and a GPU to match), else the CPU."""
    worker = _this_worker()
    gpus = worker.state.total_resources.get("GPU", 0) if worker is not None else 0
    return torch.device("cuda" if gpus > 0 and torch.cuda.is_available() else "cpu")


def build_trainer(spec: JobSpec, device: torch.device) -> Trainer:
    """A Trainer for `spec` on this worker, from MNIST in memory or from the images sent with the job."""
    if isinstance(spec.data, InlineData):
        train, test = spec.data.train, spec.data.test
    elif isinstance(spec.data, MnistData):
        data = worker_mnist(spec.data.data_dir)
        train, test = data.train, data.test
    else:
        raise TypeError(f"Unknown training data {type(spec.data).__name__}.")
    replay = None if spec.replay_index is None else test[spec.replay_index]
    return Trainer(spec.config, train, test, replay_images=replay, device=device, pca_basis=spec.pca_basis)


@dataclass(frozen=True)
class ControlState:
    """Everything the server wishes of a run, sent whole: a newer one replaces an older one."""

    paused: bool
    held: bool
    note: str
    stop: bool
    steps: int = 0  # Step presses taken while paused, ever: the actor grants those it has not yet
    epoch_steps: int = 0  # Step epoch presses, likewise
    lr: float | None = None  # the latest learning rate set (None: the config's)
    pause_after: int = 0
    slow: bool = False


@dataclass(frozen=True)
class SnapshotDelta:
    """What changed in a trainer's snapshot since the server's copy: new losses and frames, weights if moved."""

    instance: str  # which actor answered: a different one means the job's worker was lost and replaced
    version: int  # bumps with every snapshot the trainer publishes
    status: str
    epoch: int
    step: int
    total_steps: int
    samples_seen: int
    elapsed: float
    loss_from: int  # losses[loss_from:] follow, up to step
    losses: torch.Tensor  # (step - loss_from,) float32
    test_mse: tuple[float, ...]
    noisy_test_mse: tuple[float, ...]
    pca_similarity: tuple[float, ...]
    pca_angles: np.ndarray | None
    lr_changes: tuple[tuple[int, float], ...]
    state: dict[str, torch.Tensor] | None  # None: the weights at the server's step are still current
    replay_from: int  # frames from this index on follow; those before it are the server's
    replay: tuple[torch.Tensor, ...]
    replay_epochs: tuple[int, ...]  # all of them
    message: str
    warning: str


def make_delta(
    snap: Snapshot, instance: str, version: int, known_step: int, known_epochs: tuple[int, ...], state_step: int
) -> SnapshotDelta:
    """What a server holding `known_step` losses, frames of `known_epochs` and weights of `state_step` lacks."""
    loss_from = min(max(known_step, 0), snap.step)
    same = 0
    while same < min(len(known_epochs), len(snap.replay_epochs)) and known_epochs[same] == snap.replay_epochs[same]:
        same += 1
    return SnapshotDelta(
        instance=instance,
        version=version,
        status=snap.status,
        epoch=snap.epoch,
        step=snap.step,
        total_steps=snap.total_steps,
        samples_seen=snap.samples_seen,
        elapsed=snap.elapsed,
        loss_from=loss_from,
        losses=snap.train_loss[loss_from:].clone(),
        test_mse=snap.test_mse,
        noisy_test_mse=snap.noisy_test_mse,
        pca_similarity=snap.pca_similarity,
        pca_angles=snap.pca_angles,
        lr_changes=snap.lr_changes,
        state=None if snap.step == state_step else snap.state,
        replay_from=same,
        replay=snap.replay[same:],
        replay_epochs=snap.replay_epochs,
        message=snap.message,
        warning=snap.warning,
    )


class Contact:
    """When the server last called an actor: shared with its RunWatch without the watch holding the actor.

    A lambda over the actor would make actor -> watch -> lambda -> actor a reference cycle: a released actor,
    its trainer and its tensors would then wait for Python's next full collection, which in a worker came only
    every few dozen jobs (bench/soak.py: +110-130 MB a worker).
    """

    def __init__(self) -> None:
        self.at = time.monotonic()

    def touch(self) -> None:
        self.at = time.monotonic()

    def __call__(self) -> float:
        return self.at


class TrainerActor:
    """A Dask actor owning one Trainer; the server's RemoteTrainer drives it and pulls snapshot deltas.

    Nothing the actor owns points back at it, so Dask's release frees the trainer at once; malloc then gives
    the freed pages back (allocator.trim) rather than keeping them for the worker's next job.
    """

    def __init__(self, spec: JobSpec, key: str = "") -> None:
        """key: the actor's Dask key, so a workspace run can tell when its server let go of it (run_watch.py)."""
        torch.set_num_threads(1)  # one job per single-thread worker: two OpenMP teams never fight for a core
        self.instance = uuid.uuid4().hex
        self.trainer = build_trainer(spec, job_device())
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None
        self._control_seq = -1
        self._applied = ControlState(False, False, "", False)  # what the trainer has been told (steps, lr)
        self._seen: Snapshot | None = None
        self._version = 0
        self._contact = Contact()  # the server's latest call
        self.watch: RunWatch | None = None
        if spec.delivery is not None:
            worker = _this_worker()
            actors = worker.state.actors if worker is not None and key else None

            def released() -> bool:  # whether Dask let go of the actor (a test's actor never is)
                return actors is not None and key not in actors

            self.watch = RunWatch(self.trainer, spec.delivery, self._ended, self._contact, released)
        weakref.finalize(self, allocator.trim)  # the freed job's memory goes back to the system, not to the next job

    def start(self) -> str:
        """Start training in a thread of its own; returns the actor's instance id."""
        self._contact.touch()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="studio-trainer", daemon=True)
            self._thread.start()
            if self.watch is not None:
                self.watch.start()
        return self.instance

    def _run(self) -> None:
        lower_priority(trainer_nice())
        try:
            self.trainer.run()
        finally:
            self._ended.set()

    def control(self, seq: int, wished: ControlState) -> None:
        """Bring the trainer to the server's wishes; older messages (overtaken on another connection) are ignored."""
        self._contact.touch()
        if seq <= self._control_seq:
            return
        self._control_seq = seq
        trainer, applied = self.trainer, self._applied
        if wished.stop:
            trainer.stop()
        if wished.held:
            trainer.hold(wished.note)
        else:
            trainer.release()
        if wished.lr is not None and wished.lr != applied.lr:
            trainer.set_lr(wished.lr)
        if wished.pause_after != applied.pause_after:
            trainer.set_pause_after(wished.pause_after)
        trainer.set_slow_motion(wished.slow)
        # The trainer paused itself at the wished step count, and the server has not taken that pause as its own
        # yet (it then wishes paused, pause_after 0): a wish sent meanwhile must not resume it.
        unseen = wished.pause_after > 0 and trainer.pause_after == 0 and trainer.pause_requested
        if wished.paused and not trainer.pause_requested:
            trainer.pause()
        elif not wished.paused and not unseen:
            trainer.resume()
        if wished.paused:  # presses not yet granted; those made before a resume are spent with it
            if wished.steps > applied.steps:
                trainer.step(wished.steps - applied.steps)
            for _ in range(wished.epoch_steps - applied.epoch_steps):
                trainer.step_epoch()
        self._applied = wished

    async def wait_end(self, timeout: float, news: bool = False) -> bool:
        """True once the run has ended; returns after `timeout` seconds otherwise (a long poll).

        news: also return (False) as soon as the trainer has published a snapshot `delta` has not handed out,
        so a server whose page watches pulls each one as it comes rather than on its own timer.
        """
        self._contact.touch()
        deadline = self._contact.at + timeout
        while not self._ended.is_set() and time.monotonic() < deadline:
            if news and self.trainer.snapshot is not self._seen:
                return False
            await asyncio.sleep(WAIT_TICK)  # no thread parked per call: a worker's executors stay free
        return self._ended.is_set()

    def delta(
        self, known_version: int, known_step: int, known_epochs: tuple[int, ...], state_step: int
    ) -> SnapshotDelta | None:
        """What is new since the server's copy, or None when the trainer has published nothing since."""
        self._contact.touch()
        snap = self.trainer.snapshot
        if snap is not self._seen:
            self._seen, self._version = snap, self._version + 1
        if known_version == self._version:
            return None
        return make_delta(snap, self.instance, self._version, known_step, tuple(known_epochs), state_step)

    def pid(self) -> int:
        """The worker's process id (for tests that kill it)."""
        import os

        return os.getpid()
