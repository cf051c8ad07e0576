"""The load test's class-wide figures: draws split at the queue's drain, fairness, the place in line read."""

from __future__ import annotations

from bench.load_ws import Result, draws_split, overtakes, place_in_line, summarise


def _result(i: int, pressed: float, trainer: float, finished: float, draws: list[tuple[float, float]]) -> Result:
    r = Result(i, pressed_at=pressed, trainer_at=trainer, finished_at=finished)
    r.draw_at, r.draw_s = [a for a, _ in draws], [s for _, s in draws]
    return r


def test_draws_before_the_last_job_finished_count_as_during_the_drain():
    early = _result(0, 0.0, 1.0, 5.0, [(6.0, 1.5), (7.0, 2.5)])
    late = _result(1, 0.5, 20.0, 30.0, [(31.0, 0.2), (32.0, 0.3)])
    during, after = draws_split([early, late])
    assert during == [1.5, 2.5]
    assert after == [0.2, 0.3]


def test_overtakes_count_only_lags_beyond_the_tolerance():
    first = _result(0, 0.0, 40.0, 45.0, [])  # pressed first, served last: overtaken by the second
    second = _result(1, 10.0, 12.0, 15.0, [])
    third = _result(2, 20.0, 38.0, 41.0, [])  # served 2 s before the first: within the tolerance
    count, worst = overtakes([first, second, third], tolerance=7.0)
    assert count == 1
    assert worst == 28.0


def test_place_in_line_reads_the_queue_text():
    texts = ["k=16", "Waiting for a free trainer for this run: you are number 17 in line (2 of 2 running)."]
    assert place_in_line(texts) == 17
    assert place_in_line(["Training: 1,200 samples/s"]) is None


def test_summary_reports_drain_and_fairness_figures():
    results = [_result(0, 0.0, 1.0, 5.0, [(6.0, 1.5)]), _result(1, 0.5, 20.0, 30.0, [(31.0, 0.2)])]
    summary = summarise(results, None, 40.0, 1.0)
    assert summary["queue_drained_at_s"] == 30.0
    assert summary["draw_during_drain_p95_s"] == 1.5
    assert summary["draw_after_drain_p95_s"] == 0.2
    assert summary["served_out_of_order"] == 0
