"""Keep what the server loads once (its modules) out of the garbage collector's full passes."""

from __future__ import annotations

import gc
import importlib
import pkgutil


def import_all(packages: tuple[str, ...]) -> None:
    """Import every module of these packages now, as the first page runs would."""
    for name in packages:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not info.name.endswith(".__main__"):  # a command line, not a module to load
                importlib.import_module(info.name)


def freeze_startup_heap(packages: tuple[str, ...] = ()) -> int:
    """Import the pages' modules, then freeze every object alive; returns how many were frozen.

    Streamlit can run a full collection (gc.collect(2), its runner.postScriptGC, off in .streamlit/config.toml)
    after every script run, and Python's own collector runs full passes as objects pile up; a full pass visits
    every object the imports left (torch, plotly, Dask, pandas, Streamlit: about 300k): 145 ms of CPU a pass
    here, holding the interpreter lock that every other session's run waits for. Frozen objects are skipped by every later collection, and these
    live as long as the server anyway. Call it once at server start, before any session exists, so that no
    session's objects are frozen (their cyclic garbage is still collected after each run).
    """
    import_all(packages)
    gc.collect()  # what the imports left as garbage goes now rather than staying frozen
    gc.freeze()
    return gc.get_freeze_count()
