"""What a watched Train page costs the server: CPU seconds per second while jobs train, watched and not.

Starts `streamlit run app.py` (with its engine) on a free loopback port, opens N Train pages over Streamlit's
websocket protocol (bench/st_protocol.py: each its own workspace, polling as the browser's timer does and
fetching each redraw's pictures), presses Start on each (k = 32, a run far longer than the measurement), and
reads the server process's own CPU time (its engine workers, child processes, excluded) over a window while
the pages watch their jobs, then over a window after the pages closed (the jobs go on, unwatched). The
difference, per page, is what one watching Train page costs the server; divided by the redraws its page
finished, what one redraw costs. With --base DIR the same is measured on another checkout (say, the code
before a change: `git archive main | tar -x -C DIR`), alternating which goes first in each round, so both
see the same machine. Usage: MNIST_DIR=../shared/data/mnist python bench/train_redraw.py [--jobs 2]
[--seconds 20] [--rounds 2] [--base DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.st_protocol import Tab  # noqa: E402
from tests.e2e.conftest import start_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUERY = "k=32&epochs=200"  # a run far longer than the measurement, even on a loaded machine


def start(checkout: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` in that checkout, healthy; (process, base URL)."""
    return start_server({"STUDIO_DATA_DIR": str(tmp / f"data-{checkout.name}")}, tmp, timeout=120, cwd=checkout)


def cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


async def window(proc: psutil.Process, seconds: float) -> float:
    """The server's CPU seconds per wall second over the window."""
    c0, t0 = cpu(proc), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu(proc) - c0) / (time.monotonic() - t0)


async def measure(checkout: Path, tmp: Path, jobs: int, seconds: float) -> dict:
    """One server: idle, N jobs watched by their pages, the same jobs unwatched."""
    server, url = start(checkout, tmp)
    proc = psutil.Process(server.pid)
    tabs = [Tab(url) for _ in range(jobs)]
    try:
        await asyncio.gather(*(tab.open("train", QUERY) for tab in tabs))
        await asyncio.sleep(2)  # the first runs' after-work settles
        idle = await window(proc, seconds / 2)
        for tab in tabs:
            await tab.rerun(press="Start")
        await asyncio.gather(*(tab.rerun() for tab in tabs))  # the Start run drew its buttons before the job
        await asyncio.gather(*(tab.wait_text("**Running**") for tab in tabs))
        await asyncio.sleep(2)
        before = [len(tab.runs) for tab in tabs]
        watched = await window(proc, seconds)
        redraws = sum(len(tab.runs) - b for tab, b in zip(tabs, before, strict=True))
        errors = [e for tab in tabs for e in tab.errors]
        await asyncio.gather(*(tab.close() for tab in tabs))
        await asyncio.sleep(2)
        unwatched = await window(proc, seconds)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    per_page = (watched - unwatched) / jobs
    return {
        "idle": round(idle, 3),
        "watched": round(watched, 3),
        "unwatched": round(unwatched, 3),
        "per_page": round(per_page, 3),
        "redraws_per_page_per_s": round(redraws / jobs / seconds, 2),
        "cpu_ms_per_redraw": round(1000 * (watched - unwatched) * seconds / max(redraws, 1), 1),
        "errors": errors[:3],
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measuring window")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--base", type=Path, help="another checkout to measure the same way, alternating")
    args = parser.parse_args()
    if not os.environ.get("MNIST_DIR"):
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    tmp = Path(tempfile.mkdtemp(prefix="bench-redraw-"))
    versions = {"this": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    results: dict[str, list[dict]] = {name: [] for name in versions}
    for i in range(args.rounds):
        order = list(versions) if i % 2 == 0 else list(reversed(versions))
        for name in order:
            got = asyncio.run(measure(versions[name], tmp, args.jobs, args.seconds))
            results[name].append(got)
            print(f"round {i + 1}, {name}: {json.dumps(got)}", file=sys.stderr)
    med = statistics.median
    summary = {
        name: {
            "per_page_cpu_s_per_s": med(r["per_page"] for r in runs),
            "cpu_ms_per_redraw": med(r["cpu_ms_per_redraw"] for r in runs),
            "watched": med(r["watched"] for r in runs),
            "unwatched": med(r["unwatched"] for r in runs),
            "idle": med(r["idle"] for r in runs),
            "redraws_per_page_per_s": med(r["redraws_per_page_per_s"] for r in runs),
        }
        for name, runs in results.items()
    }
    print(json.dumps({"jobs": args.jobs, "seconds": args.seconds, "rounds": args.rounds, **summary}))


if __name__ == "__main__":
    main()
