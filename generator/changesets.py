"""One stack in one region, through CloudFormation change sets: deploy, plan, delete, and watch.

Written for real CloudFormation: a template with a Transform cannot go through CreateStack, so
everything goes through change sets; an empty change set means "unchanged"; a stack left in
ROLLBACK_COMPLETE is deleted and created again; progress comes from polling describe_stacks and
describe_stack_events (botocore's waiters poll every 30 s and show nothing).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from generator.stacks import StackSpec

# An empty change set fails with one of these reasons; it means "nothing to do".
NO_CHANGES_REASONS = ("No updates are to be performed", "The submitted information didn't contain changes")
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
STACK_TYPE = "AWS::CloudFormation::Stack"
# describe_stacks every this many polls, besides the end (the events carry the status meanwhile).
DESCRIBE_EVERY = 10
# Descriptions that may show a final status without its stack event before we believe it anyway.
STALE_DESCRIPTIONS = 2
NEEDS_ATTENTION = {"ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"}

# (state, latest event text or None) for the live line of this stack
OnProgress = Callable[[str, str | None], None]


class Stopped(Exception):
    """The user asked to stop waiting (Ctrl-C); CloudFormation carries on without us."""


@dataclass
class StackResult:
    """What happened to one stack: the row of the summary table."""

    region: str
    stack: str
    action: str  # created, updated, unchanged, failed, deleted, absent
    status: str = ""
    reason: str = ""
    note: str = ""
    started: float = 0.0  # time.monotonic()
    finished: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.action != "failed"

    @property
    def duration(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True)
class PlannedChange:
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str = ""  # True, False, Conditional, or "" when CloudFormation does not say


@dataclass
class StackPlan:
    region: str
    stack: str
    kind: str  # create, update, unchanged, recreate, failed
    changes: list[PlannedChange] = field(default_factory=list)
    reason: str = ""


class StackWatcher:
    """Polls one stack until it leaves *_IN_PROGRESS, reporting each new event once (by EventId)."""

    def __init__(
        self, client: Any, stack_id: str, on_progress: OnProgress, poll_interval: float, stop: threading.Event
    ) -> None:
        self.client = client
        self.stack_id = stack_id
        self.on_progress = on_progress
        self.poll_interval = poll_interval
        self.stop = stop
        self.seen: set[str] = set()
        self.events: list[dict[str, Any]] = []  # oldest first

    def skip_existing_events(self) -> None:
        """Events from before this operation are history, not progress (nor its failure reason)."""
        self._new_events()
        self.events.clear()

    def wait(self) -> dict[str, Any]:
        """The stack once its operation is over. Each poll costs one call (the events, whose stack-level
        entries carry the status); describe_stacks runs only at the end and every DESCRIBE_EVERY polls,
        which halves the calls that parallel regions make (throttling)."""
        status = "IN_PROGRESS"  # until the first stack-level event or description says more
        final_without_event = 0
        poll = 0
        while True:
            poll += 1
            new = self._new_events()
            stack_events = [event for event in new if event.get("ResourceType") == STACK_TYPE]
            if stack_events:
                status = stack_events[-1]["ResourceStatus"]
            event_says_final = bool(stack_events) and not status.endswith("_IN_PROGRESS")
            latest = describe_event(new[-1]) if new else None
            if event_says_final or poll % DESCRIBE_EVERY == 1:
                stack = describe_stack(self.client, self.stack_id)
                if stack is None:
                    self.on_progress("DELETE_COMPLETE", latest)
                    return {"StackStatus": "DELETE_COMPLETE", "StackId": self.stack_id}
                described = stack["StackStatus"]
                if not described.endswith("_IN_PROGRESS"):
                    # Right after Execute/Delete, describe_stacks may still show the previous final
                    # status: the operation is over once the stack's own final event has appeared
                    # (but never wait forever for an event CloudFormation may have dropped).
                    final_without_event += 0 if event_says_final else 1
                    if event_says_final or final_without_event > STALE_DESCRIPTIONS:
                        self.on_progress(described, latest)
                        return stack
                else:
                    final_without_event = 0  # the stale final status is gone: count afresh next time
                    if not stack_events:
                        status = described
            self.on_progress(status, latest)
            if self.stop.wait(self.poll_interval):
                raise Stopped()

    def _new_events(self) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        try:
            for page in self.client.get_paginator("describe_stack_events").paginate(StackName=self.stack_id):
                page_events = page.get("StackEvents", [])
                fresh.extend(event for event in page_events if event["EventId"] not in self.seen)
                if any(event["EventId"] in self.seen for event in page_events):
                    break  # newest first: the rest has been seen
        except ClientError as error:
            if not _does_not_exist(error):
                raise
        fresh.sort(key=lambda event: event["Timestamp"])
        for event in fresh:
            self.seen.add(event["EventId"])
        self.events.extend(fresh)
        return fresh

    def failure_reason(self) -> str:
        """The first resource that failed and why; else the stack's own reason."""
        for event in self.events:
            resource_type = event.get("ResourceType", "?")
            if event["ResourceStatus"].endswith("_FAILED") and resource_type != STACK_TYPE:
                reason = event.get("ResourceStatusReason") or "no reason given"
                return f"{event['LogicalResourceId']} ({resource_type}) {event['ResourceStatus']}: {reason}"
        for event in reversed(self.events):
            if event.get("ResourceStatusReason") and event["ResourceStatusReason"] != "User Initiated":
                return event["ResourceStatusReason"]
        return "no failure event found"


