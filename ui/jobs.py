"""Server-wide training queue: at most N trainers at once, the rest wait in line; orphans stop themselves.

Pure Python and threads, no Streamlit: each browser session submits jobs and polls them, sending a
heartbeat with every poll. A job whose session stops polling (tab closed) is stopped by the reaper.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from model.train import Snapshot, Trainer

ORPHAN_SECONDS = 30.0  # a job unpolled this long, whose session's liveness is unknown, is stopped
DISCONNECT_GRACE = 10.0  # a disconnected session may reconnect within this; after it, its jobs stop
REAP_EVERY = 5.0


@dataclass
class Job:
    """One user's training run, queued or running; the trainer is built only when it starts."""

    id: int
    session_id: str
    label: str
    make_trainer: Callable[[], Trainer]
    submitted: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    trainer: Trainer | None = None
    thread: threading.Thread | None = None
    cancelled: bool = False
    error: str = ""

    @property
    def snapshot(self) -> Snapshot | None:
        return None if self.trainer is None else self.trainer.snapshot

    @property
    def finished(self) -> bool:
        if self.cancelled or self.error:
            return True
        snap = self.snapshot
        return snap is not None and snap.finished

    @property
    def queued(self) -> bool:
        return self.trainer is None and not self.finished


class JobManager:
    """Runs submitted jobs in worker threads, max_running at a time, first come first served."""

    def __init__(
        self,
        max_running: int | None = None,
        orphan_seconds: float = ORPHAN_SECONDS,
        is_alive: Callable[[str], bool | None] | None = None,
    ) -> None:
        """is_alive(session_id) answers True/False when the server knows whether a session is connected.

        Browsers throttle timers in background tabs, so heartbeats alone would stop the job of someone
        reading the slides in another tab; a connected session keeps its jobs whatever its heartbeats.
        """
        self.max_running = max(1, max_running or os.cpu_count() or 1)
        self.orphan_seconds = orphan_seconds
        self.is_alive = is_alive
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}  # queued and running jobs, plus finished ones not yet collected
        self._queue: list[int] = []
        self._reaper = threading.Thread(target=self._reap_forever, name="job-reaper", daemon=True)
        self._reaper.start()

    def submit(self, session_id: str, label: str, make_trainer: Callable[[], Trainer]) -> Job:
        job = Job(next(self._ids), session_id, label, make_trainer)
        with self._lock:
            self._jobs[job.id] = job
            self._queue.append(job.id)
            self._start_waiting()
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def heartbeat(self, job_id: int) -> Job | None:
        """Called on every poll from the owning session: keeps the job alive."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.last_seen = time.monotonic()
            return job

    def queue_position(self, job_id: int) -> int:
        """1 for the next job to start, 0 when not waiting."""
        with self._lock:
            return self._queue.index(job_id) + 1 if job_id in self._queue else 0

    def running_count(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.trainer is not None and not j.finished)

    def cancel(self, job_id: int) -> None:
        """Stop a running job or drop a queued one."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            if job_id in self._queue:
                self._queue.remove(job_id)
                job.cancelled = True
            elif job.trainer is not None:
                job.trainer.stop()

    def collect(self, job_id: int) -> Job | None:
        """Forget a finished job (its owner has taken the result); running jobs stay."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.finished:
                del self._jobs[job_id]
            return job

    def active_jobs(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if not j.finished]

    def _start_waiting(self) -> None:
        while self._queue and self.running_count() < self.max_running:
            job = self._jobs[self._queue.pop(0)]
            try:
                job.trainer = job.make_trainer()
            except Exception as exc:  # bad settings or data: tell the owner, keep the queue moving
                job.error = f"Training could not start: {exc}"
                continue
            job.thread = threading.Thread(target=self._run, args=(job,), name=f"train-{job.id}", daemon=True)
            job.thread.start()

    def _run(self, job: Job) -> None:
        job.trainer.run()
        with self._lock:
            self._start_waiting()

    def reap(self) -> list[int]:
        """Stop and drop jobs whose session stopped polling; returns their ids."""
        now = time.monotonic()
        gone = []
        with self._lock:
            for job in list(self._jobs.values()):
                alive = self.is_alive(job.session_id) if self.is_alive else None
                if alive:
                    job.last_seen = now
                limit = DISCONNECT_GRACE if alive is False else self.orphan_seconds
                if now - job.last_seen > limit:
                    gone.append(job.id)
                    if job.id in self._queue:
                        self._queue.remove(job.id)
                    if job.trainer is not None:
                        job.trainer.stop()
                    del self._jobs[job.id]
            self._start_waiting()
        return gone

    def _reap_forever(self) -> None:
        while True:
            time.sleep(min(REAP_EVERY, self.orphan_seconds / 2))
            self.reap()
