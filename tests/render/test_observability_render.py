"""What the observability section puts in the templates: the canary, the alarms and the delivery log group in every
regional stack, the dashboard in the global stack, and only what is asked for."""

from __future__ import annotations

import json

import pytest

from generator.config import load_config
from generator.config.regions import known_regions
from generator.errors import ConfigError
from generator.render import MAX_TEMPLATE_BODY_BYTES, render_templates
from tests.support.checkout import CANARY_HANDLER_FILE
from tests.support.config_files import maximal

EVERYTHING = {
    "canary": {"enabled": True},
    "alarms": True,
    "alarms_topic_arn": "arn:aws:sns:eu-west-1:123456789012:alerts",
    "dashboard": True,
    "delivery_log_retention_days": 30,
}


def rendered(write_config, routing="bind", regions=("us-west-2", "us-east-1", "eu-west-1"), **observability):
    def edit(data):
        data.update(routing=routing, regions=list(regions))
        data["observability"] = observability

    global_template, regional = render_templates(load_config(write_config(edit)))
    return global_template.document, regional.document


@pytest.mark.parametrize("routing", ["bind", "map"])
def test_the_canary_runs_the_handler_file_on_a_schedule_against_the_global_endpoint(write_config, routing):
    _, regional = rendered(write_config, routing, canary={"enabled": True, "every_minutes": 1, "packets": 30})
    resources = regional["Resources"]
    function = resources["CanaryFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == CANARY_HANDLER_FILE.read_text(encoding="utf-8")
    assert function["Environment"]["Variables"] == {
        "ENDPOINT": {"Ref": "Endpoint"},
        "PACKETS": "30",
        "WAIT_SECONDS": "3",  # batching timeout 1 s + twice the 500 ms p99 threshold + 1 s
        "NAMESPACE": "packet-counter/Canary",
    }
    assert function["Timeout"] == 13
    # No reservation unless asked for: on an account with Lambda's minimum quota any reservation fails the stack.
    assert "ReservedConcurrentExecutions" not in function
    assert regional["Parameters"]["Endpoint"]["Type"] == "String"
    assert ("DestinationId" in regional["Parameters"]) == (routing == "bind")
    assert resources["CanarySchedule"]["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    target = resources["CanarySchedule"]["Properties"]["Targets"][0]["Arn"]
    assert target == {"Fn::GetAtt": ["CanaryFunction", "Arn"]}
    permission = resources["CanarySchedulePermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["CanarySchedule", "Arn"]}
    assert resources["CanaryInvokeConfig"]["Properties"]["MaximumRetryAttempts"] == 0


@pytest.mark.parametrize("reserved", [1, 3])
def test_a_canary_reservation_is_made_only_when_asked_for(write_config, reserved):
    _, regional = rendered(write_config, canary={"enabled": True, "reserved_concurrency": reserved})
    assert regional["Resources"]["CanaryFunction"]["Properties"]["ReservedConcurrentExecutions"] == reserved


def test_a_canary_reservation_of_none_is_refused_in_one_line(write_config):
    with pytest.raises(ConfigError) as caught:
        rendered(write_config, canary={"enabled": True, "reserved_concurrency": 0})
    [problem] = caught.value.problems
    assert str(problem).endswith("observability.canary.reserved_concurrency: 0 is less than the minimum of 1")


def test_the_canary_role_may_only_write_its_own_log_group(write_config):
    _, regional = rendered(write_config, canary={"enabled": True})
    resources = regional["Resources"]
    [policy] = resources["CanaryRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": ["CanaryLogGroup", "Arn"]},
        }
    ]
    group = resources["CanaryLogGroup"]["Properties"]
    assert group == {"LogGroupName": "/aws/lambda/packet-counter-canary", "RetentionInDays": 14}


def test_alarms_per_region_notify_the_topic_of_the_same_name_in_their_own_region(write_config):
    _, regional = rendered(write_config, **EVERYTHING)
    alarms = {
        name: r["Properties"] for name, r in regional["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert set(alarms) == {
        "CounterErrorsAlarm",
        "CounterThrottlesAlarm",
        "CanaryLossAlarm",
        "CanaryRoundTripAlarm",
        "CanarySilentAlarm",
    }
    action = [{"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:123456789012:alerts"}]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == action
    silent = alarms["CanarySilentAlarm"]
    assert (silent["TreatMissingData"], silent["Statistic"], silent["ComparisonOperator"]) == (
        "missing",  # silence is INSUFFICIENT_DATA after OK: tests/render/test_silence_alarm.py
        "SampleCount",
        "LessThanThreshold",
    )
    assert alarms["CanaryLossAlarm"]["Threshold"] == 5 and alarms["CanaryRoundTripAlarm"]["Threshold"] == 500
    assert alarms["CanaryLossAlarm"]["Dimensions"] == [{"Name": "Region", "Value": {"Ref": "AWS::Region"}}]
    assert alarms["CounterErrorsAlarm"]["Dimensions"] == [{"Name": "FunctionName", "Value": "packet-counter"}]


def test_without_the_canary_alarms_watch_the_counter_only_and_without_a_topic_notify_no_one(write_config):
    _, regional = rendered(write_config, alarms=True)
    alarms = {name: r for name, r in regional["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == {"CounterErrorsAlarm", "CounterThrottlesAlarm"}
    assert all("AlarmActions" not in alarm["Properties"] for alarm in alarms.values())
    assert "Endpoint" not in regional["Parameters"]


@pytest.mark.parametrize("routing", ["bind", "map"])
def test_delivery_errors_are_kept_in_every_region_that_delivers_and_the_role_may_write_them_there_only(
    write_config, routing
):
    global_template, regional = rendered(write_config, routing, delivery_log_retention_days=30)
    group = "/proxylity/udp-listeners/packet-counter"
    # Proxylity writes a destination's delivery errors in the region that delivered: a log group of that name in
    # the regional stack (so in every region), none in the global stack.
    assert regional["Resources"]["DeliveryLogGroup"]["Type"] == "AWS::Logs::LogGroup"
    assert regional["Resources"]["DeliveryLogGroup"]["Properties"] == {"LogGroupName": group, "RetentionInDays": 30}
    assert [r["Type"] for r in global_template["Resources"].values()].count("AWS::Logs::LogGroup") == 0
    resources = global_template["Resources"]
    destination = resources["UdpListener"]["Properties"]["Destinations"][0]
    assert destination["LogGroupName"] == group
    policies = {
        p["PolicyName"]: p["PolicyDocument"]["Statement"]
        for p in resources["DestinationRole"]["Properties"]["Policies"]
    }
    # Any region, but only this account's, this partition's and this group's streams.
    assert policies["write-delivery-logs"] == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": f"arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:{group}:*"},
        }
    ]
    assert global_template["Outputs"]["DeliveryLogGroup"]["Value"] == group


def test_without_the_delivery_log_no_stack_has_its_group_and_the_role_no_logs_permission(write_config):
    global_template, regional = rendered(write_config, canary={"enabled": True})
    assert "DeliveryLogGroup" not in regional["Resources"] and "DeliveryLogGroup" not in global_template["Outputs"]
    destination = global_template["Resources"]["UdpListener"]["Properties"]["Destinations"][0]
    assert "LogGroupName" not in destination
    policies = global_template["Resources"]["DestinationRole"]["Properties"]["Policies"]
    assert "write-delivery-logs" not in {p["PolicyName"] for p in policies}


def test_the_dashboard_shows_every_region_and_no_invented_proxylity_metric(write_config):
    regions = ("us-west-2", "us-east-1", "eu-west-1")
    global_template, _ = rendered(write_config, regions=regions, **EVERYTHING)
    dashboard = global_template["Resources"]["Dashboard"]["Properties"]
    body = json.loads(dashboard["DashboardBody"])
    titles = [w["properties"].get("title") for w in body["widgets"] if w["type"] == "metric"]
    assert titles[:5] == [
        "Counter invocations",
        "Counter errors and throttles",
        "Counter duration p99 (ms)",
        "Canary loss (%)",
        "Canary round trip (ms)",
    ]
    assert titles[5:] == [f"Canary in {region}: answered by" for region in regions]
    for widget in body["widgets"][1:6]:
        lines = widget["properties"]["metrics"]
        assert {line[-1]["region"] for line in lines} == set(regions)
    namespaces = {line[0] for w in body["widgets"][1:6] for line in w["properties"]["metrics"]} - {"."}
    assert namespaces == {"AWS/Lambda", "packet-counter/Canary"}
    assert "not public" in body["widgets"][0]["properties"]["markdown"]
    assert global_template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"].endswith("#dashboards:name=${Dashboard}")


def test_everything_on_for_every_region_with_every_other_setting_stays_within_cloudformations_limit(write_config):
    def edit(data):
        maximal(data)
        data["regions"] = list(known_regions())
        data["observability"] = EVERYTHING

    templates = render_templates(load_config(write_config(edit)))
    assert all(template.size <= MAX_TEMPLATE_BODY_BYTES for template in templates), [t.size for t in templates]
