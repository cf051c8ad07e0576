"""A pausable, seeded trainer that publishes immutable snapshots."""

from __future__ import annotations

import math
import runpy
import threading
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import torch

from model.autoencoder import INPUT_DIM, LinearAutoencoder, Output
from model.checkpoint import ModelInfo
from model.config import TrainConfig, batch_plan
from model.device import default_device
from model.fast.batches import ByteImages, ShuffledBatches, average_image
from model.fast.gradients import MseGradients
from model.fast.optim import FlatAdam
from model.fast.score import squared_error_sum
from model.noise import NO_NOISE, add_noise
from model.subspace import mean_cos2, principal_angles

DIVERGENCE_MIN_STEPS = 20  # judge divergence only once a few steps have been taken
DIVERGENCE_WINDOW = 10
DIVERGENCE_FACTOR = 1.5
# ...and the recent loss averages this many digits at least. The start it is held against is the untrained model
# scored on the test digits: at batch 1, step 0's loss is one digit's, and a faint first digit against the next ten
# ended healthy runs as "diverged" (bench/soak.py at k = 1, batch 1: a Start that never showed Running).
DIVERGENCE_SAMPLES = 256
MAX_WEIGHT = 100.0  # no sensible model of [0, 1] pixels needs weights this large
PUBLISH_SECONDS = 0.2  # how often a running trainer publishes a snapshot
# ...and its first one after this many steps, so a page watching the run draws a loss curve at once rather
# than after PUBLISH_SECONDS (about 15 ms at k = 32, batch 256 on one core)
FIRST_PUBLISH_STEPS = 10
EVAL_CHUNK = 1000  # test images per forward pass: small enough for the work to stay in cache
# Latent replay: codes of the start and of at most this many evenly spaced epochs (plus the latest one), in
# float16. Every epoch in float32 took 1.2 GiB for k = 784 and 200 epochs; this keeps at most 34 MB.
REPLAY_EPOCHS = 10
MEAN_CLAMP = 0.01  # the average digit's pixels are clamped to [0.01, 0.99] before the logit (borders are 0)
# A run is stuck when its loss is flat and no lower than always outputting the average digit: an output
# sigmoid saturated at 0 leaves the loss at ~0.115 for good. Healthy runs measured in bench/large_k.py
# (k = 1..784, learning rates 0.0012-0.01) were all below that line or still falling by 200 steps.
STUCK_WINDOW = 100  # steps compared with the STUCK_WINDOW before them
STUCK_FLAT = 0.02  # "flat": the loss fell by less than this fraction over the window
# Slow motion: steps this far apart, so the first second of learning (a few hundred steps) can be watched.
# The waits count as pauses: neither the time budget nor samples/s sees them.
SLOW_STEP_SECONDS = 0.1


class Status(StrEnum):
    """Where a run stands, as its snapshots say; the values are the words pages and the CLI's JSON show."""

    READY = "ready"  # made, not started
    RUNNING = "running"
    PAUSED = "paused"  # by the user, or held by a scheduler (the snapshot's message says which)
    DONE = "done"  # every planned epoch, or the time budget, used up
    STOPPED = "stopped"  # by the user
    DIVERGED = "diverged"  # the loss or the weights blew up
    FAILED = "failed"  # an exception in the run loop


# Terminal states: the run loop has returned and will publish nothing more.
FINISHED = (Status.DONE, Status.STOPPED, Status.DIVERGED, Status.FAILED)
FAILURES = (Status.DIVERGED, Status.FAILED)  # finished without weights worth keeping


