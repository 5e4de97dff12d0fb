"""The cost model: invocations from rate, count and timeout; Lambda's billing of requests and duration."""

from __future__ import annotations

import json

import pytest

from generator.errors import GeneratorError
from generator.tune import CostModel, load_price_table, predicted_batch_size, predicted_invocations
from generator.tune.model import HOURS_PER_MONTH, billed_milliseconds, cpu_scale
from generator.tune.prices import DEFAULT_PRICE_TABLE


@pytest.mark.parametrize(
    ("rate", "count", "timeout", "batch"),
    [
        (2000, 10, 1, 10),  # the batch fills long before its timeout: cut by count
        (2000, 1000, 0.05, 101),  # packets at 0, 0.5, ..., 50 ms: cut by the timeout
        (500, 1000, 0.02, 11),  # packets at 0, 2, ..., 20 ms
        (100, 1000, 0.29, 30),  # 100 x 0.29 is 28.999999999999996 in floats: still 29 + 1
        (2000, 100, 0.05, 100),  # count and timeout agree: 100 packets
        (4, 1000, 0.05, 1),  # a packet every 250 ms, a 50 ms timeout: each packet alone
        (50, 1000, 0.05, 3),  # packets at 0, 20 and 40 ms make it before the 50 ms timeout
        (2000, 1, 0.05, 1),
    ],
)
def test_batch_size_is_the_smaller_of_count_and_what_arrives_before_the_timeout(rate, count, timeout, batch):
    assert predicted_batch_size(rate, count, timeout) == batch


def test_invocations_are_the_packets_over_the_batch_size_rounded_up():
    assert predicted_invocations(10_000, 2000, 10, 1) == 1000
    assert predicted_invocations(10_005, 2000, 10, 1) == 1001  # the last, partial batch is an invocation too
    assert predicted_invocations(8, 4, 1000, 0.05) == 8


def test_lambda_bills_each_run_rounded_up_to_the_next_millisecond_at_least_one():
    assert billed_milliseconds(0.000_01, 1) == 1
    assert billed_milliseconds(0.001, 1) == 1
    assert billed_milliseconds(0.001_000_1, 1) == 2  # 1.0001 ms is billed as 2 ms
    assert billed_milliseconds(0.000_3, cpu_scale(128)) == 5  # 0.3 ms on a core is 4.15 ms at 128 MB


def test_below_1769_mb_a_function_gets_a_share_of_a_vcpu():
    assert cpu_scale(128) == pytest.approx(13.82, abs=0.01)
    assert cpu_scale(1769) == 1
    assert cpu_scale(4096) == 1  # more memory brings more vCPUs, which a one-thread handler does not use


def test_the_estimate_adds_requests_and_billed_duration_per_million_packets():
    price = load_price_table().price("us-west-2", "x86_64")
    model = CostModel(price=price, memory_mb=128, rate=2000)
    # count 100 at 2000/s: 10,000 invocations per million packets, each billed 3 ms.
    estimate = model.estimate(100, 1.0, [0.003 / model.cpu_scale] * 4, packets=400, invocations=4)
    assert estimate is not None
    assert estimate.invocations_per_million_packets == 10_000
    assert estimate.billed_ms_per_invocation == 3
    assert estimate.request_usd_per_million_packets == pytest.approx(10_000 * 0.20 / 1e6)
    assert estimate.duration_usd_per_million_packets == pytest.approx(10_000 * 0.003 * 0.125 * 0.0000166667)
    assert estimate.usd_per_million_packets == pytest.approx(0.002 + 0.0000625, rel=1e-4)
    assert estimate.usd_per_month == pytest.approx(
        estimate.usd_per_million_packets * 2000 * HOURS_PER_MONTH * 3600 / 1e6
    )
    assert estimate.counted_usd_per_million_packets == pytest.approx(estimate.usd_per_million_packets)


def test_arm64_duration_costs_less_than_x86_64():
    table = load_price_table()
    assert table.price("us-west-2", "arm64").gb_second_usd < table.price("us-west-2", "x86_64").gb_second_usd


def test_the_shipped_price_table_is_dated_names_its_source_and_leaves_proxylity_out():
    table = load_price_table()
    assert table.source.startswith("https://aws.amazon.com/lambda/pricing")
    assert table.as_of
    assert "Proxylity" in table.not_included
    assert {"us-west-2", "us-east-1", "eu-west-1"} <= set(table.prices)


def test_a_region_the_table_lacks_is_one_line_naming_the_table_and_the_way_out():
    with pytest.raises(GeneratorError) as raised:
        load_price_table().price("af-south-1", "x86_64")
    (problem,) = raised.value.problems
    assert str(problem).startswith(f"{DEFAULT_PRICE_TABLE}: no Lambda x86_64 price for af-south-1")
    assert "--prices FILE" in str(problem)


def test_a_damaged_price_table_is_refused_one_line_per_bad_entry(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "source": "https://example.com",
                "as_of": "2026-01-01",
                "prices": {
                    "us-west-2": {"x86_64": {"request_usd_per_million": -1, "gb_second_usd": 0.1}},
                    "eu-west-1": {"sparc": {"request_usd_per_million": 0.2, "gb_second_usd": 0.1}},
                    # free (a log chart cannot place it) and absurd (the cost would overflow)
                    "eu-west-2": {"arm64": {"request_usd_per_million": 0, "gb_second_usd": 0.0000133334}},
                    "eu-west-3": {"arm64": {"request_usd_per_million": 0.2, "gb_second_usd": 1e308}},
                },
            }
        )
    )
    with pytest.raises(GeneratorError) as raised:
        load_price_table(path)
    assert [problem.key_path for problem in raised.value.problems] == [
        "prices.us-west-2.x86_64",
        "prices.eu-west-1.sparc",
        "prices.eu-west-2.arm64",
        "prices.eu-west-3.arm64",
    ]
    assert "(above 0, at most 1)" in str(raised.value.problems[-1])
