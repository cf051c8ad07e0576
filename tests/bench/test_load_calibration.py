"""The browser bench and the protocol bench weigh the server the same way and count what the browser sends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.error

import psutil
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from bench import load, load_ws
from bench.server_watch import ServerWatch
from bench.st_protocol import CONNECTIONS_PER_HOST, Tab
from tests.conftest import run_async

BUSY_CHILD = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\ntime.sleep(30)"


def _burning_child() -> subprocess.Popen:
    """A child that burns 0.4 s of CPU and then sleeps; returned once the burn is over."""
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD])
    deadline = time.monotonic() + 20
    proc = psutil.Process(child.pid)
    while time.monotonic() < deadline and sum(proc.cpu_times()[:2]) < 0.4:
        time.sleep(0.05)
    return child


def test_a_watch_counts_only_what_its_tree_used_after_it_began_and_skips_the_tree_it_is_told_to():
    mine = ServerWatch(os.getpid(), include_root=False)
    others = ServerWatch(os.getpid(), include_root=False)
    child = _burning_child()
    try:
        others.skip_tree = child.pid
        mine.sample()
        others.sample()
    finally:
        child.kill()
        child.wait()
    assert mine.run_cpu_s >= 0.35
    assert child.pid in mine.cpu and child.pid not in others.cpu
    assert os.getpid() not in mine.cpu  # the bench itself is not a browser


def test_both_benches_report_the_server_under_the_same_names():
    watch = ServerWatch(os.getpid())
    watch.stop()
    browser_result = {"session": 0, "ok": True, "error": "", "queued": False, "total_s": 3.0, "laps": {}}
    browser = load.summarise([browser_result], watch, watch, 10.0)
    protocol = load_ws.summarise([load_ws.Result(0, ok=True)], watch, 10.0, 0.5)
    names = set(watch.figures(1))
    assert {"server_cpu_per_participant_s", "server_process_cpu_s"} <= names
    assert names <= set(browser) and names <= set(protocol)
    assert {"reruns_sent", "auto_reruns"} <= set(browser) & set(protocol)


def _rerun(fragment: str = "") -> bytes:
    msg = BackMsg()
    msg.rerun_script.query_string = "k=16"
    if fragment:
        msg.rerun_script.fragment_id, msg.rerun_script.is_auto_rerun = fragment, True
    return msg.SerializeToString()


def test_the_browser_frames_are_told_apart_full_runs_fragment_polls_and_the_rest():
    other = BackMsg()
    other.stop_script = True
    assert load.rerun_kind(_rerun()) == "full"
    assert load.rerun_kind(_rerun("live_panel")) == "fragment"
    assert load.rerun_kind(other.SerializeToString()) is None
    assert load.rerun_kind("a text frame") is None
    assert load.rerun_kind(b"\xff\xff\xff") is None


def test_requests_to_the_server_are_sorted_into_static_media_and_other():
    base = "http://127.0.0.1:8501"
    assert load.request_kind(f"{base}/static/js/index.js", base) == "static"
    assert load.request_kind(f"{base}/media/abc.png", base) == "media"
    assert load.request_kind(f"{base}/_stcore/health", base) == "other"
    assert load.request_kind("http://example.org/static/x.js", base) is None


def test_the_server_process_alone_is_told_apart_from_its_tree():
    watch = ServerWatch(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.2:
        pass
    watch.sample()
    assert 0.15 <= watch.root_run_cpu_s <= watch.run_cpu_s


def test_an_idle_baseline_moves_the_count_and_the_net_figure_takes_the_idle_rate_away():
    watch = ServerWatch(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.2:  # work before the baseline: not counted
        pass
    watch.measure_idle(0.2, settle=0.0)
    assert watch.idle_cpu_per_s is not None and watch.warmup_cpu_s >= 0.15
    assert watch.run_cpu_s < 0.1
    watch.idle_cpu_per_s, watch.since, watch.until = 0.5, 100.0, 110.0  # 10 s counted at 0.5 CPU-s/s idle
    watch.cpu[-1] = watch.cpu.get(-1, 0.0) + 8.0  # 8 CPU-s used in those 10 s
    figures = watch.figures(2)
    assert watch.net_cpu_s == pytest.approx(watch.run_cpu_s - 5.0)
    assert figures["server_cpu_net_per_participant_s"] == round(watch.net_cpu_s / 2, 2)
    assert "server_cpu_net_s" not in ServerWatch(os.getpid()).figures(2)  # no baseline, no net figure


def test_the_driver_fetches_the_static_files_once_at_most_six_at_a_time():
    async def scenario():
        tab = Tab("http://127.0.0.1:1", static_paths=[f"/static/js/{i}.js" for i in range(20)])
        busy, peak, got = 0, 0, []

        async def fetch(path: str) -> bytes:
            nonlocal busy, peak
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0.01)
            busy -= 1
            got.append(path)
            return b""

        tab.fetch = fetch
        await tab.load_static()
        await tab.load_static()  # a later page load: the browser's cache has them
        return tab, peak, got

    tab, peak, got = run_async(scenario())
    assert len(got) == 20 and tab.static_fetched == 20
    assert peak == CONNECTIONS_PER_HOST


def test_a_static_file_the_server_no_longer_has_is_a_clear_error():
    async def scenario():
        tab = Tab("http://127.0.0.1:1", static_paths=["/static/js/gone.js"])

        async def fetch(path: str) -> bytes:
            raise urllib.error.HTTPError(path, 404, "Not Found", None, None)

        tab.fetch = fetch
        await tab.load_static()

    with pytest.raises(RuntimeError, match="record the list again"):
        run_async(scenario())
