"""The parts of the local cloud's data plane that need no deploy: Lambda's log lines of an invocation, the
destination as a listener's properties say (numbers or their text, as CloudFormation hands them over), the
schedule expressions that run, the ARNs that name a function, and the commands typed into a running local cloud."""

from __future__ import annotations

import pytest

from generator.cli.local_cloud_commands import apply_cloud_command
from generator.config import Batching
from generator.local.cloud.deployed_source import UNBATCHED, destination_of
from generator.local.cloud.lambda_functions import parse_function_arn
from generator.local.cloud.lambda_logs import lambda_log_lines
from generator.local.cloud.schedules import rate_seconds
from generator.local.gateway.function_pool import Invocation
from generator.local.gateway.function_process import FunctionSpec
from tests.support.deploy import local_cloud_fixtures

local_cloud, cloud = local_cloud_fixtures()
SPEC = FunctionSpec("eu-west-1", "packet-counter", "", memory_mb=256, timeout_seconds=3, account="123456789012")


def test_an_invocation_logs_start_what_it_printed_end_and_report():
    ran = Invocation(
        "eu-west-1", 10, 0.0012, SPEC, "req-1", "stream", 100.0, 100.5, output="one\ntwo\n", max_memory_mb=30
    )
    assert lambda_log_lines(ran) == [
        "START RequestId: req-1 Version: $LATEST",
        "one",
        "two",
        "END RequestId: req-1",
        "REPORT RequestId: req-1\tDuration: 1.20 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 30 MB",
    ]
    cold = Invocation("eu-west-1", 1, 0.0001, SPEC, "req-2", "stream", 100.0, 100.5, init_seconds=0.0501)
    assert lambda_log_lines(cold)[-1].endswith(
        "\tBilled Duration: 1 ms\tMemory Size: 256 MB\tMax Memory Used: 0 MB\tInit Duration: 50.10 ms"
    )


def test_an_invocation_that_never_returned_logs_lambdas_own_words():
    timed_out = Invocation(
        "eu-west-1", 10, None, SPEC, "req-3", "s", 100.0, 103.0, error="eu-west-1: timed out after 3 s invoking"
    )
    lines = lambda_log_lines(timed_out)
    assert lines[1].endswith(" req-3 Task timed out after 3.00 seconds")
    assert lines[-1].startswith("REPORT RequestId: req-3\tDuration: 3000.00 ms\tBilled Duration: 3000 ms")
    crashed = Invocation("eu-west-1", 10, None, SPEC, "req-4", "s", 100.0, 100.1, error="eu-west-1: runtime exited")
    assert "[ERROR] Runtime exited: eu-west-1: runtime exited" in lambda_log_lines(crashed)[1]


@pytest.mark.parametrize(
    ("batching", "expected"),
    [
        ({"Count": 10, "TimeoutInSeconds": 1}, Batching(10, 1.0, None)),
        ({"Count": "50", "TimeoutInSeconds": "0.2", "SizeInMb": "1.5"}, Batching(50, 0.2, 1.5)),
        ({"Count": "many"}, UNBATCHED.batching),
        (None, UNBATCHED.batching),
    ],
)
def test_the_destination_is_read_as_cloudformation_hands_it_over(batching, expected):
    destination = {"Formatter": "hex"} | ({"Batching": batching} if batching is not None else {})
    found = destination_of({"Destinations": [destination]})
    assert found.batching == expected and found.formatter == "hex"
    assert destination_of({}).formatter == "base64"  # Proxylity's default


def test_only_rate_schedules_run_and_their_period_is_read():
    assert rate_seconds("rate(5 minutes)") == 300 and rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(2 hours)") == 7200 and rate_seconds("rate(1 day)") == 86400
    assert rate_seconds("cron(0 12 * * ? *)") is None and rate_seconds("rate(0 minutes)") is None


def test_a_function_arn_names_its_account_region_and_name():
    arn = "arn:aws:lambda:eu-west-1:111111111111:function:packet-counter"
    assert parse_function_arn(arn) == ("111111111111", "eu-west-1", "packet-counter")
    assert parse_function_arn(arn + ":$LATEST") == ("111111111111", "eu-west-1", "packet-counter")
    assert parse_function_arn("arn:aws:sqs:eu-west-1:111111111111:queue") is None


def test_the_ingress_is_changed_and_shown_by_a_line_typed_into_the_local_cloud(cloud):
    assert apply_cloud_command(cloud, "ingress eu-west-1\n") == "packets enter at eu-west-1"
    assert apply_cloud_command(cloud, "status") == "packets enter at eu-west-1; listeners: none"
    assert apply_cloud_command(cloud, "ingress home") == "packets enter at each listener's home region"
    assert cloud.ingress is None
    refused = apply_cloud_command(cloud, "ingress mars-1")
    assert refused.startswith("error: 'mars-1' is not a region in ") and cloud.ingress is None
    assert apply_cloud_command(cloud, "egress") == (
        "error: expected 'ingress REGION', 'ingress home' or 'status', got 'egress'"
    )
