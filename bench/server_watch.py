"""The load benches' one way to weigh a process tree: CPU-seconds and peak memory of the server plus its workers.

bench/load_ws.py (protocol-level participants) and bench/load.py (real Chromium) both report the server's
figures through this, so their CPU-seconds per participant compare like for like: the server process and
every descendant (the engine's Dask workers), sampled every 0.25 s with psutil, each process's last reading
kept (one that exits still counts), counted from the moment the watch starts (after the server is up).
With a baseline (`--idle-baseline S` in both benches; off by default), one Train page is loaded first (the
server's one-time work: page imports, the PCA reference) and the tree's idle CPU rate is measured for S
seconds; the count then starts after both, and a net figure takes away the idle rate times the run's length:
the engine's Dask processes use CPU while nobody does anything, so a run that lasts longer (real browsers on
the same cores) would otherwise look dearer per participant.
"""

from __future__ import annotations

import threading
import time

import psutil

SAMPLE_SECONDS = 0.25
SETTLE_SECONDS = 2.0  # after the warm-up page load, before the idle rate is measured


def cpu_seconds(proc: psutil.Process) -> float:
    """User plus system CPU time of one process."""
    times = proc.cpu_times()
    return times.user + times.system


class ServerWatch(threading.Thread):
    """Samples a process tree: CPU-seconds (last reading of every process seen) and peak RSS.

    include_root: count the root process itself (False: only its descendants, e.g. a bench's browsers);
    skip_tree: a pid whose whole tree is left out (the server, when the root is the bench that started it).
    """

    def __init__(self, pid: int, include_root: bool = True, skip_tree: int | None = None) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.include_root = include_root
        self.skip_tree = skip_tree
        self.cpu: dict[int, float] = {}
        self.peak_mb = 0.0
        self.server_peak_mb = 0.0  # the root process alone (the tree's peak minus its workers', at that reading)
        self.halt = threading.Event()
        self.sample()
        self.startup_cpu_s = self.cpu_s  # what the tree had used before the watch began: not the participants'
        self.base_cpu_s, self.base_root_cpu_s = self.startup_cpu_s, self.cpu.get(self.root.pid, 0.0)  # counted from
        self.since = self.until = time.monotonic()
        self.warmup_cpu_s: float | None = None
        self.idle_cpu_per_s: float | None = None

    def rebase(self) -> None:
        """Count from now on."""
        self.sample()
        self.base_cpu_s, self.base_root_cpu_s = self.cpu_s, self.cpu.get(self.root.pid, 0.0)
        self.since = self.until = time.monotonic()

    def measure_idle(self, seconds: float, settle: float = SETTLE_SECONDS) -> None:
        """The tree's CPU-seconds per second while nobody acts (call before start()); the count then begins."""
        time.sleep(settle)
        self.sample()
        self.warmup_cpu_s = self.cpu_s - self.base_cpu_s  # the warm-up page load and the settling
        before, started = self.cpu_s, time.monotonic()
        time.sleep(seconds)
        self.sample()
        self.idle_cpu_per_s = (self.cpu_s - before) / max(1e-6, time.monotonic() - started)
        self.rebase()

    def _skipped(self) -> set[int]:
        if self.skip_tree is None:
            return set()
        try:
            return {self.skip_tree, *(c.pid for c in psutil.Process(self.skip_tree).children(recursive=True))}
        except psutil.Error:
            return {self.skip_tree}

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        skipped = self._skipped()
        if not self.include_root:
            skipped.add(self.root.pid)
        rss = 0
        for p in procs:
            if p.pid in skipped:
                continue
            try:
                with p.oneshot():
                    self.cpu[p.pid] = cpu_seconds(p)
                    mine = p.memory_info().rss
            except psutil.Error:
                continue  # it exited between the listing and the reading: its last reading stays
            rss += mine
            if p.pid == self.root.pid:
                self.server_peak_mb = max(self.server_peak_mb, mine / 2**20)
        self.peak_mb = max(self.peak_mb, rss / 2**20)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())

    @property
    def run_cpu_s(self) -> float:
        """CPU-seconds since the watch began."""
        return self.cpu_s - self.base_cpu_s

    @property
    def root_run_cpu_s(self) -> float:
        """The root process's CPU-seconds since the watch began (the server without its workers)."""
        return self.cpu.get(self.root.pid, 0.0) - self.base_root_cpu_s

    def run(self) -> None:
        while not self.halt.wait(SAMPLE_SECONDS):
            self.sample()

    def stop(self) -> None:
        """Stop sampling and take a last reading (call before the processes are stopped)."""
        self.halt.set()
        if self.is_alive():
            self.join()
        self.sample()
        self.until = time.monotonic()

    @property
    def net_cpu_s(self) -> float | None:
        """CPU-seconds since the count began, less the idle rate over that time (None without a baseline)."""
        if self.idle_cpu_per_s is None:
            return None
        return self.run_cpu_s - self.idle_cpu_per_s * (self.until - self.since)

    def figures(self, participants: int) -> dict:
        """The server figures both load benches report, under the same names."""
        return {
            "server_startup_cpu_s": round(self.startup_cpu_s, 1),
            "server_cpu_s": round(self.run_cpu_s, 1),  # after the server was up: what the participants cost
            "server_cpu_total_s": round(self.cpu_s, 1),  # from its start
            "server_cpu_per_participant_s": round(self.run_cpu_s / max(1, participants), 2),
            "server_process_cpu_s": round(self.root_run_cpu_s, 1),  # of server_cpu_s: the server without workers
            "server_peak_mb": round(self.peak_mb, 1),  # the server and its workers, summed at each reading
            "server_process_peak_mb": round(self.server_peak_mb, 1),
            "server_processes_seen": len(self.cpu),
        } | self._baseline_figures(participants)

    def _baseline_figures(self, participants: int) -> dict:
        net = self.net_cpu_s
        if net is None or self.idle_cpu_per_s is None or self.warmup_cpu_s is None:
            return {}
        return {
            "server_warmup_cpu_s": round(self.warmup_cpu_s, 1),  # one Train page load and 2 s after it
            "server_idle_cpu_per_s": round(self.idle_cpu_per_s, 3),
            "server_counted_s": round(self.until - self.since, 1),
            "server_cpu_net_s": round(net, 1),
            "server_cpu_net_per_participant_s": round(net / max(1, participants), 2),
        }


async def warm_up(url: str) -> None:
    """One Train page load over the websocket protocol: the server's one-time work, before a baseline."""
    from bench.st_protocol import Tab

    tab = Tab(url)
    try:
        await tab.open("train", "k=16&epochs=1")
    finally:
        await tab.close()


def idle_baseline(url: str, watch: ServerWatch, seconds: float) -> None:
    """Warm the server up, then measure its idle rate (both benches' --idle-baseline); nothing when seconds is 0."""
    if seconds > 0:
        import asyncio

        asyncio.run(warm_up(url))
        watch.measure_idle(seconds)
