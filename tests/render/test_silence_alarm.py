"""The canary's silence alarm, as rendered, run through a model of CloudWatch's documented evaluation
(tests/support/cloudwatch_alarm_model.py): it notifies no one between a deploy and the canary's first report (an
EventBridge rate schedule first fires one period after it is created), and it does notify once a canary that has
reported goes silent; for every every_minutes the schema allows, alarm creation before or with the schedule,
any run time up to the canary's timeout and late metrics, and whatever evaluation range CloudWatch reads.
"""

from __future__ import annotations

import itertools
import operator

import pytest

from generator.config import load_config
from generator.config.schema import load_schema
from generator.render import render_templates
from tests.support.cloudwatch_alarm_model import (
    ALARM,
    BREACHING,
    INSUFFICIENT_DATA,
    NOT_BREACHING,
    OK,
    AlarmRule,
    NotModelled,
    evaluate,
    transitions,
)
from tests.support.config_files import write_config

TOPIC = "arn:aws:sns:us-west-2:123456789012:alerts"
EVERY_MINUTES = load_schema()["properties"]["observability"]["properties"]["canary"]["properties"]["every_minutes"]
ALL_EVERY_MINUTES = range(EVERY_MINUTES["minimum"], EVERY_MINUTES["maximum"] + 1)
# How many more data points than EvaluationPeriods CloudWatch reads: not documented (its example reads 5 for 3).
EXTRA_RANGE_POINTS = (1, 2, 3, 4)
# EMF metrics appear after the run's log line is ingested: up to this much later (an allowance, not a figure).
LATE_METRICS_SECONDS = (0, 120)
COMPARE = {"LessThanThreshold": operator.lt, "GreaterThanThreshold": operator.gt}


def rendered_silence_alarm(tmp_path, every_minutes: int) -> tuple[dict, int]:
    """The rendered canary-silent alarm's properties and the canary function's timeout, in seconds."""

    def edit(data):
        data["observability"] = {
            "canary": {"enabled": True, "every_minutes": every_minutes},
            "alarms": True,
            "alarms_topic_arn": TOPIC,
        }

    path = write_config(tmp_path, edit, name=f"every-{every_minutes}.yaml")
    resources = render_templates(load_config(path))[1].document["Resources"]
    return resources["CanarySilentAlarm"]["Properties"], resources["CanaryFunction"]["Properties"]["Timeout"]


def run_point(alarm: dict) -> str:
    """The data point of a period holding one canary run: the alarm watches the SampleCount of LossPercent, and
    a run logs one LossPercent."""
    assert (alarm["MetricName"], alarm["Statistic"]) == ("LossPercent", "SampleCount")
    return BREACHING if COMPARE[alarm["ComparisonOperator"]](1, alarm["Threshold"]) else NOT_BREACHING


# -- the model against the tables of AWS's documentation ------------------------------------------------------

DOCUMENTED = [
    # (datapoints to alarm, evaluation periods, range oldest first, {treatment: state}), "-" a missing data point,
    # "retain" the state kept. A treatment left out of a row is one the model does not decide.
    (3, 3, "0-X-X", {"missing": OK, "ignore": OK, "breaching": OK, "notBreaching": OK}),
    (3, 3, "0----", {"missing": OK, "ignore": OK, "breaching": OK, "notBreaching": OK}),
    (3, 3, "-----", {"missing": INSUFFICIENT_DATA, "ignore": "retain", "breaching": ALARM, "notBreaching": OK}),
    (3, 3, "0XX-X", {"missing": ALARM, "ignore": ALARM, "breaching": ALARM, "notBreaching": ALARM}),
    (3, 3, "----X", {"breaching": ALARM, "notBreaching": OK}),
    (3, 3, "X----", {"breaching": ALARM, "notBreaching": OK}),
    (2, 3, "0-X-X", {"missing": ALARM, "ignore": ALARM, "breaching": ALARM, "notBreaching": ALARM}),
    (2, 3, "00X0X", {"missing": ALARM, "ignore": ALARM, "breaching": ALARM, "notBreaching": ALARM}),
    (2, 3, "0-X--", {"breaching": ALARM, "notBreaching": OK}),
    (2, 3, "----0", {"missing": OK, "ignore": OK, "breaching": ALARM, "notBreaching": OK}),
    (2, 3, "----X", {"breaching": ALARM, "notBreaching": OK}),
]


