"""The recommendation is the cheapest setting whose p99 meets the target with no loss, or none."""

from __future__ import annotations

from generator.tune import recommend
from tests.support.tune import synthetic_result


def test_the_cheapest_setting_meeting_the_target_is_recommended():
    results = [
        synthetic_result(1, 0.05, p99_ms=3),
        synthetic_result(10, 0.05, p99_ms=7),
        synthetic_result(100, 0.05, p99_ms=52),
        synthetic_result(1000, 0.2, p99_ms=206),
        synthetic_result(1000, 1.0, p99_ms=511),  # the cheapest of all, but over the 250 ms target
    ]
    chosen = recommend(results)
    assert chosen is results[3]
    meeting = [result for result in results if result.meets_target]
    assert chosen.cost.usd_per_million_packets == min(result.cost.usd_per_million_packets for result in meeting)


def test_a_setting_that_lost_packets_is_never_recommended_however_cheap():
    results = [synthetic_result(10, 0.2, p99_ms=7), synthetic_result(1000, 0.2, p99_ms=200, lost=1)]
    assert results[1].shortfalls == ("loss",)
    assert recommend(results) is results[0]


def test_equal_costs_go_to_the_lower_p99():
    # count 100 at 2000/s makes batches of 100 whatever the timeout: the same invocations, the same cost.
    slower, faster = synthetic_result(100, 1.0, p99_ms=60), synthetic_result(100, 0.05, p99_ms=50)
    assert slower.cost == faster.cost
    assert recommend([slower, faster]) is faster


def test_none_is_recommended_when_no_setting_meets_the_target():
    results = [synthetic_result(1, 0.05, p99_ms=3, target_ms=1), synthetic_result(10, 0.05, p99_ms=7, target_ms=1)]
    assert all(result.shortfalls == ("p99 over target",) for result in results)
    assert recommend(results) is None
