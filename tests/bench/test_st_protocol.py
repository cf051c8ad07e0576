"""The protocol driver handles a run's messages as the 1.67 frontend does: its fragment timers, and what a page shows."""

from __future__ import annotations

import asyncio

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.st_protocol import Tab
from tests.conftest import run_async

FRAGMENT = "fragment-live-panel"


class FakeSocket:
    """Collects what the tab sends instead of a websocket."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send(self, raw: bytes) -> None:
        self.sent.append(raw)

    async def close(self) -> None:
        pass


def new_session(run_id: str, fragments: tuple[str, ...] = ()) -> ForwardMsg:
    msg = ForwardMsg()
    msg.new_session.SetInParent()
    msg.metadata.run.script_run_id = run_id
    msg.metadata.run.fragment_ids.extend(fragments)
    return msg


def auto_rerun(interval: float, fragment: str = FRAGMENT) -> ForwardMsg:
    msg = ForwardMsg()
    msg.auto_rerun.interval, msg.auto_rerun.fragment_id = interval, fragment
    return msg


def alert(body: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.delta.new_element.alert.body = body
    return msg


def finished(run_id: str, status: int = ForwardMsg.FINISHED_SUCCESSFULLY) -> ForwardMsg:
    msg = ForwardMsg()
    msg.script_finished = status
    msg.metadata.run.script_run_id = run_id
    return msg


def tab_for_test() -> Tab:
    tab = Tab("http://127.0.0.1:1")
    tab.ws = FakeSocket()
    return tab


async def feed(tab: Tab, *messages: ForwardMsg) -> None:
    for msg in messages:
        await tab._handle(msg)


def test_a_full_run_restarts_the_timers_it_asks_for_and_a_stop_ends_them():
    async def scenario():
        tab = tab_for_test()
        await feed(tab, new_session("a"), auto_rerun(0.05), finished("a"))
        first = tab.timers[FRAGMENT][1]
        await feed(tab, new_session("b"))  # a full run: the frontend clears every interval
        await asyncio.sleep(0)
        assert FRAGMENT not in tab.timers and first.cancelled()
        await feed(tab, auto_rerun(0.05), finished("b"))
        await asyncio.sleep(0.18)
        polls = tab.auto_reruns
        msg = ForwardMsg()
        msg.stop_auto_rerun.fragment_ids.append(FRAGMENT)
        await feed(tab, msg)
        await asyncio.sleep(0.1)
        await tab.close()
        return polls, tab.auto_reruns, tab.timers

    polls, after_stop, timers = run_async(scenario())
    assert polls >= 2
    assert after_stop == polls and timers == {}


def test_a_fragment_run_keeps_the_timer_and_the_same_interval_does_not_reset_it():
    async def scenario():
        tab = tab_for_test()
        await feed(tab, new_session("a"), auto_rerun(0.05), finished("a"))
        timer = tab.timers[FRAGMENT][1]
        await feed(tab, new_session("f", (FRAGMENT,)), auto_rerun(0.05), finished("f"))
        same = tab.timers[FRAGMENT][1] is timer
        await tab.close()
        return same

    assert run_async(scenario())


def test_a_run_whose_end_never_came_is_counted():
    async def scenario():
        tab = tab_for_test()
        await feed(tab, new_session("a"), alert("Finished: is now the active model."))  # no script_finished
        await feed(tab, new_session("f", (FRAGMENT,)), finished("f", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY))
        await tab.close()
        return tab

    tab = run_async(scenario())
    assert tab.unfinished_runs == 1
    assert any("without script_finished" in what for _, what in tab.trace)
