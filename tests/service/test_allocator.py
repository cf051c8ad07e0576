"""glibc's malloc from Python: the server's arena cap and trim threshold, an instructor's variables kept, the census."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service import allocator

ROOT = Path(__file__).resolve().parents[2]
glibc = pytest.mark.skipif(not allocator.stats(), reason="glibc's mallinfo2 is not available here")

# Eight threads that each allocate and then wait for the others: without a cap each gets an arena of its own.
THREADS = """
import sys, threading
from service import allocator
if sys.argv[1] == "tuned":
    allocator.tune({})
barrier = threading.Barrier(8)
def work():
    kept = [bytes(200) * 1 for _ in range(2000)]
    barrier.wait()
ts = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
print(allocator.stats()["arenas"])
"""


def arenas_after_threads(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no MALLOC_* variables of the caller's
    out = subprocess.run([sys.executable, "-c", THREADS, mode], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


@glibc
def test_tune_caps_the_arenas_that_threads_make():
    assert arenas_after_threads("plain") > allocator.ARENAS  # the yardstick: one arena per thread, or nearly
    assert arenas_after_threads("tuned") <= allocator.ARENAS


@glibc
def test_an_instructors_own_malloc_variables_win():
    assert allocator.tune({allocator.ENV_ARENAS: "4", allocator.ENV_TRIM: "1"}) == {}
    assert allocator.tune({allocator.ENV_ARENAS: "4"}) == {allocator.ENV_TRIM: allocator.TRIM_THRESHOLD}


@glibc
def test_stats_add_up_and_trim_answers():
    stats = allocator.stats()
    assert stats["arenas"] >= 1 and stats["heaps_mb"] >= stats["in_use_mb"] > 0
    assert isinstance(allocator.trim(), bool) and allocator.rss_mb() > 0
