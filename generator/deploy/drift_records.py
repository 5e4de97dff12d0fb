"""CloudFormation's drift records (DescribeStackResourceDrifts, ListStackInstanceResourceDrifts) read into the
report's types, the same for both deploy modes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from generator.deploy.reports import DriftState, PropertyDrift, ResourceDrift, StackDrift
from generator.deploy.stack_states import format_time


def resource_drift(record: Mapping[str, Any], status: str) -> ResourceDrift:
    return ResourceDrift(
        record.get("LogicalResourceId", "?"),
        record.get("PhysicalResourceId", ""),
        record.get("ResourceType", "?"),
        status,
        tuple(
            PropertyDrift(
                item.get("PropertyPath", "?"),
                item.get("ExpectedValue", ""),
                item.get("ActualValue", ""),
                item.get("DifferenceType", "NOT_EQUAL"),
            )
            for item in record.get("PropertyDifferences") or []
        ),
    )


def stack_drift(
    region: str,
    stack: str,
    records: Iterable[Mapping[str, Any]],
    checked_at: Any,
    account: str = "",
    reason: str = "",
) -> StackDrift:
    """A stack's (instance's) drift from its resources' records: drifted when one is modified or deleted; the
    ones not checked are kept (custom resources: CloudFormation does not check them, and the report says so)."""
    resources, in_sync = [], 0
    for record in records:
        status = record.get("StackResourceDriftStatus", "")  # so named in both APIs' records
        if status == "IN_SYNC":
            in_sync += 1
        else:
            resources.append(resource_drift(record, status))
    drifted = any(resource.drifted for resource in resources)
    if drifted:
        state = DriftState.DRIFTED
    elif reason:
        state = DriftState.NOT_CHECKED
    else:
        state = DriftState.IN_SYNC
    return StackDrift(
        region,
        stack,
        state,
        account=account,
        checked_at=format_time(checked_at) if checked_at else "",
        resources=tuple(resources),
        in_sync_count=in_sync,
        reason=reason,
    )
