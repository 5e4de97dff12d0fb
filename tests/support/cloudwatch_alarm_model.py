"""A small model of how CloudWatch evaluates a metric alarm over time, from AWS's documentation, for the cases our
alarms meet; a case it does not model raises NotModelled rather than guess.

The rules (CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data", "How alarm state is
evaluated when data is missing"):

- Each evaluation retrieves more data points than EvaluationPeriods: the evaluation range. How many more is not
  documented (its example: 5 for 3), so callers try several.
- If the range holds at least EvaluationPeriods real data points, the most recent of them are evaluated and the
  treatment of missing data is not used.
- Otherwise missing data points are filled with the treatment's result (breaching or notBreaching), "as few times
  as possible", up to EvaluationPeriods points. With "missing", a range with no real data point is
  INSUFFICIENT_DATA, and with "ignore" the current state is kept.
- ALARM when at least DatapointsToAlarm of the evaluated points breach, else OK.
- "If data points are missing soon after you create an alarm, and the metric was being reported to CloudWatch
  before you created the alarm, CloudWatch retrieves the most recent data points from before the alarm was
  created": the range reaches back before the alarm's creation, so a metric never reported is missing there too.
- A new alarm starts in INSUFFICIENT_DATA; "Alarms invoke actions for sustained state changes only": an action runs
  when the state changes to one that has actions.
- Alarms are evaluated every minute (periods of a minute or more).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

BREACHING, NOT_BREACHING, MISSING = "X", "0", "-"
OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
EVALUATION_INTERVAL_SECONDS = 60


class NotModelled(Exception):
    """A combination the documentation leaves open and the model does not decide."""


@dataclass(frozen=True)
class AlarmRule:
    """What of a rendered AWS::CloudWatch::Alarm decides its state and its notifications."""

    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    notifying_states: frozenset[str]  # the states whose actions notify someone

    @classmethod
    def of(cls, properties: dict) -> AlarmRule:
        actions = {
            ALARM: properties.get("AlarmActions"),
            OK: properties.get("OKActions"),
            INSUFFICIENT_DATA: properties.get("InsufficientDataActions"),
        }
        return cls(
            period=properties["Period"],
            evaluation_periods=properties["EvaluationPeriods"],
            datapoints_to_alarm=properties.get("DatapointsToAlarm", properties["EvaluationPeriods"]),
            treat_missing_data=properties.get("TreatMissingData", "missing"),
            notifying_states=frozenset(state for state, targets in actions.items() if targets),
        )


def evaluate(points: list[str], rule: AlarmRule, current: str) -> str:
    """The state after one evaluation of the evaluation range `points` (oldest first)."""
    real = [point for point in points if point != MISSING]
    needed = rule.evaluation_periods
    if len(real) >= needed:
        evaluated = real[-needed:]
    elif rule.treat_missing_data == "breaching":
        evaluated = [BREACHING] * (needed - len(real)) + real
    elif rule.treat_missing_data == "notBreaching":
        evaluated = [NOT_BREACHING] * (needed - len(real)) + real
    elif not real:
        return INSUFFICIENT_DATA if rule.treat_missing_data == "missing" else current
    elif BREACHING not in real:
        evaluated = real  # real points only, none breaching: documented as OK for missing and ignore alike
    else:
        raise NotModelled(f"{points} with {rule.treat_missing_data}")
    return ALARM if evaluated.count(BREACHING) >= rule.datapoints_to_alarm else OK


@dataclass(frozen=True)
class Transition:
    at_seconds: float
    state: str


def transitions(
    rule: AlarmRule,
    report_times: Iterable[float],
    report_point: str,
    range_points: int,
    created_at: float,
    until_seconds: float,
) -> list[Transition]:
    """Every state change of an alarm created at `created_at` (in INSUFFICIENT_DATA), evaluated every minute until
    `until_seconds`, over a metric with one data point, `report_point`, in each period holding a report (visible
    from the report's time on); periods start at 0; the evaluation range is `range_points` periods long."""
    first_report_in: dict[int, float] = {}  # period -> when its first report arrived
    for report in sorted(report_times):
        first_report_in.setdefault(math.floor(report / rule.period), report)
    state, changes = INSUFFICIENT_DATA, []
    time = created_at
    while time <= until_seconds:
        current_period = math.floor(time / rule.period)
        window = range(current_period - range_points + 1, current_period + 1)
        points = [report_point if first_report_in.get(period, math.inf) <= time else MISSING for period in window]
        new = evaluate(points, rule, state)
        if new != state:
            changes.append(Transition(time, new))
        state = new
        time += EVALUATION_INTERVAL_SECONDS
    return changes
