"""Latent space page in a real browser: time until its 10,000-point scatter is drawn, and the bytes it costs.

Starts `streamlit run` on a free loopback port with the real MNIST and drives headless Chromium:
- navigation: from the open app's Home page (plotly's code already loaded by Home's diagram), click
  "Latent space" and time, inside the page, until plotly holds all 10,000 digit points and then until two
  more frames have been painted. The first navigation also pays for loading MNIST and encoding the test set once per
  server; the later ones are what a user sees every time (target: under 1.5 s).
- fresh tab: open /latent in a new browser context (Streamlit's and plotly's JavaScript, a new session).
- bytes: the figure JSON Streamlit sends for the same figure (plotly.io.to_json, as st.plotly_chart does),
  gzipped, against plain JSON lists; and the websocket bytes a navigation received.

Usage: MNIST_DIR=../shared/data/mnist python bench/latent_page.py [--runs 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, stop_server  # noqa: E402

TARGET_SECONDS = 1.5
POINTS = 10_000
COUNT_JS = """
() => {
  let n = 0;
  for (const p of document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
    for (const t of (p._fullData || [])) if (t.meta === "digits") n += t._length;
  return n;
}
"""
# Click the navigation link and resolve, in page time, once the points are held and painted.
NAVIGATE_JS = """
async ([label, target, timeoutMs]) => {
  const count = COUNT;
  const link = [...document.querySelectorAll("[data-testid='stSidebarNav'] a")]
    .find(a => a.innerText.trim().endsWith(label));
  const t0 = performance.now();
  link.click();
  return await new Promise((resolve, reject) => {
    const tick = () => {
      if (count() >= target) {
        const held = performance.now() - t0;
        requestAnimationFrame(() => requestAnimationFrame(() => resolve([held, performance.now() - t0])));
      } else if (performance.now() - t0 > timeoutMs) {
        reject(new Error("the scatter did not show " + target + " points in time"));
      } else {
        requestAnimationFrame(tick);
      }
    };
    tick();
  });
}
""".replace("COUNT", COUNT_JS.strip())
# Fresh tab: milliseconds since the navigation started until the points are held and painted.
LOADED_JS = """
async ([target, timeoutMs]) => {
  const count = COUNT;
  return await new Promise((resolve, reject) => {
    const tick = () => {
      if (count() >= target) {
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
      } else if (performance.now() > timeoutMs) {
        reject(new Error("the scatter did not show " + target + " points in time"));
      } else {
        requestAnimationFrame(tick);
      }
    };
    tick();
  });
}
""".replace("COUNT", COUNT_JS.strip())


# The floor this browser and machine allow: Home plus one page holding nothing but 10,000 WebGL points.
BASELINE_APP = """
import numpy as np
import plotly.graph_objects as go
import streamlit as st


def home():
    st.title("Linear Autoencoder Studio")
    st.plotly_chart(go.Figure(go.Scatter(x=[0, 1], y=[0, 1])), key="home")


def bare():
    xy = np.random.default_rng(0).normal(size=(10_000, 2)).astype(np.float32)
    st.plotly_chart(go.Figure(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", meta="digits")), key="bare")


st.navigation([st.Page(home, title="Home", default=True), st.Page(bare, title="Latent space", url_path="bare")]).run()
"""


def time_navigations(browser, url: str, runs: int, received: list[int] | None = None) -> dict:
    """Open url's Home, then navigate Home -> "Latent space" runs + 1 times; the first is reported apart."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(180_000)
    received = received if received is not None else [0]
    pg.on("websocket", lambda ws: ws.on("framereceived", lambda p: received.__setitem__(0, received[0] + len(p))))
    pg.goto(url)
    pg.wait_for_selector(IDLE)
    pg.wait_for_selector("[data-testid='stPlotlyChart'] .js-plotly-plot")  # Home's chart: plotly is loaded
    out: dict = {}
    warm, held, ws_bytes = [], [], []
    for run in range(runs + 1):
        if run:
            pg.locator("[data-testid='stSidebarNav'] a", has_text="Home").click()
            pg.get_by_role("heading", name="Linear Autoencoder Studio").wait_for()
            pg.wait_for_selector(IDLE)
            time.sleep(0.5)
        before = received[0]
        data_held, painted = pg.evaluate(NAVIGATE_JS, ["Latent space", POINTS, 180_000])
        pg.wait_for_selector(IDLE)
        if run == 0:
            out["first_navigation_s"] = round(painted / 1000, 2)
            out["first_navigation_websocket_bytes"] = received[0] - before
        else:
            held.append(data_held / 1000)
            warm.append(painted / 1000)
            ws_bytes.append(received[0] - before)
    out["navigation_s"] = [round(v, 3) for v in warm]
    out["navigation_points_held_median_s"] = round(statistics.median(held), 3)
    out["navigation_median_s"] = round(statistics.median(warm), 3)
    # Later navigations resend little: Streamlit's browser-side message cache keeps the figure.
    out["websocket_bytes_per_later_navigation"] = int(statistics.median(ws_bytes))
    pg.close()
    return out


def fresh_loads(browser, url: str, n: int) -> list[float]:
    """Seconds from opening url in a new browser context (a new session) until the points are drawn."""
    times = []
    for _ in range(n):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(180_000)
        tab.goto(url)
        times.append(round(tab.evaluate(LOADED_JS, [POINTS, 180_000]) / 1000, 2))
        context.close()
    return times


def figure_bytes() -> dict:
    """The size of the default view's figure (bundled k=32, PCA of the codes, all 10,000 test digits)."""
    import numpy as np
    import plotly.io
    import torch

    from model.checkpoint import load_model
    from model.data import load_mnist
    from model.latent import fit_code_pca, subset_order
    from ui.figures.latent import latent_scatter
    from ui.server.resources import ASSETS

    torch.set_num_threads(1)
    mnist = load_mnist()
    model, _ = load_model(ASSETS / "k32.safetensors")
    with torch.no_grad():
        codes = model.encode(mnist.test.images)
    ids = subset_order(len(mnist.test))[:POINTS].numpy()
    coords = fit_code_pca(codes).project(codes, 2).numpy()[ids]
    labels = mnist.test.labels.numpy()[ids]
    started = time.perf_counter()
    fig = latent_scatter(coords, labels, ids, ("PC1", "PC2"))
    spec = plotly.io.to_json(fig, validate=False)
    build_ms = (time.perf_counter() - started) * 1000
    plain = json.dumps(
        {
            "data": [
                {
                    "x": np.asarray(t.x, dtype=float).tolist(),
                    "y": np.asarray(t.y, dtype=float).tolist(),
                    "customdata": np.asarray(t.customdata).tolist(),
                }
                for t in fig.data
            ]
        }
    )
    return {
        "points": int(len(ids)),
        "figure_json_bytes": len(spec),
        "figure_json_gzip_bytes": len(gzip.compress(spec.encode())),
        "bytes_per_point": round(len(spec) / len(ids), 1),
        "plain_json_lists_bytes": len(plain),
        "plain_over_typed_ratio": round(len(plain) / len(spec), 2),
        "build_and_serialise_ms": round(build_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="warm navigations to time")
    parser.add_argument("--fresh", type=int, default=2, help="fresh-tab loads to time")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the bare-page floor")
    args = parser.parse_args()
    if not os.environ.get("MNIST_DIR"):
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    from playwright.sync_api import sync_playwright

    result: dict = {"load_average_before": [round(v, 1) for v in os.getloadavg()]}
    result.update(figure_bytes())
    tmp = Path(tempfile.mkdtemp(prefix="bench-latent-"))
    proc, url = start_server({"MNIST_CACHE_DIR": str(tmp / "cache")}, tmp)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            result.update(time_navigations(browser, url, args.runs))
            result["navigation_over_target"] = round(result["navigation_median_s"] / TARGET_SECONDS, 2)
            result["fresh_tab_s"] = fresh_loads(browser, f"{url}/latent", args.fresh)
            browser.close()
        if args.baseline:
            (tmp / "baseline_app.py").write_text(BASELINE_APP)
            base_proc, base_url = start_server({}, tmp, script=tmp / "baseline_app.py")
            try:
                with sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    base = time_navigations(browser, base_url, args.runs)
                    result["baseline_fresh_tab_s"] = fresh_loads(browser, f"{base_url}/bare", args.fresh)
                    browser.close()
            finally:
                stop_server(base_proc)
            result["baseline_bare_page_median_s"] = base["navigation_median_s"]
            result["over_baseline_ratio"] = round(result["navigation_median_s"] / base["navigation_median_s"], 2)
    finally:
        stop_server(proc)
    result["load_average_after"] = [round(v, 1) for v in os.getloadavg()]
    print(json.dumps(result, indent=2))
    verdict = "meets" if result["navigation_median_s"] < TARGET_SECONDS else "misses"
    print(
        f"latent page: {POINTS:,} points drawn {result['navigation_median_s']:.2f} s after navigation "
        f"(median of {args.runs}; {verdict} the {TARGET_SECONDS} s target, ratio "
        f"{result['navigation_over_target']}; {result.get('over_baseline_ratio', 'n/a')}x a bare 10,000-point page "
        f"on this machine now); figure JSON {result['figure_json_bytes'] / 1024:.0f} KiB "
        f"({result['bytes_per_point']} bytes a point, {result['plain_over_typed_ratio']}x smaller than plain lists)"
    )


if __name__ == "__main__":
    main()
