"""CloudFormation StackSets in the local cloud, modelled well enough to rehearse a multi-account deploy.

moto 5.2 keeps StackSets as records: every operation is SUCCEEDED the moment it is asked for, instances of
a self-managed set are created at once as stacks named `StackSet:<name>` (a name real CloudFormation
refuses), an update never reaches the instances' stacks, operation preferences are ignored, nothing ever
fails and ListStackInstances names StackIds that do not exist. So this module answers the StackSet actions
itself (patching moto's CloudFormationResponse handlers for them, in this process only) with a model that:

- runs each operation in a background thread: QUEUED behind the set's running operation when the set has
  ManagedExecution active (OperationInProgressException otherwise), then RUNNING, then SUCCEEDED, FAILED
  or STOPPED, with one result per instance (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED and a reason);
- deploys each instance as a real stack (`StackSet-<name>-<uuid>`, as AWS names them) in the target
  account's own backend, through the patched change sets: the Proxylity stand-in answers its custom
  resources with that account's API key, its answer delay applies, its failures roll the stack back and
  fail the instance with "ResourceLogicalId:..., ResourceType:..., ResourceStatusReason:...";
- applies OperationPreferences: regions in RegionOrder, PARALLEL or SEQUENTIAL; per region at most
  MaxConcurrent accounts at once (STRICT_FAILURE_TOLERANCE: at most FailureTolerance + 1) and, once more
  accounts than FailureTolerance have failed there, the region's remaining accounts CANCELLED and (in
  SEQUENTIAL) every later region too; the operation FAILED when a region went past its tolerance;
- marks every instance OUTDATED when UpdateStackSet changes the template or parameters, CURRENT again when
  its update succeeds; retries an instance whose stack an earlier create left in ROLLBACK_COMPLETE by
  deleting it and creating it again;
- refuses what CloudFormation refuses: a template with a transform without CAPABILITY_AUTO_EXPAND, IAM
  resources without CAPABILITY_IAM, any transform in a SERVICE_MANAGED set ("Transform is not supported in
  SERVICE_MANAGED permission model"), deleting a set that still has instances.

Where AWS resolves an `Fn::Sub` AWS::Include Location for a StackSet instance (in the instance's account
and region, or once in the administrator's) is not documented: this model resolves it per instance, in the
instance's own account and region, which is what the templates need.

Faults for tests and rehearsals (StackSetsBehaviour): `instances` (a Gate) holds chosen instance work
until released; `accounts_without_execution_role` fails every instance of those accounts as AWS does
when the execution role is missing; a failing instance comes from the stand-in (`fail_in`, `fail_region`).
Drift detection (DetectStackSetDrift, ListStackInstanceResourceDrifts, each instance's DriftStatus, the set's
StackSetDriftDetectionDetails) checks each instance's stack as drift.py checks a stack.
Not modelled: SERVICE_MANAGED deployment targets (OUs, auto-deployment), TemplateURL.
Other accounts' stacks are read as on AWS, with credentials from sts:AssumeRole (moto maps them to the
role's account).
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.moto_api._internal.models import MotoAPIBackend

from generator.local.cloud.drift import CHECKABLE_STATUSES, drift_page, stack_drift
from generator.local.cloud.moto_patches import apply_change_set_now, delete_stack_now
from generator.local.cloud.stand_in import Gate

SELF_MANAGED, SERVICE_MANAGED = "SELF_MANAGED", "SERVICE_MANAGED"
DEFAULT_ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"
DEFAULT_EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
FINISHED = ("SUCCEEDED", "FAILED", "STOPPED")
DETECT_DRIFT = "DETECT_DRIFT"  # a drift detection operation (DetectStackSetDrift)
IAM_TYPES = ("AWS::IAM::",)
_STACK_SET_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}\Z")
PAGE_SIZE = 100  # results per page when the caller does not say (MaxResults)


class InstanceWork(NamedTuple):
    """One instance's part of an operation, as the `instances` Gate sees it."""

    stack_set: str
    account: str
    region: str
    action: str  # CREATE, UPDATE, DELETE


@dataclass
class StackSetsBehaviour:
    """How the StackSets model behaves where AWS takes time or refuses."""

    instances: Gate = field(default_factory=Gate)  # holds InstanceWork until released
    # Accounts with no execution role that trusts the administration role: every instance there fails.
    accounts_without_execution_role: set[str] = field(default_factory=set)
    # Keep each StackSet's template re-serialised (keys sorted, other spacing), as a service may store a body:
    # DescribeStackSet then returns the same document in other text.
    reserialise_templates: bool = False


_behaviour = StackSetsBehaviour()


