"""glibc's malloc, asked directly: memory freed inside the process but not yet handed back, and a trim that returns it.

Every thread that allocates gets a malloc arena of its own (up to 8 per core: 16 in the server here), and a
freed block stays in its arena until the arena's top is free or someone calls malloc_trim. After a freed large
block, glibc also raises its thresholds (up to 32 MB for mmap, 64 MB kept at an arena's top), so blocks that
were mapped and unmapped before now stay in the heaps. In bench/soak.py the server's heaps held 113 MB free at
the baseline and 190 MB after 24 cycles, with 16 arenas, while its live Python objects grew 4 MB.
`tune()` at server start caps the arenas and fixes the trim threshold (as Dask does for its workers with
MALLOC_TRIM_THRESHOLD_); `trim()` after sessions or jobs are dropped returns what they freed. Elsewhere than
glibc every call here does nothing.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

M_TRIM_THRESHOLD, M_ARENA_MAX = -1, -8  # mallopt's parameter numbers (malloc.h)
ARENAS = 2  # a Streamlit server's threads mostly wait on the interpreter lock: few arenas cost no speed
TRIM_THRESHOLD = 64 * 1024  # Dask's MALLOC_TRIM_THRESHOLD_ for its workers; fixed, it stops the thresholds rising
ENV_ARENAS, ENV_TRIM = "MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_"  # glibc's own variables: an instructor's win
_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _FIELDS]


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def tune(env: dict[str, str] | None = None) -> dict[str, int]:
    """Cap malloc's arenas at ARENAS and fix its trim threshold, unless glibc's own variables set them; returns what it set.

    Call it once, early: arenas already made stay, and later threads share them (app.py's import finds 4, made
    by Streamlit's first threads; the server then runs with 5, against 16 without the cap). MALLOC_ARENA_MAX in
    the environment, read by glibc at start, caps those first ones too.
    """
    env = os.environ if env is None else env
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return {}
    applied = {}
    for name, param, value in ((ENV_ARENAS, M_ARENA_MAX, ARENAS), (ENV_TRIM, M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        if name not in env and libc.mallopt(param, value) == 1:
            applied[name] = value
    return applied


def trim() -> bool:
    """malloc_trim(0): give every arena's free pages back to the system; True when some memory was released."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    return bool(libc.malloc_trim(0))


def arena_count(libc: ctypes.CDLL) -> int:
    """How many malloc arenas the process has (malloc_info's XML has one <heap> per arena)."""
    buf, size = ctypes.c_char_p(), ctypes.c_size_t()
    libc.open_memstream.restype = ctypes.c_void_p
    stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    if not stream:
        return 0
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    text = ctypes.string_at(buf, size.value).decode("ascii", "replace")
    libc.free(buf)
    return len(re.findall(r"<heap nr=", text))


def rss_mb() -> float:
    """This process's resident memory in MB (Linux's /proc; 0 elsewhere)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return round(resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def stats() -> dict[str, float]:
    """MB taken from the system for malloc's heaps, in use there, free there (what a trim could return), mmapped."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return {}
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    mb = 2**20
    return {
        "heaps_mb": round(info.arena / mb, 1),
        "in_use_mb": round(info.uordblks / mb, 1),
        "free_mb": round(info.fordblks / mb, 1),
        "mmapped_mb": round(info.hblkhd / mb, 1),
        "arenas": arena_count(libc),
    }
