"""Where a server's CPU goes: with STUDIO_CPUPROFILE=FILE, a sampler weighs each thread's stack by its CPU time.

A debugging switch for the load benches (off unless the variable is set; nothing here runs otherwise), for a
machine without py-spy. Every SAMPLE_SECONDS a daemon thread reads each thread's own CPU clock
(pthread_getcpuclockid) and its Python stack (sys._current_frames); the CPU a thread used since the last
sample is charged to the stack it shows now. Every WRITE_SECONDS the totals are written to FILE (collapsed
stacks, `frame;frame;... seconds`, the flame-graph format) and FILE.top.txt (the functions that held the most
CPU, inclusive, and the busiest threads). Statistical, like any sampler: a thread's stack at the sample stands
for its last interval.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType

ENV = "STUDIO_CPUPROFILE"
SAMPLE_SECONDS = 0.02
WRITE_SECONDS = 5.0
DEPTH = 40  # innermost frames kept per stack
_LOG = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8192)
def code_label(code: CodeType) -> str:
    """'package/module.py:function' for a frame's code (the path from site-packages or the repository down)."""
    path = code.co_filename
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = "/".join(Path(path).parts[-2:])
    return f"{path}:{code.co_name}"


def stack_of(frame: FrameType | None, depth: int = DEPTH) -> tuple[str, ...]:
    """The frames from outermost to innermost, the innermost `depth` of them."""
    labels = []
    while frame is not None and len(labels) < depth:
        labels.append(code_label(frame.f_code))
        frame = frame.f_back
    return tuple(reversed(labels))


class CpuSampler(threading.Thread):
    """Charges each thread's CPU since the previous sample to its current stack."""

    def __init__(self, out: Path, interval: float = SAMPLE_SECONDS, write_every: float = WRITE_SECONDS) -> None:
        super().__init__(daemon=True, name="cpu-sampler")
        self.out, self.interval, self.write_every = out, interval, write_every
        self.stacks: Counter[tuple[str, ...]] = Counter()
        self.threads: Counter[str] = Counter()
        self.last_cpu: dict[int, float] = {}
        self.halt = threading.Event()

    def sample(self) -> None:
        names = {t.ident: t.name for t in threading.enumerate()}
        seen = {}
        for ident, frame in sys._current_frames().items():
            if ident == self.ident:
                continue
            try:
                used = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except (OSError, OverflowError):  # it ended between the listing and the reading
                continue
            seen[ident] = used
            spent = used - self.last_cpu.get(ident, used)
            if spent > 0:
                self.stacks[stack_of(frame)] += spent
                self.threads[names.get(ident, str(ident)).rstrip("0123456789")] += spent
        self.last_cpu = seen

    def write(self) -> None:
        lines = [f"{';'.join(stack)} {seconds:.4f}" for stack, seconds in self.stacks.most_common()]
        self.out.write_text("\n".join(lines) + "\n")
        inclusive: Counter[str] = Counter()
        for stack, seconds in self.stacks.items():
            for label in set(stack):
                inclusive[label] += seconds
        total = sum(self.stacks.values())
        top = [f"total {total:.2f} CPU-s sampled", "", "busiest threads (name without its number):"]
        top += [f"{s:9.2f}  {name}" for name, s in self.threads.most_common(15)]
        top += ["", "functions by inclusive CPU-s:"]
        top += [f"{s:9.2f}  {label}" for label, s in inclusive.most_common(80)]
        Path(f"{self.out}.top.txt").write_text("\n".join(top) + "\n")

    def run(self) -> None:
        next_write = time.monotonic() + self.write_every
        while not self.halt.wait(self.interval):
            self.sample()
            if time.monotonic() >= next_write:
                self.write()
                next_write = time.monotonic() + self.write_every


def install(env: dict[str, str] | None = None) -> CpuSampler | None:
    """Start the sampler when STUDIO_CPUPROFILE names a file; returns it (None: switched off)."""
    where = (os.environ if env is None else env).get(ENV, "")
    if not where:
        return None
    sampler = CpuSampler(Path(where))
    sampler.start()
    _LOG.warning("CPU sampling is on (%s=%s): for debugging only.", ENV, where)
    return sampler
