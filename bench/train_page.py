"""Train page in a real browser: Start -> first chart, Start -> model kept, the polling interval, memory, CPU.

Starts `streamlit run app.py` (with its training engine) on a free loopback port with the real MNIST, drives
headless Chromium, and reads the resident memory of the server and its engine workers with psutil. Between
in-app runs it runs the same training on the CLI (`python -m model`, one thread) and reads its training
seconds, so each in-app run is compared with a CLI run made moments before it (issue 15's target: in-app
Start -> kept <= 1.25 x the CLI's seconds + 1 s). Every run waits for its own chart and its own model: a
chart drawn after this run's progress bar in the same (fresh, not stale) page output, and a "Finished:"
notice that names a model no earlier run made (model names are unique in a workspace), so the previous
run's chart and notice, still on the page while the Start run draws, never count. "First chart" is any chart
of the new run (the Start run draws the empty one at once); "with training" waits for one past step 0. Also
the CPU seconds of the browser and of the server with its engine workers per run (the trainer's included).
`--serve DIR` serves another checkout (`git archive main | tar -x -C DIR`) for an A/B in the same lock hold.
Usage: MNIST_DIR=../shared/data/mnist python bench/train_page.py --epochs 10 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, stop_server  # noqa: E402

# Records when the progress text changes, as the browser sees it.
WATCH_PROGRESS = """
() => {
  window.__progressTimes = [];
  window.__progressTexts = [];
  let last = '';
  new MutationObserver(() => {
    const el = document.querySelector("[data-testid='stProgress']");
    const text = el ? el.innerText : '';
    if (text && text !== last) { last = text; window.__progressTimes.push(performance.now()); window.__progressTexts.push(text); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""

# Streamlit marks each element container stale (data-stale="true") while a run has not redrawn it yet.
FRESH = "[data-testid='stElementContainer'][data-stale='false']"
# True once this run's view is up: a fresh chart after a fresh progress bar (a finished run's view has none).
RUN_CHART = f"""
() => {{
  const fresh = [...document.querySelectorAll("{FRESH}")];
  const bar = fresh.findIndex((e) => e.querySelector("[data-testid='stProgress']"));
  return bar >= 0 && fresh.slice(bar + 1).some((e) => e.querySelector("[data-testid='stPlotlyChart']"));
}}
"""
# True once this run's view shows training: as RUN_CHART, with a progress bar past step 0 (the Start run itself
# draws the not-yet-started run's empty chart, which RUN_CHART counts).
TRAINED_CHART = f"""
() => {{
  const fresh = [...document.querySelectorAll("{FRESH}")];
  const bar = fresh.findIndex((e) => e.querySelector("[data-testid='stProgress']"));
  if (bar < 0) return false;
  const step = (fresh[bar].innerText.match(/step ([\\d,]+)\\//) || [])[1];
  return !!step && Number(step.replaceAll(",", "")) > 0
    && fresh.slice(bar + 1).some((e) => e.querySelector("[data-testid='stPlotlyChart']"));
}}
"""
# The text of a fresh "Finished: <model> ... is now the active model." notice that is not in `seen`, or null.
NEW_FINISH = f"""
(seen) => {{
  for (const e of document.querySelectorAll("{FRESH}")) {{
    const text = e.innerText;
    if (text.includes("is now the active model") && !seen.includes(text)) return text;
  }}
  return null;
}}
"""


def set_number(pg, label: str, value: int) -> None:
    box = pg.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    pg.wait_for_selector(IDLE)


def rss_mb(proc: psutil.Process) -> float:
    return (proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))) / 2**20


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """User plus system CPU seconds of these processes so far (those that ended since count 0)."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def family(proc: psutil.Process) -> list[psutil.Process]:
    return [proc, *proc.children(recursive=True)]


def cli_seconds(latent_dim: int, epochs: int) -> float:
    """The CLI's training seconds (its own clock: data loading and PCA excluded) for the same run."""
    command = [sys.executable, "-m", "model", "--latent-dim", str(latent_dim), "--epochs", str(epochs)]
    done = subprocess.run([*command, "--threads", "1", "--no-progress"], capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def trainer_seconds(texts: list[str], batch_size: int = 256) -> float | None:
    """The in-app trainer's own seconds, from the last progress line seen: total steps x batch / its samples/s.

    The line's rate is the run's average so far (samples seen over the trainer's elapsed time), so this is the
    trainer's time for the whole run to within the last snapshot's drift; the rest of Start -> kept is the page's.
    """
    for text in reversed(texts):
        found = re.search(r"step [\d,]+/([\d,]+) · ([\d,]+) samples/s", text)
        if found and int(found[2].replace(",", "")) > 0:
            return int(found[1].replace(",", "")) * batch_size / int(found[2].replace(",", ""))
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--serve", type=Path, default=None, help="serve this checkout instead (an A/B against main)")
    args = parser.parse_args()
    if not os.environ.get("MNIST_DIR"):
        sys.exit("error: set MNIST_DIR to the folder with the real MNIST files")
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    proc, url = start_server({}, tmp, **({"cwd": args.serve.resolve()} if args.serve else {}))
    server = psutil.Process(proc.pid)
    result = {"latent_dim": args.latent_dim, "epochs": args.epochs}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.set_default_timeout(120_000)
            pg.goto(f"{url}/train")
            pg.wait_for_selector(IDLE)
            pg.get_by_text("Ready: k =").wait_for()  # MNIST and PCA are loaded
            set_number(pg, "Latent size k (1–784)", args.latent_dim)
            pg.get_by_text("Training settings").click()
            set_number(pg, "Epochs", args.epochs)
            result["server_mb_before"] = round(rss_mb(server), 1)
            first_chart, intervals, run_seconds, memory, cli, ratios = [], [], [], [], [], []
            trained_chart, browser_cpu, server_cpu, trainer = [], [], [], []
            me = psutil.Process(os.getpid())  # Playwright's driver and Chromium run under this process
            finished: list[str] = []  # each run's notice: the next run must show another
            for run in range(args.runs):
                cli.append(cli_seconds(args.latent_dim, args.epochs))
                pg.evaluate(WATCH_PROGRESS)
                ours = {p.pid for p in family(server)}
                chromium = [p for p in me.children(recursive=True) if p.pid not in ours]
                cpu_before = cpu_seconds(chromium), cpu_seconds(family(server))
                started = time.monotonic()
                pg.get_by_role("button", name="Start").click()
                pg.wait_for_function(RUN_CHART, polling="raf")
                first_chart.append(time.monotonic() - started)
                # A short run can end before a chart past step 0 is drawn (a cold page loads plotly meanwhile).
                seen = pg.wait_for_function(
                    f"(seen) => ({TRAINED_CHART})() || ({NEW_FINISH})(seen)", arg=finished, polling="raf"
                ).json_value()
                trained_chart.append(time.monotonic() - started if seen is True else None)
                finished.append(pg.wait_for_function(NEW_FINISH, arg=finished, polling="raf").json_value())
                run_seconds.append(time.monotonic() - started)
                browser_cpu.append(round(cpu_seconds(chromium) - cpu_before[0], 2))
                server_cpu.append(round(cpu_seconds(family(server)) - cpu_before[1], 2))
                ratios.append(run_seconds[-1] / (1.25 * cli[-1] + 1.0))  # <= 1: the target met
                times = pg.evaluate("window.__progressTimes")
                trainer.append(trainer_seconds(pg.evaluate("window.__progressTexts")))
                # One poll can touch the text more than once within a few ms; count distinct updates only.
                gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]
                intervals.extend(g for g in gaps if g > 0.05)
                memory.append(round(rss_mb(server), 1))
                pg.wait_for_selector(IDLE)
                print(
                    f"run {run + 1}: first chart {first_chart[-1]:.2f} s, with training {trained_chart[-1] or 0:.2f} s, "
                    f"kept after {run_seconds[-1]:.2f} s (CLI {cli[-1]:.2f} s, in-app trainer {trainer[-1] or 0:.2f} s), "
                    f"{memory[-1]} MB, CPU-s: browser "
                    f"{browser_cpu[-1]}, server and workers {server_cpu[-1]}, load {os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                )
            browser.close()
        result.update(
            start_to_first_chart_median_s=round(statistics.median(first_chart), 3),
            start_to_first_chart_max_s=round(max(first_chart), 3),
            start_to_first_chart_s=[round(t, 2) for t in first_chart],
            start_to_trained_chart_median_s=round(statistics.median(t for t in trained_chart if t is not None), 3)
            if any(t is not None for t in trained_chart)
            else None,
            start_to_trained_chart_s=[None if t is None else round(t, 2) for t in trained_chart],  # None: not seen
            app_over_target=[round(r, 2) for r in ratios],
            cli_seconds=[round(c, 2) for c in cli],
            # the in-app trainer's own seconds (None: no progress line seen) and the rest of Start -> kept
            in_app_trainer_seconds=[None if t is None else round(t, 2) for t in trainer],
            page_seconds=[None if t is None else round(r - t, 2) for r, t in zip(run_seconds, trainer, strict=True)],
            browser_cpu_s_per_run=browser_cpu,
            server_and_workers_cpu_s_per_run=server_cpu,
            progress_update_interval_median_s=round(statistics.median(intervals), 3) if intervals else None,
            progress_updates_seen=len(intervals) + args.runs,
            run_seconds_median=round(statistics.median(run_seconds), 2),
            cli_seconds_median=round(statistics.median(cli), 2),
            app_over_cli_median=round(statistics.median(r / c for r, c in zip(run_seconds, cli, strict=True)), 2),
            app_over_target_median=round(statistics.median(ratios), 2),  # target: (1.25 x CLI + 1 s); <= 1 met
            server_mb_after_each_run=memory,
            server_mb_growth_runs_2_to_last=round(memory[-1] - memory[1], 1) if len(memory) > 1 else None,
        )
    finally:
        stop_server(proc)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
