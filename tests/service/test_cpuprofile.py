"""The CPU sampler charges a busy thread's CPU to the function it spins in, and stays off unless asked."""

from __future__ import annotations

import threading
import time

from service import cpuprofile


def _spin(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(2000))


def test_off_without_the_variable():
    assert cpuprofile.install({}) is None


def test_a_spinning_thread_is_charged_to_its_function(tmp_path):
    out = tmp_path / "cpu.txt"
    sampler = cpuprofile.CpuSampler(out, interval=0.01, write_every=60)
    stop = threading.Event()
    busy = threading.Thread(target=_spin, args=(stop,), name="spinner-1")
    busy.start()
    sampler.start()
    time.sleep(0.5)
    sampler.halt.set()
    sampler.join()
    stop.set()
    busy.join()
    sampler.write()
    spun = sum(s for stack, s in sampler.stacks.items() if any(label.endswith(":_spin") for label in stack))
    assert spun > 0.05, sampler.stacks.most_common(3)
    assert sampler.threads["spinner-"] >= spun * 0.99
    assert ":_spin" in out.read_text()
    assert "test_cpuprofile.py:_spin" in (tmp_path / "cpu.txt.top.txt").read_text()
