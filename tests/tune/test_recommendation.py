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


def test_equal_costs_go_to_the_shorter_timeout():
    # count 100 at 2000/s makes batches of 100 whatever the timeout: the same invocations, the same cost.
    longer, shorter = synthetic_result(100, 1.0, p99_ms=50), synthetic_result(100, 0.05, p99_ms=55)
    assert longer.cost == shorter.cost
    assert recommend([longer, shorter]) is shorter


def test_settings_making_batches_of_one_size_cost_the_same_whatever_the_handler_timing():
    # At 2000/s, count 100 with any timeout and count 1000 with 0.05 s all make batches of 100; one run
    # timed the handler a little slower than another (at 128 MB, 0.12 ms here is billed 2 ms, 0.16 ms 3 ms).
    noisy = synthetic_result(100, 0.05, p99_ms=52, handler_ms=(0.12, 0.16))
    steady = synthetic_result(100, 1.0, p99_ms=52, handler_ms=0.12)
    larger = synthetic_result(1000, 0.05, p99_ms=53, handler_ms=(0.12, 0.16))
    assert steady.cost.usd_per_million_packets < noisy.cost.usd_per_million_packets
    # The shortest timeout, then the larger count (bigger batches when traffic grows).
    assert recommend([noisy, steady, larger]) is larger
    # Fewer invocations are a saving, not noise: the cheaper one wins despite its longer timeout.
    cheaper = synthetic_result(1000, 0.2, p99_ms=205)
    assert recommend([noisy, steady, larger, cheaper]) is cheaper


def test_none_is_recommended_when_no_setting_meets_the_target():
    results = [synthetic_result(1, 0.05, p99_ms=3, target_ms=1), synthetic_result(10, 0.05, p99_ms=7, target_ms=1)]
    assert all(result.shortfalls == ("p99 over target",) for result in results)
    assert recommend(results) is None
