"""Soak: many careless Start -> Reset/Stop cycles and cancelled sweeps from a few tabs; the server must not grow.

One `streamlit run` on loopback; each tab is a websocket session speaking Streamlit's own protocol as the
browser does (bench/st_protocol.py: a rerun with the pressed button's trigger, the page's fragment polls),
so hundreds of clicks cost little CPU on the client side. Each train cycle opens the issue's worst case (`k=1&epochs=200&batch=1`, a 48 MB loss curve
planned), presses Start, waits for "Running", then Reset (3 of 4) or Stop (1 of 4, which keeps a model);
every fourth cycle a tab also starts a sweep on the Compare page and cancels it.

Reports the server's resident memory: at the baseline (after a warm-up tab trained once and closed, so
MNIST, the PCA and the engine's workers are loaded), its peak while the tabs are open, 30 s after they close
and again once Streamlit has forgotten the closed sessions (server.disconnectedSessionTTL, 120 s, plus the
reaper's period). The engine's worker processes are reported beside it (each one's RSS at the baseline, its
peak and at the end): a worker that grows from job to job leaks too. Exits 1 when the server is over the
targets (+100 MB open, +50 MB closed, after the TTL), short of the cycles, or on an error.
`--trace DIR` starts the server with STUDIO_MEMTRACE=DIR (service/memtrace.py): it writes what it holds
(tracemalloc's top sites, live tensors, object types, glibc malloc's heaps before and after a trim) at the
baseline and at the end, and the difference; each engine worker writes its own (worker-<pid>/).
Usage: MNIST_DIR=../shared/data/mnist python bench/soak.py [--cycles 200] [--sweeps 50] [--tabs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.st_protocol import Tab  # noqa: E402
from tests.e2e.conftest import start_server, stop_server  # noqa: E402

PRESET = "k=1&epochs=200&batch=1"
SETTLE_SECONDS = 30.0  # after the tabs close: the reaper's grace period (DISCONNECT_GRACE) and more
FORGET_SECONDS = 150.0  # ...and Streamlit's server.disconnectedSessionTTL (120 s) plus the reaper's period
OPEN_LIMIT_MB, CLOSED_LIMIT_MB = 100.0, 50.0


def workers_of(server: psutil.Process) -> list[psutil.Process]:
    """The engine's worker processes: the server's children started by multiprocessing's spawn."""
    found = []
    for child in server.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


class MemoryWatch(threading.Thread):
    """Samples the server's and each worker's resident memory every 0.2 s; keeps the peaks since the last reset."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.worker_peak: dict[int, int] = {}
        self.done = threading.Event()

    def rss(self) -> int:
        return self.proc.memory_info().rss

    def worker_rss(self) -> dict[int, int]:
        """pid -> RSS of every live worker (a worker that died and was restarted shows a new pid)."""
        out = {}
        for w in workers_of(self.proc):
            try:
                out[w.pid] = w.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return out

    def reset(self, baseline: int) -> None:
        self.peak = baseline
        self.worker_peak = {}

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, self.rss())
            for pid, rss in self.worker_rss().items():
                self.worker_peak[pid] = max(self.worker_peak.get(pid, 0), rss)


def census_diff(folder: Path, first: int, last: int, top: int = 15) -> dict:
    """What grew between census `first` and `last` in folder: tracemalloc's top sites, tensors, object types, malloc."""
    early, late = (json.loads((folder / f"census-{n}.json").read_text()) for n in (first, last))
    out: dict = {"tensors_before": early["tensors"], "tensors_after": late["tensors"]}
    out["malloc_before"], out["malloc_after"] = early.get("malloc"), late.get("malloc")
    before = dict(map(tuple, early["types"]))
    out["types_grown"] = sorted(
        ([name, n - before.get(name, 0)] for name, n in late["types"] if n - before.get(name, 0) > 0),
        key=lambda pair: -pair[1],
    )[:top]
    snaps = [folder / f"snap-{n}.tracemalloc" for n in (first, last)]
    if all(s.exists() for s in snaps):
        old, new = (tracemalloc.Snapshot.load(str(s)) for s in snaps)
        diff = new.compare_to(old, "traceback")
        out["python_grown_mb"] = round(sum(d.size_diff for d in diff) / 2**20, 1)
        out["top_sites"] = [
            {"kb": round(d.size_diff / 1024), "count": d.count_diff, "where": [str(f) for f in d.traceback[:4]]}
            for d in diff[:top]
        ]
    return out


