"""AWS-side faults: one line on stderr, exit 1, no traceback, for deploy, plan, status and destroy; an
endpoint that never answers is given up on in bounded time, saying what was waited for.

The endpoints here are real servers on 127.0.0.1 that are not CloudFormation (an empty 200, an HTML page,
a socket that never answers, a proxy that breaks one region), reached by boto3 through its real HTTP path.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from generator.deploy import AwsClients, endpoint_guard
from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import (
    APPROVED,
    FAST,
    GLOBAL,
    REGIONAL,
    REGIONS,
    SilentServer,
    deploy_cli,
    fixed_answer,
    http_server,
    local_cloud_fixtures,
    point_aws_at_endpoint,
    proxy_to,
    region_of,
    summary_rows,
)

local_cloud, cloud = local_cloud_fixtures()

COMMANDS = {
    "deploy": lambda config, out: ("deploy", "--config", config, "--out", out, *FAST, *APPROVED),
    "plan": lambda config, out: ("plan", "--config", config, "--out", out),
    "status": lambda config, out: ("status", "--config", config),
    "destroy": lambda config, out: ("destroy", "--config", config, "--out", out, "--yes", *FAST),
}
NOT_CLOUDFORMATION = {
    "empty-200": fixed_answer(200, b""),
    "html-page": fixed_answer(200, b"<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>", "text/html"),
    "broken-html": fixed_answer(200, b"<html><body>Welcome<br></body></html>", "text/html"),
    "other-xml": fixed_answer(200, b"<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>"),
    "404-text": fixed_answer(404, b"Not Found", "text/plain"),
}
# Small enough that giving up takes about a second; the command's end is the proof of the bound.
SMALL_TIMEOUTS = {"connect": 1.0, "read": 0.5, "unanswered_attempts": 2, "notice_after": 0.2}
EMPTY_DESCRIBE_STACKS = (
    b'<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
    b"<DescribeStacksResult><Stacks/></DescribeStacksResult>"
    b"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"
)
THROTTLED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>1</RequestId></ErrorResponse>"
)


def run_command(capsys, command: str, tmp_path):
    config = write_config(tmp_path)
    return run_cli_in_process(*COMMANDS[command](str(config), str(tmp_path / "out")))


@pytest.mark.parametrize("answer", NOT_CLOUDFORMATION)
@pytest.mark.parametrize("command", COMMANDS)
def test_an_endpoint_that_is_not_cloudformation_is_one_line_naming_it(command, answer, capsys, tmp_path, monkeypatch):
    with http_server(NOT_CLOUDFORMATION[answer]) as url:
        point_aws_at_endpoint(url, monkeypatch, tmp_path)
        status, out, err = run_command(capsys, command, tmp_path)

    assert status == 1, err
    assert "Traceback" not in out + err
    (line,) = failures_besides_unreached_regions(command, err)
    assert f"CloudFormation DescribeStacks in us-west-2 at {url} answered HTTP" in line


def failures_besides_unreached_regions(command: str, err: str) -> list[str]:
    """The error lines, less the regions a deploy never reached because its global stack failed (one
    SKIPPED line each, as the user sees them)."""
    lines = err.splitlines()
    failures = [line for line in lines if not line.startswith("SKIPPED ")]
    if command == "deploy":
        assert len(lines) - len(failures) == len(REGIONS)
    return failures


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "AWS_ENDPOINT_URL",
            "notaurl",
            "AWS_ENDPOINT_URL: 'notaurl' is not a URL; expected e.g. http://127.0.0.1:4566",
        ),
        (
            "AWS_PROFILE",
            "no-such-profile",
            "profile no-such-profile: not found in the AWS config or credentials file (named by AWS_PROFILE)",
        ),
        ("AWS_CONFIG_FILE", "garbage", ": cannot parse this AWS config file; expected INI sections such as [default]"),
    ],
    ids=["endpoint-not-a-url", "unknown-profile", "garbage-config-file"],
)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_broken_aws_setting_is_one_line_naming_it(command, variable, value, expected, capsys, tmp_path, monkeypatch):
    point_aws_at_endpoint("http://127.0.0.1:9", monkeypatch, tmp_path)  # never reached
    if variable == "AWS_CONFIG_FILE":
        value = str(tmp_path / "aws-config")
        (tmp_path / "aws-config").write_text("this is not\n[an ini file\n", encoding="utf-8")
    monkeypatch.setenv(variable, value)

    status, out, err = run_command(capsys, command, tmp_path)

    assert status == 1, err
    assert "Traceback" not in out + err
    (line,) = err.splitlines()
    assert expected in line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_profile_named_on_the_command_line_is_named_as_given(command, capsys, tmp_path, monkeypatch):
    point_aws_at_endpoint("http://127.0.0.1:9", monkeypatch, tmp_path)  # never reached
    (tmp_path / "aws-config").write_text("[profile dev]\nregion = us-west-2\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))

    status, _, err = run_cli_in_process(
        *COMMANDS[command](str(write_config(tmp_path)), str(tmp_path / "out")), "--profile", "nosuch"
    )

    assert status == 1, err
    assert err.splitlines() == [
        "profile nosuch: not found in the AWS config or credentials file (named by --profile, or PROFILE= with "
        "make); expected one of: dev (or leave the profile unset for the default credential chain)"
    ]


def test_a_bad_profile_while_the_config_is_read_is_one_line(tmp_path):
    # A fresh process: checking the config's region names is the first thing that reads the AWS profile.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(AWS_PROFILE="no-such-profile", AWS_CONFIG_FILE=str(tmp_path / "none"), HOME=str(tmp_path))
    completed = subprocess.run(
        [sys.executable, "-m", "generator", "status", "--config", str(write_config(tmp_path))],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.splitlines() == [
        "profile no-such-profile: not found in the AWS config or credentials file (named by AWS_PROFILE); "
        "expected a profile, but the files define none (or leave the profile unset for the default credential chain)"
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_endpoint_that_never_answers_is_given_up_on_in_one_line(command, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(endpoint_guard, "DEFAULT_TIMEOUTS", endpoint_guard.Timeouts(**SMALL_TIMEOUTS))
    with SilentServer() as silent:
        point_aws_at_endpoint(silent.url, monkeypatch, tmp_path)
        status, out, err = run_command(capsys, command, tmp_path)

    assert status == 1, err
    assert "Traceback" not in out + err
    notices = [line for line in err.splitlines() if line.startswith("waiting for ")]
    (line,) = [line for line in failures_besides_unreached_regions(command, err) if not line.startswith("waiting for ")]
    assert f"CloudFormation DescribeStacks in us-west-2 at {silent.url}" in line
    assert "got no answer after 2 attempts in " in line or ": no answer after 2 attempts in " in line
    # While it waited, it said what for.
    assert f"waiting for CloudFormation DescribeStacks in us-west-2 at {silent.url} (no answer for " in "\n".join(
        notices
    )
    if command == "status":
        assert len(silent.connections) == SMALL_TIMEOUTS["unanswered_attempts"]  # then it stopped asking


def test_throttling_is_still_retried(tmp_path, monkeypatch):
    answers = [(400, THROTTLED), (400, THROTTLED), (200, EMPTY_DESCRIBE_STACKS)]
    asked = []

    def throttle_twice(request) -> None:
        request.read_body()
        asked.append(request.path)
        request.answer(*answers[min(len(asked), len(answers)) - 1])

    with http_server(throttle_twice) as url:
        point_aws_at_endpoint(url, monkeypatch, tmp_path)
        found = AwsClients().cloudformation("us-west-2").describe_stacks()

    assert found["Stacks"] == []
    assert len(asked) == 3


def test_a_region_whose_endpoint_answers_garbage_is_a_failed_row_and_the_others_deploy(
    cloud, capsys, tmp_path, monkeypatch
):
    breaks_eu_west_1 = proxy_to(
        cloud.endpoint_url, lambda request: region_of(request) == "eu-west-1", fixed_answer(200, b"")
    )
    with http_server(breaks_eu_west_1) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        status, out, err = deploy_cli(write_config(tmp_path), tmp_path)
    assert status == 1
    assert "Traceback" not in out + err
    assert summary_rows(out) == {
        ("us-west-2", GLOBAL): "created",
        ("us-west-2", REGIONAL): "created",
        ("us-east-1", REGIONAL): "created",
        ("eu-west-1", REGIONAL): "failed",
    }
    (line,) = err.splitlines()
    assert line.startswith(f"FAILED eu-west-1 {REGIONAL}: CloudFormation DescribeStacks in eu-west-1 at {url} ")
    assert "an empty body" in line