@dataclass(frozen=True)
class Snapshot:
    """What a trainer has done so far; never mutated once published."""

    config: TrainConfig
    status: Status
    epoch: int  # completed epochs
    step: int  # optimiser steps taken
    total_steps: int  # steps the planned epochs take (a time budget may end the run sooner)
    steps_per_epoch: int  # the x-axis scale of train_loss
    samples_seen: int
    elapsed: float  # seconds of training, pauses excluded
    train_loss: torch.Tensor  # (step,) float32 training MSE of each step
    test_mse: tuple[float, ...]  # full test-set MSE after each completed epoch
    state: dict[str, torch.Tensor] | None  # CPU copy of the current weights
    replay: tuple[torch.Tensor, ...] = ()  # (R, k) float16 latent codes of the replay subset, one per frame
    replay_epochs: tuple[int, ...] = ()  # the epoch each replay frame shows (0: before training)
    # Denoising runs only, per epoch: the error of the output for a fixed noisy copy of the test set against
    # the clean digits, i.e. the task being trained. test_mse (clean digits in) can be far higher: clamped
    # noise brightens empty backgrounds on average, so clean digits look unlike anything it trained on.
    noisy_test_mse: tuple[float, ...] = ()
    message: str = ""  # why the run ended, for the user
    warning: str = ""  # advice while the run is stuck (or when it ended no better than the average digit)
    # With a PCA basis given to the trainer, per scored epoch: the mean cos^2 of the principal angles between
    # the decoder's column space and PCA's top-k subspace (1: the same subspace). See model/subspace.py.
    pca_similarity: tuple[float, ...] = ()
    pca_angles: np.ndarray | None = None  # (k,) the latest scored epoch's principal angles (radians), largest first
    # Learning rates set during the run: (the first step that used it, the new peak rate), in step order.
    lr_changes: tuple[tuple[int, float], ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress(self) -> float:
        """Fraction of the run done, by steps or by the time budget, whichever is further."""
        done = self.step / max(self.total_steps, 1)
        if self.config.max_seconds:
            done = max(done, self.elapsed / self.config.max_seconds)
        return 1.0 if self.status == Status.DONE else min(done, 1.0)

    @property
    def final_test_mse(self) -> float | None:
        """Test MSE of the latest weights that were scored."""
        return self.test_mse[-1] if self.test_mse else None

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Estimated training time still to go, or None before there is a rate to go by."""
        if self.finished or self.step == 0 or self.elapsed <= 0:
            return None if not self.finished else 0.0
        by_steps = self.elapsed * (self.total_steps - self.step) / self.step
        if self.config.max_seconds:
            return max(0.0, min(by_steps, self.config.max_seconds - self.elapsed))
        return max(0.0, by_steps)

    @property
    def epochs_started(self) -> int:
        """Epochs the weights have seen any of: a partly trained last epoch counts (at least 1, at most planned)."""
        started = self.epoch + (self.step % self.steps_per_epoch != 0)
        return max(1, min(started, self.config.epochs))

    def model_info(self, name: str, epochs: int | None = None) -> ModelInfo:
        """What a model file of these weights says about itself; `epochs` defaults to the completed ones."""
        cfg = self.config
        epochs = self.epoch if epochs is None else epochs
        return ModelInfo(
            cfg.latent_dim, cfg.activation, epochs, self.final_test_mse, cfg, name, self.elapsed, output=cfg.output
        )

    def to_model(self) -> LinearAutoencoder:
        """A CPU model holding the published weights."""
        model = LinearAutoencoder(self.config.latent_dim, self.config.activation, self.config.output)
        if self.state is not None:
            model.load_state_dict(self.state)
        return model.eval()


def init_weights(model: LinearAutoencoder, seed: int, mean_image: torch.Tensor | None = None) -> LinearAutoencoder:
    """PyTorch's default uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) init, from a private generator.

    A private generator keeps runs reproducible even when other threads use the global RNG. With
    `mean_image` (784,), the decoder's bias starts so that the untrained model outputs the average digit
    (its logit under a sigmoid) instead of grey: see TrainConfig.bias_init.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in (model.encoder, model.decoder):
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.copy_(torch.rand(layer.weight.shape, generator=gen) * 2 * bound - bound)
            layer.bias.copy_(torch.rand(layer.bias.shape, generator=gen) * 2 * bound - bound)
        if mean_image is not None:  # a linear output draws its bias as it is; a sigmoid's passes through a logit
            linear = model.output == Output.LINEAR
            model.decoder.bias.copy_(
                mean_image if linear else torch.logit(mean_image.clamp(MEAN_CLAMP, 1 - MEAN_CLAMP))
            )
    return model


def stuck_advice(loss: float, average_digit_mse: float, lr: float) -> str:
    """What to tell a user whose run is no better than outputting the average digit."""
    lower = "a learning rate 3x lower" if lr > 0 else "a learning rate above 0"
    return (
        f"Training looks stuck: the error ({loss:.4f}) is no lower than always drawing the average digit "
        f"({average_digit_mse:.4f}). The output sigmoid has probably saturated, so its gradients vanish. "
        f"Try {lower}, or press Fast defaults."
    )


def divergence_window(batch_size: int) -> int:
    """Steps whose mean loss counts as the recent one: DIVERGENCE_WINDOW, or DIVERGENCE_SAMPLES digits if more."""
    return max(DIVERGENCE_WINDOW, math.ceil(DIVERGENCE_SAMPLES / max(batch_size, 1)))


def is_stuck(losses: torch.Tensor, average_digit_mse: float) -> bool:
    """True when the last STUCK_WINDOW losses are flat and no lower than the average digit's error."""
    if losses.shape[0] < 2 * STUCK_WINDOW:
        return False
    recent = float(losses[-STUCK_WINDOW:].mean())
    before = float(losses[-2 * STUCK_WINDOW : -STUCK_WINDOW].mean())
    return recent >= average_digit_mse and before - recent < STUCK_FLAT * recent


@torch.no_grad()
def evaluate_mse(model: LinearAutoencoder, images: torch.Tensor, targets: torch.Tensor | None = None) -> float:
    """Mean squared error between the model's output for `images` and `targets` (default: the images).

    Runs after every epoch, so it counts against training time: cache-sized chunks and in-place
    operations on one reused buffer make it about 4x as fast as `((model(x) - x) ** 2).sum()` (78 -> 20 ms). On the
    CPU the fused C pass of model/fast/score.py does it, when it can, in ~0.8x the time again.
    """
    fused = squared_error_sum(model, images, targets)
    if fused is not None:
        return fused / images.numel()
    dec = model.decoder
    out = torch.empty(min(EVAL_CHUNK, images.shape[0]), INPUT_DIM, dtype=dec.weight.dtype, device=dec.weight.device)
    total = torch.zeros((), dtype=torch.float64, device=out.device)
    for start in range(0, images.shape[0], EVAL_CHUNK):
        # Chunks follow the model to its device (a no-op when they are there already, as in the trainer).
        x = images[start : start + EVAL_CHUNK].to(out.device)
        target = x if targets is None else targets[start : start + EVAL_CHUNK].to(out.device)
        err = torch.addmm(dec.bias, model.encode(x), dec.weight.t(), out=out[: x.shape[0]])  # (B, 784)
        if model.output == Output.SIGMOID:
            err.sigmoid_()
        err.sub_(target)
        total += torch.dot(err.view(-1), err.view(-1))
    return float(total) / images.numel()


@dataclass
class _Control:
    stop: threading.Event = field(default_factory=threading.Event)
    running: threading.Event = field(default_factory=threading.Event)  # cleared while paused or held
    lock: threading.Lock = field(default_factory=threading.Lock)
    paused_at: float | None = None  # monotonic time of the user's pause
    held: bool = False  # a scheduler took the trainer's slot away: it waits even when not paused
    note: str = ""  # why it is held, published with the paused snapshot
    steps_left: int = 0  # single steps granted while paused (Step)
    epochs_left: int = 0  # runs to an epoch's end granted while paused (Step epoch), taken after steps_left
    lr: float | None = None  # a new peak learning rate, used from the next step taken
    pause_after: int = 0  # pause once this many steps are taken (0: never; back to 0 once it has paused)
    slow: bool = False  # slow motion: steps SLOW_STEP_SECONDS apart

    def update(self) -> None:
        """The loop runs when neither the user nor a scheduler holds it, or to take granted steps (stop wakes it)."""
        granted = self.paused_at is not None and (self.steps_left or self.epochs_left)
        if self.stop.is_set() or granted or (self.paused_at is None and not self.held):
            self.running.set()
        else:
            self.running.clear()

    @property
    def watched(self) -> bool:
        """Something must be done after each step: a pause at a step count, or slow motion."""
        return self.pause_after > 0 or self.slow


class _Clock:
    """Seconds of training, pauses excluded."""

    def __init__(self) -> None:
        self._banked = 0.0
        self._since: float | None = None  # perf_counter() when it was last started; None while stopped

    def start(self) -> None:
        self._since = time.perf_counter()

    def stop(self) -> None:
        self._banked = self.elapsed()
        self._since = None

    def elapsed(self) -> float:
        return self._banked if self._since is None else self._banked + time.perf_counter() - self._since


@dataclass
class _Run:
    """One run's working state, made by Trainer._start_run and advanced by its steps."""

    batches: ShuffledBatches
    opt: FlatAdam
    grads: MseGradients
    noise_gen: torch.Generator  # draws the noise of a denoising run's training batches
    noisy_test: torch.Tensor | None  # (M, 784) a denoiser's fixed noisy test set, or None for a plain run
    clock: _Clock = field(default_factory=_Clock)
    epoch: int = 0  # completed epochs
    step: int = 0
    last_publish: float = 0.0  # perf_counter() of the latest periodic snapshot
    published: bool = False  # a periodic snapshot went out already
    status: Status = Status.DONE  # how the run ends, unless something ends it sooner
    message: str = ""

    def end(self, status: Status, message: str = "") -> bool:
        """End the run this way; False, so a step can `return run.end(...)` to say 'stop here'."""
        self.status, self.message = status, message
        return False

    def publish_due(self) -> bool:
        """True after the first FIRST_PUBLISH_STEPS steps, then at most every PUBLISH_SECONDS (a fast run must
        not copy its weights at every step)."""
        now = time.perf_counter()
        first = not self.published and self.step >= FIRST_PUBLISH_STEPS
        if not first and now - self.last_publish < PUBLISH_SECONDS:
            return False
        self.last_publish, self.published = now, True
        return True


def replay_epochs(epochs: int, frames: int = REPLAY_EPOCHS) -> frozenset[int]:
    """The epochs whose codes the replay keeps: 0 and `frames` evenly spaced ones ending at the last."""
    return frozenset({0, *(round(i * epochs / frames) for i in range(1, frames + 1))})


class Trainer:
    """Trains one LinearAutoencoder in steps; pause(), resume() and stop() act within one step."""

    def __init__(
        self,
        config: TrainConfig,
        train_images: torch.Tensor | ByteImages,
        test_images: torch.Tensor,
        replay_images: torch.Tensor | None = None,
        device: torch.device | None = None,
        pca_basis: torch.Tensor | None = None,
    ) -> None:
        self.config = config
        # (784, >= k) principal components: each epoch's decoder subspace is compared with the first k.
        self.pca_basis = None if pca_basis is None else pca_basis[:, : config.latent_dim].detach().cpu()
        self.device = device or default_device()
        # Kept where it is: batches come from a shuffled copy shared per process (model/fast/batches.py), and
        # only that copy is moved to the device, for the run's duration.
        self.train_images = train_images  # (N, 784) float32, or ByteImages: the same digits as bytes (a worker's)
        self.test_x = test_images.to(self.device)  # (M, 784)
        self.replay_x = None if replay_images is None else replay_images.to(self.device)
        mean_image = average_image(train_images).cpu()  # (784,) the average digit
        # The error of always drawing the average digit: a trained model must do better (see is_stuck).
        self.average_digit_mse = float(((test_images.cpu() - mean_image) ** 2).mean())
        start_bias = mean_image if config.bias_init == "mean" else None
        model = LinearAutoencoder(config.latent_dim, config.activation, config.output)
        self.model = init_weights(model, config.seed, start_bias).to(self.device)
        n = len(train_images)
        self.batch_size, self.steps_per_epoch = batch_plan(n, config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self._control = _Control()
        self._control.running.set()
        # CPU copy of the curve, filled at each flush. Empty, not zeros: only the steps taken are ever read, and
        # untouched pages cost no memory (batch 1, 200 epochs: 48 MB reserved, a 10-minute run fills a part).
        self._losses = torch.empty(self.total_steps)
        # Steps write their loss straight into this curve; on CUDA it is copied off the device in batches.
        self._curve = self._losses if self.device.type == "cpu" else torch.zeros(self.total_steps, device=self.device)
        self._flushed = 0  # steps whose losses have been checked (and copied to the CPU)
        self._test_mse: list[float] = []
        self._noisy_test_mse: list[float] = []
        self._pca_similarity: list[float] = []
        self._pca_angles: np.ndarray | None = None
        self._replay: list[torch.Tensor] = []
        self._replay_epochs: list[int] = []
        self._keep_epochs = replay_epochs(config.epochs)
        self._samples = 0
        self._peak_lr = config.lr  # the schedule's peak: the config's, until set_lr() changes it
        self._lr_changes: list[tuple[int, float]] = []
        self._divergence = ""
        self._start_loss = math.inf  # the untrained model's loss, scored as the run starts (divergence's yardstick)
        self._warning = ""
        self._snapshot = self._make_snapshot(Status.READY, 0, 0, 0.0)

    # Control, safe to call from any thread.
    def pause(self) -> None:
        with self._control.lock:
            if self._control.paused_at is None:
                self._control.paused_at = time.monotonic()
            self._control.update()

    def resume(self) -> None:
        """Undo the user's pause (and any steps still granted); a held trainer still waits for release()."""
        with self._control.lock:
            self._control.paused_at = None
            self._control.steps_left = self._control.epochs_left = 0
            self._control.update()

    def step(self, n: int = 1) -> bool:
        """While paused by the user, train n more batches, then wait again; False (nothing done) otherwise."""
        with self._control.lock:
            if not self.pause_requested or n < 1:
                return False
            self._control.steps_left += n
            self._control.update()
            return True

    def step_epoch(self) -> bool:
        """While paused by the user, train to the end of the current epoch (a whole one from its start)."""
        with self._control.lock:
            if not self.pause_requested:
                return False
            self._control.epochs_left += 1
            self._control.update()
            return True

    def set_lr(self, lr: float) -> None:
        """A new peak learning rate from the next step taken (the schedule's shape stays); kept in lr_changes."""
        TrainConfig(lr=lr)  # the config's own check and its sentence
        with self._control.lock:
            self._control.lr = float(lr)

    def set_pause_after(self, steps: int) -> None:
        """Pause once `steps` steps have been taken (0: never), once; a count already passed never fires."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"Pause after must be a whole number of steps, 0 or more, got {steps!r}.")
        with self._control.lock:
            self._control.pause_after = steps

    def set_slow_motion(self, on: bool) -> None:
        """Space the steps SLOW_STEP_SECONDS apart (and publish each), so the first steps can be watched."""
        with self._control.lock:
            self._control.slow = bool(on)

    def stop(self) -> None:
        self._control.stop.set()
        with self._control.lock:
            self._control.update()  # wake a paused or held loop so it can see the stop

    def hold(self, note: str) -> None:
        """A scheduler's pause: the run keeps its state and waits, saying why, until release()."""
        with self._control.lock:
            self._control.held, self._control.note = True, note
            self._control.update()
            if self._snapshot.status == Status.PAUSED:  # already waiting: publish the reason now
                self._snapshot = replace(self._snapshot, message=note)

    def release(self) -> None:
        with self._control.lock:
            self._control.held, self._control.note = False, ""
            self._control.update()

    @property
    def paused_since(self) -> float | None:
        """When the user paused it (monotonic), or None while they have not."""
        return self._control.paused_at

    # What the run has been asked to do, true at once; its snapshot follows within a step.
    @property
    def pause_requested(self) -> bool:
        """The user's pause (a scheduler's hold is not one: the page shows that run as queued)."""
        return self._control.paused_at is not None and not self._control.stop.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._control.stop.is_set()

    @property
    def steps_pending(self) -> bool:
        """Steps granted by step() or step_epoch() that the paused run has not taken yet."""
        ctl = self._control
        return ctl.paused_at is not None and bool(ctl.steps_left or ctl.epochs_left)

    @property
    def lr(self) -> float:
        """The peak learning rate the next step uses (a set_lr() not yet taken included)."""
        wished = self._control.lr
        return self._peak_lr if wished is None else wished

    @property
    def pause_after(self) -> int:
        """The step count the run will pause at; 0 when none is set or it has paused there."""
        return self._control.pause_after

    @property
    def slow_motion(self) -> bool:
        return self._control.slow

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def _make_snapshot(self, status: Status, epoch: int, step: int, elapsed: float, message: str = "") -> Snapshot:
        state = {
            k: v.detach().to("cpu", copy=True, memory_format=torch.contiguous_format)
            for k, v in self.model.state_dict().items()
        }
        return Snapshot(
            config=self.config,
            status=status,
            epoch=epoch,
            step=step,
            total_steps=self.total_steps,
            steps_per_epoch=self.steps_per_epoch,
            samples_seen=self._samples,
            elapsed=elapsed,
            train_loss=self._losses[:step].clone(),
            test_mse=tuple(self._test_mse),
            noisy_test_mse=tuple(self._noisy_test_mse),
            pca_similarity=tuple(self._pca_similarity),
            pca_angles=self._pca_angles,
            lr_changes=tuple(self._lr_changes),
            state=state,
            replay=tuple(self._replay),
            replay_epochs=tuple(self._replay_epochs),
            message=message,
            warning=self._warning,
        )

    def _lr_at(self, step: int, elapsed: float) -> float:
        if self.config.schedule == "constant":
            return self._peak_lr
        progress = step / self.total_steps
        if self.config.max_seconds:
            progress = max(progress, elapsed / self.config.max_seconds)
        return self._peak_lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    @torch.no_grad()
    def _record_replay(self, epoch: int) -> None:
        """Codes after `epoch`; the newest frame is always the latest epoch, kept only if it is planned."""
        if self.replay_x is None:
            return
        if self._replay_epochs and self._replay_epochs[-1] not in self._keep_epochs:
            self._replay.pop()
            self._replay_epochs.pop()
        self.model.eval()
        self._replay.append(self.model.encode(self.replay_x).to("cpu", torch.float16))  # (R, k)
        self._replay_epochs.append(epoch)
        self.model.train()

    def run(self) -> Snapshot:
        """Train until done, stopped, out of time or diverged; returns the final snapshot."""
        try:
            return self._run()
        except Exception as exc:  # a worker thread must always leave a final state behind
            self._snapshot = self._make_snapshot(
                Status.FAILED,
                self._snapshot.epoch,
                self._snapshot.step,
                self._snapshot.elapsed,
                f"Training failed: {exc}",
            )
            return self._snapshot

    @torch.no_grad()  # once for the whole run: the per-step calls then skip entering it themselves
    def _run(self) -> Snapshot:
        run = self._start_run()
        for _ in range(self.config.epochs):
            if not (self._train_epoch(run) and self._end_epoch(run)):
                break
        return self._finish(run)

    def _start_run(self) -> _Run:
        """The run's batches, optimiser, gradient buffers and noise; the clock starts after the first replay frame."""
        cfg = self.config
        noisy_test = None  # a denoiser is also scored on the task it learns: these noisy digits in, clean out
        if cfg.noise != NO_NOISE:
            # Drawn on the CPU, then moved: the same noisy digits (and score) on every device.
            noisy_test = add_noise(self.test_x.cpu(), cfg.noise, cfg.noise_level, seed=cfg.seed).to(self.device)
        run = _Run(
            batches=ShuffledBatches(self.train_images, self.batch_size, seed=cfg.seed + 1, device=self.device),
            opt=FlatAdam(self.model, lr=cfg.lr, transposed=(self.model.encoder.weight,)),
            grads=MseGradients(self.model, self.batch_size),
            noise_gen=torch.Generator(device=self.device).manual_seed(cfg.seed),
            noisy_test=noisy_test,
        )
        self._record_replay(0)
        # What step 0's loss is worth on average (its own is one batch's): the untrained model on the test digits.
        self._start_loss = evaluate_mse(self.model, self.test_x if noisy_test is None else noisy_test, self.test_x)
        run.clock.start()
        run.last_publish = time.perf_counter()
        return run

    def _train_epoch(self, run: _Run) -> bool:
        """One pass over the batches; False when the run ends during it (run.status says why)."""
        ctl = self._control
        for target in run.batches.epoch():  # (B, 784)
            if not self._may_step(run):
                return False
            self._step(run, target)
            if ctl.watched and not self._after_step(run):
                return False
            if run.publish_due() and not self._publish(run, Status.RUNNING):
                return False
        return True

    def _may_step(self, run: _Run) -> bool:
        """Wait out a pause; False when the run must end instead: diverged, stopped, or out of time."""
        ctl, budget = self._control, self.config.max_seconds
        while True:
            if not ctl.running.is_set() and not self._wait_while_paused(run):
                return False
            if ctl.stop.is_set():
                return run.end(Status.STOPPED, "Stopped by the user.")
            if budget and run.clock.elapsed() >= budget:
                return run.end(Status.DONE, f"Reached the {budget:g} s time budget.")
            if ctl.lr is not None:
                self._take_lr(run)
            if ctl.paused_at is None or self._take_grant(run):
                return True
            # Paused between the wait and here, with no step granted: wait again.

    def _take_grant(self, run: _Run) -> bool:
        """Spend one granted step of a paused run; False when none is left (the loop then waits)."""
        ctl = self._control
        with ctl.lock:
            if ctl.paused_at is None or ctl.stop.is_set():
                return True  # resumed or stopped meanwhile: the caller's next check decides
            if ctl.steps_left:
                ctl.steps_left -= 1
            elif ctl.epochs_left:
                if (run.step + 1) % self.steps_per_epoch == 0:  # this step ends the epoch
                    ctl.epochs_left -= 1
            else:
                return False
            ctl.update()
            return True

    def _take_lr(self, run: _Run) -> None:
        """Use a learning rate set by set_lr() from this step on, and record it (one entry per step)."""
        with self._control.lock:
            lr, self._control.lr = self._control.lr, None
        if lr is None:
            return
        self._peak_lr = lr
        if self._lr_changes and self._lr_changes[-1][0] == run.step:
            self._lr_changes.pop()
        self._lr_changes.append((run.step, lr))

    def _after_step(self, run: _Run) -> bool:
        """Pause at the wished step count; in slow motion, publish this step and wait before the next."""
        ctl = self._control
        if ctl.pause_after and run.step == ctl.pause_after:
            with ctl.lock:
                ctl.pause_after = 0
            self.pause()
        if not ctl.slow:
            return True
        if not self._publish(run, Status.RUNNING):
            return False
        run.clock.stop()  # the wait is no training: the time budget and samples/s do not count it
        ctl.stop.wait(SLOW_STEP_SECONDS)
        run.clock.start()
        return True

    def _wait_while_paused(self, run: _Run) -> bool:
        """Publish a paused snapshot and wait for resume() or stop(); False when the losses so far diverged."""
        if not self._losses_ok(run):  # never publish a NaN loss as "paused"
            return False
        run.clock.stop()
        ctl = self._control
        with ctl.lock:  # a hold's note goes out with the paused snapshot
            self._snapshot = self._make_snapshot(Status.PAUSED, run.epoch, run.step, run.clock.elapsed(), ctl.note)
        ctl.running.wait()
        run.clock.start()
        return True

    def _step(self, run: _Run, target: torch.Tensor) -> None:
        """One optimiser step on a (B, 784) batch, its loss written straight into the curve."""
        cfg = self.config
        run.opt.lr = self._lr_at(run.step, run.clock.elapsed())
        noisy = cfg.noise != NO_NOISE
        inputs = add_noise(target, cfg.noise, cfg.noise_level, generator=run.noise_gen) if noisy else target
        run.grads(inputs, target, loss_out=self._curve[run.step])  # (B, 784) -> (B, k) -> (B, 784)
        run.opt.step()
        run.step += 1
        self._samples += target.shape[0]

    def _end_epoch(self, run: _Run) -> bool:
        """Score the finished epoch, keep its replay frame and publish it; False when its losses diverged."""
        if not self._losses_ok(run):
            return False
        self.model.eval()
        self._score(run.noisy_test)
        self.model.train()
        run.epoch += 1
        self._record_replay(run.epoch)
        self._snapshot = self._make_snapshot(Status.RUNNING, run.epoch, run.step, run.clock.elapsed())
        return True

    def _publish(self, run: _Run, status: Status) -> bool:
        """Publish a snapshot of the run so far; False (and nothing published) when its losses diverged."""
        if not self._losses_ok(run):
            return False
        self._snapshot = self._make_snapshot(status, run.epoch, run.step, run.clock.elapsed())
        return True

    def _losses_ok(self, run: _Run) -> bool:
        """Flush the losses of the steps taken; when they went bad, the run ends as diverged."""
        return self._flush(run.step) or run.end(Status.DIVERGED)

    def _finish(self, run: _Run) -> Snapshot:
        """Score what the last epoch left, judge the result and publish the final snapshot."""
        run.clock.stop()
        if run.status != Status.DIVERGED:
            self._losses_ok(run)
        if run.status == Status.DIVERGED:
            # Publish only the finite start of the loss curve, so no chart ever holds NaN.
            bad = (~torch.isfinite(self._losses[: run.step])).nonzero()
            run.step = int(bad[0, 0]) if len(bad) else run.step
            run.message = (
                f"Training diverged after {run.step} steps: "
                f"{self._divergence or 'the loss became infinite or NaN'}. Lower the learning rate and start again."
            )
        epochs_done = len(self._test_mse)
        self.model.eval()
        if run.status != Status.DIVERGED and (not self._test_mse or epochs_done * self.steps_per_epoch < run.step):
            self._score(run.noisy_test)  # the partial epoch too
        if run.status in (Status.DONE, Status.STOPPED) and self._test_mse:
            # Judged on the task trained for: a denoiser's clean-input error is legitimately higher.
            final = (self._noisy_test_mse or self._test_mse)[-1]
            stuck = final >= self.average_digit_mse
            self._warning = stuck_advice(final, self.average_digit_mse, self.config.lr) if stuck else ""
        self._snapshot = self._make_snapshot(run.status, epochs_done, run.step, run.clock.elapsed(), run.message)
        return self._snapshot

    def _score(self, noisy_test: torch.Tensor | None) -> None:
        """Test-set errors of the current weights (model in eval mode)."""
        self._test_mse.append(evaluate_mse(self.model, self.test_x))
        if noisy_test is not None:
            self._noisy_test_mse.append(evaluate_mse(self.model, noisy_test, targets=self.test_x))
        if self.pca_basis is not None:  # once per epoch, so a live view need not redo it at every poll
            self._pca_angles = principal_angles(self.model.decoder.weight, self.pca_basis)
            self._pca_similarity.append(mean_cos2(self._pca_angles))

    def _flush(self, step: int) -> bool:
        """Check (and on CUDA copy off the device) the losses of steps not yet seen; False when diverged."""
        if step <= self._flushed:
            return True
        if self._curve is not self._losses:  # one device sync per flush, not one per step
            self._losses[self._flushed : step] = self._curve[self._flushed : step].to("cpu")
        values = self._losses[self._flushed : step]
        self._flushed = step
        if not bool(torch.isfinite(values).all()):
            self._divergence = "the loss became infinite or NaN"
            return False
        # The sigmoid keeps the loss finite even when the weights blow up; what shows a far too high
        # learning rate is a loss that climbs well above the untrained model's (step 0).
        largest = max(float(p.detach().abs().max()) for p in self.model.parameters())
        if largest > MAX_WEIGHT:
            self._divergence = f"the weights grew past {MAX_WEIGHT:g} (trained models stay below 10)"
            return False
        window = divergence_window(self.batch_size)
        if step >= max(DIVERGENCE_MIN_STEPS, window):
            recent = float(self._losses[step - window : step].mean())
            start = self._start_loss
            if recent > DIVERGENCE_FACTOR * start:
                self._divergence = f"the loss rose from {start:.3f} to {recent:.3f} instead of falling"
                return False
        stuck = is_stuck(self._losses[:step], self.average_digit_mse)
        recent = float(self._losses[max(0, step - STUCK_WINDOW) : step].mean())
        self._warning = stuck_advice(recent, self.average_digit_mse, self.config.lr) if stuck else ""
        return True


if __name__ == "__main__":  # `python -m model.train`, the older spelling of `python -m model` (the Makefile's)
    runpy.run_module("model", run_name="__main__", alter_sys=True)
