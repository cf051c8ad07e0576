"""Draw page in a real browser: mouse-up -> reconstruction shown, against a bare page with only the canvas.

Starts two `streamlit run` servers on free loopback ports (the app, and bench/bare_canvas_app.py), draws the
same strokes on each in headless Chromium, and times in the browser from the mouse-up event to the frame
after the page's "(N strokes)" text changes (on the Draw page that text sits under the reconstruction and
comes in the same script run), and on the Draw page also to the frame by which its three pictures (input,
reconstruction, error) have loaded. Prints the medians and the differences (target: app < 0.45 s, its own
work < 0.13 s). Usage: MNIST_DIR=../shared/data/mnist python bench/draw_latency.py [--strokes 10] [--rounds 2]

With --busy-jobs N (issue 15: 2), each round also draws on the app while N training jobs run on its engine
(N tabs of other workspaces, Streamlit's websocket protocol without a browser, each pressing Start on the
Train page with k = 32 and enough epochs to outlast the strokes, then Reset), right after drawing on the idle
app, alternating which comes first; prints idle against busy (target: unchanged). With --busy-unwatched the
job tabs close once their jobs train (the jobs go on), so only the trainers compete, not their pages' polls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.st_protocol import Tab  # noqa: E402
from tests.conftest import make_idx_dataset  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, stop_server  # noqa: E402

# Watches for "(N stroke[s])" in a markdown block and records, from the mouse-up event: the frame after the
# text changed ("shown"), and the frame by which every picture in the main area has loaded its new source
# ("pictures"; on the bare page, which has none, the same as "shown").
INSTALL_WATCH = """
() => {
  window.__lat = {up: null, shown: null, pictures: null, want: null, before: []};
  window.addEventListener('mouseup', () => { window.__lat.up = performance.now(); }, true);
  const images = () => [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stImage'] img")];
  window.__latSources = () => images().map((i) => i.src);
  const seen = () => {
    for (const el of document.querySelectorAll("[data-testid='stMarkdownContainer']")) {
      const m = /\\((\\d+) strokes?\\)/.exec(el.textContent);
      if (m) return Number(m[1]);
    }
    return null;
  };
  const pictures = () => {
    const lat = window.__lat, imgs = images();
    const fresh = imgs.every((i) => i.complete && i.naturalWidth > 0 && !lat.before.includes(i.src));
    if (fresh) lat.pictures = performance.now(); else requestAnimationFrame(pictures);
  };
  new MutationObserver(() => {
    const lat = window.__lat;
    if (lat.want !== null && lat.shown === null && seen() === lat.want) {
      lat.shown = -1;
      requestAnimationFrame(() => { lat.shown = performance.now(); pictures(); });
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""

# Ten strokes that stay on a 280 x 280 canvas: a "7", a "1", a "4", then crossings.
STROKES = [
    [(60, 50), (220, 50), (120, 250)],
    [(200, 40), (200, 250)],
    [(40, 40), (40, 150), (240, 150)],
    [(100, 30), (100, 260)],
    [(30, 200), (250, 200)],
    [(50, 100), (230, 240)],
    [(230, 100), (50, 240)],
    [(140, 20), (140, 270)],
    [(20, 120), (260, 120)],
    [(80, 260), (240, 20)],
]
WARMUP = [(70, 70), (210, 210)]  # fills the caches (test-digit errors); not counted. Big enough: a drawing under
# a quarter of the canvas is only asked to be drawn bigger, with no reconstruction to time
BUSY_QUERY = "k=32&epochs=200"  # a run far longer than ten strokes take, even on a loaded machine


class BusyJobs:
    """Training jobs on the app's engine, started and reset from tabs driven by an event loop in a thread."""

    def __init__(self, url: str, n: int, watched: bool = True) -> None:
        self.watched = watched
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.tabs = [Tab(url) for _ in range(n)]  # one workspace each: a workspace trains one job at a time
        self._call([tab.open("train", BUSY_QUERY) for tab in self.tabs])

    def _call(self, coroutines: list) -> list:
        """Run the coroutines together on the tabs' loop; their results, once all are done."""

        async def together() -> list:
            return await asyncio.gather(*coroutines)

        return asyncio.run_coroutine_threadsafe(together(), self.loop).result(timeout=300)

    async def _start(self, tab: Tab) -> None:
        await tab.rerun(press="Start")
        await tab.rerun()  # the Start run drew its buttons before the job existed
        await tab.wait_text("**Running**")  # training, not waiting for a worker
        if not self.watched:
            await tab.close()  # the job goes on without a page polling it

    async def _reset(self, tab: Tab) -> None:
        if not self.watched:
            await tab.open("train", BUSY_QUERY)  # the same workspace (its cookie): the page shows the job
        await tab.rerun(press="Reset")

    def start(self) -> None:
        """Every tab's job is training when this returns."""
        self._call([self._start(tab) for tab in self.tabs])

    def reset(self) -> None:
        """Cancel the jobs (no model kept), so the next idle round is idle."""
        self._call([self._reset(tab) for tab in self.tabs])

    def close(self) -> None:
        self._call([tab.close() for tab in self.tabs])
        self.loop.call_soon_threadsafe(self.loop.stop)


def draw(pg, box: dict, points: list[tuple[int, int]]) -> None:
    pg.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    pg.mouse.down()
    for x, y in points[1:]:
        pg.mouse.move(box["x"] + x, box["y"] + y, steps=12)
    pg.mouse.up()


def measure(browser, url: str, strokes: list, warmup: bool) -> tuple[list[float], list[float]]:
    """Seconds from mouse-up to the new stroke count shown, and to the new pictures loaded, per stroke."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(url)
    pg.wait_for_selector(IDLE, timeout=120_000)
    canvas = pg.locator(".upper-canvas").first
    canvas.wait_for(timeout=60_000)
    pg.evaluate(INSTALL_WATCH)
    box = canvas.bounding_box()
    # Rest on the canvas first: until the hover moves it up, the component's invisible toolbar covers the
    # canvas's top right corner and swallows a press there.
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    time.sleep(0.4)
    shown, pictures = [], []
    plan = ([WARMUP] if warmup else []) + strokes
    for i, points in enumerate(plan, start=1):
        pg.evaluate(
            f"() => {{ Object.assign(window.__lat, {{want: {i}, up: null, shown: null, pictures: null,"
            " before: window.__latSources()}); }"
        )
        draw(pg, box, points)
        pg.wait_for_function("() => window.__lat.pictures > 0", timeout=60_000)
        lat = pg.evaluate("() => window.__lat")
        if not (warmup and i == 1):
            shown.append((lat["shown"] - lat["up"]) / 1000.0)
            pictures.append((lat["pictures"] - lat["up"]) / 1000.0)
        pg.wait_for_selector(IDLE)
        time.sleep(0.4)  # let the chart settle: each stroke starts from a quiet page
    errors = pg.locator("[data-testid='stException']")
    if errors.count():
        raise RuntimeError(f"the page raised: {errors.first.inner_text()}")
    context.close()
    return shown, pictures


def busy_round(browser, url: str, strokes: list, jobs: BusyJobs, text: list, pictures: list) -> None:
    """Draw while the jobs train; they are reset afterwards."""
    jobs.start()
    try:
        shown, loaded = measure(browser, url, strokes, warmup=True)
    finally:
        jobs.reset()
    text += shown
    pictures += loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strokes", type=int, default=10, choices=range(1, len(STROKES) + 1), metavar="1..10")
    parser.add_argument("--rounds", type=int, default=1, help="alternate app and bare page this many times")
    parser.add_argument("--busy-jobs", type=int, default=0, help="also draw while this many jobs train (issue 15: 2)")
    parser.add_argument("--busy-unwatched", action="store_true", help="no page watches the busy jobs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-draw-"))
    env = {"MNIST_CACHE_DIR": str(tmp / "cache")}
    if not os.environ.get("MNIST_DIR"):
        make_idx_dataset(tmp / "mnist", n_train=3000, n_test=1000)
        env["MNIST_DIR"] = str(tmp / "mnist")
        print("MNIST_DIR is not set: using a small generated MNIST (the percentiles mean little)", file=sys.stderr)
    app, app_url = start_server(env, tmp)
    bare, bare_url = start_server({}, tmp, script="bench/bare_canvas_app.py")
    app_text, app_pictures, bare_text, busy_text, busy_pictures = [], [], [], [], []
    jobs = None
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            jobs = BusyJobs(app_url, args.busy_jobs, not args.busy_unwatched) if args.busy_jobs else None
            strokes = STROKES[: args.strokes]
            for i in range(args.rounds):
                if jobs is not None and i % 2 == 1:  # busy first in every other round: drift hits both alike
                    busy_round(browser, f"{app_url}/draw", strokes, jobs, busy_text, busy_pictures)
                text, pictures = measure(browser, f"{app_url}/draw", strokes, warmup=True)
                app_text += text
                app_pictures += pictures
                if jobs is not None and i % 2 == 0:
                    busy_round(browser, f"{app_url}/draw", strokes, jobs, busy_text, busy_pictures)
                bare_text += measure(browser, bare_url, strokes, warmup=False)[0]
            browser.close()
    finally:
        if jobs is not None:
            jobs.close()
        stop_server(app)
        stop_server(bare)
    med = statistics.median
    n = len(app_text)
    print(f"Draw page: mouse-up -> reconstruction text shown, median of {n} strokes: {med(app_text):.3f} s")
    print(f"Draw page: mouse-up -> its three pictures loaded, median of {n} strokes: {med(app_pictures):.3f} s")
    print(f"Bare canvas page: mouse-up -> text shown, median of {len(bare_text)} strokes: {med(bare_text):.3f} s")
    print(f"Difference, text (the app's own work): {med(app_text) - med(bare_text):+.3f} s (target: < 0.130 s)")
    print(f"Difference, pictures loaded: {med(app_pictures) - med(bare_text):+.3f} s")
    if busy_text:
        print(
            f"While {args.busy_jobs} jobs train: text shown {med(busy_text):.3f} s, pictures {med(busy_pictures):.3f} s "
            f"(idle {med(app_text):.3f} s, {med(app_pictures):.3f} s): busy / idle "
            f"{med(busy_text) / med(app_text):.2f}x (target: unchanged)"
        )
    summary = {
        "app_text_s": [round(t, 3) for t in app_text],
        "app_pictures_s": [round(t, 3) for t in app_pictures],
        "bare_text_s": [round(t, 3) for t in bare_text],
        "app_text_median_s": round(med(app_text), 3),
        "app_pictures_median_s": round(med(app_pictures), 3),
        "bare_median_s": round(med(bare_text), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if busy_text:
        summary |= {
            "busy_jobs": args.busy_jobs,
            "busy_jobs_watched": not args.busy_unwatched,
            "busy_text_s": [round(t, 3) for t in busy_text],
            "busy_text_median_s": round(med(busy_text), 3),
            "busy_pictures_median_s": round(med(busy_pictures), 3),
            "busy_over_idle_text": round(med(busy_text) / med(app_text), 3),
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
