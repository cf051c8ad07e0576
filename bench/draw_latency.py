"""Draw page in a real browser: mouse-up -> reconstruction shown, against a bare page with only the canvas.

Starts two `streamlit run` servers on free loopback ports (the app, and bench/bare_canvas_app.py), draws the
same strokes on each in headless Chromium, and times in the browser from the mouse-up event to the frame
after the page's "(N strokes)" text changes (on the Draw page that text sits under the reconstruction and
comes in the same script run), and on the Draw page also to the frame by which its three pictures (input,
reconstruction, error) have loaded. Prints the medians and the differences (target: app < 0.45 s, its own
work < 0.13 s). Usage: MNIST_DIR=../shared/data/mnist python bench/draw_latency.py [--strokes 10] [--rounds 2]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
WARMUP = [(150, 150), (170, 170)]  # first run fills the caches (test-digit errors); not counted


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strokes", type=int, default=10, choices=range(1, len(STROKES) + 1), metavar="1..10")
    parser.add_argument("--rounds", type=int, default=1, help="alternate app and bare page this many times")
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
    app_text, app_pictures, bare_text = [], [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for _ in range(args.rounds):
                text, pictures = measure(browser, f"{app_url}/draw", STROKES[: args.strokes], warmup=True)
                app_text += text
                app_pictures += pictures
                bare_text += measure(browser, bare_url, STROKES[: args.strokes], warmup=False)[0]
            browser.close()
    finally:
        stop_server(app)
        stop_server(bare)
    med = statistics.median
    n = len(app_text)
    print(f"Draw page: mouse-up -> reconstruction text shown, median of {n} strokes: {med(app_text):.3f} s")
    print(f"Draw page: mouse-up -> its three pictures loaded, median of {n} strokes: {med(app_pictures):.3f} s")
    print(f"Bare canvas page: mouse-up -> text shown, median of {len(bare_text)} strokes: {med(bare_text):.3f} s")
    print(f"Difference, text (the app's own work): {med(app_text) - med(bare_text):+.3f} s (target: < 0.130 s)")
    print(f"Difference, pictures loaded: {med(app_pictures) - med(bare_text):+.3f} s")
    summary = {
        "app_text_s": [round(t, 3) for t in app_text],
        "app_pictures_s": [round(t, 3) for t in app_pictures],
        "bare_text_s": [round(t, 3) for t in bare_text],
        "app_text_median_s": round(med(app_text), 3),
        "app_pictures_median_s": round(med(app_pictures), 3),
        "bare_median_s": round(med(bare_text), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
