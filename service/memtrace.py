"""Finding what a server holds: with STUDIO_MEMTRACE=DIR, tracemalloc runs and SIGUSR1 writes a census to DIR.

A debugging switch for bench/soak.py (off unless the variable is set; nothing here runs otherwise). Each
SIGUSR1 writes `snap-N.tracemalloc` (tracemalloc's snapshot: Python-level allocations, numpy's included) and
`census-N.json`: live torch tensors (which tracemalloc cannot see: their storage comes from PyTorch's own
allocator), counted once per storage, the largest by shape, the commonest object types, and glibc's malloc:
the process's RSS and malloc's heaps (in use, free) before and after a malloc_trim, which the census does, so
what a trim would give back is seen too. The bench diffs two of them.
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import os
import signal
import tracemalloc
from collections import Counter
from pathlib import Path

from service import allocator

ENV = "STUDIO_MEMTRACE"
FRAMES = 8  # traceback depth kept per allocation: enough to see which of our lines asked for it
_LOG = logging.getLogger(__name__)
_counter = itertools.count(1)


def tensor_census(objects: list[object] | None = None, top: int = 10) -> dict:
    """Live tensors counted once per storage: how many, their bytes, and the largest (shape, dtype, bytes)."""
    import torch

    seen: dict[int, tuple[str, int]] = {}
    for obj in gc.get_objects() if objects is None else objects:
        try:
            if not isinstance(obj, torch.Tensor) or obj.device.type != "cpu":
                continue
            storage = obj.untyped_storage()
            key = storage.data_ptr()
            if key and key not in seen:
                seen[key] = (f"{tuple(obj.shape)} {obj.dtype}", storage.nbytes())
        except (RuntimeError, ReferenceError):  # sparse, meta or freed mid-walk: not what we are counting
            continue
    largest = sorted(seen.values(), key=lambda v: v[1], reverse=True)[:top]
    return {
        "storages": len(seen),
        "bytes": sum(n for _, n in seen.values()),
        "largest": [[what, n] for what, n in largest],
    }


def type_census(top: int = 20) -> list[list]:
    """The commonest object types among those the garbage collector tracks."""
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    return [[name, n] for name, n in counts.most_common(top)]


def malloc_census() -> dict:
    """RSS and malloc's heaps now, then after a malloc_trim: how much of the RSS is freed memory kept by malloc."""
    before = {"rss_mb": allocator.rss_mb(), **allocator.stats()}
    allocator.trim()
    return {"before_trim": before, "after_trim": {"rss_mb": allocator.rss_mb(), **allocator.stats()}}


def dump(folder: Path) -> int:
    """Write snapshot N and census N to folder; returns N."""
    n = next(_counter)
    folder.mkdir(parents=True, exist_ok=True)
    gc.collect()
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(folder / f"snap-{n}.tracemalloc"))
    census = {"tensors": tensor_census(), "types": type_census(), "malloc": malloc_census()}
    (folder / f"census-{n}.json").write_text(json.dumps(census))
    return n


def install(env: dict[str, str] | None = None, worker: bool = False) -> Path | None:
    """Start tracing and hook SIGUSR1 when STUDIO_MEMTRACE names a folder; returns it (None: switched off).

    worker: an engine worker, whose census goes to a folder of its own, `worker-<pid>` inside that one.
    """
    where = (os.environ if env is None else env).get(ENV, "")
    if not where:
        return None
    folder = Path(where) / f"worker-{os.getpid()}" if worker else Path(where)
    try:
        signal.signal(signal.SIGUSR1, lambda _sig, _frame: dump(folder))
    except (ValueError, AttributeError):  # not the main thread, or no SIGUSR1 (Windows): nothing to hook
        _LOG.warning("%s is set, but SIGUSR1 could not be hooked here; no memory census.", ENV)
        return None
    tracemalloc.start(FRAMES)
    _LOG.warning("Memory tracing is on (%s=%s): slower, for debugging only.", ENV, where)
    return folder
