"""How often the server's threads trade the interpreter lock: often enough that a stroke is not queued behind a poll.

Every ForwardMsg a script run sends wakes the event loop through a socket write (asyncio's
call_soon_threadsafe), and every SQLite call releases the lock too; each time, the run waits to get the lock
back from whichever thread took it, up to the switch interval (Python's default: 5 ms) while another session's
run computes. A stroke's run sends dozens of messages, so with other runs busy those waits, not its own work,
made most of its latency (bench/gil_convoy.py: 40 writes among 3 busy threads, 132 ms at 5 ms against 21 ms at
1 ms). A shorter interval costs a few more lock hand-overs a second, nothing a page would notice.
"""

from __future__ import annotations

import os
import sys

SWITCH_INTERVAL_ENV = "STUDIO_SWITCH_INTERVAL_MS"
SWITCH_INTERVAL_MS = 1.0  # Python's default is 5


def shorten_switch_interval(env: dict[str, str] | None = None) -> float:
    """Set the interpreter's switch interval (STUDIO_SWITCH_INTERVAL_MS, default 1 ms); returns it in seconds."""
    raw = (os.environ if env is None else env).get(SWITCH_INTERVAL_ENV, "")
    try:
        ms = float(raw) if raw else SWITCH_INTERVAL_MS
    except ValueError:
        ms = SWITCH_INTERVAL_MS
    if not 0.05 <= ms <= 100:  # outside what makes sense: keep the default
        ms = SWITCH_INTERVAL_MS
    sys.setswitchinterval(ms / 1000)
    return sys.getswitchinterval()
