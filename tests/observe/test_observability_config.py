"""The observability section: off unless asked for, and refused with one clear line where it cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.config import load_config
from generator.render import render_templates
from tests.support.config_files import config_problems as problems_of


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("regions: [us-west-2, eu-west-1]\n" + text, encoding="utf-8")
    return path


def test_left_out_or_written_with_its_defaults_the_templates_are_as_without_it(tmp_path):
    bare = load_config(written(tmp_path, ""))
    spelled = load_config(
        written(
            tmp_path,
            "observability:\n"
            "  canary: {enabled: false, every_minutes: 5, packets: 20, max_loss_percent: 5, max_p99_ms: 500}\n"
            "  alarms: false\n  alarms_topic_arn: null\n  dashboard: false\n  delivery_log_retention_days: null\n",
        )
    )
    assert bare.observability == spelled.observability
    assert not bare.observability.canary.enabled and bare.observability.delivery_log_retention_days is None
    assert [t.to_json() for t in render_templates(bare)] == [t.to_json() for t in render_templates(spelled)]
    regional = render_templates(bare)[1].document
    assert set(regional["Resources"]) == {
        "FunctionLogGroup",
        "FunctionRole",
        "PacketCounterFunction",
        "DestinationArnBinding",
    }
    assert set(regional["Parameters"]) == {"DestinationId"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "observability: {canary: {every_minutes: 0, packets: 1001}}\n",
            [
                "cfg.yaml:2: observability.canary.every_minutes: 0 is less than the minimum of 1",
                "cfg.yaml:2: observability.canary.packets: 1001 is greater than the maximum of 1000",
            ],
        ),
        (
            "observability: {alarms: true, alarms_topic_arn: 'arn:aws:sqs:us-west-2:123456789012:q'}\n",
            [
                "cfg.yaml:2: observability.alarms_topic_arn: service 'sqs' is not sns; expected "
                "arn:PARTITION:sns:REGION:ACCOUNT:TOPIC, e.g. arn:aws:sns:us-west-2:123456789012:alerts"
            ],
        ),
        (
            "observability: {delivery_log_retention_days: 10}\n",
            [
                "cfg.yaml:2: observability.delivery_log_retention_days: expected one of null, 1, 3, 5, 7, 14, 30, 60,"
                " 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653; got 10"
            ],
        ),
        (
            "observability:\n  alarms_topic_arn: arn:aws:sns:us-west-2:123456789012:alerts\n",
            [
                "cfg.yaml:3: observability.alarms_topic_arn: is set, but observability.alarms is false, so no alarm "
                "would notify it; set alarms: true, or remove it"
            ],
        ),
        (
            "listener:\n  protocols: [wg]\n  wireguard: {peers: [{public_key: "
            "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=, allowed_ips: [10.10.10.2/32]}]}\n"
            "observability:\n  canary: {enabled: true}\n",
            [
                "cfg.yaml:6: observability.canary.enabled: the canary sends plain UDP, but listener.protocols does not"
                " list udp; add udp, or disable the canary"
            ],
        ),
    ],
)
def test_values_that_cannot_work_are_one_line_each(tmp_path, text, expected):
    assert problems_of(written(tmp_path, text)) == expected


def test_a_round_trip_alarm_that_a_quiet_service_would_always_fire_is_refused(tmp_path):
    # 25 probes in batches of 10: the last 5 wait for the 1 s timeout on a quiet service, past a 500 ms p99.
    refused = "observability:\n  canary: {enabled: true, packets: 25}\n  alarms: true\n"
    assert problems_of(written(tmp_path, refused)) == [
        "cfg.yaml:3: observability.canary.max_p99_ms: 500 ms is not above destination.batching.timeout_in_seconds "
        "(1000 ms), and 25 canary packets leave a batch of 5 (count is 10) waiting for that timeout whenever no "
        "other traffic fills it: the round-trip alarm would fire on a quiet service; send a multiple of count "
        "(e.g. packets: 20) or raise max_p99_ms above 1000"
    ]
    # Each of these is fine: full batches, a threshold above the wait, or no alarm to fire.
    for fine in (
        "observability:\n  canary: {enabled: true, packets: 30}\n  alarms: true\n",
        "observability:\n  canary: {enabled: true, packets: 25, max_p99_ms: 1500}\n  alarms: true\n",
        "observability:\n  canary: {enabled: true, packets: 25}\n",
    ):
        assert load_config(written(tmp_path, fine)).observability.canary.enabled


def test_a_retention_written_as_a_float_renders_as_an_integer(tmp_path):
    config = load_config(written(tmp_path, "observability: {delivery_log_retention_days: 14.0}\n"))
    assert config.observability.delivery_log_retention_days == 14
    group = render_templates(config)[1].document["Resources"]["DeliveryLogGroup"]  # the regional template
    assert group["Properties"]["RetentionInDays"] == 14 and isinstance(group["Properties"]["RetentionInDays"], int)
