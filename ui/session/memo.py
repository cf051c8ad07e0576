"""Per-tab memos for views that a poll redraws: a part is rebuilt only when what it shows has changed."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

MEMO_KEY = "view_memo"  # {slot: (weak reference to the object drawn, what was built from it)}

T = TypeVar("T")


def per_object(slot: str, source: object, build: Callable[[], T]) -> T:
    """build(), redone only when source is another object than this tab's previous call for slot.

    For immutable sources (a training Snapshot is never changed once published): while a run is paused or
    its trainer publishes more slowly than the page polls, every poll draws the same snapshot and rebuilds
    nothing. One entry per slot, held by a weak reference, so a memo never keeps an old snapshot alive.
    """
    memo = st.session_state.setdefault(MEMO_KEY, {})
    held = memo.get(slot)
    if held is not None and held[0]() is source:
        return held[1]
    value = build()
    memo[slot] = (weakref.ref(source), value)
    return value
