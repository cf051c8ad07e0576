"""A fragment rerun that reaches the server as a run ends: without the fix Streamlit 1.67 drops the run's end.

tests/e2e/fragment_race_app.py queues a fragment tick on the server's busy event loop just as each full run
ends. Streamlit then starts a new runner for the tick before the loop has passed on the run's last events and
drops them, so the tab never hears that the run finished (in a class of 100 this left a Train page stale and
without its poll). ui/server/fragment_race.py makes the tick wait for them.
"""

from __future__ import annotations

import pytest

from bench.st_protocol import Tab
from tests.conftest import run_async
from tests.e2e.conftest import start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

APP = "tests/e2e/fragment_race_app.py"


async def _open_and_watch(url: str) -> Tab:
    """Open the page and wait for the fragment run that the tick caused; the tab says what it received."""
    tab = Tab(url, wait_seconds=4)
    try:
        await tab.open("")
    except TimeoutError:  # the full run's end never came (the bug): the fragment run below still does
        pass
    await tab.wait(lambda p: bool(p.fragment_ids) and p.has("panel run 2"), since=0.0, seconds=10)
    await tab.close()
    return tab


@pytest.mark.parametrize("patched", [False, True], ids=["streamlit-as-is", "with-the-fix"])
def test_a_fragment_tick_at_the_end_of_a_run_keeps_the_runs_end(tmp_path, patched):
    proc, url = start_server({"FRAGMENT_RACE_PATCH": "1" if patched else "0"}, tmp_path, script=APP)
    try:
        tab = run_async(_open_and_watch(url))
    finally:
        stop_server(proc)
    full_runs = [p for p in tab.runs if not p.fragment_ids]
    if patched:
        assert tab.unfinished_runs == 0, tab.trace
        assert full_runs and full_runs[0].has("the end of the page")
    else:
        # Streamlit as installed loses the end of the run. If this fails, Streamlit fixed the race: the patch
        # in ui/server/fragment_race.py can go (and this case with it).
        assert tab.unfinished_runs == 1, tab.trace
        assert not full_runs
