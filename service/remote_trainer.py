"""A Trainer that runs on an engine worker, behind the same interface the job queue uses for a local one.

The job queue's thread calls run(), which places a TrainerActor on a free worker (a GPU worker first), starts
it, and long-polls it until the run ends. Pages read `snapshot`, which never waits on the network: while
anyone reads it, the long poll also returns as soon as the trainer publishes, and run() pulls what changed
(new losses and replay frames, weights only when the step moved), so each snapshot reaches the server one
call after it is made (the trainer's first comes after a few steps: a chart at once) and costs nothing when
nobody looks.
Pause, resume, stop, hold and release (and the stepping controls: Step and Step epoch as running counts of
presses, a learning rate, pause after N steps, slow motion) are true here at once and sent to the worker as
the whole wished state with a sequence number, so two quick calls can never arrive in the wrong order, and
a press is never taken twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import torch

from model.config import TrainConfig, batch_plan
from model.train import Snapshot, Status
from service.engine import ACTOR_PREFIX, Engine, EngineUnavailable, get_engine
from service.job_spec import JobSpec
from service.worker_side import ControlState, SnapshotDelta, TrainerActor

REFRESH_SECONDS = 0.2  # the long poll's length: a run's end, or while watched a new snapshot, ends it sooner
WATCHED_SECONDS = 5.0  # a snapshot read this recently means someone is watching: keep pulling
START_SECONDS = 120.0  # placing the actor: a cold worker imports torch and loads MNIST first
CALL_SECONDS = 10.0  # any other call unanswered this long means the worker is gone
LOST_MESSAGE = (
    "The trainer stopped unexpectedly (its worker process ended, perhaps out of memory or restarted), "
    "so this run failed after {step:,} steps. Press Start to train again."
)


class RemoteTrainer:
    """Trains on an engine worker; the job queue drives it exactly like model.train.Trainer."""

    def __init__(self, spec: JobSpec, engine: Engine | None = None) -> None:
        """Raises EngineUnavailable (with a sentence for the user) when there is no engine to train on."""
        self.spec = spec
        self.config = spec.config
        self._engine = engine or get_engine()
        self.batch_size, self.steps_per_epoch = batch_plan(spec.data.n_train, spec.config.batch_size)
        self.total_steps = self.steps_per_epoch * spec.config.epochs
        self.key = f"{ACTOR_PREFIX}{uuid.uuid4().hex}"
        self.worker: str | None = None  # the worker's address once placed
        self._lock = threading.Lock()  # guards the wished control state and the actor handle
        self._actor = None
        self._future = None
        self._seq = 0
        self._paused_at: float | None = None
        self._held, self._note, self._stop = False, "", False
        self._steps = self._epoch_steps = 0  # Step and Step epoch presses taken while paused, ever
        self._lr: float | None = None  # the latest learning rate set (None: the config's)
        self._pause_after, self._slow = 0, False
        self._stepping = False  # a step was asked for since the latest pause
        self._instance = ""
        self._version = 0
        self._losses = torch.empty(self.total_steps)  # the loss curve so far; snapshots view its start
        self._state: dict[str, torch.Tensor] | None = None
        self._state_step = -1  # the step self._state belongs to (-1: none yet)
        self._replay: tuple[torch.Tensor, ...] = ()
        self._read_at = time.monotonic()
        self._snapshot = self._empty_snapshot("ready")

    def _empty_snapshot(self, status: str, message: str = "") -> Snapshot:
        return Snapshot(
            config=self.config,
            status=status,
            epoch=0,
            step=0,
            total_steps=self.total_steps,
            steps_per_epoch=self.steps_per_epoch,
            samples_seen=0,
            elapsed=0.0,
            train_loss=self._losses[:0],
            test_mse=(),
            state=None,
            message=message,
        )

    # Control, safe to call from any thread; the worker follows within a step.
    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.monotonic()
                self._stepping = False
            self._send()

    def resume(self) -> None:
        with self._lock:
            self._paused_at = None
            self._stepping = False
            self._send()

    def step(self, n: int = 1) -> bool:
        """While paused by the user, train n more batches on the worker; False (nothing sent) otherwise."""
        with self._lock:
            if not self.pause_requested or n < 1:
                return False
            self._steps += n
            self._stepping = True
            self._send()
            return True

    def step_epoch(self) -> bool:
        """While paused by the user, train to the end of the current epoch."""
        with self._lock:
            if not self.pause_requested:
                return False
            self._epoch_steps += 1
            self._stepping = True
            self._send()
            return True

    def set_lr(self, lr: float) -> None:
        """A new peak learning rate from the worker's next step (ValueError here, with a sentence, if unusable)."""
        TrainConfig(lr=lr)
        with self._lock:
            self._lr = float(lr)
            self._send()

    def set_pause_after(self, steps: int) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"Pause after must be a whole number of steps, 0 or more, got {steps!r}.")
        with self._lock:
            self._pause_after = steps
            self._send()

    def set_slow_motion(self, on: bool) -> None:
        with self._lock:
            self._slow = bool(on)
            self._send()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._send()

    def hold(self, note: str) -> None:
        with self._lock:
            self._held, self._note = True, note
            self._send()
            if self._snapshot.status == Status.PAUSED:  # already waiting: show the reason now, as Trainer does
                self._snapshot = replace(self._snapshot, message=note)

    def release(self) -> None:
        with self._lock:
            self._held, self._note = False, ""
            self._send()

    @property
    def paused_since(self) -> float | None:
        return self._paused_at

    @property
    def pause_requested(self) -> bool:
        return self._paused_at is not None and not self._stop

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def steps_pending(self) -> bool:
        """Paused, a step asked for, and the worker training (an estimate for the page's words, not exact)."""
        return self.pause_requested and self._stepping and self._snapshot.status != Status.PAUSED

    @property
    def lr(self) -> float:
        return self.config.lr if self._lr is None else self._lr

    @property
    def pause_after(self) -> int:
        return self._pause_after

    @property
    def slow_motion(self) -> bool:
        return self._slow

    @property
    def snapshot(self) -> Snapshot:
        self._read_at = time.monotonic()
        return self._snapshot

    def _send(self) -> None:
        """Send the whole wished state (lock held); fire and forget: run() notices a worker that is gone."""
        if self._actor is None:
            return  # applied when the actor starts
        self._seq += 1
        wished = ControlState(
            self._paused_at is not None,
            self._held,
            self._note,
            self._stop,
            self._steps,
            self._epoch_steps,
            self._lr,
            self._pause_after,
            self._slow,
        )
        self._actor.control(self._seq, wished)

    def run(self) -> Snapshot:
        """Train on a worker until the run ends; returns the final snapshot (failed if the worker was lost)."""
        try:
            self._start()
        except _Stopped:
            self._release()
            return self._snapshot
        except Exception as exc:  # noqa: BLE001 - every failure becomes a final state the page can show
            reason = str(exc) if isinstance(exc, EngineUnavailable) else f"Training could not start on a worker: {exc}"
            self._snapshot = self._empty_snapshot(Status.FAILED, reason)
            self._release()
            return self._snapshot
        try:
            while True:
                watched = time.monotonic() - self._read_at < WATCHED_SECONDS
                ended = self._actor.wait_end(REFRESH_SECONDS, watched).result(timeout=REFRESH_SECONDS + CALL_SECONDS)
                if ended or watched:
                    self._refresh()
                if ended:
                    break
        except Exception:  # noqa: BLE001 - the worker died or stopped answering
            self._snapshot = replace(
                self._snapshot,
                status=Status.FAILED,
                message=LOST_MESSAGE.format(step=self._snapshot.step),
                warning="",
            )
        self._release()
        return self._snapshot

    def _start(self) -> None:
        """Place the actor on a worker, apply what was asked before it existed, and start training."""
        engine = self._engine
        if self._stop:  # stopped while queued for the worker: nothing to run
            self._snapshot = self._empty_snapshot("stopped", "Stopped by the user.")
            raise _Stopped
        self.worker = engine.place(self.key)
        self._future = engine.client.submit(
            TrainerActor,
            self.spec,
            self.key,
            actor=True,
            key=self.key,
            workers=[self.worker],
            allow_other_workers=False,
            pure=False,
        )
        with engine.client.as_current():  # the actor handle binds to this engine's client, not a default one
            actor = self._future.result(timeout=START_SECONDS)
        with self._lock:
            self._actor = actor
            self._send()
        self._instance = actor.start().result(timeout=CALL_SECONDS)

    def _refresh(self) -> None:
        """Pull what changed on the worker and publish it as a new immutable Snapshot."""
        known_epochs = self._snapshot.replay_epochs
        known = (self._version, self._snapshot.step, known_epochs, self._state_step)
        delta = self._actor.delta(*known).result(timeout=CALL_SECONDS)
        if delta is None:
            return
        if delta.instance != self._instance:  # Dask re-created the actor elsewhere: this run's state is gone
            raise RuntimeError("the trainer's worker was replaced")
        self._apply(delta)

    def _apply(self, d: SnapshotDelta) -> None:
        self._version = d.version
        self._losses[d.loss_from : d.step] = d.losses
        if d.state is not None:
            self._state = d.state
        self._state_step = d.step
        self._replay = self._replay[: d.replay_from] + tuple(d.replay)
        snap = Snapshot(
            config=self.config,
            status=d.status,
            epoch=d.epoch,
            step=d.step,
            total_steps=d.total_steps,
            steps_per_epoch=self.steps_per_epoch,
            samples_seen=d.samples_seen,
            elapsed=d.elapsed,
            train_loss=self._losses[: d.step],  # later deltas only write past this step: the view never changes
            test_mse=d.test_mse,
            noisy_test_mse=d.noisy_test_mse,
            pca_similarity=d.pca_similarity,
            pca_angles=d.pca_angles,
            lr_changes=d.lr_changes,
            state=self._state,
            replay=self._replay,
            replay_epochs=d.replay_epochs,
            message=d.message,
            warning=d.warning,
        )
        with self._lock:
            if snap.status == Status.PAUSED and self._held and not snap.message:
                snap = replace(snap, message=self._note)
            if snap.status == Status.PAUSED and self._pause_after and snap.step == self._pause_after:
                # The worker paused itself at the wished step count: that pause is the user's now (Resume undoes
                # it, and the job manager sees it), and the count has fired.
                self._pause_after = 0
                if self._paused_at is None and not self._stop:
                    self._paused_at = time.monotonic()
                self._send()
            self._snapshot = snap

    def _release(self) -> None:
        """Let the worker drop the actor at once, so the next job can have it."""
        with self._lock:
            future, self._future, self._actor = self._future, None, None
        if future is not None:
            try:
                self._engine.client.cancel([future], force=True)
            except Exception:  # noqa: BLE001 - a lost scheduler forgets the actor anyway
                pass
        self._engine.forget(self.key)


class _Stopped(Exception):
    """Stopped before a worker was placed; run() then publishes the stopped snapshot."""
