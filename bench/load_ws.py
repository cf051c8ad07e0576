"""A class without browsers: N participants speaking Streamlit's websocket protocol against one server, loopback only.

Each participant does what bench/load.py's browsers do, at the protocol level (bench/st_protocol.py): loads
/train?k=16&epochs=1 (cookies kept, the workspace cookie sent with the websocket), presses Start (the button's
widget id from the deltas), lets the page's fragment poll at the interval the server asks for until the model
is the active one, moves to Draw through the sidebar, draws three digits (the canvas values real Chromium
sent for each stroke, bench/data/strokes.json; Clear between digits) and fetches each reconstruction image,
then opens the Latent space page. Recorded per participant: errors (exception elements, script errors,
disconnects, steps over --step-timeout), whether it queued, the job's wait and finish, and draw ->
reconstruction latency (stroke sent -> the run that shows the reconstruction finished; the page sends it
inline, a media URL would be fetched first); for the server, its process tree's
CPU-seconds (Dask workers are children) and peak resident memory, sampled every 0.25 s with psutil
(bench/server_watch.py, which bench/load.py reports the same way). `--digits 1` is bench/load.py's default
flow (one digit, one stroke), for comparing the two (README, bench/load.py).

Why a small asyncio driver and not Locust: on 2 cores every CPU-second the driver spends is taken from
the server it measures. Locust runs its users as gevent greenlets, which would need a gevent websocket
client beside the asyncio `websockets` library that bench/soak.py already uses, plus Locust's own stats
and web machinery; its statistics are per request, while the figures wanted here (queue wait, job finish,
draw -> reconstruction across several messages) are per scenario. A participant here is one coroutine
that mostly sleeps between polls; protobuf parsing is the client's main cost (about 0.2 s of CPU per
participant, reported as driver_cpu_s).
Bounded: at most 150 participants, --timeout seconds in all, then it stops by itself.
Usage: MNIST_DIR=../shared/data/mnist python bench/load_ws.py [--participants 20] [--digits 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server_watch import ServerWatch, cpu_seconds, idle_baseline  # noqa: E402
from bench.st_protocol import COOKIE_NAME, Tab  # noqa: E402
from tests.e2e.conftest import start_server, stop_server  # noqa: E402

MAX_PARTICIPANTS = 150
PRESET = "k=16&epochs={epochs}"  # the Train page a participant opens (--epochs, default 1: the class of 100)
CANVAS = "streamlit-drawable-canvas.streamlit_drawable_canvas"
STROKES = Path(__file__).resolve().parent / "data" / "strokes.json"
QUEUED = "Waiting for a free trainer"
TRAINING = "samples/s"  # in the progress line of a run that has a trainer (running or just finished)
ACTIVE = "is now the active model"  # the notice of a finished run, in the full rerun that collects it


@dataclass
class Result:
    """One participant's run through the scenario."""

    participant: int
    ok: bool = False
    step: str = ""
    error: str = ""
    queued: bool = False
    disconnected: bool = False
    cookie: bool = False  # the server set the workspace cookie on the page load
    wait_s: float | None = None  # Start -> the job has a trainer
    finish_s: float | None = None  # Start -> the model is the active one
    draw_s: list[float] = field(default_factory=list)  # per stroke: value sent -> reconstruction fetched
    # Clock readings (seconds since the run began) that place the participant in the class's timeline:
    pressed_at: float | None = None  # Start sent
    trainer_at: float | None = None  # first run that showed the job with a trainer
    finished_at: float | None = None  # first run that showed its model as the active one
    draw_at: list[float] = field(default_factory=list)  # per stroke: when its value was sent
    first_place: int | None = None  # its place in line the first time the page showed one
    auto_reruns: int = 0
    full_reruns: int = 0
    static_files: int = 0  # the frontend's files fetched on the first page load (--static-files)
    unfinished_runs: int = 0  # runs the server started and never said finished (bench/st_protocol.py)
    total_s: float = 0.0
    trace: list[str] = field(default_factory=list)  # a failed participant's run starts, ends and fragment timers


def static_paths(path: Path | None) -> list[str]:
    """The static files bench/load.py --record-static saw a fresh browser fetch (none without a file)."""
    return json.loads(path.read_text())["paths"] if path else []


def load_strokes(digits: int) -> list[list[str]]:
    """Each digit's canvas values, one per stroke, as the browser sent them."""
    record = json.loads(STROKES.read_text())
    return [d["strokes"] for d in record["digits"]][:digits]


async def think(rng: random.Random, seconds: float) -> None:
    """A participant's pause between actions: seconds, +-50 %."""
    if seconds > 0:
        await asyncio.sleep(seconds * rng.uniform(0.5, 1.5))


