"""The recommendation is the cheapest setting whose p99 meets the target with no loss, or none."""

from __future__ import annotations

from dataclasses import replace

from generator.tune import recommend
from generator.tune.recommend import priced_alike
from tests.support.tune import MODEL, synthetic_result


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
    # At 2000/s, count 100 with any timeout and count 1000 with 0.05 s all make batches of 100 or 101; one
    # run timed the handler a little slower than another (at 128 MB, 0.12 ms here is billed 2 ms, 0.16 ms 3 ms).
    noisy = synthetic_result(100, 0.05, p99_ms=52, handler_ms=(0.12, 0.16))
    steady = synthetic_result(100, 1.0, p99_ms=52, handler_ms=0.12)
    alike = synthetic_result(100, 0.2, p99_ms=52, handler_ms=0.16)
    assert steady.cost.usd_per_million_packets < noisy.cost.usd_per_million_packets  # measured apart: noise decides
    priced = priced_alike([noisy, steady, alike], MODEL)
    assert len({result.cost.usd_per_million_packets for result in priced}) == 1  # priced together: one cost
    chosen = recommend(priced)
    assert chosen.setting == noisy.setting  # equally cheap: the shortest timeout
    assert chosen.cost.usd_per_million_packets == min(result.cost.usd_per_million_packets for result in priced)
    # Fewer invocations are a saving, not noise: the cheaper one wins despite its longer timeout.
    cheaper = synthetic_result(1000, 0.2, p99_ms=205)
    assert recommend(priced_alike([noisy, steady, alike, cheaper], MODEL)).setting == cheaper.setting


def test_of_equally_cheap_settings_the_larger_count_wins_at_one_timeout():
    smaller, larger = synthetic_result(100, 0.05, p99_ms=52), synthetic_result(200, 0.05, p99_ms=52)
    # count 200 at 0.05 s and 2000/s: batches of 101 (the timeout cuts them), count 100: batches of 100.
    assert smaller.cost.batch_size != larger.cost.batch_size
    same_size = synthetic_result(101, 0.05, p99_ms=52)
    priced = priced_alike([larger, same_size], MODEL)
    assert recommend(priced).setting == larger.setting


def test_none_is_recommended_when_no_setting_meets_the_target():
    results = [synthetic_result(1, 0.05, p99_ms=3, target_ms=1), synthetic_result(10, 0.05, p99_ms=7, target_ms=1)]
    assert all(result.shortfalls == ("p99 over target",) for result in results)
    assert recommend(results) is None


def test_a_setting_the_config_would_refuse_is_never_recommended_however_cheap():
    allowed = synthetic_result(10, 0.2, p99_ms=7)
    refused = replace(synthetic_result(1000, 0.2, p99_ms=200), refused_by_config="max_p99_ms: too low")
    assert refused.cost.usd_per_million_packets < allowed.cost.usd_per_million_packets
    assert refused.shortfalls == ("refused by the config",)
    assert recommend([allowed, refused]) is allowed
