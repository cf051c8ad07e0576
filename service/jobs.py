"""Server-wide training queue: a few trainer slots shared fairly between people; orphans stop themselves.

Pure Python and threads, no Streamlit: each browser session submits jobs and polls them, sending a
heartbeat with every poll. A job whose session stops polling (tab closed) is stopped by the reaper.

Fair share: every job has an owner (who is training: today the browser's address, later a workspace id)
and a kind. An owner's first Train run, then one sweep job at a time, come before anything more the same
owner asks for; someone who has nothing running goes ahead of all of those, and takes the slot of an
owner's extra job if none is free (the extra job is held, keeps its state, and carries on later).
Nobody is refused a free slot: the owner key is a soft signal (a class behind one NAT shares an address).

A job of a workspace (a browser with the workspace cookie) is not orphaned when its tabs close: it runs to
its end and its `on_finish` callback (run in the job's thread, before the job counts as finished) keeps the
result in the workspace. Only a paused one left unwatched for `uncollected_seconds` is stopped.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from model.config import TrainConfig
from model.train import Snapshot, Trainer
from service import allocator

ORPHAN_SECONDS = 30.0  # a job unpolled this long, whose session's liveness is unknown, is stopped
DISCONNECT_GRACE = 10.0  # a disconnected session may reconnect within this; after it, its jobs stop
UNCOLLECTED_SECONDS = 600.0  # a finished job nobody took is dropped after this, connected or not
PAUSE_RELEASE_SECONDS = 120.0  # a paused job gives its slot to whoever waits after this
REAP_EVERY = 5.0
_LOG = logging.getLogger(__name__)

TRAIN, SWEEP = "train", "sweep"  # the Train page's run, and one job of a Compare sweep
FIRST, SWEEP_TURN, EXTRA = 0, 1, 2  # ranks: an owner's first run; their sweep's next job; anything more

RELEASED_NOTE = (
    "Paused for over {minutes:g} minutes, so its trainer went to someone waiting. Press Resume: it carries on "
    "from where it stopped as soon as a trainer is free."
)
PREEMPTED_NOTE = "Held so someone with nothing running could train; it carries on from here when a trainer is free."


@dataclass
class Job:
    """One user's training run, queued or running; the trainer is built when it first gets a slot."""

    id: int
    session_id: str
    label: str
    make_trainer: Callable[[], Trainer]
    owner: str = ""  # who it counts against for fair share (default: the session)
    kind: str = TRAIN
    config: TrainConfig | None = None  # the settings it trains with: pages name a job by these values, not its label
    submitted: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    trainer: Trainer | None = None
    thread: threading.Thread | None = None
    cancelled: bool = False
    error: str = ""
    has_slot: bool = False  # holds one of the server's trainer slots (running, or paused for < 2 minutes)
    discard: bool = False  # nobody wants the result: the manager drops the job as soon as it has stopped
    ended: float | None = None  # monotonic time it finished, for the expiry of uncollected jobs
    workspace: str = ""  # the workspace it belongs to: it outlives its tabs (empty: the tab's job, as before)
    run_id: str = ""  # its id in the workspace's run list (workspace jobs), known before the job starts
    on_finish: Callable[[Job], None] | None = None  # keeps the result without a page; run before `finished`
    settled: bool = False  # on_finish has run (or there is none to run)
    outcome: object = None  # what on_finish reports to the pages (whatever the callback's owner puts here)

    def __post_init__(self) -> None:
        self.owner = self.owner or self.session_id

    @property
    def snapshot(self) -> Snapshot | None:
        return None if self.trainer is None else self.trainer.snapshot

    @property
    def finished(self) -> bool:
        if self.cancelled or self.error:
            return True
        snap = self.snapshot
        return snap is not None and snap.finished and (self.settled or self.on_finish is None)

    @property
    def wants_slot(self) -> bool:
        """Not finished and not paused by its user."""
        return not self.finished and (self.trainer is None or self.trainer.paused_since is None)

    @property
    def queued(self) -> bool:
        """Waiting in line for a slot: before its start, or to carry on after its slot was taken."""
        return self.wants_slot and not self.has_slot

    @property
    def resuming(self) -> bool:
        """Queued after it had already trained: it carries on from its state, not from the start."""
        return self.queued and self.trainer is not None