class _Error(CloudFormationError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _not_found(name: str) -> _Error:
    return _Error("StackSetNotFoundException", f"StackSet {name} not found")


@dataclass
class Instance:
    account: str
    region: str
    overrides: dict[str, str] = field(default_factory=dict)
    stack_id: str = ""
    status: str = "OUTDATED"  # CURRENT, OUTDATED, INOPERABLE
    detailed: str = "PENDING"  # PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE
    reason: str = ""
    last_operation: str = ""
    drift_status: str = "NOT_CHECKED"  # DRIFTED, IN_SYNC, UNKNOWN after a drift detection
    drift_checked: Any = None
    resource_drifts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # operation id -> records


@dataclass
class Operation:
    id: str
    action: str
    targets: list[tuple[str, str]]
    preferences: dict[str, Any]
    retain_stacks: bool = False
    # UpdateStackSet changes the StackSet itself (its template, parameters): it conflicts with every operation.
    set_wide: bool = False
    status: str = "QUEUED"
    status_reason: str = ""
    created: Any = field(default_factory=utcnow)
    ended: Any = None
    results: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (account, region) -> [status, reason]
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class LocalStackSet:
    name: str
    admin_account: str
    admin_region: str
    template: str
    parameters: dict[str, str]
    capabilities: list[str]
    tags: dict[str, str]
    permission_model: str
    administration_role_arn: str
    execution_role_name: str
    description: str
    managed_execution: bool
    id: str = ""
    instances: dict[tuple[str, str], Instance] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.id = self.id or f"{self.name}:{uuid.uuid4()}"

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudformation:{self.admin_region}:{self.admin_account}:stackset/{self.id}"

    def running(self) -> Operation | None:
        return next((op for op in self.operations if op.status not in FINISHED), None)

    def may_run(self, operation: Operation) -> bool:
        """Whether `operation` may run now: with ManagedExecution, "StackSets performs non-conflicting operations
        concurrently and queues conflicting operations. After conflicting operations finish, StackSets starts
        queued operations in request order" (API reference, ManagedExecution). Two operations conflict here when
        either changes the StackSet itself or both touch one instance; without ManagedExecution a second
        operation was refused when it was asked for."""
        for earlier in self.operations:
            if earlier is operation:
                return True
            if earlier.status not in FINISHED and _conflict(earlier, operation):
                return False
        return False


def _conflict(first: Operation, second: Operation) -> bool:
    return first.set_wide or second.set_wide or bool(set(first.targets) & set(second.targets))


class _Registry:
    """The StackSets of every administrator account and region."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sets: dict[tuple[str, str], dict[str, LocalStackSet]] = {}

    def of(self, account: str, region: str) -> dict[str, LocalStackSet]:
        with self._lock:
            return self._sets.setdefault((account, region), {})

    def find(self, account: str, region: str, name_or_id: str) -> LocalStackSet:
        for stack_set in list(self.of(account, region).values()):
            if name_or_id in (stack_set.name, stack_set.id, stack_set.arn):
                return stack_set
        raise _not_found(name_or_id)

    def reset(self) -> None:
        with self._lock:
            for sets in self._sets.values():
                for stack_set in sets.values():
                    with stack_set.condition:  # queued operations wake up, see `stop` and cancel their work
                        for operation in stack_set.operations:
                            operation.stop.set()
                        stack_set.condition.notify_all()
            self._sets.clear()


_registry = _Registry()


# --- checks of a template and its capabilities, as CloudFormation makes them ---------------------------


def _uses_transform(node: Any) -> bool:
    if isinstance(node, dict):
        return "Fn::Transform" in node or any(_uses_transform(value) for value in node.values())
    if isinstance(node, list):
        return any(_uses_transform(item) for item in node)
    return False


def _check_template(template: str, capabilities: list[str], permission_model: str) -> dict[str, Any]:
    try:
        document = json.loads(template)
    except ValueError:
        document = cfn_models.Stack.parse_template(template)
    if not isinstance(document, dict):
        raise ValidationError(message="Template format error: not a JSON or YAML object")
    transform = "Transform" in document or _uses_transform(document)
    if transform and permission_model == SERVICE_MANAGED:
        raise ValidationError(message="Transform is not supported in SERVICE_MANAGED permission model")
    if transform and "CAPABILITY_AUTO_EXPAND" not in capabilities:
        raise _Error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
    iam = any(
        str(resource.get("Type", "")).startswith(IAM_TYPES)
        for resource in (document.get("Resources") or {}).values()
        if isinstance(resource, dict)
    )
    if iam and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
        raise _Error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
    return document


# --- running an operation ------------------------------------------------------------------------------


class _InstanceFailed(Exception):
    pass


def _start(stack_set: LocalStackSet, operation: Operation) -> Operation:
    with stack_set.condition:
        running = stack_set.running()
        if running is not None and not stack_set.managed_execution:
            raise _Error(
                "OperationInProgressException",
                f"Another Operation on StackSet [{stack_set.id}] is in progress: {running.id}",
            )
        if any(op.id == operation.id for op in stack_set.operations):
            raise _Error("OperationIdAlreadyExistsException", f"The operation ID {operation.id} already exists")
        stack_set.operations.append(operation)
        for key in operation.targets:
            operation.results[key] = ["PENDING", ""]
            instance = stack_set.instances.get(key)
            if instance is not None and operation.action != DETECT_DRIFT:  # drift detection changes no instance
                instance.detailed, instance.last_operation = "PENDING", operation.id
    threading.Thread(
        target=_run_operation, args=(stack_set, operation), name="local-cloud-stackset", daemon=True
    ).start()
    return operation


def _run_operation(stack_set: LocalStackSet, operation: Operation) -> None:
    with stack_set.condition:  # queued (ManagedExecution) behind the conflicting operations asked for before it
        stack_set.condition.wait_for(lambda: stack_set.may_run(operation) or operation.stop.is_set())
        operation.status = "RUNNING"
    preferences = operation.preferences
    order = [r for r in preferences.get("RegionOrder") or [] if any(t[1] == r for t in operation.targets)]
    regions = order + [r for r in dict.fromkeys(region for _, region in operation.targets) if r not in order]
    failed_regions: list[str] = []
    if preferences.get("RegionConcurrencyType") == "PARALLEL":
        threads = [
            threading.Thread(target=lambda r=region: _run_region(stack_set, operation, r) and failed_regions.append(r))
            for region in regions
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for region in regions:
            if failed_regions or operation.stop.is_set():
                _cancel(stack_set, operation, region, "Cancelled since failure tolerance has exceeded")
                continue
            if _run_region(stack_set, operation, region):
                failed_regions.append(region)
    with stack_set.condition:
        if operation.action == "DELETE":
            for key in operation.targets:
                if operation.results[key][0] == "SUCCEEDED":
                    stack_set.instances.pop(key, None)
        if operation.stop.is_set():
            operation.status = "STOPPED"
        elif failed_regions:
            operation.status = "FAILED"
            operation.status_reason = f"The Operation {operation.id} has failed to complete in region(s) " + (
                ", ".join(sorted(failed_regions)) + " since failure tolerance has exceeded"
            )
        else:
            operation.status = "SUCCEEDED"
        operation.ended = utcnow()
        stack_set.condition.notify_all()


def _limits(preferences: dict[str, Any], accounts: int) -> tuple[int, int]:
    """(failure tolerance, concurrency) for a region of `accounts` accounts, as StackSets computes them."""
    if preferences.get("FailureToleranceCount") is not None:
        tolerance = int(preferences["FailureToleranceCount"])
    else:
        tolerance = math.floor(accounts * int(preferences.get("FailureTolerancePercentage") or 0) / 100)
    if preferences.get("MaxConcurrentCount") is not None:
        concurrency = int(preferences["MaxConcurrentCount"])
    elif preferences.get("MaxConcurrentPercentage") is not None:
        concurrency = math.floor(accounts * int(preferences["MaxConcurrentPercentage"]) / 100)
    else:
        concurrency = 1
    concurrency = max(1, concurrency)
    if preferences.get("ConcurrencyMode", "STRICT_FAILURE_TOLERANCE") == "STRICT_FAILURE_TOLERANCE":
        concurrency = min(concurrency, tolerance + 1)
    return tolerance, concurrency


def _run_region(stack_set: LocalStackSet, operation: Operation, region: str) -> bool:
    """Run the region's instances; True when more of them failed than the tolerance allows."""
    keys = [key for key in operation.targets if key[1] == region]
    tolerance, concurrency = _limits(operation.preferences, len(keys))
    failures = []
    lock = threading.Lock()

    def one(key: tuple[str, str]) -> None:
        with lock:
            stopped = len(failures) > tolerance or operation.stop.is_set()
        if stopped:
            _set_result(stack_set, operation, key, "CANCELLED", "Cancelled since failure tolerance has exceeded")
            return
        if not _run_instance(stack_set, operation, key):
            with lock:
                failures.append(key)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="local-cloud-instance") as pool:
        list(pool.map(one, keys))
    return len(failures) > tolerance


