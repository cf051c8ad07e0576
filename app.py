"""The studio's server: `streamlit run app.py` (what `make run` does) serves studio.py, the page script.

Around it: the workspace cookie that finds a browser's saved work (service/workspace_cookie.py), the guards
for a server on a network (ui/server/guards.py), and the training engine, a Dask cluster started with the
server so the first Start does not wait for it (service/engine.py). Once the engine is up, the pages' modules
are imported and everything alive is frozen out of the garbage collector's passes (ui/server/heap.py), so
Python's full collections stay cheap (Streamlit's own after every script run is off: .streamlit/config.toml),
and the interpreter lock changes hands every 1 ms rather than 5 (ui/server/gil.py). Two Streamlit 1.67 patches:
the event loop wakes itself without a socket write per message (ui/server/loop_wakeup.py), and a fragment
rerun that arrives as a run ends waits for that run's last messages (ui/server/fragment_race.py).
glibc's malloc is tuned at import, before the server's threads allocate (service/allocator.py).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pandas  # noqa: F401 - imported once here: plotly imports it lazily, and sessions racing to do so crashed
import streamlit as st
from starlette.middleware import Middleware

from service import allocator
from service.cpuprofile import install as install_cpuprofile
from service.engine import engine_lifespan
from service.memtrace import install as install_memtrace
from service.workspace_cookie import WorkspaceCookie
from ui.server import fragment_race, loop_wakeup
from ui.server.gil import shorten_switch_interval
from ui.server.guards import StudioGuards
from ui.server.heap import freeze_startup_heap

allocator.tune()  # malloc: no arenas past 2 (those made stay), a fixed trim threshold; MALLOC_* env overrides

PAGE_PACKAGES = ("ui", "model", "service")  # what the page script and its pages import (app_pages holds scripts)


@asynccontextmanager
async def lifespan(app: object) -> AsyncIterator[None]:
    """The engine with the server, then the startup heap frozen before the first session."""
    async with engine_lifespan(app):
        await asyncio.to_thread(freeze_startup_heap, PAGE_PACKAGES)
        yield


install_memtrace()  # STUDIO_MEMTRACE=DIR only (bench/soak.py --trace): a debugging census on SIGUSR1
shorten_switch_interval()  # 1 ms, not 5: a stroke's run waits less for the lock after each message it sends
loop_wakeup.install()  # the event loop wakes itself for a message without a write to its own socket
fragment_race.install()  # a fragment rerun arriving as a run ends no longer drops that run's last messages
install_cpuprofile()  # STUDIO_CPUPROFILE=FILE only (bench/load_ws.py --profile): where the server's CPU goes

app = st.App(
    "studio.py",
    middleware=[Middleware(StudioGuards), Middleware(WorkspaceCookie)],
    lifespan=lifespan,
)