@pytest.mark.parametrize(("datapoints", "periods", "points", "expected"), DOCUMENTED)
def test_the_model_gives_the_states_of_the_documented_examples(datapoints, periods, points, expected):
    for treatment, state in expected.items():
        rule = AlarmRule(300, periods, datapoints, treatment, frozenset())
        for current in (OK, ALARM, INSUFFICIENT_DATA):
            wanted = current if state == "retain" else state
            assert evaluate(list(points), rule, current) == wanted, (points, treatment, current)


def test_the_model_refuses_to_guess_what_the_documentation_leaves_open():
    with pytest.raises(NotModelled):
        evaluate(list("----X"), AlarmRule(300, 3, 3, "missing", frozenset()), OK)


# -- the rendered silence alarm ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def silence_alarms(tmp_path_factory):
    folder = tmp_path_factory.mktemp("silence")
    return {minutes: rendered_silence_alarm(folder, minutes) for minutes in ALL_EVERY_MINUTES}


def test_the_silence_alarm_notifies_no_one_between_a_deploy_and_the_canarys_first_report(silence_alarms):
    for minutes, (alarm, timeout) in silence_alarms.items():
        rule, period = AlarmRule.of(alarm), minutes * 60
        for schedule_created, alarm_earlier, late, extra in itertools.product(
            (0, 17, period // 2 + 1, period - 1), (0, 120), LATE_METRICS_SECONDS, EXTRA_RANGE_POINTS
        ):
            # The rule's first run starts one period after it is created and reports within its timeout.
            first_report = schedule_created + period + timeout + late
            changes = transitions(
                rule,
                [first_report],
                run_point(alarm),
                rule.evaluation_periods + extra,
                created_at=schedule_created - alarm_earlier,
                until_seconds=first_report - 1,
            )
            assert changes == [], (minutes, schedule_created, alarm_earlier, late, extra, changes)


def test_the_silence_alarm_notifies_when_a_canary_that_reported_goes_silent(silence_alarms):
    for minutes, (alarm, timeout) in silence_alarms.items():
        rule, period = AlarmRule.of(alarm), minutes * 60
        for late, extra in itertools.product(LATE_METRICS_SECONDS, EXTRA_RANGE_POINTS):
            range_points = rule.evaluation_periods + extra
            reports = [run * period + timeout + late for run in range(1, 6)]  # five runs, then nothing
            changes = transitions(
                rule,
                reports,
                run_point(alarm),
                range_points,
                created_at=0,
                until_seconds=reports[-1] + (range_points + 2) * period,
            )
            assert changes[0].state == OK and changes[0].at_seconds >= reports[0], (minutes, changes)
            silent = [change for change in changes[1:] if change.state in rule.notifying_states]
            assert silent, (minutes, late, extra, changes)
            # Within the evaluation range (and a minute) of the last report, and never before it.
            assert reports[-1] < silent[0].at_seconds <= reports[-1] + range_points * period + 60


def test_silence_is_what_notifies_the_topic_and_the_alarm_says_so(silence_alarms):
    alarm, _ = silence_alarms[5]
    rule = AlarmRule.of(alarm)
    assert rule.treat_missing_data == "missing"
    assert INSUFFICIENT_DATA in rule.notifying_states and alarm["InsufficientDataActions"] == alarm["OKActions"]
    assert "INSUFFICIENT_DATA after OK" in alarm["AlarmDescription"]


def test_the_other_alarms_leave_insufficient_data_to_the_silence_alarm(tmp_path):
    def edit(data):
        data["observability"] = {"canary": {"enabled": True}, "alarms": True, "alarms_topic_arn": TOPIC}

    resources = render_templates(load_config(write_config(tmp_path, edit)))[1].document["Resources"]
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert [name for name, alarm in alarms.items() if "InsufficientDataActions" in alarm] == ["CanarySilentAlarm"]
