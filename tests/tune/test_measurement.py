"""Each setting is measured with real UDP through the local gateway, and the invocations the gateway
counts are those the model predicts from the rate, count and timeout.

The rates are far from the model's boundaries, so a slow or loaded machine cannot move a packet into
another batch: a count-bound batch would need to take seconds to fill, a timeout-bound one would need
a packet delayed by most of its gap. The counts come from the gateway's own stats, never from time.
"""

from __future__ import annotations

from tests.support.tune import small_tuning


def test_count_10_far_above_count_over_timeout_makes_one_invocation_per_10_packets(tmp_path):
    # 400 packets/s; count 10 / timeout 1 s fills at 10 packets/s: 40 times faster, cut by count.
    result = small_tuning(tmp_path, counts=(1, 10), timeouts=(1.0,), rate=400, seconds=1, clients=4)
    one, ten = result.results
    for item in (one, ten):
        assert item.measurement.packets_sent == 400
        assert item.measurement.packets_unaccounted == 0
        assert item.measurement.invocations == item.predicted_invocations
    assert ten.measurement.invocations == 400 // 10
    assert ten.measurement.mean_batch_size == 10
    # What a user notices: count 1 answers every packet; count 10 answers each of the 4 clients once a
    # batch (10 packets sent round-robin from 4 sockets always hold all 4).
    assert one.measurement.replies == 400
    assert ten.measurement.replies == 40 * 4
    assert ten.cost.usd_per_million_packets < one.cost.usd_per_million_packets


def test_count_1000_at_a_low_rate_makes_one_invocation_per_timeout(tmp_path):
    # A packet every 250 ms and a 50 ms timeout: each batch closes on its timeout holding one packet.
    result = small_tuning(tmp_path, counts=(1000,), timeouts=(0.05,), rate=4, seconds=2)
    (item,) = result.results
    measured = item.measurement
    assert measured.packets_sent == 8
    assert item.predicted_invocations == 8
    assert measured.invocations == 8
    assert measured.replies == 8 and measured.packets_unaccounted == 0
    # Each reply waited for the batch timeout after its packet: a lower bound a slow machine only raises.
    assert measured.latency_ms.min_ms >= 50


def test_the_handler_run_is_measured_per_invocation(tmp_path):
    result = small_tuning(tmp_path, counts=(10,), timeouts=(1.0,), rate=400, seconds=0.25)
    (item,) = result.results
    assert len(item.measurement.handler_seconds) == item.measurement.invocations == 10
    assert all(seconds > 0 for seconds in item.measurement.handler_seconds)
    assert item.cost.billed_ms_per_invocation >= 1


def test_add_latency_delays_replies_by_the_round_trip_to_the_serving_region(tmp_path):
    # ap-northeast-1 runs no function in the default config: its packets go to the nearest configured region.
    result = small_tuning(
        tmp_path, counts=(1,), timeouts=(1.0,), rate=100, seconds=0.2, ingress="ap-northeast-1", add_latency=True
    )
    trip = result.plan.round_trip
    assert trip.added and trip.ingress == "ap-northeast-1" and trip.serving_region == "us-west-2"
    assert trip.rtt_ms > 50
    (item,) = result.results
    assert item.measurement.packets_unaccounted == 0
    assert item.measurement.latency_ms.min_ms >= trip.rtt_ms  # no reply before the round trip has passed
