"""Drift detection in the local cloud. moto 5.2 has none (DetectStackDrift and its kin are not implemented), so
this module answers those actions itself (patching moto's CloudFormationResponse, in this process only), as
the API reference describes them:

- DetectStackDrift starts a detection and returns its StackDriftDetectionId; it is refused (ValidationError)
  for a stack whose status is not CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE or
  UPDATE_ROLLBACK_FAILED (the statuses the CloudFormation user guide, "Detect drift on an entire CloudFormation
  stack", allows). DescribeStackDriftDetectionStatus says DETECTION_IN_PROGRESS until it is done, then
  DETECTION_COMPLETE with StackDriftStatus DRIFTED or IN_SYNC and DriftedStackResourceCount.
- DescribeStackResourceDrifts pages through the last detection's resources (MaxResults 1..100, a
  StackResourceDriftStatusFilters list): each with ExpectedProperties and ActualProperties as JSON text and
  PropertyDifferences (PropertyPath, ExpectedValue, ActualValue, DifferenceType ADD, REMOVE or NOT_EQUAL).
- DescribeStacks shows the last result as DriftInformation (StackDriftStatus, LastCheckTimestamp).
- DetectStackSetDrift, ListStackInstanceResourceDrifts and the StackSet's StackSetDriftDetectionDetails: see
  stacksets.py, which runs a drift detection operation with this module's `stack_drift` per instance.

As on AWS, only the properties the template sets are compared (a default the template leaves out is not
drift), values are compared after type conversion ("128" and 128 are the same), and custom resources are
NOT_CHECKED: CloudFormation does not check them. The live values come from moto's own models of the
services, which a test changes through boto3 as a user would (UpdateFunctionConfiguration, PutRolePolicy,
PutRetentionPolicy, ...). Checked here: Lambda functions, IAM roles, log groups, EventBridge rules,
CloudWatch alarms and dashboards, the types this tool renders; the two others it renders
(AWS::Lambda::Permission and AWS::Lambda::EventInvokeConfig) are NOT_CHECKED by this stand-in although AWS
checks them.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.parsing import clean_json
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

CHECKABLE_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"}
)
MAX_RESULTS = 100  # DescribeStackResourceDrifts MaxResults: 1..100 (API reference)


class ResourceGone(Exception):
    """The live resource is not there (DELETED)."""


@dataclass
class StackDetection:
    """One DetectStackDrift: its status while it runs, its result when done."""

    id: str
    stack_id: str
    status: str = "DETECTION_IN_PROGRESS"
    stack_drift_status: str = ""
    reason: str = ""
    drifted: int = 0
    timestamp: Any = field(default_factory=utcnow)
    resources: list[dict[str, Any]] = field(default_factory=list)


class _Detections:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[str, StackDetection] = {}
        self.last_by_stack: dict[str, StackDetection] = {}

    def reset(self) -> None:
        with self.lock:
            self.by_id.clear()
            self.last_by_stack.clear()


_detections = _Detections()


# --- live properties, per type ---------------------------------------------------------------------------


def _backend(name: str, account: str, region: str) -> Any:
    from moto.backends import get_backend

    return get_backend(name)[account][region if name != "iam" else "global"]


def _function(account: str, region: str, physical_id: str) -> dict[str, Any]:
    function = _found(lambda: _backend("lambda", account, region).get_function(physical_id))
    live = function.get_configuration()
    live["ReservedConcurrentExecutions"] = function.reserved_concurrency
    live["Environment"] = {"Variables": dict(function.environment_vars or {})}
    return live


def _policy(document: Any) -> Any:
    if isinstance(document, str):
        try:
            return json.loads(unquote(document) if document.startswith("%7B") else document)
        except ValueError:
            return document
    return document


def _found(look_up: Callable[[], Any]) -> Any:
    """What `look_up` finds; ResourceGone when moto raises its not-found error (each service has its own)."""
    try:
        return look_up()
    except Exception as error:
        raise ResourceGone from error


def _role(account: str, region: str, physical_id: str) -> dict[str, Any]:
    role = _found(lambda: _backend("iam", account, region).get_role(physical_id))
    return {
        "RoleName": role.name,
        "Path": role.path,
        "Description": role.description,
        "MaxSessionDuration": role.max_session_duration,
        "AssumeRolePolicyDocument": _policy(role.assume_role_policy_document),
        "Policies": [
            {"PolicyName": name, "PolicyDocument": _policy(document)}
            for name, document in sorted(role.policies.items())
        ],
        "ManagedPolicyArns": sorted(role.managed_policies),
    }


def _log_group(account: str, region: str, physical_id: str) -> dict[str, Any]:
    group = _backend("logs", account, region).groups.get(physical_id)
    if group is None:
        raise ResourceGone
    return {"LogGroupName": group.name, "RetentionInDays": group.retention_in_days, "KmsKeyId": group.kms_key_id}


def _rule(account: str, region: str, physical_id: str) -> dict[str, Any]:
    name = physical_id.rpartition("/")[2].split("|")[0]
    rule = _found(lambda: _backend("events", account, region).describe_rule(name, None))
    return {
        "Name": rule.name,
        "Description": rule.description,
        "ScheduleExpression": rule.scheduled_expression,
        "State": rule.state,
        "Targets": [
            {key: value for key, value in target.items() if value is not None} for target in rule.targets or []
        ],
    }


def _alarm(account: str, region: str, physical_id: str) -> dict[str, Any]:
    alarm = _backend("cloudwatch", account, region).alarms.get(physical_id)
    if alarm is None:
        raise ResourceGone
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric_name,
        "ComparisonOperator": alarm.comparison_operator,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Period": alarm.period,
        "Threshold": alarm.threshold,
        "Statistic": alarm.statistic,
        "ExtendedStatistic": alarm.extended_statistic,
        "TreatMissingData": alarm.treat_missing_data,
        "ActionsEnabled": alarm.actions_enabled,
        "AlarmActions": alarm.alarm_actions,
        "OKActions": alarm.ok_actions,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
    }


def _dashboard(account: str, region: str, physical_id: str) -> dict[str, Any]:
    dashboard = _backend("cloudwatch", account, region).dashboards.get(physical_id)
    if dashboard is None:
        raise ResourceGone
    return {"DashboardName": dashboard.name, "DashboardBody": _policy(dashboard.body)}


LIVE_PROPERTIES: dict[str, Callable[[str, str, str], dict[str, Any]]] = {
    "AWS::Lambda::Function": _function,
    "AWS::IAM::Role": _role,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Events::Rule": _rule,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
}
# properties whose text is a JSON document, compared as the document (as AWS compares policies)
_JSON_TEXT = frozenset({"DashboardBody", "AssumeRolePolicyDocument", "PolicyDocument"})


# --- comparing ---------------------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def property_differences(expected: Any, actual: Any, path: str = "") -> list[dict[str, str]]:
    """The PropertyDifferences of `expected` (the template's) against `actual` (live), as AWS reports them."""
    if path.rpartition("/")[2] in _JSON_TEXT:
        expected, actual = _policy(expected), _policy(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}/{key}"
            if key not in actual or actual[key] is None:
                if expected.get(key) is not None:
                    found.append(_difference(where, expected[key], None, "REMOVE"))
            elif key not in expected:
                found.append(_difference(where, None, actual[key], "ADD"))
            else:
                found += property_differences(expected[key], actual[key], where)
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        for index in range(max(len(expected), len(actual))):
            where = f"{path}/{index}"
            if index >= len(actual):
                found.append(_difference(where, expected[index], None, "REMOVE"))
            elif index >= len(expected):
                found.append(_difference(where, None, actual[index], "ADD"))
            else:
                found += property_differences(expected[index], actual[index], where)
        return found
    # a policy's one action may be written as a string or a list of one (IAM reads them alike)
    if isinstance(expected, list) and len(expected) == 1 and not isinstance(actual, list | dict):
        return property_differences(expected[0], actual, path)
    if isinstance(actual, list) and len(actual) == 1 and not isinstance(expected, list | dict):
        return property_differences(expected, actual[0], path)
    if isinstance(expected, dict | list) or isinstance(actual, dict | list) or _scalar(expected) != _scalar(actual):
        return [_difference(path, expected, actual, "NOT_EQUAL")]
    return []


def _difference(path: str, expected: Any, actual: Any, kind: str) -> dict[str, str]:
    return {
        "PropertyPath": path,
        "ExpectedValue": "" if expected is None else _text(expected),
        "ActualValue": "" if actual is None else _text(actual),
        "DifferenceType": kind,
    }


def _expected_properties(stack: Any, logical_id: str, resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties") or {}
    try:
        resolved = clean_json(properties, stack.resource_map)
    except Exception:  # a reference moto cannot resolve: compare what it can
        resolved = properties
    if resource.get("Type") == "AWS::IAM::Role" and isinstance(resolved.get("Policies"), list):
        resolved["Policies"] = sorted(resolved["Policies"], key=lambda policy: str(policy.get("PolicyName")))
    if resource.get("Type") == "AWS::IAM::Role" and isinstance(resolved.get("ManagedPolicyArns"), list):
        resolved["ManagedPolicyArns"] = sorted(resolved["ManagedPolicyArns"])
    return resolved


def stack_drift(stack: Any) -> list[dict[str, Any]]:
    """Every resource of `stack`'s template with its drift: StackResourceDrift records as the API returns them."""
    account, region = stack.account_id, stack.region_name
    now = utcnow()
    records = []
    for logical_id, resource in (stack.template_dict.get("Resources") or {}).items():
        kind = resource.get("Type", "")
        if not _created(stack, logical_id, resource):
            continue
        try:
            physical_id = stack.resource_map[logical_id].physical_resource_id
        except Exception:  # a type moto does not model (it warned when it parsed it): nothing live to read
            physical_id = ""
        record: dict[str, Any] = {
            "StackId": stack.stack_id,
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": kind,
            "Timestamp": now,
        }
        read = LIVE_PROPERTIES.get(kind) if physical_id else None
        if read is None:
            records.append({**record, "StackResourceDriftStatus": "NOT_CHECKED"})
            continue
        expected = _expected_properties(stack, logical_id, resource)
        record["ExpectedProperties"] = json.dumps(expected, sort_keys=True)
        try:
            live = read(account, region, physical_id)
        except ResourceGone:
            records.append({**record, "StackResourceDriftStatus": "DELETED"})
            continue
        # what the stand-in does not read (write-only properties such as Code, as AWS skips them) is not compared
        expected = {key: value for key, value in expected.items() if key in live}
        record["ExpectedProperties"] = json.dumps(expected, sort_keys=True)
        actual = {key: live[key] for key in expected}
        differences = property_differences(expected, actual)
        record["ActualProperties"] = json.dumps({k: v for k, v in actual.items() if v is not None}, sort_keys=True)
        record["PropertyDifferences"] = differences
        record["StackResourceDriftStatus"] = "MODIFIED" if differences else "IN_SYNC"
        records.append(record)
    return records


def _created(stack: Any, logical_id: str, resource: dict[str, Any]) -> bool:
    """Whether the stack has the resource: not when its Condition is false."""
    condition = resource.get("Condition")
    if not condition:
        return True
    try:
        return bool(stack.resource_map.lazy_condition_map[condition])
    except Exception:  # a condition moto cannot evaluate: count it in (NOT_CHECKED at worst)
        return True


def drift_status(records: list[dict[str, Any]]) -> tuple[str, int]:
    drifted = sum(record["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for record in records)
    return ("DRIFTED" if drifted else "IN_SYNC"), drifted


# --- the actions ---------------------------------------------------------------------------------------------


def _stack(response: Any, name_or_id: str) -> Any:
    return response.cloudformation_backend.get_stack(name_or_id)


def detect_stack_drift(self: Any) -> ActionResult:
    stack = _stack(self, self._get_param("StackName"))
    if stack.status not in CHECKABLE_STATUSES:
        raise ValidationError(
            message=f"Stack [{stack.stack_id}] cannot be checked for drift in its current status {stack.status}"
        )
    detection = StackDetection(str(uuid.uuid4()), stack.stack_id)
    with _detections.lock:
        _detections.by_id[detection.id] = detection

    def detect() -> None:
        try:
            records = stack_drift(stack)
        except Exception as error:  # the model's own trouble: a failed detection, never a dead thread
            with _detections.lock:
                detection.status, detection.reason = "DETECTION_FAILED", f"{type(error).__name__}: {error}"
            return
        status, drifted = drift_status(records)
        with _detections.lock:
            detection.resources, detection.stack_drift_status, detection.drifted = records, status, drifted
            detection.timestamp = utcnow()
            detection.status = "DETECTION_COMPLETE"
            _detections.last_by_stack[stack.stack_id] = detection
            stack.drift_information = {"StackDriftStatus": status, "LastCheckTimestamp": detection.timestamp}

    threading.Thread(target=detect, name="local-cloud-drift", daemon=True).start()
    return ActionResult({"StackDriftDetectionId": detection.id})


def describe_stack_drift_detection_status(self: Any) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    with _detections.lock:
        detection = _detections.by_id.get(detection_id)
        if detection is None:
            raise ValidationError(message=f"Drift detection [{detection_id}] does not exist")
        return ActionResult(
            {
                "StackId": detection.stack_id,
                "StackDriftDetectionId": detection.id,
                **({"StackDriftStatus": detection.stack_drift_status} if detection.stack_drift_status else {}),
                "DetectionStatus": detection.status,
                **({"DetectionStatusReason": detection.reason} if detection.reason else {}),
                "DriftedStackResourceCount": detection.drifted,
                "Timestamp": detection.timestamp,
            }
        )


def describe_stack_resource_drifts(self: Any) -> ActionResult:
    stack = _stack(self, self._get_param("StackName"))
    with _detections.lock:
        detection = _detections.last_by_stack.get(stack.stack_id)
        records = list(detection.resources) if detection else []
    return ActionResult(drift_page(self, records, "StackResourceDriftStatusFilters", "StackResourceDrifts"))


def drift_page(response: Any, records: list[dict[str, Any]], filters: str, key: str) -> dict[str, Any]:
    """One page of drift records (DescribeStackResourceDrifts, ListStackInstanceResourceDrifts): those of the
    statuses the `filters` parameter lists (all when none), MaxResults (1..100) at a time."""
    size = int(response._get_param("MaxResults") or MAX_RESULTS)
    if not 1 <= size <= MAX_RESULTS:
        raise ValidationError(message=f"MaxResults must be between 1 and {MAX_RESULTS}")
    wanted = response._get_param(filters) or []
    records = [record for record in records if not wanted or record["StackResourceDriftStatus"] in wanted]
    start = int(response._get_param("NextToken") or 0)
    page: dict[str, Any] = {key: records[start : start + size]}
    if start + size < len(records):
        page["NextToken"] = str(start + size)
    return page


_HANDLERS: dict[str, Callable[[Any], Any]] = {
    "detect_stack_drift": detect_stack_drift,
    "describe_stack_drift_detection_status": describe_stack_drift_detection_status,
    "describe_stack_resource_drifts": describe_stack_resource_drifts,
}
_patched = False


def install_drift_patches() -> None:
    """Answer the drift actions with this module (module docstring); idempotent."""
    global _patched
    if _patched:
        return
    for name, handler in _HANDLERS.items():
        setattr(cfn_responses.CloudFormationResponse, name, handler)
    _patched = True


def reset_drift() -> None:
    _detections.reset()
