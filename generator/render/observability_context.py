"""Config.observability -> the `obs` part of the Jinja context: the canary, the alarms, the dashboard and the
delivery-error log groups, every value decided here (the observability_*.json.j2 partials hold structure only).

Everything is off by default: with the section left out, `obs` renders nothing and the templates are as before.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from generator.config import Config
from generator.render.inline_code import read_handler_code
from generator.resources import canary_handler_file

# The regional stacks take the global Endpoint output (domain:port) as this parameter when the canary is on.
ENDPOINT_PARAMETER = "Endpoint"
# Lambda periods of the dashboard and of the counter's alarms, in seconds.
LAMBDA_PERIOD = 300
# A reply the canary has not got this long after its batch could have left (batching timeout + twice the p99
# threshold) counts as lost; the canary function gets this much more time for sending and starting.
CANARY_MARGIN_SECONDS = 1.0
CANARY_STARTUP_SECONDS = 10
_TOPIC_ARN = re.compile(r"arn:(?P<partition>[^:]+):sns:(?P<region>[^:]+):(?P<account>\d{12}):(?P<name>.+)")


@dataclass(frozen=True)
class Alarm:
    """One CloudWatch alarm of every regional stack (the template's observability_alarms partial renders it)."""

    logical_id: str
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: list[dict[str, Any]]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints: int
    threshold: float
    comparison: str
    missing_data: str
    # Whether INSUFFICIENT_DATA notifies the topic too: the silence alarm's way of saying "silent" (see below).
    notifies_insufficient_data: bool


def canary_namespace(config: Config) -> str:
    """The CloudWatch namespace of the canary's metrics: one per deployment (name_prefix)."""
    return f"{config.name_prefix}/Canary"


def canary_wait_seconds(config: Config) -> float:
    """How long the canary waits for replies after its last probe: a batch that its probes do not fill leaves
    after timeout_in_seconds, and a reply later than twice the p99 threshold after that is as good as lost."""
    batching = config.destination.batching
    wait = batching.timeout_in_seconds + 2 * config.observability.canary.max_p99_ms / 1000 + CANARY_MARGIN_SECONDS
    return round(wait, 3)


def observability_context(config: Config) -> dict[str, Any]:
    """Everything the observability partials read, and nothing else."""
    obs = config.observability
    canary = obs.canary
    context: dict[str, Any] = {
        "canary": canary.enabled,
        "endpoint_parameter": ENDPOINT_PARAMETER,
        "delivery_log": obs.delivery_log_retention_days is not None,
        "dashboard": obs.dashboard,
        "alarms": _alarms(config) if obs.alarms else [],
        "alarm_actions": _alarm_actions(obs.alarms_topic_arn),
        # CloudWatch refuses an alarm tag with an empty value, which other resources take: those are left off.
        "alarm_tags": [{"Key": key, "Value": value} for key, value in config.tags.items() if value],
    }
    if canary.enabled:
        wait = canary_wait_seconds(config)
        context.update(
            canary_function_name=config.canary_function_name,
            canary_log_group=config.log_group_names["canary"],
            canary_code=read_handler_code(canary_handler_file()),
            canary_timeout=math.ceil(wait) + CANARY_STARTUP_SECONDS,
            canary_schedule=f"rate({canary.every_minutes} minute{'s' if canary.every_minutes > 1 else ''})",
            canary_every_minutes=canary.every_minutes,
            # None: no reservation. Lambda keeps 100 of an account's concurrency unreserved (all of a quota below
            # 100), so on a new account (quota 10) any reservation fails the stack; runs may overlap harmlessly.
            canary_reserved_concurrency=canary.reserved_concurrency,
            # Lambda environment values are strings.
            canary_environment={
                "ENDPOINT": {"Ref": ENDPOINT_PARAMETER},
                "PACKETS": str(canary.packets),
                "WAIT_SECONDS": f"{wait:g}",
                "NAMESPACE": canary_namespace(config),
            },
        )
    if obs.delivery_log_retention_days is not None:
        context.update(
            delivery_log_group=config.delivery_log_group_name,
            delivery_log_retention_days=obs.delivery_log_retention_days,
            delivery_log_writes=delivery_log_writes(config.delivery_log_group_name),
        )
    if obs.dashboard:
        context.update(dashboard_name=config.name_prefix, dashboard_body=dashboard_body(config))
    return context


def delivery_log_writes(group: str) -> dict[str, str]:
    """The streams of the delivery log group `group` in every region of this account and partition: what the role
    Proxylity assumes may write. Proxylity writes a destination's delivery errors in the region that delivered;
    its multi-region radius example (proxylity/examples, radius/templates/global.template.json) grants
    logs:CreateLogStream and logs:PutLogEvents on arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:...:*
    and puts a log group of that name in every regional stack (radius/templates/region-auth.template.json)."""
    if "${" in group:  # name_prefix is letters, digits and hyphens (schema): nothing in it can extend the Fn::Sub
        raise ValueError(f"not a log group name to substitute into: {group!r}")
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:{group}:*"}


def _alarm_actions(topic_arn: str | None) -> list[Any]:
    """The alarms' SNS action in each region. CloudWatch notifies a topic in the alarm's own region only, so
    the regional template names the topic of the same account and name in its own region (and partition)."""
    if topic_arn is None:
        return []
    match = _TOPIC_ARN.fullmatch(topic_arn)
    if match is None:  # the schema's pattern admits only ARNs this reads
        raise ValueError(f"not an SNS topic ARN: {topic_arn!r}")
    # The name is letters, digits, - and _ (schema pattern): nothing in it can extend the Fn::Sub string.
    return [{"Fn::Sub": f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:{match['account']}:{match['name']}"}]


def _alarms(config: Config) -> list[Alarm]:
    prefix, function = config.name_prefix, config.function_name
    lambda_dimensions = [{"Name": "FunctionName", "Value": function}]
    alarms = [
        Alarm(
            "CounterErrorsAlarm",
            f"{prefix}-counter-errors",
            f"The packet counter {function} failed an invocation: Proxylity lost that batch's replies. "
            "Read `make logs FILTER=ERROR` and the destination's delivery log.",
            "AWS/Lambda",
            "Errors",
            lambda_dimensions,
            "Sum",
            LAMBDA_PERIOD,
            1,
            1,
            0,
            "GreaterThanThreshold",
            "notBreaching",  # no invocation, no error
            False,
        ),
        Alarm(
            "CounterThrottlesAlarm",
            f"{prefix}-counter-throttles",
            f"Lambda throttled the packet counter {function}: batches were refused for want of concurrency. "
            "Raise function.reserved_concurrency or the account's concurrency quota.",
            "AWS/Lambda",
            "Throttles",
            lambda_dimensions,
            "Sum",
            LAMBDA_PERIOD,
            1,
            1,
            0,
            "GreaterThanThreshold",
            "notBreaching",
            False,
        ),
    ]
    canary = config.observability.canary
    if not canary.enabled:
        return alarms
    namespace, period = canary_namespace(config), canary.every_minutes * 60
    here = [{"Name": "Region", "Value": {"Ref": "AWS::Region"}}]
    return [
        *alarms,
        Alarm(
            "CanaryLossAlarm",
            f"{prefix}-canary-loss",
            f"Two canary runs in a row lost more than {canary.max_loss_percent:g}% of their UDP probes from this "
            "region: clients here are losing answers. See the README, Watching production.",
            namespace,
            "LossPercent",
            here,
            "Maximum",
            period,
            2,
            2,
            canary.max_loss_percent,
            "GreaterThanThreshold",
            "missing",  # a canary that stopped is the silence alarm's to report
            False,
        ),
        Alarm(
            "CanaryRoundTripAlarm",
            f"{prefix}-canary-round-trip",
            f"Two canary runs in a row had a round-trip p99 above {canary.max_p99_ms:g} ms from this region "
            "(batch wait included). See the README, Watching production.",
            namespace,
            "RoundTripP99",
            here,
            "Maximum",
            period,
            2,
            2,
            canary.max_p99_ms,
            "GreaterThanThreshold",
            "missing",  # no reply at all is the loss alarm's
            False,
        ),
        # Silence, told apart from "not yet started". An EventBridge rate schedule first fires one period after it is
        # created, so a new canary reports nothing for a period after deploy. CloudWatch fills a range of missing
        # data points with the TreatMissingData result ("Configuring how CloudWatch alarms treat missing data": the
        # row "- - - - -" is ALARM with breaching), whatever the evaluation periods, so "breaching" goes to ALARM at
        # the alarm's first evaluation after every new deploy. With "missing", a range of missing data points is
        # INSUFFICIENT_DATA (the state a new alarm starts in: no change, no notification, until the first report),
        # one real data point in the range is OK (a run's SampleCount is at least 1, never below the threshold),
        # and once the canary's last report has left the range the alarm goes back to INSUFFICIENT_DATA, which is
        # what notifies: missing data is not breaching until the canary has reported once.
        Alarm(
            "CanarySilentAlarm",
            f"{prefix}-canary-silent",
            "INSUFFICIENT_DATA after OK: the canary of this region reported before and has now reported nothing for "
            "CloudWatch's whole evaluation range: it is failing, throttled or unscheduled, so nothing watches UDP "
            "here. Read `make logs`. (INSUFFICIENT_DATA from deploy until the canary's first report is expected.)",
            namespace,
            "LossPercent",
            here,
            "SampleCount",
            period,
            1,
            1,
            1,
            "LessThanThreshold",
            "missing",
            True,
        ),
    ]


def dashboard_body(config: Config) -> str:
    """The dashboard's JSON: per region the counter's invocations, errors and throttles and duration p99, and with
    the canary its loss, round trip and serving region. A region is a line in each widget (and with the canary one
    small widget of its own), so the body grows slowly with the regions. Proxylity's own metrics are left out:
    their names are not public."""
    where = (config.regions, config.home_region)  # the lines' regions, and the widgets' own
    lambda_metric = ("AWS/Lambda", "FunctionName", config.function_name)
    widgets: list[dict[str, Any]] = [
        _text(
            f"# {config.name_prefix}\nA line per region. Proxylity's own destination metrics "
            "(destination.metrics_enabled) are not shown: their names are not public."
        ),
        _lines("Counter invocations", ["Invocations"], lambda_metric, "Sum", *where),
        _lines("Counter errors and throttles", ["Errors", "Throttles"], lambda_metric, "Sum", *where),
        _lines("Counter duration p99 (ms)", ["Duration"], lambda_metric, "p99", *where),
    ]
    canary = config.observability.canary
    if canary.enabled:
        namespace, period = canary_namespace(config), canary.every_minutes * 60
        by_region = (namespace, "Region", None)  # None: the line's own region
        loss = ("max_loss_percent", canary.max_loss_percent)
        p99 = ("max_p99_ms", canary.max_p99_ms)
        widgets += [
            _lines("Canary loss (%)", ["LossPercent"], by_region, "Maximum", *where, period, loss),
            _lines(
                "Canary round trip (ms)", ["RoundTripP50", "RoundTripP99"], by_region, "Maximum", *where, period, p99
            ),
            *(_served_by(namespace, region, period) for region in config.regions),
        ]
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def _text(markdown: str) -> dict[str, Any]:
    return {"type": "text", "width": 24, "height": 2, "properties": {"markdown": markdown}}


def _lines(
    title: str,
    metrics: list[str],
    dimension: tuple[str, str, str | None],
    stat: str,
    regions: tuple[str, ...],
    home: str,
    period: int = LAMBDA_PERIOD,
    threshold: tuple[str, float] | None = None,
) -> dict[str, Any]:
    """A widget with a line per metric and region; `dimension` is (namespace, name, value), a value of None
    meaning the line's region."""
    namespace, name, value = dimension
    lines: list[list[Any]] = []
    for metric in metrics:
        for index, region in enumerate(regions):
            label = region if len(metrics) == 1 else f"{metric} {region}"
            # "." repeats the line above's namespace, metric, dimension or value: the body stays small.
            line = (
                [namespace, metric, name, value or region] if index == 0 else [".", ".", ".", "." if value else region]
            )
            lines.append([*line, {"region": region, "label": label}])
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "stat": stat,
        "period": period,
        "region": home,
        "metrics": lines,
    }
    if threshold is not None:
        properties["annotations"] = {"horizontal": [{"label": threshold[0], "value": threshold[1]}]}
    return {"type": "metric", "width": 12, "height": 6, "properties": properties}


def _served_by(namespace: str, region: str, period: int) -> dict[str, Any]:
    """Which region answered the canary of `region`: a line per serving region (a metric search, as the serving
    regions are whatever Proxylity chose)."""
    search = f'SEARCH(\'{{"{namespace}",Region,ServedBy}} MetricName="Served" Region="{region}"\', \'Sum\', {period})'
    properties = {
        "title": f"Canary in {region}: answered by",
        "view": "timeSeries",
        "stacked": True,
        "region": region,
        "metrics": [[{"expression": search, "id": "served"}]],
    }
    return {"type": "metric", "width": 6, "height": 6, "properties": properties}
