"""A fragment's rerun that reaches the server just as the previous run ends waits for that run's last messages.

Streamlit 1.67's AppSession forwards every event of a run (its elements, its `auto_rerun`, its
`script_finished`) from the script thread to the event loop, and drops the events of a ScriptRunner that is no
longer the session's current one. When a fragment's rerun request (a `run_every` tick the browser sent before
it heard of the new run, or a widget inside a fragment) is handled after the runner has finished its run but
before the loop has handled that run's last events, the session starts a new runner at once, and those events
are dropped: the browser never gets the end of the run (its last elements, a poll it set up, the
script_finished that clears stale elements). On a busy server the loop lags enough for this: in a class of
100 (bench/load_ws.py) about one Train page a run was left with a stale page and no poll, waiting for ever
(the "stuck participant"; tests/e2e/test_fragment_race.py makes it happen on purpose).

`install()` makes such a request wait (a few milliseconds at a time) until the ending runner's events are
handled, then go to a runner as before. Full reruns are left alone: they replace the whole page anyway.
"""

from __future__ import annotations

import logging
import time

from streamlit.runtime.app_session import AppSession, AppSessionState

RETRY_SECONDS = 0.005  # how often a waiting request looks again
MAX_WAIT_SECONDS = 2.0  # after this it goes ahead as Streamlit would (an ending runner takes milliseconds)
_LOG = logging.getLogger(__name__)
_MARK = "_studio_waits_for_ending_runner"


def install() -> bool:
    """Patch AppSession once per process; False when this Streamlit lacks what the patch relies on."""
    original = getattr(AppSession, "_create_scriptrunner", None)
    if original is None:
        _LOG.warning("This Streamlit has no AppSession._create_scriptrunner: fragment reruns are not held back.")
        return False
    if getattr(original, _MARK, False):
        return True

    def create_scriptrunner(self: AppSession, initial_rerun_data, *args, **kwargs) -> None:
        ending = self._scriptrunner
        if ending is not None and getattr(initial_rerun_data, "fragment_id", None):
            # The current runner refused the request: it has finished and is shutting down, and its last
            # events may still wait in the loop's queue behind this request. Let them go first.
            _retry_later(self, initial_rerun_data, time.monotonic() + MAX_WAIT_SECONDS)
            return
        original(self, initial_rerun_data, *args, **kwargs)

    def retry(self: AppSession, rerun_data, deadline: float) -> None:
        if self._state == AppSessionState.SHUTDOWN_REQUESTED:
            return
        runner = self._scriptrunner
        if runner is None:  # the ending runner's SHUTDOWN was handled, so were all its events before it
            original(self, rerun_data)
        elif runner.request_rerun(rerun_data):  # a newer runner took it
            return
        elif time.monotonic() < deadline:
            _retry_later(self, rerun_data, deadline)
        else:
            original(self, rerun_data)

    def _retry_later(session: AppSession, rerun_data, deadline: float) -> None:
        session._event_loop.call_later(RETRY_SECONDS, retry, session, rerun_data, deadline)

    setattr(create_scriptrunner, _MARK, True)
    AppSession._create_scriptrunner = create_scriptrunner
    return True
