"""`logs` against the local cloud: the functions' log lines of several regions merged in time order, each with
its region and source, narrowed by REGIONS and FILTER, and followed until Ctrl-C."""

from __future__ import annotations

import json
import os
import time

import boto3
import pytest

from generator.observe.logs import LogClients, LogSource, parse_since, read_logs
from tests.support.cli import run_cli, run_cli_in_process
from tests.support.deploy import local_cloud_fixtures, run_cli_pressing_ctrl_c

local_cloud, cloud = local_cloud_fixtures()
COUNTER, CANARY = "/aws/lambda/packet-counter", "/aws/lambda/packet-counter-canary"
T0 = (int(time.time()) - 600) * 1000  # ten minutes ago, on a whole second


def put(region: str, group: str, *events: tuple[int, str]) -> None:
    """Log events (ms after T0, message) in `group` of `region`, the group and a stream made when missing."""
    logs = boto3.client("logs", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="2026/11/27/[$LATEST]abc")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/27/[$LATEST]abc",
        logEvents=[{"timestamp": T0 + offset, "message": message} for offset, message in events],
    )


@pytest.fixture
def config_path(write_config):
    def edit(data):
        data["regions"] = ["us-west-2", "us-east-1", "eu-west-1"]
        data["observability"]["canary"]["enabled"] = True

    return write_config(edit)


@pytest.fixture
def two_regions_logged(cloud):
    put("us-west-2", COUNTER, (1000, "START RequestId: a"), (3000, "[ERROR] boom\nTraceback line two\n"))
    put("eu-west-1", COUNTER, (2000, "START RequestId: b"), (4000, "END RequestId: b"))
    put("us-west-2", CANARY, (2500, '{"Region":"us-west-2","LossPercent":0}'))


