"""A workshop in one process: N concurrent browser sessions against one `streamlit run`, loopback only.

Each session trains a k = 16 model for one epoch (through the server's job queue), draws a digit on the
canvas, and opens the latent page. Reports sessions finished, errors (stException, disconnects), the
slowest session, queue waits, and the server's peak memory (psutil, sampled every 0.2 s).
Bounded: at most --sessions (default 20, max 40) contexts and --timeout seconds in all.
Usage: MNIST_DIR=../shared/data/mnist python bench/load.py [--sessions 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, stop_server  # noqa: E402

MAX_SESSIONS = 40
STEP_TIMEOUT = 240.0  # seconds one page step may take before the session counts as failed


class ResourceWatch(threading.Thread):
    """Samples the server's resident memory (keeps the peak) and the CPU time of server and browsers.

    CPU time is read per process every 0.5 s and the last reading kept, so browser processes that exit
    before the end still count. It shows where the machine's two cores went: the app or the browsers.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak_mb = 0.0
        self.server_cpu_s = 0.0
        self.browser_cpu: dict[int, float] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.peak_mb = max(self.peak_mb, self.proc.memory_info().rss / 2**20)
                cpu = self.proc.cpu_times()
                self.server_cpu_s = cpu.user + cpu.system
            except psutil.Error:
                return
            for p in psutil.process_iter(["name", "cpu_times"]):
                if "chrom" in (p.info["name"] or "") and p.info["cpu_times"] is not None:
                    self.browser_cpu[p.pid] = p.info["cpu_times"].user + p.info["cpu_times"].system
            time.sleep(0.5)

    @property
    def browser_cpu_s(self) -> float:
        return sum(self.browser_cpu.values())


async def one_session(browser, url: str, index: int, deadline: float) -> dict:
    """Train, draw, open the latent page; returns timings and any error seen."""
    result = {"session": index, "ok": False, "error": "", "queued": False}
    context = await browser.new_context(viewport={"width": 1300, "height": 950})
    page = await context.new_page()
    page.set_default_timeout(max(1_000, min(STEP_TIMEOUT, deadline - time.monotonic()) * 1000))
    disconnects = []
    page.on("websocket", lambda ws: ws.on("close", lambda _: disconnects.append(time.monotonic())))
    started = last = time.monotonic()
    laps = result["laps"] = {}  # seconds each step took

    def lap(name: str) -> None:
        nonlocal last
        now = time.monotonic()
        laps[name] = round(now - last, 2)
        last = now

    step = "open train"
    try:
        await page.goto(f"{url}/train?k=16&epochs=1")
        await page.wait_for_selector(IDLE)
        await page.get_by_text("Ready: k = 16").wait_for()
        lap("open")
        step = "start"
        await page.get_by_role("button", name="Start").click()
        clicked = time.monotonic()
        waiting = page.get_by_text("Waiting for a free trainer")
        progress = page.locator("[data-testid='stProgress']")
        finished = page.get_by_text("Finished:")
        await progress.or_(waiting).or_(finished).first.wait_for()
        if await waiting.count():
            result["queued"] = True
            await progress.or_(finished).first.wait_for()
        result["wait_s"] = round(time.monotonic() - clicked, 2)
        lap("queue")
        step = "train"
        await page.get_by_text("Finished:").wait_for()
        lap("train")
        step = "draw"  # through the sidebar, as a participant would: the session and its model stay
        nav = page.locator("[data-testid='stSidebarNav']")
        await nav.get_by_text("Draw", exact=True).click()
        await page.wait_for_url("**/draw")
        await page.wait_for_selector(IDLE)
        sidebar = page.locator("[data-testid='stSidebar']")
        await sidebar.get_by_text("k=16 · linear · 1 epoch").first.wait_for()  # the model just trained is active
        canvas = page.locator("canvas.upper-canvas").first
        await canvas.wait_for()
        box = await canvas.bounding_box()
        x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.3
        await page.mouse.move(x, y)  # rest first: the canvas toolbar swallows presses until hovered away
        await page.wait_for_timeout(400)
        await page.mouse.down()
        await page.mouse.move(x, y + box["height"] * 0.5, steps=12)
        await page.mouse.up()
        await page.get_by_text("(1 stroke)").wait_for()
        await page.wait_for_selector(IDLE)
        lap("draw")
        step = "latent"
        await nav.get_by_text("Latent space", exact=True).click()
        await page.wait_for_url("**/latent")
        await page.wait_for_selector("[data-testid='stPlotlyChart']")
        await page.wait_for_selector(IDLE)
        lap("latent")
        errors = await page.locator("[data-testid='stException']").count()
        if errors:
            result["error"] = f"{errors} stException on the latent page"
        elif disconnects:
            result["error"] = f"{len(disconnects)} websocket disconnects"
        else:
            result["ok"] = True
    except Exception as exc:  # a timeout or a crash: record it, the others go on
        result["error"] = f"at {step}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    result["total_s"] = round(time.monotonic() - started, 2)
    await context.close()
    return result


async def run_all(url: str, sessions: int, timeout: float) -> list[dict]:
    import asyncio

    from playwright.async_api import async_playwright

    deadline = time.monotonic() + timeout
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tasks = [asyncio.create_task(one_session(browser, url, i, deadline)) for i in range(sessions)]
        done, pending = await asyncio.wait(tasks, timeout=timeout + 30)
        for task in pending:  # out of time: report them as unfinished rather than losing every result
            task.cancel()
        results = [t.result() for t in tasks if t in done and not t.cancelled()]
        results += [
            {"session": i, "ok": False, "error": "did not finish in time", "queued": False, "total_s": timeout}
            for i, t in enumerate(tasks)
            if t in pending
        ]
        await browser.close()
    return results


def main() -> None:
    import asyncio

    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run")
    args = parser.parse_args()
    sessions = max(1, min(args.sessions, MAX_SESSIONS))
    if not os.environ.get("MNIST_DIR"):
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    proc, url = start_server({}, tmp)
    watch = ResourceWatch(proc.pid)
    watch.start()
    try:
        started = time.monotonic()
        results = asyncio.run(run_all(url, sessions, args.timeout))
        wall = time.monotonic() - started
    finally:
        watch.halt.set()
        stop_server(proc)
    done = [r for r in results if r["ok"]]
    waits = [r["wait_s"] for r in results if "wait_s" in r]
    summary = {
        "sessions": sessions,
        "finished_ok": len(done),
        "errors": [f"session {r['session']}: {r['error']}" for r in results if r["error"]],
        "slowest_session_s": max(r["total_s"] for r in results),
        "median_session_s": statistics.median(r["total_s"] for r in results),
        "median_step_s": {
            name: statistics.median(r["laps"][name] for r in results if name in r.get("laps", {}))
            for name in ("open", "queue", "train", "draw", "latent")
            if any(name in r.get("laps", {}) for r in results)
        },
        "queued_sessions": sum(r["queued"] for r in results),
        "queue_wait_median_s": statistics.median(waits) if waits else None,
        "queue_wait_max_s": max(waits) if waits else None,
        "server_peak_mb": round(watch.peak_mb, 1),
        "server_cpu_s": round(watch.server_cpu_s, 1),
        "browser_cpu_s": round(watch.browser_cpu_s, 1),
        "wall_s": round(wall, 1),
        "cores": os.cpu_count(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
