"""Reading a StackSet and its instances, and the one decision of what an instance's status means for deploy,
plan, status and destroy (classify_instance), as stack_states.classify decides it for a stack.

An instance has a Status (CURRENT, OUTDATED, INOPERABLE) and, inside it, the DetailedStatus of the last
operation that touched it (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from generator.deploy.stacksets.specs import Instance
from generator.deploy.statuses import InstanceDetailedStatus, InstanceStatus


class InstanceCondition(StrEnum):
    CURRENT = "current"  # as the StackSet says: nothing to do
    OUTDATED = "outdated"  # an operation did not reach it (failed, cancelled, or skipped): deploy tries it again
    BUSY = "busy"  # an operation (another run's) is working on it: leave it to that operation
    NEEDS_ATTENTION = "needs-attention"  # INOPERABLE: a delete failed; AWS wants it deleted with RetainStacks


def classify_instance(summary: dict[str, Any]) -> InstanceCondition:
    detailed = (summary.get("StackInstanceStatus") or {}).get("DetailedStatus", "")
    if summary.get("Status") == InstanceStatus.INOPERABLE or detailed == InstanceDetailedStatus.INOPERABLE:
        return InstanceCondition.NEEDS_ATTENTION
    if detailed in (InstanceDetailedStatus.PENDING, InstanceDetailedStatus.RUNNING):
        return InstanceCondition.BUSY
    if summary.get("Status") == InstanceStatus.CURRENT:
        return InstanceCondition.CURRENT
    return InstanceCondition.OUTDATED


def describe_instance(summary: dict[str, Any]) -> str:
    """An instance's status in words: `OUTDATED (FAILED: reason)`."""
    detailed = (summary.get("StackInstanceStatus") or {}).get("DetailedStatus", "")
    reason = summary.get("StatusReason") or ""
    inside = ": ".join(part for part in (detailed, reason) if part)
    return f"{summary.get('Status', '?')}" + (f" ({inside})" if inside else "")


@dataclass
class StackSetState:
    """What is deployed of one StackSet: its description (None when there is none) and its instances."""

    name: str
    region: str
    description: dict[str, Any] | None
    instances: dict[Instance, dict[str, Any]] = field(default_factory=dict)  # (account, region) -> summary
    # (account, region) -> its parameter overrides (a NoEcho one masked), when asked for
    overrides: dict[Instance, dict[str, str]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.description is not None

    def condition(self, instance: Instance) -> InstanceCondition | None:
        summary = self.instances.get(instance)
        return None if summary is None else classify_instance(summary)


def look_up(client: Any, name: str, region: str, overrides: bool = False) -> StackSetState:
    """The StackSet `name` of the caller's account in `region` and every instance of it (with `overrides`, each
    instance's parameter overrides too: one DescribeStackInstance per instance)."""
    try:
        description = client.describe_stack_set(StackSetName=name)["StackSet"]
    except ClientError as error:
        if _not_found(error):
            return StackSetState(name, region, None)
        raise
    instances: dict[Instance, dict[str, Any]] = {}
    for page in client.get_paginator("list_stack_instances").paginate(StackSetName=name):
        for summary in page.get("Summaries", []):
            instances[(summary["Account"], summary["Region"])] = summary
    state = StackSetState(name, region, description, instances)
    if overrides:
        for account, instance_region in instances:
            found = client.describe_stack_instance(
                StackSetName=name, StackInstanceAccount=account, StackInstanceRegion=instance_region
            )["StackInstance"]
            state.overrides[(account, instance_region)] = {
                item["ParameterKey"]: item.get("ParameterValue", "") for item in found.get("ParameterOverrides") or []
            }
    return state


def _not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "StackSetNotFoundException"
