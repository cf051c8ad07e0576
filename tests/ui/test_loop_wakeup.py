"""On its own loop the runtime sets its flush event directly; from a script thread it still goes through the loop."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from streamlit.runtime.runtime import Runtime

from tests.conftest import run_async
from ui.server.loop_wakeup import install


class CountingLoop:
    """Wraps the real loop and counts call_soon_threadsafe (each one is a write to the loop's self-pipe)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.threadsafe_calls = loop, 0

    def call_soon_threadsafe(self, callback, *args):
        self.threadsafe_calls += 1
        return self.loop.call_soon_threadsafe(callback, *args)


def _fake_runtime(loop: asyncio.AbstractEventLoop) -> tuple[SimpleNamespace, CountingLoop, asyncio.Event]:
    counting, event = CountingLoop(loop), asyncio.Event()
    objs = SimpleNamespace(eventloop=counting, need_send_data=event)
    return SimpleNamespace(_get_async_objs=lambda: objs), counting, event


def test_the_loops_own_thread_sets_the_event_without_a_threadsafe_call():
    assert install()

    async def on_the_loop():
        loop = asyncio.get_running_loop()
        calls = []
        real = loop.call_soon_threadsafe
        loop.call_soon_threadsafe = lambda *a: calls.append(a) or real(*a)  # counted, on this loop instance only
        event = asyncio.Event()
        objs = SimpleNamespace(eventloop=loop, need_send_data=event)
        Runtime._enqueued_some_message(SimpleNamespace(_get_async_objs=lambda: objs))
        return event.is_set(), calls

    is_set, calls = run_async(on_the_loop())  # a thread of its own: e2e tests leave this one's loop set
    assert is_set and calls == []


def test_a_script_thread_still_wakes_the_loop_through_call_soon_threadsafe():
    assert install()

    async def scenario():
        loop = asyncio.get_running_loop()
        runtime, counting, event = _fake_runtime(loop)
        worker = threading.Thread(target=Runtime._enqueued_some_message, args=(runtime,))
        worker.start()
        worker.join()
        await asyncio.wait_for(event.wait(), 2)
        return counting.threadsafe_calls

    assert run_async(scenario()) == 1