def _cancel(stack_set: LocalStackSet, operation: Operation, region: str, reason: str) -> None:
    for key in operation.targets:
        if key[1] == region:
            _set_result(stack_set, operation, key, "CANCELLED", reason)


def _set_result(stack_set: LocalStackSet, operation: Operation, key: tuple[str, str], status: str, reason: str) -> None:
    with stack_set.condition:
        operation.results[key] = [status, reason]
        instance = stack_set.instances.get(key)
        if instance is None or operation.action == DETECT_DRIFT:
            return
        instance.detailed, instance.reason = status, reason
        if status == "SUCCEEDED" and operation.action != "DELETE":
            instance.status = "CURRENT"
        elif status == "FAILED":
            instance.status = "OUTDATED"


def _run_instance(stack_set: LocalStackSet, operation: Operation, key: tuple[str, str]) -> bool:
    account, region = key
    _set_result(stack_set, operation, key, "RUNNING", "")
    _behaviour.instances.pass_through(InstanceWork(stack_set.name, account, region, operation.action))
    try:
        if stack_set.permission_model == SELF_MANAGED and account in _behaviour.accounts_without_execution_role:
            raise _InstanceFailed(
                f"Account {account} should have '{stack_set.execution_role_name}' role with trust relationship to "
                f"Role '{stack_set.administration_role_arn.rpartition('/')[2]}'."
            )
        instance = stack_set.instances[key]
        backend = cfn_models.cloudformation_backends[account][region]
        if operation.action == "DELETE":
            _delete_instance_stack(backend, instance, operation.retain_stacks)
        elif operation.action == DETECT_DRIFT:
            _detect_instance_drift(backend, instance, operation)
        else:
            _deploy_instance_stack(stack_set, backend, instance)
    except _InstanceFailed as failure:
        _set_result(stack_set, operation, key, "FAILED", str(failure))
        return False
    except Exception as error:  # the model's own trouble: a failed instance, never a dead thread
        _set_result(stack_set, operation, key, "FAILED", f"Internal error: {type(error).__name__}: {error}")
        return False
    _set_result(stack_set, operation, key, "SUCCEEDED", "")
    return True


