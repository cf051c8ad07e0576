"""The training engine: one Dask cluster (or a connection to one) per server process.

Default: a LocalCluster of single-thread process workers, STUDIO_MAX_JOBS of them (default: the number of
cores), started from the st.App lifespan so the first Start does not wait. DASK_SCHEDULER_ADDRESS set: the
app connects to that scheduler instead. STUDIO_ENGINE=threads: thread workers inside the server process
(hosts that forbid subprocesses; also the fallback when a page script starts the engine, see _main_is_a_page).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import dask
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

log = logging.getLogger(__name__)

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"  # Dask's own setting: an external scheduler
MODE_ENV = "STUDIO_ENGINE"  # "threads": thread workers in the server process; anything else: process workers
MAX_JOBS_ENV = "STUDIO_MAX_JOBS"
CONNECT_SECONDS = 3.0  # an external scheduler that does not answer in this long is reported unreachable
RETRY_SECONDS = 10.0  # a failed connection is believed this long, so repeated Starts answer at once
ACTOR_PREFIX = "studio-trainer-"  # keys of trainer actors: how placement counts a worker's jobs
LOG_LENGTH_KEY = "distributed.admin.low-level-log-length"
LOG_LENGTH_ENV = "DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH"  # set: the instructor's own length is kept
# Dask keeps its last N messages per connection and N worker events for debugging (default 1000), each message
# whole: every job's spec (PCA components, replay rows) stayed alive in the server's scheduler and in its
# worker long after the job ended, some 60 KB a job, until 1000 more messages had passed (bench/soak.py).
LOG_LENGTH = 50


class EngineUnavailable(RuntimeError):
    """The training engine cannot be reached; the message is a sentence for the user."""


def max_jobs() -> int:
    """Worker processes of the embedded cluster: STUDIO_MAX_JOBS, default the number of cores."""
    value = os.environ.get(MAX_JOBS_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else os.cpu_count() or 1


def _main_is_a_page() -> bool:
    """True while __main__ is a script Streamlit runs (a page, or AppTest's): spawned workers would re-run it.

    Streamlit executes each page in a bare module installed as __main__, with a __file__ but no loader or
    spec; Python's spawn start then re-imports that file in every worker, and the Nanny fails to start.
    """
    main = sys.modules.get("__main__")
    return (
        main is not None
        and getattr(main, "__file__", None) is not None
        and getattr(main, "__spec__", None) is None
        and getattr(main, "__loader__", None) is None
    )


class _Preload(WorkerPlugin):
    """Imports torch and loads MNIST on each worker as it starts (replacements too), off its event loop."""

    name = "studio-preload"

    def __init__(self, data_dir: str | None) -> None:
        self.data_dir = data_dir

    def setup(self, worker: object) -> None:
        from service.memtrace import install
        from service.worker_side import preload

        install(worker=True)  # STUDIO_MEMTRACE set (bench/soak.py --trace) only: a census on SIGUSR1
        threading.Thread(target=preload, args=(self.data_dir,), name="studio-preload", daemon=True).start()


@dataclass
class Engine:
    """A connected Dask client, the cluster it owns (if any), and which workers this server has given jobs."""

    client: Client
    cluster: LocalCluster | None  # None: an external scheduler
    mode: str  # "processes", "threads" or "external"
    reason: str = ""  # why this mode, when it is not the one asked for
    _placed: dict[str, str] = field(default_factory=dict)  # actor key -> worker, until the actor is released
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def workers(self) -> dict[str, dict]:
        """Live workers and their details (resources among them), asked of the scheduler now.

        Not client.scheduler_info(): it fetches into the client's cached view and returns that, and the client's
        own refresh (every 2 s, without the workers) can replace it in between; a Start then failed with "no
        workers right now" about once in 150 in bench/soak.py.
        """
        if self.client.status != "running":
            raise EngineUnavailable(unreachable_message(self.client.scheduler.address))
        try:
            identity = self.client.sync(self.client.scheduler.identity, n_workers=-1)
        except OSError as exc:  # a scheduler that stopped answering (Dask's CommClosedError is one)
            raise EngineUnavailable(unreachable_message(self.client.scheduler.address)) from exc
        return dict(identity.get("workers", {}))

    def capacity(self) -> int:
        """How many jobs can train side by side: one per worker thread."""
        return sum(w.get("nthreads", 1) for w in self.workers().values())

    def place(self, key: str) -> str:
        """Choose a worker for a new trainer: the least busy, a GPU worker first among equals."""
        workers = self.workers()
        if not workers:
            raise EngineUnavailable("The training engine has no workers right now. Try again in a minute.")
        busy = dict.fromkeys(workers, 0)
        try:
            held = self.client.has_what()  # every server's trainers, not just this one's
        except Exception as exc:  # noqa: BLE001 - a scheduler that stopped answering
            raise EngineUnavailable(unreachable_message(self.client.scheduler.address)) from exc
        with self._lock:
            keys = {k: w for w, ks in held.items() for k in ks if str(k).startswith(ACTOR_PREFIX)}
            keys.update(self._placed)
            for worker in keys.values():
                if worker in busy:
                    busy[worker] += 1

            def order(addr: str) -> tuple[float, int]:
                info = workers[addr]
                return busy[addr] / max(info.get("nthreads", 1), 1), 0 if info.get("resources", {}).get("GPU") else 1

            chosen = min(workers, key=order)
            self._placed[key] = chosen
        return chosen

    def forget(self, key: str) -> None:
        """A trainer's actor was released: its worker counts as free again."""
        with self._lock:
            self._placed.pop(key, None)

    def close(self) -> None:
        """Disconnect, and stop the workers this engine started."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def unreachable_message(address: str) -> str:
    return (
        f"The training engine at {address} cannot be reached, so training cannot start right now. "
        "Drawing and the other pages still work; ask whoever runs the server to check the Dask scheduler."
    )


def _local_cluster(processes: bool, n_workers: int | None = None) -> LocalCluster:
    # Process workers and their scheduler listen on this machine only; thread workers talk in memory.
    where = {"host": "127.0.0.1"} if processes else {}
    return LocalCluster(
        n_workers=n_workers or max_jobs(),
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        silence_logs=logging.WARNING,
        **where,
    )


def short_logs() -> int:
    """Shorten Dask's debugging logs before a client or cluster exists (spawned workers inherit it); returns the length."""
    if LOG_LENGTH_ENV not in os.environ:
        dask.config.set({LOG_LENGTH_KEY: LOG_LENGTH})
    return dask.config.get(LOG_LENGTH_KEY)


def start(mode: str | None = None, address: str | None = None, n_workers: int | None = None) -> Engine:
    """Connect to DASK_SCHEDULER_ADDRESS, or start a LocalCluster (process or thread workers, n_workers of them)."""
    address = os.environ.get(ADDRESS_ENV, "") if address is None else address
    short_logs()
    if address:
        try:
            client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EngineUnavailable(unreachable_message(address)) from exc
        engine = Engine(client, None, "external")
    else:
        mode = mode or os.environ.get(MODE_ENV, "processes")
        reason = ""
        if mode != "threads" and _main_is_a_page():
            mode, reason = "threads", "started from a page script, whose workers would re-run the page"
            log.warning("Training engine: thread workers instead of processes (%s).", reason)
        processes = mode != "threads"
        cluster = _local_cluster(processes, n_workers)
        engine = Engine(Client(cluster, set_as_default=False), cluster, "processes" if processes else "threads", reason)
    data_dir = os.environ.get("MNIST_DIR") or None
    if data_dir and engine.mode != "threads":  # thread workers share the server's MNIST (share_mnist)
        engine.client.register_plugin(_Preload(data_dir))
    log.info("Training engine ready: %s, %d workers.", engine.mode, len(engine.workers()))
    return engine


_engine: Engine | None = None
_failed: tuple[float, str] | None = None  # when the last start failed, and its message
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The server's engine, started on first use when the lifespan did not start it (AppTest, plain scripts)."""
    global _engine, _failed
    with _engine_lock:
        if _engine is not None and _engine.client.status in ("running", "connecting"):
            return _engine
        if _failed is not None and time.monotonic() - _failed[0] < RETRY_SECONDS:
            raise EngineUnavailable(_failed[1])
        try:
            _engine = start()
        except EngineUnavailable as exc:
            _failed = (time.monotonic(), str(exc))
            raise
        _failed = None
        return _engine


def close_engine() -> None:
    """Stop the server's engine (at exit); a later get_engine() starts a new one."""
    global _engine
    with _engine_lock:
        engine, _engine = _engine, None
    if engine is not None:
        engine.close()


@asynccontextmanager
async def engine_lifespan(app: object) -> AsyncIterator[None]:
    """For st.App(lifespan=...): start the engine with the server, in a thread, and close it at exit."""
    try:
        await asyncio.to_thread(get_engine)
    except EngineUnavailable as exc:  # the app still serves drawing; Start says what is wrong
        log.error("Training engine unavailable at startup: %s", exc)
    try:
        yield
    finally:
        await asyncio.to_thread(close_engine)