def describe_event(event: dict[str, Any]) -> str:
    text = f"{event['LogicalResourceId']} {event['ResourceStatus']}"
    reason = event.get("ResourceStatusReason")
    return f"{text}: {reason}" if reason and reason != "User Initiated" else text


def _does_not_exist(error: ClientError) -> bool:
    return "does not exist" in str(error.response.get("Error", {}).get("Message", ""))


def _no_changes(reason: str) -> bool:
    return any(marker in reason for marker in NO_CHANGES_REASONS)


def describe_stack(client: Any, name_or_id: str) -> dict[str, Any] | None:
    """The stack, or None when there is none (or only a deleted one)."""
    try:
        stacks = client.describe_stacks(StackName=name_or_id)["Stacks"]
    except ClientError as error:
        if _does_not_exist(error):
            return None
        raise
    stack = stacks[0] if stacks else None
    return None if stack is None or stack["StackStatus"] == "DELETE_COMPLETE" else stack


def stack_outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {output["OutputKey"]: str(output["OutputValue"]) for output in (stack or {}).get("Outputs", []) or []}


def _change_set_name(purpose: str) -> str:
    return f"packet-counter-{purpose}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def create_change_set(
    client: Any, spec: StackSpec, kind: str, purpose: str, poll_interval: float, stop: threading.Event
) -> dict | None:
    """A ready change set (its description), or None when it would change nothing (then it is deleted).
    Raises Stopped (the change set deleted, never executed) when `stop` is set while it is being made."""
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
        if _no_changes(str(error)):
            return None
        raise
    while True:
        description = _describe_change_set(client, created["Id"])
        status = description["Status"]
        if status == "CREATE_COMPLETE":
            return description
        if status == "FAILED":
            reason = description.get("StatusReason", "")
            client.delete_change_set(ChangeSetName=created["Id"])
            if _no_changes(reason):
                return None
            raise ChangeSetFailed(reason or "change set failed with no reason given", created.get("StackId", ""))
        if stop.wait(poll_interval):
            client.delete_change_set(ChangeSetName=created["Id"])
            raise Stopped()


def _describe_change_set(client: Any, change_set_id: str) -> dict[str, Any]:
    description: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs = {"ChangeSetName": change_set_id, **({"NextToken": token} if token else {})}
        page = client.describe_change_set(**kwargs)
        description = description or page
        changes.extend(page.get("Changes", []))
        token = page.get("NextToken")
        if not token:
            break
    return {**description, "Changes": changes}


class ChangeSetFailed(Exception):
    """CloudFormation refused to make the change set (template or parameter problem)."""

    def __init__(self, reason: str, stack_id: str = "") -> None:
        super().__init__(reason)
        self.stack_id = stack_id  # a CREATE change set's stack, left in REVIEW_IN_PROGRESS


def planned_changes(description: dict[str, Any]) -> list[PlannedChange]:
    changes = []
    for change in description.get("Changes", []):
        resource = change.get("ResourceChange", {})
        changes.append(
            PlannedChange(
                action=resource.get("Action", "?"),
                logical_id=resource.get("LogicalResourceId", "?"),
                resource_type=resource.get("ResourceType", "?"),
                replacement=str(resource.get("Replacement") or ""),
            )
        )
    return changes


def deploy_stack(
    client: Any,
    spec: StackSpec,
    on_progress: OnProgress,
    on_note: Callable[[str], None],
    poll_interval: float,
    stop: threading.Event,
) -> StackResult:
    """Create or update one stack through a change set and wait for it; never raises for AWS failures."""
    result = StackResult(spec.region, spec.name, "failed", started=time.monotonic())
    try:
        _deploy(client, spec, result, on_progress, on_note, poll_interval, stop)
    except ChangeSetFailed as error:
        result.action, result.reason = "failed", f"change set refused: {error}"
    except ClientError as error:
        result.action, result.reason = "failed", _client_error_text(error, spec.region)
    except BotoCoreError as error:  # no credentials, endpoint unreachable: this region's failure, said plainly
        result.action, result.reason = "failed", str(error)
    result.finished = time.monotonic()
    on_progress(result.action if result.ok else "FAILED", None)
    return result