def _deploy_instance_stack(stack_set: LocalStackSet, backend: Any, instance: Instance) -> None:
    stack = backend.stacks.get(instance.stack_id) if instance.stack_id else None
    if stack is not None and stack.status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
        delete_stack_now(backend, stack)  # an earlier create failed: create it again
        stack = None
    parameters = {**stack_set.parameters, **instance.overrides}
    kind = "UPDATE" if stack is not None else "CREATE"
    name = stack.name if stack is not None else f"StackSet-{stack_set.name}-{uuid.uuid4()}"
    change_set_id, stack_id = backend.create_change_set(
        name,
        f"stackset-{uuid.uuid4().hex[:12]}",
        stack_set.template,
        parameters,
        stack_set.description,
        kind,
        tags=dict(stack_set.tags),
    )
    instance.stack_id = stack_id
    change_set = backend.change_sets[change_set_id]
    if change_set.status == "FAILED":
        backend.change_sets.pop(change_set_id, None)
        if any(marker in (change_set.status_reason or "") for marker in NO_CHANGES):
            return
        if kind == "CREATE":
            backend.stacks.pop(stack_id, None)
            instance.stack_id = ""
        raise _InstanceFailed(change_set.status_reason or "change set failed")
    events_before = len(backend.stacks[stack_id].events)
    stack = apply_change_set_now(backend, change_set_id)
    backend.change_sets.pop(change_set_id, None)
    if stack.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise _InstanceFailed(_failure_reason(stack.events[events_before:], stack.status))