PLACE = re.compile(r"you are number (\d+) in line")


def place_in_line(texts: list[str]) -> int | None:
    """The queue position a page shows ('you are number 7 in line'), None when it shows none."""
    for text in texts:
        found = PLACE.search(text)
        if found:
            return int(found.group(1))
    return None


async def participant(
    url: str,
    index: int,
    args: argparse.Namespace,
    strokes: list[list[str]],
    epoch: float = 0.0,
    result: Result | None = None,
) -> Result:
    """Train, draw, open the latent page; everything that goes wrong is recorded, not raised.

    epoch: the run's time.monotonic() origin, for the clock readings that place this participant in the class;
    result: where to record (the caller keeps it, so a participant cut off by --timeout still says where it was).
    """
    result = Result(index) if result is None else result

    def clock(t: float) -> float:
        return round(t - epoch, 3)

    rng = random.Random(index)
    await asyncio.sleep(args.ramp * index / max(1, args.participants))
    cookies = {COOKIE_NAME: args.cookie} if args.cookie else None
    tab = Tab(url, cookies=cookies, wait_seconds=args.step_timeout, static_paths=static_paths(args.static_files))
    started = time.monotonic()
    try:
        result.step = "open train"
        page = await tab.open("train", PRESET.format(epochs=args.epochs))
        result.cookie = tab.cookie() is not None
        if "Start" not in page.buttons:
            raise RuntimeError(f"no Start button on the Train page: {page.texts[-3:]}")
        await think(rng, args.think)

        result.step = "start"
        pressed = time.monotonic()
        result.pressed_at = clock(pressed)
        await tab.rerun(press="Start")

        def has_trainer(p) -> bool:
            if p.has(QUEUED):
                result.queued = True
                if result.first_place is None:
                    result.first_place = place_in_line(p.texts)
                return False
            return p.has(TRAINING) or p.has(ACTIVE)

        # A participant waits in line as long as the line takes (the page tells them their place): only
        # --queue-timeout, not --step-timeout, bounds the wait for a trainer and the run after it.
        result.step = "queue"
        page = await tab.wait(has_trainer, since=pressed, seconds=args.queue_timeout)
        result.wait_s = round(page.finished_at - pressed, 2)
        result.trainer_at = clock(page.finished_at)
        result.step = "train"
        page = await tab.wait(lambda p: p.has(ACTIVE), since=pressed, seconds=args.queue_timeout)
        result.finish_s = round(page.finished_at - pressed, 2)
        result.finished_at = clock(page.finished_at)
        await think(rng, args.think)

        result.step = "draw"
        page = await tab.navigate("draw")
        for n, digit in enumerate(strokes):
            if n:  # a fresh canvas for the next digit
                page = await tab.rerun(press="Clear")
            for value in digit:
                canvas = page.components.get(CANVAS)
                if canvas is None:
                    raise RuntimeError(f"no canvas on the Draw page: {page.texts[-3:]}")
                await think(rng, args.think)
                sent = time.monotonic()
                page = await tab.rerun(values={canvas: value})
                image = page.images.get("Reconstruction")
                if image is None:
                    raise RuntimeError(f"no reconstruction after a stroke: {page.texts[-3:]}")
                if not image.startswith("data:"):  # a media URL: shown once the browser has fetched it
                    loaded = (await tab.images_loaded(page)).get(image, b"" if image in tab.fetched else None)
                    if not isinstance(loaded, bytes):
                        raise RuntimeError(f"the reconstruction image did not load: {loaded!r}")
                result.draw_s.append(round(time.monotonic() - sent, 3))
                result.draw_at.append(clock(sent))
        await think(rng, args.think)

        result.step = "latent"
        page = await tab.navigate("latent")
        if page.charts == 0:
            raise RuntimeError(f"no chart on the Latent space page: {page.texts[-3:]}")
        result.step = "done"
    except Exception as exc:  # a timeout, a disconnect or a page without what it should have: record it
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}" if str(exc) else type(exc).__name__
    except asyncio.CancelledError:  # cut off by --timeout: what its tab did still counts (run_all sets the error)
        _record_tab(tab, result, clock)
        raise
    if tab.errors and not result.error:
        result.error = f"{len(tab.errors)} errors on the page, first: {tab.errors[0][:160]}"
    result.ok = not result.error and not tab.closed_by_server
    result.total_s = round(time.monotonic() - started, 2)
    _record_tab(tab, result, clock)
    await tab.close()
    return result