class Census:
    """bench --trace: asks the server and its workers (SIGUSR1) for their memory census at the baseline and the end.

    Each census also trims malloc (service/memtrace.py), so a traced run's readings after the baseline are not
    those of a plain run.
    """

    def __init__(self, folder: Path | None, server: psutil.Process) -> None:
        self.folder, self.server, self.taken = folder, server, 0
        self.workers: dict[int, int] = {}  # worker pid -> censuses it was asked for

    async def _wait(self, census: Path) -> bool:
        for _ in range(300):  # a full gc and a tensor walk: seconds on a loaded machine
            if census.exists():
                return True
            await asyncio.sleep(0.2)
        return False

    async def take(self) -> None:
        if self.folder is None:
            return
        self.taken += 1
        os.kill(self.server.pid, signal.SIGUSR1)
        for worker in workers_of(self.server):
            self.workers[worker.pid] = self.workers.get(worker.pid, 0) + 1
            os.kill(worker.pid, signal.SIGUSR1)
        census = self.folder / f"census-{self.taken}.json"
        if not await self._wait(census):
            raise RuntimeError(f"the server wrote no {census.name} (started with STUDIO_MEMTRACE?)")
        for pid, n in self.workers.items():
            if not await self._wait(self.folder / f"worker-{pid}" / f"census-{n}.json"):
                print(f"worker {pid} wrote no census {n}", file=sys.stderr)

    def report(self, top: int = 15) -> dict:
        """What grew between the first census and the last, in the server and in each worker seen at both."""
        if self.folder is None or self.taken < 2:
            return {}
        out = {"server": census_diff(self.folder, 1, self.taken, top)}
        for pid, n in self.workers.items():
            folder = self.folder / f"worker-{pid}"
            if n >= 2 and (folder / f"census-{n}.json").exists():
                out[f"worker-{pid}"] = census_diff(folder, 1, n, 8)
        return out


@dataclass
class Counts:
    cycles_left: int
    sweeps_left: int
    cycles: int = 0
    stops: int = 0
    sweeps: int = 0
    errors: list[str] = field(default_factory=list)
    timeline: list[int] = field(default_factory=list)  # server RSS after every 10th cycle: a leak climbs, churn levels


def what_it_shows(tab: Tab, runs: int = 3) -> str:
    """A stalled tab's page, as a participant would read it: its latest runs' texts and the buttons' states."""
    now, lines = time.monotonic(), []
    for page in tab.runs[-runs:]:
        where = "fragment" if page.fragment_ids else "full run"
        texts = [t if len(t) < 160 else t[:157] + "..." for t in page.texts if not t.startswith("**k\\=")]
        lines.append(f"  {where} {now - page.finished_at:.0f} s ago: {texts}")
    buttons = ", ".join(f"{label}{' (off)' if off else ''}" for label, (_, off) in tab.last.buttons.items())
    lines.append(f"  buttons: {buttons}; polls sent: {tab.auto_reruns}; polling: {sorted(tab.timers)}")
    return "\n".join(lines)


async def train_cycle(tab: Tab, stop: bool) -> None:
    if tab.page_name != "train":
        await tab.navigate("train")
    await tab.rerun(press="Start")
    await tab.rerun()  # the Start run drew its buttons before the job existed (Stop still disabled): redraw them
    try:
        await tab.wait_text("**Running**")  # the page's fragment polls show it
    except TimeoutError:
        shown = what_it_shows(tab)
        print(f"{time.strftime('%H:%M:%S')} a Start stalled; the page showed:\n{shown}", file=sys.stderr, flush=True)
        raise TimeoutError("no Running within the wait after Start (the page it showed is logged)") from None
    await tab.rerun(press="Stop" if stop else "Reset")
    if stop:  # the next polls collect the stopped run as a model
        await tab.wait_text("Last run:", "no model was kept")


async def sweep_cycle(tab: Tab) -> None:
    await tab.navigate("compare")
    await tab.rerun(press="Train a sweep")
    await tab.rerun(press="Cancel the sweep")
    if not tab.last.has("Sweep cancelled"):
        raise RuntimeError(f"the sweep did not cancel: {tab.last.texts[-5:]}")


async def drive(url: str, counts: Counts, watch: MemoryWatch) -> None:
    tab = Tab(url)
    await tab.open("train", PRESET)
    try:
        while counts.cycles_left > 0 or counts.sweeps_left > 0:
            if counts.cycles_left > 0:
                counts.cycles_left -= 1
                stop = counts.cycles % 4 == 3
                await train_cycle(tab, stop)
                counts.cycles += 1
                counts.stops += stop
                if counts.cycles % 10 == 0:
                    counts.timeline.append(watch.rss())
            if counts.sweeps_left > 0 and (counts.cycles % 4 == 0 or counts.cycles_left <= 0):
                counts.sweeps_left -= 1
                await sweep_cycle(tab)
                counts.sweeps += 1
    finally:
        counts.errors.extend(tab.errors)
        await tab.close()