def _detect_instance_drift(backend: Any, instance: Instance, operation: Operation) -> None:
    """The instance's stack checked as DetectStackDrift checks a stack (drift.py); its records kept for
    ListStackInstanceResourceDrifts of this operation."""
    stack = backend.stacks.get(instance.stack_id) if instance.stack_id else None
    instance.drift_checked = utcnow()
    if stack is None or stack.status not in CHECKABLE_STATUSES:
        instance.drift_status = "UNKNOWN"
        raise _InstanceFailed(f"Stack {instance.stack_id or '(none)'} cannot be checked for drift")
    records = stack_drift(stack)  # ListStackInstanceResourceDrifts' summaries have the same members
    instance.resource_drifts[operation.id] = records
    drifted = any(record["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for record in records)
    instance.drift_status = "DRIFTED" if drifted else "IN_SYNC"


def _delete_instance_stack(backend: Any, instance: Instance, retain: bool) -> None:
    stack = backend.stacks.get(instance.stack_id) if instance.stack_id else None
    if stack is None or retain:
        return
    events_before = len(stack.events)
    delete_stack_now(backend, stack)
    if stack.status == "DELETE_FAILED":
        raise _InstanceFailed(_failure_reason(stack.events[events_before:], stack.status))


def _failure_reason(events: list[Any], status: str) -> str:
    for event in events:
        if event.resource_status.endswith("_FAILED") and event.resource_type != "AWS::CloudFormation::Stack":
            return (
                f"ResourceLogicalId:{event.logical_resource_id}, ResourceType:{event.resource_type}, "
                f"ResourceStatusReason:{event.resource_status_reason}."
            )
    return f"Stack is in {status} state"


# --- the API ------------------------------------------------------------------------------------------


def _parameters(items: list[dict[str, Any]], previous: dict[str, str] | None = None) -> dict[str, str]:
    values = {}
    for item in items or []:
        key = item["ParameterKey"]
        if item.get("UsePreviousValue") in (True, "true") and previous is not None and key in previous:
            values[key] = previous[key]
        elif "ParameterValue" in item:
            values[key] = item["ParameterValue"]
    return values


def _sends_parameter_values(items: list[dict[str, Any]]) -> bool:
    return any(item.get("UsePreviousValue") not in (True, "true") and "ParameterValue" in item for item in items)


def _stored(template: str) -> str:
    """The template as the model keeps it: as sent, or re-serialised (StackSetsBehaviour.reserialise_templates)."""
    if not _behaviour.reserialise_templates:
        return template
    try:
        return json.dumps(json.loads(template), sort_keys=True, indent=1)
    except ValueError:
        return template


def _parameter_list(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def _masked(stack_set: LocalStackSet, values: dict[str, str]) -> dict[str, str]:
    """`values` as CloudFormation shows them: a parameter the template declares NoEcho as ****."""
    try:
        declared = json.loads(stack_set.template).get("Parameters") or {}
    except (ValueError, AttributeError):
        declared = {}
    hidden = {
        name for name, spec in declared.items() if isinstance(spec, dict) and spec.get("NoEcho") in (True, "true")
    }
    return {key: "****" if key in hidden else value for key, value in values.items()}


def _preferences(response: Any) -> dict[str, Any]:
    return response._get_param("OperationPreferences") or {}


def _operation(response: Any, action: str, targets: list[tuple[str, str]], **kwargs: Any) -> Operation:
    return Operation(
        id=response._get_param("OperationId") or str(uuid.uuid4()),
        action=action,
        targets=targets,
        preferences=_preferences(response),
        **kwargs,
    )


def _stack_set(response: Any) -> LocalStackSet:
    return _registry.find(response.current_account, response.region, response._get_param("StackSetName"))


def _accounts_regions(response: Any, stack_set: LocalStackSet) -> tuple[list[str], list[str]]:
    accounts = response._get_param("Accounts") or []
    targets = response._get_param("DeploymentTargets") or {}
    if targets.get("OrganizationalUnitIds") or stack_set.permission_model == SERVICE_MANAGED:
        raise ValidationError(message="the local cloud does not model service-managed deployment targets")
    accounts = accounts or targets.get("Accounts") or []
    return list(accounts), list(response._get_param("Regions") or [])


def create_stack_set(self: Any) -> ActionResult:
    name = self._get_param("StackSetName") or ""
    if not _STACK_SET_NAME.match(name):
        raise ValidationError(
            message=f"1 validation error detected: Value '{name}' at 'stackSetName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )
    sets = _registry.of(self.current_account, self.region)
    if any(existing.name == name for existing in sets.values()):
        raise _Error("NameAlreadyExistsException", f"StackSet {name} already exists")
    template = self._get_param("TemplateBody")
    if not template:
        raise ValidationError(message="the local cloud models StackSets from a TemplateBody only")
    permission_model = self._get_param("PermissionModel") or SELF_MANAGED
    capabilities = self._get_param("Capabilities") or []
    _check_template(template, capabilities, permission_model)
    account = self.current_account
    stack_set = LocalStackSet(
        name=name,
        admin_account=account,
        admin_region=self.region,
        template=_stored(template),
        parameters=_parameters(self._get_param("Parameters") or []),
        capabilities=list(capabilities),
        tags={tag["Key"]: tag["Value"] for tag in self._get_param("Tags") or []},
        permission_model=permission_model,
        administration_role_arn=self._get_param("AdministrationRoleARN")
        or f"arn:aws:iam::{account}:role/{DEFAULT_ADMINISTRATION_ROLE}",
        execution_role_name=self._get_param("ExecutionRoleName") or DEFAULT_EXECUTION_ROLE,
        description=self._get_param("Description") or "",
        managed_execution=bool((self._get_param("ManagedExecution") or {}).get("Active")),
    )
    sets[stack_set.id] = stack_set
    return ActionResult({"StackSetId": stack_set.id})


def describe_stack_set(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    return ActionResult(
        {
            "StackSet": {
                "StackSetName": stack_set.name,
                "StackSetId": stack_set.id,
                "Description": stack_set.description,
                "Status": "ACTIVE",
                "TemplateBody": stack_set.template,
                # moto's response transformers make these dicts the lists CloudFormation sends
                "Parameters": _masked(stack_set, stack_set.parameters),
                "Capabilities": stack_set.capabilities,
                "Tags": dict(stack_set.tags),
                "StackSetARN": stack_set.arn,
                "AdministrationRoleARN": stack_set.administration_role_arn,
                "ExecutionRoleName": stack_set.execution_role_name,
                "PermissionModel": stack_set.permission_model,
                "ManagedExecution": {"Active": stack_set.managed_execution},
                "Regions": sorted({region for _, region in stack_set.instances}),
                "StackSetDriftDetectionDetails": _drift_details(stack_set),
            }
        }
    )


def _drift_details(stack_set: LocalStackSet) -> dict[str, Any]:
    """StackSetDriftDetectionDetails: from the last drift detection operation (NOT_CHECKED before one)."""
    last = next((op for op in reversed(stack_set.operations) if op.action == DETECT_DRIFT), None)
    if last is None:
        return {"DriftStatus": "NOT_CHECKED"}
    statuses = [instance.drift_status for instance in stack_set.instances.values()]
    results = [status for status, _ in last.results.values()]
    details = {
        "DriftStatus": "DRIFTED" if "DRIFTED" in statuses else "IN_SYNC",
        "DriftDetectionStatus": {"SUCCEEDED": "COMPLETED", "RUNNING": "IN_PROGRESS", "QUEUED": "IN_PROGRESS"}.get(
            last.status, last.status
        ),
        "TotalStackInstancesCount": len(statuses),
        "DriftedStackInstancesCount": statuses.count("DRIFTED"),
        "InSyncStackInstancesCount": statuses.count("IN_SYNC"),
        "InProgressStackInstancesCount": sum(status in ("PENDING", "RUNNING") for status in results),
        "FailedStackInstancesCount": results.count("FAILED"),
    }
    if last.ended:
        details["LastDriftCheckTimestamp"] = last.ended
    return details


def detect_stack_set_drift(self: Any) -> ActionResult:
    """DetectStackSetDrift: one operation checking every instance's stack (API reference); it runs as any other
    operation does, queued behind (or, without ManagedExecution, refused during) another one."""
    stack_set = _stack_set(self)
    with stack_set.condition:
        targets = list(stack_set.instances)
    operation = _start(stack_set, _operation(self, DETECT_DRIFT, targets, set_wide=True))
    return ActionResult({"OperationId": operation.id})


def list_stack_instance_resource_drifts(self: Any) -> ActionResult:
    """ListStackInstanceResourceDrifts: the resources of one instance as the drift operation `OperationId`
    found them, filtered by StackInstanceResourceDriftStatuses, at most MaxResults (1..100) a page."""
    stack_set = _stack_set(self)
    key = (self._get_param("StackInstanceAccount"), self._get_param("StackInstanceRegion"))
    with stack_set.condition:
        operation = _find_operation(self, stack_set)
        instance = stack_set.instances.get(key)
        if instance is None:
            raise _Error("StackInstanceNotFoundException", f"Stack instance {key[0]}/{key[1]} does not exist")
        records = list(instance.resource_drifts.get(operation.id, []))
    return ActionResult(drift_page(self, records, "StackInstanceResourceDriftStatuses", "Summaries"))


def list_stack_sets(self: Any) -> ActionResult:
    summaries = [
        {
            "StackSetName": s.name,
            "StackSetId": s.id,
            "Description": s.description,
            "Status": "ACTIVE",
            "PermissionModel": s.permission_model,
            "ManagedExecution": {"Active": s.managed_execution},
        }
        for s in _registry.of(self.current_account, self.region).values()
    ]
    return ActionResult({"Summaries": summaries})


def update_stack_set(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    template = self._get_param("TemplateBody")
    use_previous = self._get_param("UsePreviousTemplate") in (True, "true")
    if not template and not use_previous:
        raise ValidationError(message="Either TemplateBody or UsePreviousTemplate must be given")
    template = template or stack_set.template
    capabilities = self._get_param("Capabilities") or []
    _check_template(template, capabilities, stack_set.permission_model)
    parameters = _parameters(self._get_param("Parameters") or [], stack_set.parameters)
    accounts, regions = _accounts_regions(self, stack_set)
    if bool(accounts) != bool(regions):
        raise ValidationError(message="Accounts and Regions must be specified together")
    with stack_set.condition:
        if stack_set.running() is not None and not stack_set.managed_execution:
            raise _Error(
                "OperationInProgressException", f"Another Operation on StackSet [{stack_set.id}] is in progress"
            )
        # UpdateStackSet (API reference): "If the StackSet update includes changes to the template (TemplateBody
        # or TemplateURL) or the Parameters property, CloudFormation marks all stack instances with a status of
        # OUTDATED prior to updating the stack instances in the specified accounts and Regions. If the update does
        # not include changes to the template or parameters, it updates the instances in the specified accounts
        # and Regions, leaving all other instances with their existing status." A TemplateBody sent is a change
        # of the template (the call carries one), and so is a parameter value sent other than UsePreviousValue.
        changed = not use_previous or _sends_parameter_values(self._get_param("Parameters") or [])
        stack_set.template, stack_set.parameters, stack_set.capabilities = (
            _stored(template) if not use_previous else template,
            parameters,
            list(capabilities),
        )
        tags = self._get_param("Tags")
        if tags is not None:
            stack_set.tags = {tag["Key"]: tag["Value"] for tag in tags}
        stack_set.description = self._get_param("Description") or stack_set.description
        stack_set.administration_role_arn = (
            self._get_param("AdministrationRoleARN") or stack_set.administration_role_arn
        )
        stack_set.execution_role_name = self._get_param("ExecutionRoleName") or stack_set.execution_role_name
        if changed:
            for instance in stack_set.instances.values():
                instance.status = "OUTDATED"
        wanted = {(a, r) for a in accounts for r in regions} if accounts else None
        targets = [key for key in stack_set.instances if wanted is None or key in wanted]
    operation = _start(stack_set, _operation(self, "UPDATE", targets, set_wide=True))
    return ActionResult({"OperationId": operation.id})


def delete_stack_set(self: Any) -> EmptyResult:
    stack_set = _stack_set(self)
    with stack_set.condition:
        if stack_set.running() is not None:
            raise _Error(
                "OperationInProgressException", f"Another Operation on StackSet [{stack_set.id}] is in progress"
            )
        if stack_set.instances:
            raise _Error("StackSetNotEmptyException", "StackSet is not empty")
    _registry.of(self.current_account, self.region).pop(stack_set.id, None)
    return EmptyResult()


def create_stack_instances(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    accounts, regions = _accounts_regions(self, stack_set)
    if not accounts or not regions:
        raise ValidationError(message="Accounts and Regions are required")
    overrides = _parameters(self._get_param("ParameterOverrides") or [])
    with stack_set.condition:
        targets = [(a, r) for r in regions for a in accounts if (a, r) not in stack_set.instances]
        for key in targets:
            stack_set.instances[key] = Instance(key[0], key[1], overrides=dict(overrides))
    operation = _start(stack_set, _operation(self, "CREATE", targets))
    return ActionResult({"OperationId": operation.id})


def update_stack_instances(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    accounts, regions = _accounts_regions(self, stack_set)
    overrides = self._get_param("ParameterOverrides")
    with stack_set.condition:
        targets = [(a, r) for r in regions for a in accounts]
        missing = [key for key in targets if key not in stack_set.instances]
        if missing:
            raise _Error("StackInstanceNotFoundException", f"Stack instance {missing[0]} does not exist")
        for key in targets:
            if overrides is not None:
                stack_set.instances[key].overrides = _parameters(overrides, stack_set.instances[key].overrides)
    operation = _start(stack_set, _operation(self, "UPDATE", targets))
    return ActionResult({"OperationId": operation.id})


def delete_stack_instances(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    accounts, regions = _accounts_regions(self, stack_set)
    retain = self._get_param("RetainStacks") in (True, "true")
    with stack_set.condition:
        targets = [(a, r) for r in regions for a in accounts if (a, r) in stack_set.instances]
    operation = _start(stack_set, _operation(self, "DELETE", targets, retain_stacks=retain))
    return ActionResult({"OperationId": operation.id})


def _instance_summary(stack_set: LocalStackSet, instance: Instance) -> dict[str, Any]:
    return {
        "StackSetId": stack_set.id,
        "Region": instance.region,
        "Account": instance.account,
        **({"StackId": instance.stack_id} if instance.stack_id else {}),
        "Status": instance.status,
        "StatusReason": instance.reason,
        "StackInstanceStatus": {"DetailedStatus": instance.detailed},
        "DriftStatus": instance.drift_status,
        **({"LastDriftCheckTimestamp": instance.drift_checked} if instance.drift_checked else {}),
        **({"LastOperationId": instance.last_operation} if instance.last_operation else {}),
    }


def _page(self: Any, items: list[Any]) -> dict[str, Any]:
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or PAGE_SIZE)
    page = {"Summaries": items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return page


def list_stack_instances(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    account, region = self._get_param("StackInstanceAccount"), self._get_param("StackInstanceRegion")
    with stack_set.condition:
        summaries = [
            _instance_summary(stack_set, instance)
            for instance in stack_set.instances.values()
            if account in (None, instance.account) and region in (None, instance.region)
        ]
    return ActionResult(_page(self, summaries))


def describe_stack_instance(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    key = (self._get_param("StackInstanceAccount"), self._get_param("StackInstanceRegion"))
    with stack_set.condition:
        instance = stack_set.instances.get(key)
        if instance is None:
            raise _Error("StackInstanceNotFoundException", f"Stack instance {key[0]}/{key[1]} does not exist")
        description = _instance_summary(stack_set, instance)
        description["ParameterOverrides"] = _parameter_list(_masked(stack_set, instance.overrides))
    return ActionResult({"StackInstance": description})


def _find_operation(self: Any, stack_set: LocalStackSet) -> Operation:
    operation_id = self._get_param("OperationId")
    found = next((op for op in stack_set.operations if op.id == operation_id), None)
    if found is None:
        raise _Error("OperationNotFoundException", f"Operation {operation_id} not found")
    return found


def _operation_summary(stack_set: LocalStackSet, operation: Operation) -> dict[str, Any]:
    failed = sum(result[0] == "FAILED" for result in operation.results.values())
    return {
        "OperationId": operation.id,
        "StackSetId": stack_set.id,
        "Action": operation.action,
        "Status": operation.status,
        "OperationPreferences": operation.preferences,
        "RetainStacks": operation.retain_stacks,
        "AdministrationRoleARN": stack_set.administration_role_arn,
        "ExecutionRoleName": stack_set.execution_role_name,
        "CreationTimestamp": operation.created,
        **({"EndTimestamp": operation.ended} if operation.ended else {}),
        **({"StatusReason": operation.status_reason} if operation.status_reason else {}),
        "StatusDetails": {"FailedStackInstancesCount": failed},
    }


def describe_stack_set_operation(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    with stack_set.condition:
        return ActionResult({"StackSetOperation": _operation_summary(stack_set, _find_operation(self, stack_set))})


def list_stack_set_operations(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    with stack_set.condition:
        summaries = [_operation_summary(stack_set, op) for op in reversed(stack_set.operations)]
    return ActionResult(_page(self, summaries))


def list_stack_set_operation_results(self: Any) -> ActionResult:
    stack_set = _stack_set(self)
    with stack_set.condition:
        operation = _find_operation(self, stack_set)
        summaries = [
            {
                "Account": account,
                "Region": region,
                "Status": status,
                **({"StatusReason": reason} if reason else {}),
                "AccountGateResult": {
                    "Status": "SKIPPED",
                    "StatusReason": f"Function not found: arn:aws:lambda:{region}:{account}:function:"
                    "AWSCloudFormationStackSetAccountGate",
                },
            }
            for (account, region), (status, reason) in operation.results.items()
        ]
    return ActionResult(_page(self, summaries))


def stop_stack_set_operation(self: Any) -> EmptyResult:
    stack_set = _stack_set(self)
    with stack_set.condition:
        operation = _find_operation(self, stack_set)
        if operation.status in FINISHED:
            raise _Error("InvalidOperationException", f"Operation {operation.id} is {operation.status}")
        operation.stop.set()
        operation.status = "STOPPING" if operation.status == "RUNNING" else operation.status
    return EmptyResult()


_HANDLERS: dict[str, Callable[[Any], Any]] = {
    "create_stack_set": create_stack_set,
    "describe_stack_set": describe_stack_set,
    "list_stack_sets": list_stack_sets,
    "update_stack_set": update_stack_set,
    "delete_stack_set": delete_stack_set,
    "create_stack_instances": create_stack_instances,
    "update_stack_instances": update_stack_instances,
    "delete_stack_instances": delete_stack_instances,
    "list_stack_instances": list_stack_instances,
    "describe_stack_instance": describe_stack_instance,
    "describe_stack_set_operation": describe_stack_set_operation,
    "list_stack_set_operations": list_stack_set_operations,
    "list_stack_set_operation_results": list_stack_set_operation_results,
    "stop_stack_set_operation": stop_stack_set_operation,
    "detect_stack_set_drift": detect_stack_set_drift,
    "list_stack_instance_resource_drifts": list_stack_instance_resource_drifts,
}
_patched = False


def install_stackset_patches() -> None:
    """Answer the StackSet actions with this model instead of moto's (module docstring), and forget its
    StackSets whenever moto is reset (POST /moto-api/reset); idempotent."""
    global _patched
    if _patched:
        return
    for name, handler in _HANDLERS.items():
        setattr(cfn_responses.CloudFormationResponse, name, handler)
    moto_reset = MotoAPIBackend.reset

    def reset(self: MotoAPIBackend) -> None:
        _registry.reset()
        moto_reset(self)

    MotoAPIBackend.reset = reset
    _patched = True


def stacksets_behaviour() -> StackSetsBehaviour:
    return _behaviour


def reset_stacksets() -> None:
    """Forget every StackSet (their instances' stacks go with moto's own reset), release held instance work
    and clear the faults."""
    _registry.reset()
    _behaviour.instances.release()
    _behaviour.accounts_without_execution_role.clear()
    _behaviour.reserialise_templates = False