def _record_tab(tab: Tab, result: Result, clock: Callable[[float], float]) -> None:
    """What the tab saw (polls, a disconnect; the trace of runs and timers of one that failed), cut off or not."""
    result.disconnected = tab.closed_by_server
    result.auto_reruns = tab.auto_reruns
    result.full_reruns = tab.full_reruns
    result.static_files = tab.static_fetched
    result.unfinished_runs = tab.unfinished_runs
    if not result.ok or tab.unfinished_runs:
        result.trace = [f"{clock(t):.3f} {what}" for t, what in tab.trace]


async def run_all(url: str, args: argparse.Namespace) -> list[Result]:
    """Every participant at once (or over --ramp), until all are done or --timeout."""
    args.participants = max(1, min(args.participants, MAX_PARTICIPANTS))
    # Page loads and images go through urllib in threads: enough of them that no participant waits for another's
    # HTTP request, as browsers, each with their own connections, would not.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=2 * args.participants + 4))
    strokes = load_strokes(args.digits)
    epoch = time.monotonic()
    results = [Result(i) for i in range(args.participants)]
    tasks = [asyncio.create_task(participant(url, r.participant, args, strokes, epoch, r)) for r in results]
    _, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for task in pending:  # out of time: cancelled, and reported as unfinished where they were
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for r, task in zip(results, tasks, strict=True):
        if task in pending:
            r.ok, r.error, r.total_s = False, f"did not finish in time (still at {r.step or 'arrival'})", args.timeout
    return results


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def drain_end(results: list[Result]) -> float | None:
    """When the last job was seen finished: until then the engine is busy and others wait in line."""
    return max((r.finished_at for r in results if r.finished_at is not None), default=None)


def draws_split(results: list[Result]) -> tuple[list[float], list[float]]:
    """Draw latencies of strokes sent while the queue drained, and of those sent after its last job finished."""
    end = drain_end(results)
    during, after = [], []
    for r in results:
        for at, seconds in zip(r.draw_at, r.draw_s, strict=True):
            (during if end is not None and at < end else after).append(seconds)
    return during, after


def overtakes(results: list[Result], tolerance: float) -> tuple[int, float]:
    """Pairs served out of order: pressed Start over `tolerance` s before another, yet saw a trainer over
    `tolerance` s after it (the tolerance covers a queued page's poll interval); and the worst such lag."""
    seen = [(r.pressed_at, r.trainer_at) for r in results if r.pressed_at is not None and r.trainer_at is not None]
    count, worst = 0, 0.0
    for pressed_a, got_a in seen:
        for pressed_b, got_b in seen:
            if pressed_a + tolerance < pressed_b and got_a > got_b + tolerance:
                count += 1
                worst = max(worst, got_a - got_b)
    return count, round(worst, 2)


FAIR_TOLERANCE_S = 7.0  # a queued page polls at most every 6 s (ui/session/training.py), plus a run


def summarise(results: list[Result], watch: ServerWatch | None, wall: float, driver_cpu: float) -> dict:
    waits = [r.wait_s for r in results if r.wait_s is not None]
    finishes = [r.finish_s for r in results if r.finish_s is not None]
    draws = [s for r in results for s in r.draw_s]
    during, after = draws_split(results)
    out_of_order, worst_lag = overtakes(results, FAIR_TOLERANCE_S)
    end = drain_end(results)
    summary = {
        "participants": len(results),
        "finished_ok": sum(r.ok for r in results),
        "errors": [f"participant {r.participant} at {r.step}: {r.error}" for r in results if r.error][:10],
        "error_count": sum(bool(r.error) for r in results),
        "disconnects": sum(r.disconnected for r in results),
        "workspace_cookie_set": sum(r.cookie for r in results),
        "jobs_finished": len(finishes),
        "queued": sum(r.queued for r in results),
        "wait_median_s": statistics.median(waits) if waits else None,
        "wait_p95_s": percentile(waits, 95),
        "wait_max_s": max(waits, default=None),
        "first_place_max": max((r.first_place for r in results if r.first_place is not None), default=None),
        "served_out_of_order": out_of_order,  # pairs, beyond FAIR_TOLERANCE_S either way
        "out_of_order_worst_s": worst_lag,
        "finish_median_s": statistics.median(finishes) if finishes else None,
        "finish_max_s": max(finishes, default=None),
        "queue_drained_at_s": end,  # since the run began: the last job seen finished
        "draw_p50_s": percentile(draws, 50),
        "draw_p95_s": percentile(draws, 95),
        "draws": len(draws),
        "draw_during_drain_p50_s": percentile(during, 50),
        "draw_during_drain_p95_s": percentile(during, 95),
        "draw_during_drain_max_s": max(during, default=None),
        "draws_during_drain": len(during),
        "draw_after_drain_p50_s": percentile(after, 50),
        "draw_after_drain_p95_s": percentile(after, 95),
        "draws_after_drain": len(after),
        "static_files_fetched": sum(r.static_files for r in results),
        "reruns_sent": sum(r.full_reruns for r in results),  # full runs asked for, as bench/load.py counts them
        "auto_reruns": sum(r.auto_reruns for r in results),
        "unfinished_runs": sum(r.unfinished_runs for r in results),  # a run's end lost between server and tab
        "slowest_participant_s": max((r.total_s for r in results), default=None),
        "wall_s": round(wall, 1),
        "driver_cpu_s": round(driver_cpu, 1),  # this process while the participants ran: taken from the server
        "cores": os.cpu_count(),
    }
    if watch is not None:
        summary |= watch.figures(len(results))
    return summary


ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")


