"""Memory of the whole app, process by process, at rest and while two k = 32 jobs train on the engine.

Starts `streamlit run app.py` (with its embedded engine: STUDIO_MAX_JOBS process workers, default 2 here) on a
loopback port with the real MNIST; two tabs (two workspaces, Streamlit's websocket protocol, no browser) open
the Train page with `k=32&epochs=N` and press Start together, so both workers train at once. Every 0.25 s it
reads each process of the server's tree with psutil: RSS, USS (what only that process holds) and PSS (its
share of pages it shares, so that the sum over processes counts each page once). Reports, per role (server,
engine workers, others: multiprocessing's resource tracker), the figures at rest once the workers have
loaded MNIST, the peak sums while the jobs train, and the figures 5 s after they end. Issue 15's target:
server plus workers < 3 GB. Usage: MNIST_DIR=../shared/data/mnist python bench/engine_memory.py [--runs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.st_protocol import Tab  # noqa: E402
from tests.e2e.conftest import start_server, stop_server  # noqa: E402

MB = 2**20
TARGET_MB = 3 * 1024  # issue 15: server plus workers under 3 GB
PRELOAD_SECONDS = 20.0  # the workers import torch and load MNIST in a thread as they start


def role(proc: psutil.Process, server_pid: int) -> str:
    """'server', 'worker' (a spawned engine worker) or 'other'."""
    if proc.pid == server_pid:
        return "server"
    cmdline = " ".join(proc.cmdline())
    return "worker" if "spawn_main" in cmdline else "other"


def sample(server: psutil.Process) -> dict[int, tuple[str, float, float, float]]:
    """pid -> (role, RSS, USS, PSS) in MB, for the server and every process below it."""
    out = {}
    for proc in [server, *server.children(recursive=True)]:
        try:
            m = proc.memory_full_info()
            out[proc.pid] = (role(proc, server.pid), m.rss / MB, m.uss / MB, m.pss / MB)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


def totals(snap: dict[int, tuple[str, float, float, float]]) -> dict[str, float]:
    """Sums over the server and its workers (RSS counts shared pages once per process; PSS once in all)."""
    rows = [v for v in snap.values() if v[0] in ("server", "worker")]
    return {
        "rss_sum_mb": round(sum(r[1] for r in rows), 1),
        "pss_sum_mb": round(sum(r[3] for r in rows), 1),
        "uss_sum_mb": round(sum(r[2] for r in rows), 1),
    }


def describe(snap: dict[int, tuple[str, float, float, float]]) -> list[str]:
    return [f"{r}: RSS {rss:.0f}, USS {uss:.0f}, PSS {pss:.0f} MB" for r, rss, uss, pss in sorted(snap.values())]


class Watch(threading.Thread):
    """Samples the tree every 0.25 s; keeps, for each sum, its peak since the last reset."""

    def __init__(self, server: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.done = threading.Event()
        self.peak: dict[str, float] = {}
        self.peak_snap: dict[int, tuple[str, float, float, float]] = {}

    def reset(self) -> None:
        self.peak, self.peak_snap = {}, {}

    def run(self) -> None:
        while not self.done.wait(0.25):
            snap = sample(self.server)
            sums = totals(snap)
            if sums["rss_sum_mb"] > self.peak.get("rss_sum_mb", 0):
                self.peak_snap = snap
            for key, value in sums.items():
                self.peak[key] = max(self.peak.get(key, 0.0), value)


async def start(tab: Tab) -> None:
    """Press Start, then redraw as the browser's next poll would (the Start run drew before the job existed)."""
    await tab.rerun(press="Start")
    await tab.rerun()
    await tab.wait_text("**Running**")


async def train_together(url: str, epochs: int, runs: int, watch: Watch) -> list[dict]:
    tabs = [Tab(url) for _ in range(2)]
    for tab in tabs:
        await tab.open("train", f"k=32&epochs={epochs}")
    await asyncio.sleep(PRELOAD_SECONDS)
    results = []
    for run in range(runs):
        rest = sample(watch.server)
        watch.reset()
        started = time.monotonic()
        await asyncio.gather(*(start(tab) for tab in tabs))
        await asyncio.gather(*(tab.wait_text("Finished:", "Last run:", seconds=600) for tab in tabs))
        seconds = time.monotonic() - started
        peak, peak_snap = dict(watch.peak), watch.peak_snap
        await asyncio.sleep(5.0)
        after = sample(watch.server)
        results.append(
            {
                "run": run + 1,
                "seconds": round(seconds, 1),
                "rest_before": totals(rest),
                "peak_during": peak,
                "after_5s": totals(after),
                "processes_at_rest": describe(rest),
                "processes_at_peak": describe(peak_snap),
                "processes_after": describe(after),
            }
        )
    for tab in tabs:
        await tab.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="rounds of two jobs trained together")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    if not os.environ.get("MNIST_DIR"):
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server({}, Path(tmp))
        watch = Watch(psutil.Process(proc.pid))
        watch.start()
        try:
            results = asyncio.run(train_together(url, args.epochs, args.runs, watch))
        finally:
            watch.done.set()
            stop_server(proc)
    for r in results:
        print(
            f"run {r['run']}: two jobs in {r['seconds']} s; server + workers at rest {r['rest_before']}, "
            f"peak {r['peak_during']}, 5 s after {r['after_5s']}",
            file=sys.stderr,
        )
        for line in r["processes_at_peak"]:
            print(f"   at peak, {line}", file=sys.stderr)
    worst = max(r["peak_during"]["rss_sum_mb"] for r in results)
    summary = {
        "workers": sum(1 for line in results[0]["processes_at_rest"] if line.startswith("worker")),
        "peak_rss_sum_mb": worst,
        "peak_pss_sum_mb": max(r["peak_during"]["pss_sum_mb"] for r in results),
        "target_mb": TARGET_MB,
        "met": worst < TARGET_MB,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "runs": results,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
