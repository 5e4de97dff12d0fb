"""`drift` with a stacksets: section: DetectStackSetDrift on both StackSets (CloudFormation checks the stack of
every instance, in its account, and keeps each instance's DriftStatus), then per instance
ListStackInstanceResourceDrifts of that operation: the resources that drifted and how (API reference). All
from the administrator account; no execution role is assumed.
"""

from __future__ import annotations

import threading
from typing import Any

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, fault_text
from generator.deploy.drift_records import stack_drift
from generator.deploy.engine_base import Run
from generator.deploy.reports import DriftReport, DriftState, StackDrift
from generator.deploy.stacksets.instance_states import StackSetState, look_up
from generator.deploy.stacksets.operations import OperationOutcome, new_operation_id, start_operation, watch_operation
from generator.deploy.stacksets.specs import (
    Instance,
    global_stackset_spec,
    operation_preferences,
    regional_stackset_spec,
)
from generator.deploy.statuses import OperationStatus
from generator.render import render_templates

PAGE_SIZE = 100  # ListStackInstanceResourceDrifts MaxResults: at most 100


def drift_stacksets(run: Run) -> DriftReport:
    config, relay = run.config, run.relay
    templates = render_templates(config)
    admin = run.clients.cloudformation(config.home_region)
    stop = threading.Event()
    found: list[StackDrift] = []
    for spec in (global_stackset_spec(config, templates), regional_stackset_spec(config, templates)):
        try:
            state = look_up(admin, spec.name, spec.region)
        except AWS_FAULTS as error:
            found += [_unchecked(spec.name, key, fault_text(error)) for key in spec.instances]
            continue
        wanted = list(dict.fromkeys([*spec.instances, *state.instances]))
        if not state.exists:
            found += [_absent(spec.name, key, f"StackSet {spec.name} does not exist") for key in wanted]
            continue
        relay.waiting(f"drift detection of StackSet {spec.name} in {spec.region}")
        try:
            operation_id, problem = _detect(admin, config, spec.name, state, run.poll_interval, stop)
            state = look_up(admin, spec.name, spec.region)  # each instance's DriftStatus, now set
        except AWS_FAULTS as error:
            operation_id, problem = "", fault_text(error)
        if problem:
            found += [_unchecked(spec.name, key, problem) for key in wanted]
            continue
        for key in wanted:
            found.append(_instance_drift(admin, spec.name, state, key, operation_id))
    return DriftReport(found)


def _detect(
    client: Any, config: Config, name: str, state: StackSetState, poll_interval: float, stop: threading.Event
) -> tuple[str, str]:
    """(the drift detection operation's id, "" or why it checked no instance)."""
    operation_id = new_operation_id()
    regions = list(dict.fromkeys(region for _, region in state.instances))
    start_operation(
        client,
        "detect_stack_set_drift",
        operation_id,
        StackSetName=name,
        OperationPreferences=operation_preferences(config, regions),
    )
    outcome = watch_operation(
        client,
        name,
        OperationOutcome(operation_id, "DETECT_DRIFT"),
        lambda key, status, reason: None,
        lambda status, reason: None,
        poll_interval,
        stop,
    )
    if outcome.status != OperationStatus.SUCCEEDED and not outcome.instances:
        return operation_id, f"drift detection {outcome.status}: {outcome.reason or 'no reason given'}"
    return operation_id, ""


def _instance_drift(client: Any, name: str, state: StackSetState, key: Instance, operation_id: str) -> StackDrift:
    account, region = key
    summary = state.instances.get(key)
    if summary is None:
        return _absent(name, key, "no instance: deploy it first")
    drift = summary.get("DriftStatus", "NOT_CHECKED")
    checked = summary.get("LastDriftCheckTimestamp")
    if drift not in ("DRIFTED", "IN_SYNC"):
        why = "its stack was not checked" + (f" ({summary.get('StatusReason')})" if summary.get("StatusReason") else "")
        return StackDrift(region, name, DriftState.NOT_CHECKED, account=account, reason=f"{drift}: {why}")
    try:
        records = _resource_drifts(client, name, account, region, operation_id)
    except AWS_FAULTS as error:
        return _unchecked(name, key, fault_text(error))
    return stack_drift(region, name, records, checked, account=account)


def _resource_drifts(client: Any, name: str, account: str, region: str, operation_id: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.list_stack_instance_resource_drifts(
            StackSetName=name,
            StackInstanceAccount=account,
            StackInstanceRegion=region,
            OperationId=operation_id,
            MaxResults=PAGE_SIZE,
            **({"NextToken": token} if token else {}),
        )
        records += page.get("Summaries", [])
        token = page.get("NextToken")
        if not token:
            return records


def _absent(name: str, key: Instance, why: str) -> StackDrift:
    return StackDrift(key[1], name, DriftState.NOT_DEPLOYED, account=key[0], reason=why)


def _unchecked(name: str, key: Instance, why: str) -> StackDrift:
    return StackDrift(key[1], name, DriftState.NOT_CHECKED, account=key[0], reason=why)