def server_tracebacks(folder: Path) -> list[str]:
    """The exception line of every traceback the server logged (what an error box hid from the participant)."""
    found = []
    for log in folder.glob("streamlit-*.log"):
        lines = [ANSI.sub("", line) for line in log.read_text(errors="replace").splitlines()]
        for i, line in enumerate(lines):
            if "Traceback (most recent call last)" in line:  # plain or in rich's box
                end = next((j for j in range(i + 1, len(lines)) if EXCEPTION_LINE.match(lines[j])), None)
                found.append(lines[end][:200] if end is not None else "(cut off)")
    return found


def loopback_or_exit(url: str) -> str:
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"error: {url} is not on this machine; the load test only runs against loopback")
    return url.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    """The options; the smoke test builds its own from them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20, help=f"at most {MAX_PARTICIPANTS}")
    parser.add_argument(
        "--epochs", type=int, default=1, choices=range(1, 21), metavar="1-20", help="epochs each participant trains"
    )
    parser.add_argument("--digits", type=int, default=3, choices=(1, 2, 3), help="digits each participant draws")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a participant's actions (+-50 %%)")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which the participants arrive")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run")
    parser.add_argument("--step-timeout", type=float, default=240.0, help="seconds one awaited page state may take")
    parser.add_argument("--queue-timeout", type=float, default=900.0, help="seconds one waits for its job to finish")
    parser.add_argument("--cookie", default="", help=f"a {COOKIE_NAME} value every participant sends (default: none)")
    parser.add_argument(
        "--script",
        default="app.py",
        help="what the started server runs (app.py: the app with its workspace cookie and engine)",
    )
    parser.add_argument(
        "--static-files",
        type=Path,
        help="fetch these static files on each participant's first page load, as a fresh browser does"
        " (bench/load.py --record-static writes the list)",
    )
    parser.add_argument(
        "--idle-baseline",
        type=float,
        default=0.0,
        help="seconds: load one page, measure the server's idle CPU rate, report net figures (bench/server_watch.py)",
    )
    parser.add_argument("--url", default="", help="drive this loopback server instead of starting one (no CPU figures)")
    parser.add_argument("--json", type=Path, help="also write every participant's result here")
    parser.add_argument("--log", type=Path, help="keep the server's log here (it holds the tracebacks)")
    parser.add_argument(
        "--profile", type=Path, help="sample where the server's CPU goes into this file (service/cpuprofile.py)"
    )
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if not os.environ.get("MNIST_DIR") and not args.url:
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    proc = watch = None
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="bench-load-ws-") as tmp:
        if args.url:
            url = loopback_or_exit(args.url)
        else:
            env = {"STUDIO_CPUPROFILE": str(args.profile.resolve())} if args.profile else {}
            proc, url = start_server(env, Path(tmp), script=args.script)
            watch = ServerWatch(proc.pid)
            idle_baseline(url, watch, args.idle_baseline)
            watch.start()
        try:
            started, driver_start = time.monotonic(), cpu_seconds(psutil.Process())
            results = asyncio.run(run_all(url, args))
            wall, driver_cpu = time.monotonic() - started, cpu_seconds(psutil.Process()) - driver_start
        finally:
            if watch is not None:
                watch.stop()
            if proc is not None:
                stop_server(proc)
        tracebacks = server_tracebacks(Path(tmp))
        if args.log and not args.url:
            args.log.write_text("".join(log.read_text(errors="replace") for log in Path(tmp).glob("streamlit-*.log")))
    summary = summarise(results, watch, wall, driver_cpu)
    load_after = round(os.getloadavg()[0], 2)
    summary |= {"ramp_s": args.ramp, "think_s": args.think, "load_average_1m": [load_before, load_after]}
    summary["server_tracebacks"] = len(tracebacks)
    summary["server_traceback_kinds"] = sorted(set(tracebacks))[:5]
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    print(json.dumps(summary))
    return 0 if summary["finished_ok"] == summary["participants"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
