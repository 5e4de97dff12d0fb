"""Reading one stack, and the one decision of what its status means for deploy, plan and destroy.

CloudFormation reports dozens of statuses; every command needs to know only which of a few conditions
a stack is in (StackCondition), decided here once (classify) so deploy, plan and destroy agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from generator.deploy.statuses import (
    CHANGE_SET_BEING_MADE,
    CHANGE_SET_LIVE_EXECUTION,
    NEEDS_ATTENTION,
    ChangeSetStatus,
    StackStatus,
    in_progress,
)
from generator.deploy.template_bodies import parsed_template


class StackCondition(StrEnum):
    ABSENT = "absent"  # no stack: a deploy creates it
    READY = "ready"  # a settled status: a deploy updates it (or finds nothing to change)
    LEFTOVER = "leftover"  # under review with no live change set: an empty stack an earlier run left
    FAILED_CREATE = "failed-create"  # ROLLBACK_COMPLETE: a deploy deletes it and creates it again
    BUSY = "busy"  # an operation in progress, or a change set another run is making: leave it alone
    NEEDS_ATTENTION = "needs-attention"  # a *_FAILED status: fix it in the console first


@dataclass(frozen=True)
class StackSituation:
    """A stack (None when absent), its condition, and for BUSY and NEEDS_ATTENTION why, in words."""

    stack: dict[str, Any] | None
    condition: StackCondition
    why: str = ""

    @property
    def status(self) -> str:
        return self.stack["StackStatus"] if self.stack else ""


def classify(client: Any, stack: dict[str, Any] | None, label: str) -> StackSituation:
    """What `stack` (as describe_stack returns it; `label` names it in messages) means for the commands."""
    if stack is None:
        return StackSituation(None, StackCondition.ABSENT)
    status = stack["StackStatus"]
    # A stack made by a CREATE change set waits in REVIEW_IN_PROGRESS until one of its change sets is executed.
    if status == StackStatus.REVIEW_IN_PROGRESS:
        others = active_change_sets(client, stack["StackId"])
        if others:
            why = f"{label} is being created by another run: {describe_change_set_summary(others[0])}"
            return StackSituation(stack, StackCondition.BUSY, why)
        return StackSituation(stack, StackCondition.LEFTOVER)
    if in_progress(status):
        since = stack.get("DeletionTime") or stack.get("LastUpdatedTime") or stack.get("CreationTime")
        why = f"{label} is busy: {status} since {format_time(since)} (another deploy or destroy?)"
        return StackSituation(stack, StackCondition.BUSY, why)
    if status == StackStatus.ROLLBACK_COMPLETE:  # an earlier create failed: it holds nothing, can only go
        return StackSituation(stack, StackCondition.FAILED_CREATE)
    if status in NEEDS_ATTENTION:
        return StackSituation(
            stack, StackCondition.NEEDS_ATTENTION, f"{label} is in {status} and needs attention in the console first"
        )
    return StackSituation(stack, StackCondition.READY)


def describe_stack(client: Any, name_or_id: str) -> dict[str, Any] | None:
    """The stack, or None when there is none (or only a deleted one)."""
    try:
        stacks = client.describe_stacks(StackName=name_or_id)["Stacks"]
    except ClientError as error:
        if does_not_exist(error):
            return None
        raise
    stack = stacks[0] if stacks else None
    return None if stack is None or stack["StackStatus"] == StackStatus.DELETE_COMPLETE else stack


def deployed_template(client: Any, name: str) -> dict[str, Any] | None:
    """The template a stack was last deployed with (GetTemplate, Original stage); None when there is no stack or
    it has no resources of that template: ROLLBACK_COMPLETE (its create failed; deploy recreates it) or
    REVIEW_IN_PROGRESS (a change set was made but never executed)."""
    stack = describe_stack(client, name)
    if stack is None or stack["StackStatus"] in (StackStatus.ROLLBACK_COMPLETE, StackStatus.REVIEW_IN_PROGRESS):
        return None
    body = client.get_template(StackName=stack["StackId"], TemplateStage="Original")["TemplateBody"]
    # botocore decodes a JSON body into a document; a YAML one stays text
    return body if isinstance(body, dict) else parsed_template(body)


def stack_outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {output["OutputKey"]: str(output["OutputValue"]) for output in (stack or {}).get("Outputs", []) or []}


def does_not_exist(error: ClientError) -> bool:
    return "does not exist" in str(error.response.get("Error", {}).get("Message", ""))


def format_time(when: Any) -> str:
    """A CloudFormation timestamp (a datetime in UTC) as the summary and the messages show it."""
    return when.strftime("%Y-%m-%d %H:%M:%SZ") if hasattr(when, "strftime") else str(when or "?")


def active_change_sets(client: Any, stack_id: str) -> list[dict[str, Any]]:
    """The stack's change sets that are being made, ready to execute or executing, oldest first."""
    summaries: list[dict[str, Any]] = []
    for page in client.get_paginator("list_change_sets").paginate(StackName=stack_id):
        summaries.extend(page.get("Summaries", []))
    active = [
        summary
        for summary in summaries
        if summary.get("Status") in CHANGE_SET_BEING_MADE
        or (
            summary.get("Status") == ChangeSetStatus.CREATE_COMPLETE
            and summary.get("ExecutionStatus") in CHANGE_SET_LIVE_EXECUTION
        )
    ]
    return sorted(active, key=age_order)


def age_order(summary: dict[str, Any]) -> tuple[str, str]:
    """CreationTime first, then the name: every run sorts the same change sets the same way."""
    created = summary.get("CreationTime")
    return (created.isoformat() if hasattr(created, "isoformat") else str(created or ""), summary["ChangeSetName"])


def describe_change_set_summary(summary: dict[str, Any]) -> str:
    made = summary.get("Status") == ChangeSetStatus.CREATE_COMPLETE
    status = summary.get("ExecutionStatus") if made else summary.get("Status")
    return f"change set {summary['ChangeSetName']} ({status}, made {format_time(summary.get('CreationTime'))})"
