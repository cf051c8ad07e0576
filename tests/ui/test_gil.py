"""The server's switch interval: 1 ms unless STUDIO_SWITCH_INTERVAL_MS says otherwise (and says something sane)."""

from __future__ import annotations

import sys

import pytest

from ui.server.gil import SWITCH_INTERVAL_ENV, shorten_switch_interval


@pytest.fixture(autouse=True)
def _restore_interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def test_default_is_one_millisecond():
    assert shorten_switch_interval({}) == pytest.approx(0.001)
    assert sys.getswitchinterval() == pytest.approx(0.001)


def test_the_variable_sets_it():
    assert shorten_switch_interval({SWITCH_INTERVAL_ENV: "5"}) == pytest.approx(0.005)


@pytest.mark.parametrize("raw", ["zero", "0", "-3", "1e9"])
def test_nonsense_keeps_the_default(raw):
    assert shorten_switch_interval({SWITCH_INTERVAL_ENV: raw}) == pytest.approx(0.001)
