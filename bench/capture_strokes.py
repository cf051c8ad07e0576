"""Record what real Chromium sends when a hand draws three digits, for bench/load_ws.py to replay.

The canvas (streamlit-drawable-canvas 0.13, a Components v2 component) reaches the server as the
`json_value` widget state of its element: `{"drawing": {"raw": <Fabric.js JSON>, "data": <PNG data URL>}}`,
one message per lifted stroke. This opens the Draw page in headless Chromium, draws a 1, a 7 (two strokes)
and a 0 with the mouse, pressing Clear between digits, and keeps each stroke's widget value exactly as the
browser's websocket frame carried it. Writes bench/data/strokes.json.
Usage: python bench/capture_strokes.py (needs /usr/bin/chromium; MNIST is not needed)
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, stop_server  # noqa: E402

OUT = Path(__file__).resolve().parent / "data" / "strokes.json"
OVAL = [(140 + 55 * math.sin(t / 24 * 2 * math.pi), 140 - 95 * math.cos(t / 24 * 2 * math.pi)) for t in range(25)]
DIGITS = {  # canvas pixels (280 x 280); each stroke: press at the first point, drag through the rest
    "1": [[(150, 30), (140, 255)]],
    "7": [[(60, 50), (220, 50)], [(220, 50), (110, 250)]],
    "0": [OVAL],
}


def canvas_states(payload: bytes | str) -> list[str]:
    """The canvas values (json_value widget states holding a drawing) in one frame the browser sent."""
    if isinstance(payload, str):
        return []
    msg = BackMsg()
    msg.ParseFromString(payload)
    if msg.WhichOneof("type") != "rerun_script":
        return []
    values = (w.json_value for w in msg.rerun_script.widget_states.widgets if w.WhichOneof("value") == "json_value")
    return [v for v in values if '"drawing"' in v]


def capture(url: str) -> dict[str, list[str]]:
    from playwright.sync_api import sync_playwright

    sent: list[str] = []
    digits: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 950})
        page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.extend(canvas_states(p))))
        page.goto(f"{url}/draw")
        page.wait_for_selector(IDLE, timeout=60_000)
        for label, strokes in DIGITS.items():
            canvas = page.locator(".upper-canvas").first
            canvas.wait_for(timeout=30_000)
            box = canvas.bounding_box()
            page.mouse.move(box["x"] + 140, box["y"] + 140)  # rest on the canvas: the toolbar moves out of the way
            page.wait_for_timeout(400)
            start = len(sent)
            for n, points in enumerate(strokes, start=1):
                page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
                page.mouse.down()
                for x, y in points[1:]:
                    page.mouse.move(box["x"] + x, box["y"] + y, steps=15)
                page.mouse.up()
                page.get_by_text(f"({n} stroke{'s' if n != 1 else ''})").wait_for(timeout=30_000)
                page.wait_for_selector(IDLE, timeout=30_000)
            digits[label] = sent[start:]
            if len(digits[label]) != len(strokes):
                raise RuntimeError(f"digit {label}: {len(strokes)} strokes drawn, {len(digits[label])} values sent")
            page.get_by_role("button", name="Clear").click()
            page.get_by_text("Draw a digit with the mouse").wait_for(timeout=30_000)
        browser.close()
    return digits


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server({}, Path(tmp))
        try:
            digits = capture(url)
        finally:
            stop_server(proc)
    OUT.parent.mkdir(exist_ok=True)
    record = {
        "about": "canvas widget values real Chromium sent, one per lifted stroke (bench/capture_strokes.py)",
        "digits": [{"label": label, "strokes": values} for label, values in digits.items()],
    }
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    sizes = {d["label"]: [len(v) for v in d["strokes"]] for d in record["digits"]}
    print(f"wrote {OUT}: characters per stroke value {sizes}")


if __name__ == "__main__":
    main()
