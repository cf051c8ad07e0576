"""The soak benchmark's memory census: off unless asked for; counts each tensor storage once."""

from __future__ import annotations

import json
import os
import signal
import time
import tracemalloc

import torch

from service import memtrace


def test_off_without_the_variable():
    assert memtrace.install({}) is None


def test_a_storage_shared_by_views_counts_once():
    base = torch.zeros(1000)
    census = memtrace.tensor_census([base, base[:10], base.view(10, 100), torch.ones(3)])
    assert census["storages"] == 2 and census["bytes"] == 4000 + 12
    assert census["largest"][0] == ["(1000,) torch.float32", 4000]


def test_sigusr1_writes_a_snapshot_and_a_census(tmp_path):
    before = signal.getsignal(signal.SIGUSR1)
    try:
        assert memtrace.install({memtrace.ENV: str(tmp_path)}) == tmp_path and tracemalloc.is_tracing()
        os.kill(os.getpid(), signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not list(tmp_path.glob("census-*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        census = json.loads(next(tmp_path.glob("census-*.json")).read_text())
        assert census["tensors"]["storages"] >= 0 and census["types"]
        assert list(tmp_path.glob("snap-*.tracemalloc"))
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGUSR1, before)


def test_the_census_shows_what_a_malloc_trim_gives_back():
    census = memtrace.malloc_census()
    before, after = census["before_trim"], census["after_trim"]
    assert before["rss_mb"] > 0 and after["rss_mb"] > 0
    if "free_mb" in before:  # glibc
        assert after["free_mb"] <= before["free_mb"] + 1