def _client_error_text(error: ClientError, region: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    text = str(error)
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure"):
        text += f" (is {region} an opt-in region not enabled for this account?)"
    return text


def _deploy(client, spec, result, on_progress, on_note, poll_interval, stop) -> None:
    existing = describe_stack(client, spec.name)
    status = existing["StackStatus"] if existing else ""
    if status == "ROLLBACK_COMPLETE" or status == "REVIEW_IN_PROGRESS":
        if status == "ROLLBACK_COMPLETE":
            on_note(f"{spec.label} is in ROLLBACK_COMPLETE (an earlier create failed); deleting it to create it again")
            result.note = "ROLLBACK_COMPLETE stack deleted first"
        deleted = _delete_and_wait(client, existing, on_progress, poll_interval, stop)
        if deleted["StackStatus"] != "DELETE_COMPLETE":
            result.status = deleted["StackStatus"]
            result.reason = f"could not delete the {status} stack first: {deleted.get('Reason', 'no reason given')}"
            return
        existing, status = None, ""
    if status.endswith("_IN_PROGRESS"):
        result.status, result.reason = status, f"{spec.label} is busy ({status}); run again when it has finished"
        return
    if status in NEEDS_ATTENTION:
        result.status, result.reason = status, f"{spec.label} is in {status} and needs attention in the console first"
        return
    kind = "UPDATE" if existing else "CREATE"
    on_progress("CREATING_CHANGE_SET", None)
    change_set = create_change_set(client, spec, kind, "deploy", poll_interval, stop)
    if change_set is None:
        result.action, result.status, result.outputs = "unchanged", status, stack_outputs(existing)
        return
    if stop.is_set():  # Ctrl-C came while the change set was being made: never execute it
        client.delete_change_set(ChangeSetName=change_set["ChangeSetId"])
        raise Stopped()
    watcher = StackWatcher(client, change_set["StackId"], on_progress, poll_interval, stop)
    watcher.skip_existing_events()
    client.execute_change_set(ChangeSetName=change_set["ChangeSetId"])
    final = watcher.wait()
    result.status, result.outputs = final["StackStatus"], stack_outputs(final)
    if result.status in SUCCESS:
        result.action = "created" if kind == "CREATE" else "updated"
    else:
        result.action, result.reason = "failed", watcher.failure_reason()


def _delete_and_wait(client, stack, on_progress, poll_interval, stop) -> dict[str, Any]:
    watcher = StackWatcher(client, stack["StackId"], on_progress, poll_interval, stop)
    watcher.skip_existing_events()
    client.delete_stack(StackName=stack["StackId"])
    final = watcher.wait()
    if final["StackStatus"] != "DELETE_COMPLETE":
        final = {**final, "Reason": watcher.failure_reason()}
    return final


def delete_stack(
    client: Any, region: str, name: str, on_progress: OnProgress, poll_interval: float, stop: threading.Event
) -> StackResult:
    """Delete one stack and wait; "absent" when there was none."""
    result = StackResult(region, name, "failed", started=time.monotonic())
    try:
        existing = describe_stack(client, name)
        if existing is None:
            result.action = "absent"
        else:
            final = _delete_and_wait(client, existing, on_progress, poll_interval, stop)
            result.status = final["StackStatus"]
            if result.status == "DELETE_COMPLETE":
                result.action = "deleted"
            else:
                result.reason = final.get("Reason", result.status)
    except ClientError as error:
        result.reason = _client_error_text(error, region)
    except BotoCoreError as error:
        result.reason = str(error)
    result.finished = time.monotonic()
    on_progress(result.action if result.ok else "FAILED", None)
    return result


def plan_stack(client: Any, spec: StackSpec, poll_interval: float, stop: threading.Event) -> StackPlan:
    """What deploying `spec` would change: a change set made, described and deleted, never executed."""
    plan = StackPlan(spec.region, spec.name, "unchanged")
    kind = ""
    try:
        existing = describe_stack(client, spec.name)
        status = existing["StackStatus"] if existing else ""
        if status == "ROLLBACK_COMPLETE":
            plan.kind, plan.reason = "recreate", "in ROLLBACK_COMPLETE: deploy deletes it and creates it again"
            return plan
        if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
            plan.kind, plan.reason = "failed", f"busy ({status})"
            return plan
        kind = "UPDATE" if existing and status != "REVIEW_IN_PROGRESS" else "CREATE"
        change_set = create_change_set(client, spec, kind, "plan", poll_interval, stop)
        if change_set is None:
            return plan
        plan.kind, plan.changes = kind.lower(), planned_changes(change_set)
        client.delete_change_set(ChangeSetName=change_set["ChangeSetId"])
        if kind == "CREATE":
            # A CREATE change set leaves an empty stack in REVIEW_IN_PROGRESS; plan changes nothing.
            client.delete_stack(StackName=change_set["StackId"])
    except ChangeSetFailed as error:
        plan.kind, plan.reason = "failed", f"change set refused: {error}"
        if kind == "CREATE" and error.stack_id:
            # The failed CREATE change set left an empty stack in REVIEW_IN_PROGRESS; plan changes nothing.
            try:
                client.delete_stack(StackName=error.stack_id)
            except (ClientError, BotoCoreError) as cleanup:
                plan.reason += f"; could not delete the empty stack it left: {cleanup}"
    except ClientError as error:
        plan.kind, plan.reason = "failed", _client_error_text(error, spec.region)
    except BotoCoreError as error:
        plan.kind, plan.reason = "failed", str(error)
    return plan
