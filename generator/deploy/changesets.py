"""Change sets: how every stack operation goes to CloudFormation (a template with a Transform cannot go
through CreateStack), and what a change set says it would change.

An empty change set means "unchanged" (CloudFormation fails it with one of NO_CHANGES_REASONS) and is
deleted. Two runs making change sets for one stack at once: the older change set goes ahead.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from generator.deploy.reports import PlannedChange, PropertyChange
from generator.deploy.specs import StackSpec
from generator.deploy.stack_errors import Busy, ChangeSetFailed, Stopped
from generator.deploy.stack_states import active_change_sets, age_order, describe_change_set_summary
from generator.deploy.statuses import CHANGE_SET_STARTED, ChangeSetStatus, ExecutionStatus

# What CloudFormation answers about our change set once another run's change set for the stack was executed:
# it deleted ours (ChangeSetNotFound) or ours can no longer run (InvalidChangeSetStatus).
SUPERSEDED = ("ChangeSetNotFound", "InvalidChangeSetStatus")

# An empty change set fails with one of these reasons; it means "nothing to do".
NO_CHANGES_REASONS = ("No updates are to be performed", "The submitted information didn't contain changes")
CHANGE_SET_PREFIX = "packet-counter"


def create_change_set(
    client: Any, spec: StackSpec, kind: str, purpose: str, poll_interval: float, stop: threading.Event
) -> dict | None:
    """A ready change set (its description, with property values), or None when it would change nothing
    (then it is deleted). Raises Stopped (the change set deleted, never executed) when `stop` is set while
    it is being made, and Busy (ours deleted) when another run made one for the same stack first."""
    try:
        created = client.create_change_set(
            StackName=spec.name,
            ChangeSetName=_change_set_name(purpose),
            ChangeSetType=kind,
            TemplateBody=spec.template_body,
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in spec.parameters.items()],
            Capabilities=list(spec.capabilities),
            Tags=[{"Key": key, "Value": value} for key, value in spec.tags.items()],
        )
    except ClientError as error:
        if no_changes(str(error)):
            return None
        raise
    _contest(client, spec, created)
    while True:
        try:
            description = _describe_change_set(client, created["Id"])
        except ClientError as error:
            if error_code(error) in SUPERSEDED:
                raise _superseded(client, spec, created["StackId"], created["Id"]) from None
            raise
        status = description["Status"]
        if status == ChangeSetStatus.CREATE_COMPLETE:
            return description
        if status == ChangeSetStatus.FAILED:
            reason = description.get("StatusReason", "")
            withdraw_change_set(client, created["Id"])
            if no_changes(reason):
                return None
            raise ChangeSetFailed(reason or "change set failed with no reason given", created.get("StackId", ""))
        if stop.wait(poll_interval):
            withdraw_change_set(client, created["Id"])
            raise Stopped()


def execute_change_set(client: Any, spec: StackSpec, change_set: dict[str, Any]) -> None:
    """Execute our ready change set. If another run's change set for the stack ran first, CloudFormation has
    deleted ours (or it is no longer available): Busy, naming that change set, and nothing was changed by us."""
    try:
        # The token makes a retry of this call (botocore retries a call whose answer was lost) the same
        # request: CloudFormation answers it as done instead of refusing a change set already executing.
        client.execute_change_set(ChangeSetName=change_set["ChangeSetId"], ClientRequestToken=request_token())
    except ClientError as error:
        if error_code(error) in SUPERSEDED:
            raise _superseded(client, spec, change_set["StackId"], change_set["ChangeSetId"]) from None
        raise


def execution_started(client: Any, change_set_id: str) -> bool:
    """Whether CloudFormation has taken the change set for execution (it runs, ran, or was deleted because
    it ran: CloudFormation keeps an executed change set, so a missing one was replaced by another run's)."""
    try:
        description = client.describe_change_set(ChangeSetName=change_set_id)
    except ClientError as error:
        if error_code(error) in SUPERSEDED:
            return True
        raise
    return description.get("ExecutionStatus") in CHANGE_SET_STARTED


def withdraw_change_set(client: Any, change_set_id: str) -> None:
    """Delete our change set; one already gone (another run's change set was executed) is just as withdrawn."""
    try:
        client.delete_change_set(ChangeSetName=change_set_id)
    except ClientError as error:
        if error_code(error) != "ChangeSetNotFound":
            raise


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _superseded(client: Any, spec: StackSpec, stack_id: str, mine: str) -> Busy:
    """Ours is gone: when a change set is executed, CloudFormation deletes the stack's other change sets."""
    summaries: list[dict[str, Any]] = []
    for page in client.get_paginator("list_change_sets").paginate(StackName=stack_id):
        summaries.extend(page.get("Summaries", []))
    ran = [s for s in summaries if s["ChangeSetId"] != mine and s.get("ExecutionStatus", "").startswith("EXECUTE_")]
    which = describe_change_set_summary(max(ran, key=age_order)) if ran else "another change set"
    return Busy(
        f"{spec.label} is being deployed by another run: {which}; "
        "ours is withdrawn: CloudFormation deleted it when that one was executed"
    )


def request_token() -> str:
    """A ClientRequestToken (ExecuteChangeSet, DeleteStack): 1 to 128 of [a-zA-Z0-9-], starting alphanumeric."""
    return f"{CHANGE_SET_PREFIX}-{uuid.uuid4().hex}"


def no_changes(reason: str) -> bool:
    return any(marker in reason for marker in NO_CHANGES_REASONS)


def _change_set_name(purpose: str) -> str:
    return f"{CHANGE_SET_PREFIX}-{purpose}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def _contest(client: Any, spec: StackSpec, created: dict[str, str]) -> None:
    """Two runs made change sets for the same stack at once: the older change set (by CreationTime, then
    name) goes ahead; the younger run deletes its own and raises Busy naming the other."""
    mine = created["Id"]
    active = active_change_sets(client, created["StackId"])
    own = next((summary for summary in active if summary["ChangeSetId"] == mine), None)
    rivals = [summary for summary in active if summary["ChangeSetId"] != mine and _goes_first(summary, own)]
    if rivals:
        withdraw_change_set(client, mine)
        raise Busy(
            f"{spec.label} is being deployed by another run: {describe_change_set_summary(rivals[0])}; "
            "ours was made later and is withdrawn"
        )


def _goes_first(other: dict[str, Any], own: dict[str, Any] | None) -> bool:
    """Whether another run's active change set beats ours: it is executing, it is older, or ours is not active
    (then we cannot tell who came first, and stepping back is the safe side)."""
    executing = other.get("ExecutionStatus") == ExecutionStatus.EXECUTE_IN_PROGRESS
    return own is None or executing or age_order(other) < age_order(own)


def _describe_change_set(client: Any, change_set_id: str) -> dict[str, Any]:
    description: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs = {
            "ChangeSetName": change_set_id,
            "IncludePropertyValues": True,
            **({"NextToken": token} if token else {}),
        }
        page = client.describe_change_set(**kwargs)
        description = description or page
        changes.extend(page.get("Changes", []))
        token = page.get("NextToken")
        if not token:
            break
    return {**description, "Changes": changes}


def planned_changes(description: dict[str, Any]) -> list[PlannedChange]:
    """The resources a change set would add, modify or remove, each with its changed properties."""
    changes = []
    for change in description.get("Changes", []):
        resource = change.get("ResourceChange", {})
        changes.append(
            PlannedChange(
                action=resource.get("Action", "?"),
                logical_id=resource.get("LogicalResourceId", "?"),
                resource_type=resource.get("ResourceType", "?"),
                replacement=str(resource.get("Replacement") or ""),
                properties=_property_changes(resource.get("Details") or []),
            )
        )
    return changes


def _property_changes(details: list[dict[str, Any]]) -> tuple[PropertyChange, ...]:
    """One PropertyChange per changed property (CloudFormation may list a property once per cause)."""
    found: dict[str, PropertyChange] = {}
    for detail in details:
        target = detail.get("Target") or {}
        if target.get("Attribute") != "Properties" or not target.get("Name"):
            continue
        name = target["Name"]
        found.setdefault(
            name,
            PropertyChange(
                name=name,
                change=target.get("AttributeChangeType") or "Modify",
                before=_as_text(target.get("BeforeValue")),
                after=_as_text(target.get("AfterValue")),
                recreation=target.get("RequiresRecreation") or "",
            ),
        )
    return tuple(found.values())


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)