async def warm_up(url: str) -> None:
    """Load what a server loads once, so the baseline includes it: MNIST, the PCA, and the modules and caches
    that the first Reset, the first kept model (export, workspace store) and the first sweep bring in."""
    tab = Tab(url)
    await tab.open("train", PRESET)
    await train_cycle(tab, stop=False)
    await train_cycle(tab, stop=True)
    await sweep_cycle(tab)
    await tab.close()


async def soak(url: str, watch: MemoryWatch, census: Census, args: argparse.Namespace) -> dict:
    await warm_up(url)
    await asyncio.sleep(args.settle)
    await census.take()
    baseline, workers_at_start = watch.rss(), watch.worker_rss()
    watch.reset(baseline)
    counts = Counts(args.cycles, args.sweeps)
    started = time.monotonic()
    results = await asyncio.gather(*(drive(url, counts, watch) for _ in range(args.tabs)), return_exceptions=True)
    seconds = time.monotonic() - started
    counts.errors.extend(f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException))
    open_peak, worker_peak = watch.peak, dict(watch.worker_peak)
    await asyncio.sleep(args.settle)
    closed_soon = watch.rss()
    await asyncio.sleep(max(0.0, args.forget - args.settle))
    closed, workers_at_end = watch.rss(), watch.worker_rss()
    await census.take()
    mb = 2**20

    def per_worker(rss: dict[int, int]) -> list[float]:
        return [round(r / mb, 1) for _, r in sorted(rss.items())]

    return {
        "tabs": args.tabs,
        "cycles": counts.cycles,
        "stops": counts.stops,
        "sweeps": counts.sweeps,
        "seconds": round(seconds, 1),
        "baseline_mb": round(baseline / mb, 1),
        "open_peak_over_mb": round((open_peak - baseline) / mb, 1),
        f"closed_{args.settle:g}s_over_mb": round((closed_soon - baseline) / mb, 1),
        "closed_over_mb": round((closed - baseline) / mb, 1),
        "closed_after_s": args.forget,
        "timeline_over_mb": [round((r - baseline) / mb) for r in counts.timeline],
        "workers_baseline_mb": per_worker(workers_at_start),
        "workers_peak_mb": per_worker(worker_peak),
        "workers_end_mb": per_worker(workers_at_end),
        "workers_same_pids": sorted(workers_at_start) == sorted(workers_at_end),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "errors": counts.errors[:10],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200, help="Start -> Reset/Stop cycles in all")
    parser.add_argument("--sweeps", type=int, default=50, help="sweeps started and cancelled in all")
    parser.add_argument("--tabs", type=int, default=3, help="concurrent sessions (at most 10)")
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS, help="seconds to wait before measuring")
    parser.add_argument(
        "--forget", type=float, default=FORGET_SECONDS, help="seconds after the tabs close for the closed figure"
    )
    parser.add_argument("--log", type=Path, help="a folder to keep the server's log and workspaces in")
    parser.add_argument("--trace", type=Path, help="a folder: the server's memory census (service/memtrace.py)")
    args = parser.parse_args()
    args.tabs = max(1, min(args.tabs, 10))
    with tempfile.TemporaryDirectory() as tmp:
        if args.log:
            args.log.mkdir(parents=True, exist_ok=True)
            tmp = str(args.log.resolve())
        env = {"STUDIO_MEMTRACE": str(args.trace.resolve())} if args.trace else {}
        if args.trace:
            shutil.rmtree(args.trace, ignore_errors=True)
        proc, url = start_server(env, Path(tmp))
        watch = MemoryWatch(proc.pid)
        census = Census(args.trace.resolve() if args.trace else None, watch.proc)
        started_mb = watch.rss() / 2**20
        watch.start()
        try:
            result = asyncio.run(soak(url, watch, census, args))
        finally:
            watch.done.set()
            stop_server(proc)
    result["server_start_mb"] = round(started_mb, 1)
    if args.trace:
        print(json.dumps(census.report(), indent=1), file=sys.stderr)
    ok = (
        not result["errors"]
        and result["open_peak_over_mb"] < OPEN_LIMIT_MB
        and result["closed_over_mb"] < CLOSED_LIMIT_MB
        and result["cycles"] == args.cycles
        and result["sweeps"] == args.sweeps
    )
    result["ok"] = ok
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
