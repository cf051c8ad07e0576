"""A workshop in one process: N concurrent browser sessions against one `streamlit run`, loopback only.

Each session trains a k = 16 model for one epoch (through the server's job queue), draws --digits digits on
the canvas (default 1: the digit "1", one stroke; 3: the 1, 7 and 0 of bench/capture_strokes.py, Clear
between them, the strokes bench/load_ws.py replays), and opens the latent page. Reports sessions finished,
errors (stException, disconnects), the slowest session, queue waits, and the server's figures as
bench/load_ws.py reports them (bench/server_watch.py: the server plus its engine workers, CPU-seconds after it
was up and per session, peak memory); beside them the browsers' CPU (Chromium and Playwright's driver: this
bench's other child processes), the reruns the browsers sent over the websocket (full and fragment) and their
HTTP requests to the server (static files, media, other), to set against the protocol driver's.
Bounded: at most --sessions (default 20, max 40) contexts and --timeout seconds in all.
Usage: MNIST_DIR=../shared/data/mnist python bench/load.py [--sessions 20] [--digits 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.capture_strokes import DIGITS  # noqa: E402
from bench.server_watch import ServerWatch, idle_baseline  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, stop_server  # noqa: E402

MAX_SESSIONS = 40
STEP_TIMEOUT = 240.0  # seconds one page step may take before the session counts as failed


def rerun_kind(payload: bytes | str) -> str | None:
    """'full' or 'fragment' for a rerun request the browser sent over the websocket, None for anything else."""
    if isinstance(payload, str):
        return None
    msg = BackMsg()
    try:
        msg.ParseFromString(payload)
    except DecodeError:
        return None
    if msg.WhichOneof("type") != "rerun_script":
        return None
    return "fragment" if msg.rerun_script.fragment_id else "full"


def request_kind(url: str, base: str) -> str | None:
    """How a request to the server counts: 'static' (the frontend's files), 'media' (images), 'other'; None if elsewhere."""
    if not url.startswith(base):
        return None
    path = url[len(base) :]
    if path.startswith("/static/") or path.startswith("/favicon"):
        return "static"
    if path.startswith("/media/"):
        return "media"
    return "other"


async def draw_digits(page, digits: list[list[list[tuple[float, float]]]]) -> None:
    """Draw each digit's strokes with the mouse as bench/capture_strokes.py does, pressing Clear between digits."""
    for index, strokes in enumerate(digits):
        if index:
            await page.get_by_role("button", name="Clear").click()
            await page.get_by_text("Draw a digit with the mouse").wait_for()
            await page.wait_for_selector(IDLE)
        canvas = page.locator("canvas.upper-canvas").first
        await canvas.wait_for()
        box = await canvas.bounding_box()
        await page.mouse.move(box["x"] + 140, box["y"] + 140)  # rest first: the toolbar swallows presses until then
        await page.wait_for_timeout(400)
        for n, points in enumerate(strokes, start=1):
            await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
            await page.mouse.down()
            for x, y in points[1:]:
                await page.mouse.move(box["x"] + x, box["y"] + y, steps=15)
            await page.mouse.up()
            await page.get_by_text(f"({n} stroke{'s' if n != 1 else ''})").wait_for()
            await page.wait_for_selector(IDLE)


async def one_session(browser, url: str, index: int, deadline: float, digits: list) -> dict:
    """Train, draw, open the latent page; returns timings, what the browser sent, and any error seen."""
    result = {"session": index, "ok": False, "error": "", "queued": False}
    sent = result["reruns"] = {"full": 0, "fragment": 0}
    requests = result["requests"] = {"static": 0, "media": 0, "other": 0}
    static = result["static_paths"] = []  # in the order asked for (--record-static)
    context = await browser.new_context(viewport={"width": 1300, "height": 950})
    page = await context.new_page()
    page.set_default_timeout(max(1_000, min(STEP_TIMEOUT, deadline - time.monotonic()) * 1000))
    disconnects = []

    def on_frame(payload: bytes | str) -> None:
        kind = rerun_kind(payload)
        if kind:
            sent[kind] += 1

    def on_request(request) -> None:
        kind = request_kind(request.url, url)
        if kind:
            requests[kind] += 1
        if kind == "static":
            static.append(request.url[len(url) :])

    def on_websocket(ws) -> None:
        ws.on("close", lambda _: disconnects.append(time.monotonic()))
        ws.on("framesent", on_frame)

    page.on("websocket", on_websocket)
    page.on("request", on_request)
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
        await draw_digits(page, digits)
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


async def run_all(url: str, sessions: int, timeout: float, digits: list) -> list[dict]:
    import asyncio

    from playwright.async_api import async_playwright

    deadline = time.monotonic() + timeout
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tasks = [asyncio.create_task(one_session(browser, url, i, deadline, digits)) for i in range(sessions)]
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


def record_static(path: Path, results: list[dict]) -> None:
    """Keep the static files a fresh browser fetched (the first session that fetched any), for the protocol driver."""
    import streamlit

    paths = next((r["static_paths"] for r in results if r.get("static_paths")), [])
    about = "static files one fresh headless Chromium fetched on its first page load (bench/load.py --record-static)"
    path.write_text(json.dumps({"about": about, "streamlit": streamlit.__version__, "paths": paths}, indent=1) + "\n")


def summarise(results: list[dict], server: ServerWatch, browsers: ServerWatch, wall: float) -> dict:
    """The run's figures; the server's under bench/load_ws.py's names (bench/server_watch.py)."""
    done = [r for r in results if r["ok"]]
    waits = [r["wait_s"] for r in results if "wait_s" in r]

    def total(field: str, kind: str) -> int:
        return sum(r.get(field, {}).get(kind, 0) for r in results)

    return {
        "sessions": len(results),
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
        "reruns_sent": total("reruns", "full"),  # full runs the browsers asked for (page loads, clicks, strokes)
        "auto_reruns": total("reruns", "fragment"),  # fragment polls, as bench/load_ws.py counts them
        "requests": {kind: total("requests", kind) for kind in ("static", "media", "other")},
        **server.figures(len(results)),
        "browser_cpu_s": round(browsers.run_cpu_s, 1),  # Chromium and Playwright's driver
        "browser_peak_mb": round(browsers.peak_mb, 1),
        "wall_s": round(wall, 1),
        "cores": os.cpu_count(),
    }


def main() -> None:
    import asyncio

    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument(
        "--digits", type=int, default=1, choices=(1, 2, 3), help="digits each session draws (1: one stroke)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument(
        "--idle-baseline",
        type=float,
        default=0.0,
        help="seconds: load one page, measure the server's idle CPU rate, report net figures (bench/server_watch.py)",
    )
    parser.add_argument(
        "--record-static",
        type=Path,
        help="write the static files the first session fetched (bench/load_ws.py --static-files)",
    )
    args = parser.parse_args()
    sessions = max(1, min(args.sessions, MAX_SESSIONS))
    if not os.environ.get("MNIST_DIR"):
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    digits = list(DIGITS.values())[: args.digits]
    load_before = round(os.getloadavg()[0], 2)
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    proc, url = start_server({}, tmp)  # STUDIO_CPUPROFILE in the environment reaches the server (its sampler)
    server = ServerWatch(proc.pid)
    idle_baseline(url, server, args.idle_baseline)
    browsers = ServerWatch(os.getpid(), include_root=False, skip_tree=proc.pid)
    server.start()
    browsers.start()
    try:
        started = time.monotonic()
        results = asyncio.run(run_all(url, sessions, args.timeout, digits))
        wall = time.monotonic() - started
    finally:
        browsers.stop()
        server.stop()
        stop_server(proc)
    summary = summarise(results, server, browsers, wall)
    if args.record_static:
        record_static(args.record_static, results)
    summary |= {"digits": args.digits, "load_average_1m": [load_before, round(os.getloadavg()[0], 2)]}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