class JobManager:
    """Runs submitted jobs in worker threads, max_running at a time, fairly between owners."""

    def __init__(
        self,
        max_running: int | None = None,
        orphan_seconds: float = ORPHAN_SECONDS,
        is_alive: Callable[[str], bool | None] | None = None,
        pause_release_seconds: float = PAUSE_RELEASE_SECONDS,
        uncollected_seconds: float = UNCOLLECTED_SECONDS,
        session_count: Callable[[], int | None] | None = None,
    ) -> None:
        """is_alive(session_id) answers True/False when the server knows whether a session is connected.

        Browsers throttle timers in background tabs, so heartbeats alone would stop the job of someone
        reading the slides in another tab; a connected session keeps its jobs whatever its heartbeats.
        session_count() is how many sessions the server holds: when it falls (Streamlit forgot closed tabs,
        120 s after they closed), the reaper hands what they held back to the system, as for dropped jobs.
        """
        self.max_running = max(1, max_running or os.cpu_count() or 1)
        self.orphan_seconds = orphan_seconds
        self.is_alive = is_alive
        self.pause_release_seconds = pause_release_seconds
        self.uncollected_seconds = uncollected_seconds
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}  # queued, running and paused jobs, plus finished ones not yet collected
        self._dropped = 0  # jobs forgotten since the reaper last gave memory back
        self.session_count = session_count
        self._sessions: int | None = None  # sessions held at the previous reap
        self._reaper = threading.Thread(target=self._reap_forever, name="job-reaper", daemon=True)
        self._reaper.start()

    def submit(
        self,
        session_id: str,
        label: str,
        make_trainer: Callable[[], Trainer],
        owner: str = "",
        kind: str = TRAIN,
        config: TrainConfig | None = None,
        workspace: str = "",
        on_finish: Callable[[Job], None] | None = None,
        run_id: str = "",
    ) -> Job:
        job = Job(
            next(self._ids), session_id, label, make_trainer, owner=owner, kind=kind, config=config,
            workspace=workspace, on_finish=on_finish, run_id=run_id,
        )  # fmt: skip
        with self._lock:
            self._jobs[job.id] = job
            self._schedule()
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

    def waiting(self) -> list[Job]:
        """Jobs waiting for a slot, in the order they will get one (a sweep's later jobs last)."""
        with self._lock:
            queued = [j for j in self._jobs.values() if j.queued]
            ranks = {j.id: self._rank(j) for j in queued}
            return sorted(queued, key=lambda j: (3 if ranks[j.id] is None else ranks[j.id], j.submitted, j.id))

    def queue_position(self, job_id: int) -> int:
        """1 for the next job to start, 0 when not waiting."""
        ids = [j.id for j in self.waiting()]
        return ids.index(job_id) + 1 if job_id in ids else 0

    def running_count(self) -> int:
        """Slots taken (a job paused for less than PAUSE_RELEASE_SECONDS keeps its slot)."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.has_slot)

    def pause(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.trainer is not None:
                job.trainer.pause()

    def resume(self, job_id: int) -> None:
        """Undo a pause: at once when the job still has its slot or one is free, else it queues."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.trainer is not None:
                job.trainer.resume()
                self._schedule()

    def cancel(self, job_id: int) -> None:
        """Stop a running job or drop a queued one; a stopped job's result is kept for collect()."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            if job.trainer is None:
                job.cancelled = True
                job.ended = time.monotonic()
                if job.discard:
                    del self._jobs[job_id]
            else:
                job.trainer.stop()

    def discard(self, job_id: int) -> None:
        """Stop a job whose result nobody wants; it is dropped as soon as its thread has stopped."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            job.discard = True
            if job.finished:
                del self._jobs[job_id]
                self._dropped += 1
            else:
                self.cancel(job_id)

    def collect(self, job_id: int) -> Job | None:
        """Forget a finished job (its owner has taken the result); running jobs stay."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.finished:
                del self._jobs[job_id]
                self._dropped += 1
            return job

    def owned(self, owner: str, kind: str) -> list[Job]:
        """An owner's jobs of a kind that someone still wants (not discarded), oldest first: a new tab reattaches."""
        with self._lock:
            return sorted(
                (j for j in self._jobs.values() if j.owner == owner and j.kind == kind and not j.discard),
                key=lambda j: j.id,
            )

    def active_jobs(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if not j.finished]

    def job_count(self) -> int:
        """Every job held, finished-but-uncollected ones included (what the soak benchmark watches)."""
        with self._lock:
            return len(self._jobs)

    def _rank(self, job: Job) -> int | None:
        """Who goes first: FIRST, SWEEP_TURN or EXTRA; None for a sweep job while its owner runs another."""
        others = [j for j in self._jobs.values() if j.has_slot and j.owner == job.owner and j is not job]
        if job.kind == SWEEP:
            return None if any(j.kind == SWEEP for j in others) else SWEEP_TURN
        return EXTRA if any(j.kind == TRAIN for j in others) else FIRST

    def _schedule(self) -> None:
        """Free the slots of long-paused jobs, fill free slots by rank, and make room for a FIRST job."""
        now = time.monotonic()
        for job in self._jobs.values():
            since = job.trainer.paused_since if job.has_slot and job.trainer is not None else None
            if since is not None and now - since >= self.pause_release_seconds:
                job.has_slot = False
                job.trainer.hold(RELEASED_NOTE.format(minutes=self.pause_release_seconds / 60))
        while True:
            ready = [j for j in self.waiting() if self._rank(j) is not None]
            if not ready:
                return
            if self.running_count() < self.max_running:
                self._grant(ready[0])
                continue
            if self._rank(ready[0]) != FIRST:
                return
            # Everyone's slot is taken and this person has nothing: hold the latest extra job of someone else.
            extras = [j for j in self._jobs.values() if j.has_slot and j.trainer is not None and self._rank(j)]
            if not extras:
                return
            victim = max(extras, key=lambda j: (j.trainer.paused_since is not None, self._rank(j), j.submitted))
            victim.has_slot = False
            victim.trainer.hold(PREEMPTED_NOTE)
            self._grant(ready[0])

    def _grant(self, job: Job) -> None:
        job.has_slot = True
        if job.trainer is not None:  # held earlier: carry on from its state
            job.trainer.release()
            return
        try:
            job.trainer = job.make_trainer()
        except Exception as exc:  # bad settings or data: tell the owner, keep the queue moving
            job.has_slot = False
            job.error = f"Training could not start: {exc}"
            job.ended = time.monotonic()
            return
        job.thread = threading.Thread(target=self._run, args=(job,), name=f"train-{job.id}", daemon=True)
        job.thread.start()

    def _run(self, job: Job) -> None:
        job.trainer.run()
        if job.on_finish is not None and not job.discard:
            try:
                job.on_finish(job)
            except Exception:  # the job must still end; its pages say the model was not kept
                _LOG.warning("A finished job's callback failed", exc_info=True)
        job.settled = True
        with self._lock:
            job.has_slot = False
            job.ended = time.monotonic()
            if job.discard and self._jobs.pop(job.id, None) is not None:
                self._dropped += 1
            self._schedule()

    def reap(self) -> list[int]:
        """Stop and drop jobs whose session stopped polling, and finished ones nobody took; returns their ids."""
        now = time.monotonic()
        gone = []
        with self._lock:
            for job in list(self._jobs.values()):
                alive = self.is_alive(job.session_id) if self.is_alive else None
                if alive:
                    job.last_seen = now
                limit = DISCONNECT_GRACE if alive is False else self.orphan_seconds
                expired = job.ended is not None and now - job.ended > self.uncollected_seconds
                if job.workspace and not expired:
                    paused = job.trainer is not None and job.trainer.paused_since is not None
                    if paused and now - job.last_seen > self.uncollected_seconds:
                        self.cancel(job.id)  # stopped, not dropped: its model still lands in the workspace
                    continue
                if now - job.last_seen > limit or expired:
                    gone.append(job.id)
                    self.discard(job.id)
            self._schedule()
            dropped, self._dropped = self._dropped, 0
        if self._sessions_forgotten() or dropped:
            allocator.trim()  # each trainer thread or session's script thread freed into malloc's arenas
        return gone

    def _sessions_forgotten(self) -> bool:
        """Whether the server holds fewer sessions than at the previous reap."""
        now = self.session_count() if self.session_count is not None else None
        fewer = now is not None and self._sessions is not None and now < self._sessions
        self._sessions = now
        return fewer

    def _reap_forever(self) -> None:
        while True:
            time.sleep(min(REAP_EVERY, self.orphan_seconds / 2))
            self.reap()
