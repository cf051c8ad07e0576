"""The protocol-level load test runs: two participants against a real server train, draw and open the latent page."""

from __future__ import annotations

import os

import pytest

from bench.load_ws import build_parser, run_all
from model.data import ENV_VAR
from tests.conftest import run_async
from tests.e2e.conftest import start_server, stop_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.mnist,
    pytest.mark.skipif(
        not os.environ.get(ENV_VAR),
        reason=f"needs the real MNIST: set {ENV_VAR} to a folder with its four IDX files (CI uses ../shared/data/mnist)",
    ),
    pytest.mark.timeout(120),
]


def test_two_participants_train_draw_and_finish_without_errors(tmp_path):
    proc, url = start_server({}, tmp_path)
    try:
        args = build_parser().parse_args(
            ["--participants", "2", "--digits", "1", "--epochs", "10", "--think", "0.2", "--step-timeout", "45"]
            + ["--timeout", "90"]
        )
        results = run_async(run_all(url, args))
    finally:
        stop_server(proc)
    assert [r.error for r in results] == ["", ""]
    assert not any(r.disconnected for r in results)
    assert all(r.ok and r.step == "done" for r in results)
    assert all(r.finish_s is not None for r in results), "both models must land as the active model"
    assert all(len(r.draw_s) == 1 and 0 < r.draw_s[0] < 45 for r in results), [r.draw_s for r in results]
    # Ten epochs (about 2-4 s with the C kernels): one epoch can end inside the Start click's own run, before any poll.
    assert all(r.auto_reruns > 0 for r in results), "the Train page's fragment must have polled"
