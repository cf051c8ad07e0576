"""Soak: many careless Start -> Reset/Stop cycles and cancelled sweeps from a few tabs; the server must not grow.

One `streamlit run` on loopback; each tab is a websocket session speaking Streamlit's own protocol as the
browser does (bench/st_protocol.py: a rerun with the pressed button's trigger, the page's fragment polls),
so hundreds of clicks cost little CPU on the client side. Each train cycle opens the issue's worst case (`k=1&epochs=200&batch=1`, a 48 MB loss curve
planned), presses Start, waits for "Running", then Reset (3 of 4) or Stop (1 of 4, which keeps a model);
every fourth cycle a tab also starts a sweep on the Compare page and cancels it.

Reports the server's resident memory: at the baseline (after a warm-up tab trained once and closed, so
MNIST, the PCA and the shuffled training copy are loaded), its peak while the tabs are open, and 30 s after
they close. Exits 1 when over the targets (+100 MB open, +50 MB closed), short of the cycles, or on an error.
Usage: MNIST_DIR=../shared/data/mnist python bench/soak.py [--cycles 200] [--sweeps 50] [--tabs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.st_protocol import Tab  # noqa: E402
from tests.e2e.conftest import start_server, stop_server  # noqa: E402

PRESET = "k=1&epochs=200&batch=1"
SETTLE_SECONDS = 30.0  # after the tabs close: the reaper's grace period, then Streamlit forgets the sessions
OPEN_LIMIT_MB, CLOSED_LIMIT_MB = 100.0, 50.0


class MemoryWatch(threading.Thread):
    """Samples the server's resident memory every 0.2 s and keeps the peak since the last reset."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()

    def rss(self) -> int:
        return self.proc.memory_info().rss

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, self.rss())


@dataclass
class Counts:
    cycles_left: int
    sweeps_left: int
    cycles: int = 0
    stops: int = 0
    sweeps: int = 0
    errors: list[str] = field(default_factory=list)
    timeline: list[int] = field(default_factory=list)  # server RSS after every 10th cycle: a leak climbs, churn levels


async def train_cycle(tab: Tab, stop: bool) -> None:
    if tab.page_name != "train":
        await tab.navigate("train")
    await tab.rerun(press="Start")
    await tab.rerun()  # the Start run drew its buttons before the job existed (Stop still disabled): redraw them
    await tab.wait_text("**Running**")  # the page's fragment polls show it
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
    """Load what a server loads once (MNIST, PCA, the shuffled training copy), so the baseline includes it."""
    tab = Tab(url)
    await tab.open("train", PRESET)
    await train_cycle(tab, stop=False)
    await tab.navigate("compare")
    await tab.close()


async def soak(url: str, watch: MemoryWatch, args: argparse.Namespace) -> dict:
    await warm_up(url)
    await asyncio.sleep(args.settle)
    baseline = watch.rss()
    watch.peak = baseline
    counts = Counts(args.cycles, args.sweeps)
    started = time.monotonic()
    results = await asyncio.gather(*(drive(url, counts, watch) for _ in range(args.tabs)), return_exceptions=True)
    seconds = time.monotonic() - started
    counts.errors.extend(f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException))
    open_peak = watch.peak
    await asyncio.sleep(args.settle)
    closed = watch.rss()
    mb = 2**20
    return {
        "tabs": args.tabs,
        "cycles": counts.cycles,
        "stops": counts.stops,
        "sweeps": counts.sweeps,
        "seconds": round(seconds, 1),
        "baseline_mb": round(baseline / mb, 1),
        "open_peak_over_mb": round((open_peak - baseline) / mb, 1),
        "closed_over_mb": round((closed - baseline) / mb, 1),
        "timeline_over_mb": [round((r - baseline) / mb) for r in counts.timeline],
        "errors": counts.errors[:10],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200, help="Start -> Reset/Stop cycles in all")
    parser.add_argument("--sweeps", type=int, default=50, help="sweeps started and cancelled in all")
    parser.add_argument("--tabs", type=int, default=3, help="concurrent sessions (at most 10)")
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS, help="seconds to wait before measuring")
    args = parser.parse_args()
    args.tabs = max(1, min(args.tabs, 10))
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server({}, Path(tmp))
        watch = MemoryWatch(proc.pid)
        started_mb = watch.rss() / 2**20
        watch.start()
        try:
            result = asyncio.run(soak(url, watch, args))
        finally:
            watch.done.set()
            stop_server(proc)
    result["server_start_mb"] = round(started_mb, 1)
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