def when(offset_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((T0 + offset_ms) // 1000)) + f".{offset_ms % 1000:03d}Z"


def since_t0() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 // 1000))


def test_lines_of_two_regions_come_merged_in_time_order_each_with_its_region_and_source(
    two_regions_logged, config_path
):
    status, out, err = run_cli_in_process("logs", "--config", config_path, "--since", since_t0())

    assert status == 0, err
    assert out.splitlines() == [
        f"{when(1000)} us-west-2 counter  START RequestId: a",
        f"{when(2000)} eu-west-1 counter  START RequestId: b",
        f'{when(2500)} us-west-2 canary   {{"Region":"us-west-2","LossPercent":0}}',
        f"{when(3000)} us-west-2 counter  [ERROR] boom",
        f"{when(3000)} us-west-2 counter  Traceback line two",
        f"{when(4000)} eu-west-1 counter  END RequestId: b",
    ]
    # Regions not deployed (or not yet logging) are named, once each, and do not fail the run.
    assert sorted(err.splitlines()) == [
        f"logs: eu-west-1 canary: no log group {CANARY} yet (not deployed here, or nothing logged)",
        f"logs: us-east-1 canary: no log group {CANARY} yet (not deployed here, or nothing logged)",
        f"logs: us-east-1 counter: no log group {COUNTER} yet (not deployed here, or nothing logged)",
    ]


def test_regions_and_a_filter_pattern_narrow_what_is_read(two_regions_logged, config_path):
    status, out, _ = run_cli_in_process(
        "logs", "--config", config_path, "--since", since_t0(), "--regions", "eu-west-1"
    )
    assert status == 0
    assert [line.split()[1] for line in out.splitlines()] == ["eu-west-1", "eu-west-1"]

    status, out, _ = run_cli_in_process("logs", "--config", config_path, "--since", since_t0(), "--filter", "ERROR")
    assert status == 0
    assert out.splitlines() == [
        f"{when(3000)} us-west-2 counter  [ERROR] boom",
        f"{when(3000)} us-west-2 counter  Traceback line two",
    ]


def test_since_leaves_out_what_came_before(two_regions_logged, config_path):
    three_seconds_in = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 // 1000 + 3))
    status, out, _ = run_cli_in_process("logs", "--config", config_path, "--since", three_seconds_in)
    assert status == 0
    messages = [line.split(None, 3)[3] for line in out.splitlines()]
    assert messages == ["[ERROR] boom", "Traceback line two", "END RequestId: b"]


def test_follow_shows_new_lines_of_any_region_once_until_ctrl_c(two_regions_logged, config_path, monkeypatch):
    def new_lines_logged_and_shown(out) -> bool:
        if not out.wait_until(lambda text: "END RequestId: b" in text):
            return False
        put("us-east-1", COUNTER, (5000, "START RequestId: c"))
        put("eu-west-1", COUNTER, (6000, "END RequestId: c-eu"))
        return out.wait_until(lambda text: "END RequestId: c-eu" in text and "START RequestId: c" in text)

    argv = ("logs", "--config", str(config_path), "--since", since_t0(), "--follow", "--poll", "0.05")
    status, out, err = run_cli_pressing_ctrl_c(monkeypatch, *argv, when=new_lines_logged_and_shown)

    assert status == 130
    lines = out.getvalue().splitlines()
    assert lines[-2:] == [
        f"{when(5000)} us-east-1 counter  START RequestId: c",
        f"{when(6000)} eu-west-1 counter  END RequestId: c-eu",
    ]
    assert len(lines) == len(set(lines)) == 8  # each line once, though every poll reads back LATE_SECONDS
    # The note about us-east-1's missing group is said once, however many polls missed it.
    assert err.getvalue().count("us-east-1 counter: no log group") == 1


DELIVERY = "/proxylity/udp-listeners/packet-counter"


@pytest.fixture
def delivery_config_path(write_config):
    def edit(data):
        data["regions"] = ["us-west-2", "us-east-1", "eu-west-1"]
        data["observability"]["delivery_log_retention_days"] = 14

    return write_config(edit)


def test_delivery_errors_are_read_in_every_selected_region_where_proxylity_wrote_them(cloud, delivery_config_path):
    # Proxylity writes a batch's delivery error in the region that delivered it: here eu-west-1 and us-east-1,
    # neither of them the home region (us-west-2).
    put("eu-west-1", DELIVERY, (1000, "delivery failed: eu batch"))
    put("us-east-1", DELIVERY, (2000, "delivery failed: us-east batch"))
    put("us-west-2", COUNTER, (3000, "START RequestId: a"))

    status, out, err = run_cli_in_process("logs", "--config", delivery_config_path, "--since", since_t0())

    assert status == 0, err
    assert out.splitlines() == [
        f"{when(1000)} eu-west-1 delivery delivery failed: eu batch",
        f"{when(2000)} us-east-1 delivery delivery failed: us-east batch",
        f"{when(3000)} us-west-2 counter  START RequestId: a",
    ]
    assert f"logs: us-west-2 delivery: no log group {DELIVERY} yet" in err

    # REGIONS narrows the delivery errors as it narrows the functions' logs: still read, in that region.
    status, out, _ = run_cli_in_process(
        "logs", "--config", delivery_config_path, "--since", since_t0(), "--regions", "eu-west-1"
    )
    assert status == 0
    assert out.splitlines() == [f"{when(1000)} eu-west-1 delivery delivery failed: eu batch"]


def test_no_readable_group_anywhere_is_a_failed_run(cloud, config_path):
    status, out, err = run_cli_in_process("logs", "--config", config_path)
    assert status == 1 and out == ""
    assert err.splitlines()[-1] == "logs: no log group could be read"

    status, out, err = run_cli_in_process("logs", "--config", config_path, "--json")
    document = json.loads(out)
    assert status == 1 and document["ok"] is False and document["lines"] == []
    assert len(document["notes"]) == 6  # each region's counter and canary group, named


def test_a_run_without_follow_is_bounded_and_says_when_it_cut(cloud):
    put("us-west-2", COUNTER, *((offset, f"line {offset}") for offset in range(0, 50)))
    put("eu-west-1", COUNTER, *((offset, f"eu {offset}") for offset in range(0, 50)))
    sources = [LogSource("us-west-2", "counter", COUNTER), LogSource("eu-west-1", "counter", COUNTER)]
    shown, notes = [], []
    readable = read_logs(LogClients(["us-west-2", "eu-west-1"]), sources, T0, shown.extend, notes.append, limit=30)
    assert readable == 2
    assert len(shown) == 30 and [line.timestamp_ms for line in shown] == sorted(line.timestamp_ms for line in shown)
    assert [note.text for note in notes] == [
        "more than 30 events since then: showing the first 30; narrow with SINCE= or FILTER="
    ]


@pytest.mark.parametrize(("text", "seconds_ago"), [("10m", 600), ("2h", 7200), ("90s", 90), ("1d", 86400)])
def test_since_reads_durations(text, seconds_ago):
    assert parse_since(text, now=1_000_000.0) == (1_000_000 - seconds_ago) * 1000


def test_since_refuses_what_it_cannot_read_in_one_line(config_path):
    status, _, err = run_cli_in_process("logs", "--config", config_path, "--since", "yesterday")
    assert status == 2
    assert err.splitlines()[-1].endswith(
        "argument --since: expected a duration such as 10m, 2h, 90s or 1d (at most 3,653d), or a time such as "
        "2026-11-27T10:00:00Z (from 1970 on); got 'yesterday'"
    )


@pytest.mark.parametrize(
    "text",
    [
        "1e300d",  # not a whole number of days
        "3654d",  # longer than CloudWatch Logs keeps anything
        "87697h",
        "9" * 30 + "s",
        "9" * 5000 + "d",  # more digits than int() reads
        "1969-12-31T23:59:59Z",  # before the epoch
        "0001-01-01",
        "1900-01-01T00:00:00+05:00",
    ],
)
def test_since_refuses_a_time_out_of_range_before_asking_aws(text):
    with pytest.raises(ValueError) as raised:
        parse_since(text, now=2_000_000_000.0)
    message = str(raised.value)
    assert "\n" not in message and len(message) < 400
    assert "at most 3,653d" in message and "from 1970 on" in message


def test_since_takes_the_longest_duration_and_the_epoch():
    assert parse_since("3653d", now=2_000_000_000.0) == (2_000_000_000 - 3653 * 86400) * 1000
    assert parse_since("1970-01-01T00:00:00Z") == 0


@pytest.mark.parametrize("since", ["1e300d", "3654d", "1969-12-31", "99999999999999999999999999m"])
def test_logs_refuses_a_since_out_of_range_in_one_line(config_path, since):
    status, out, err = run_cli("logs", "--config", config_path, "--since", since)
    assert status == 2 and out == ""
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("python -m generator logs: error: argument --since: expected a duration")


def test_no_lines_since_then_says_so_naming_the_regions_and_the_time_and_exits_0(two_regions_logged, config_path):
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 // 1000 + 60))  # after every line logged

    status, out, err = run_cli_in_process("logs", "--config", config_path, "--since", since)

    assert (status, out) == (0, "")
    assert err.splitlines()[-1] == f"logs: no log lines in us-west-2, us-east-1, eu-west-1 since {since[:-1]}.000Z"

    status, out, err = run_cli_in_process("logs", "--config", config_path, "--since", since_t0(), "--filter", "nope")
    assert status == 0 and out == ""
    assert err.splitlines()[-1].startswith("logs: no log lines matching 'nope' in us-west-2, us-east-1, eu-west-1")


def test_json_is_one_document_of_the_merged_lines_with_the_notes_beside_them(two_regions_logged, config_path):
    status, out, err = run_cli_in_process("logs", "--config", config_path, "--since", since_t0(), "--json")

    assert status == 0, err
    document = json.loads(out)
    assert [(line["region"], line["source"], line["message"]) for line in document["lines"]] == [
        ("us-west-2", "counter", "START RequestId: a"),
        ("eu-west-1", "counter", "START RequestId: b"),
        ("us-west-2", "canary", '{"Region":"us-west-2","LossPercent":0}'),
        ("us-west-2", "counter", "[ERROR] boom\nTraceback line two\n"),
        ("eu-west-1", "counter", "END RequestId: b"),
    ]
    assert document["lines"][0]["time"] == when(1000)
    assert document["regions"] == ["us-west-2", "us-east-1", "eu-west-1"] and document["since"] == when(0)
    assert {(note["region"], note["source"]) for note in document["notes"]} == {
        ("eu-west-1", "canary"),
        ("us-east-1", "canary"),
        ("us-east-1", "counter"),
    }
    assert err.count("no log group") == 3  # the notes on stderr too, for the person watching


def test_follow_with_json_prints_one_json_document_a_line(two_regions_logged, config_path, monkeypatch):
    def new_line_shown(out) -> bool:
        if not out.wait_until(lambda text: "END RequestId: b" in text):
            return False
        put("us-east-1", COUNTER, (5000, "START RequestId: c"))
        return out.wait_until(lambda text: "START RequestId: c" in text)

    argv = ("logs", "--config", str(config_path), "--since", since_t0(), "--follow", "--poll", "0.05", "--json")
    status, out, _ = run_cli_pressing_ctrl_c(monkeypatch, *argv, when=new_line_shown)

    assert status == 130
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 6
    assert lines[-1] == {
        "time": when(5000),
        "region": "us-east-1",
        "source": "counter",
        "message": "START RequestId: c",
    }
