"""The browser bench and the protocol bench weigh the server the same way and count what the browser sends."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg

from bench import load, load_ws
from bench.server_watch import ServerWatch

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
