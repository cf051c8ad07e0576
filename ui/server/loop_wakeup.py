"""The server's event loop wakes itself for each outgoing message without a trip through its own socket.

Streamlit 1.67 hands every message a script run sends to the event loop, and there, to tell its flush loop that
something is waiting, calls `loop.call_soon_threadsafe(need_send_data.set)`, which writes a byte to the loop's
self-pipe even though it already runs on that loop. The write releases the interpreter lock, and while other
sessions' runs compute, the loop waits for it again each time: every message of every session passes through
that one thread, so it fell behind (a quarter of its samples sat in that write in a class of 100,
bench/load_ws.py --profile), and a stroke's reconstruction waited in line. On the loop's own thread, setting the
event directly is what call_soon_threadsafe would do a moment later; from any other thread nothing changes.
"""

from __future__ import annotations

import asyncio
import logging

from streamlit.runtime.runtime import Runtime

_LOG = logging.getLogger(__name__)
_MARK = "_studio_sets_directly_on_the_loop"


def install() -> bool:
    """Patch Runtime once per process; False when this Streamlit lacks what the patch relies on."""
    original = getattr(Runtime, "_enqueued_some_message", None)
    if original is None or not hasattr(Runtime, "_get_async_objs"):
        _LOG.warning("This Streamlit has no Runtime._enqueued_some_message: the loop wakes itself as before.")
        return False
    if getattr(original, _MARK, False):
        return True

    def enqueued_some_message(self: Runtime) -> None:
        objs = self._get_async_objs()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # a script thread: no loop runs here
            running = None
        if running is objs.eventloop:
            objs.need_send_data.set()
        else:
            original(self)

    setattr(enqueued_some_message, _MARK, True)
    Runtime._enqueued_some_message = enqueued_some_message
    return True
