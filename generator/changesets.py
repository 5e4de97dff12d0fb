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

from botocore.exceptions import ClientError

from generator.aws import AWS_FAULTS, ENDPOINT_FAULTS, fault_text
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
# A stack made by a CREATE change set waits in this status until one of its change sets is executed.
UNDER_REVIEW = "REVIEW_IN_PROGRESS"
# A change set in one of these is another run's work in progress: being made, ready to execute, or executing.
CHANGE_SET_BEING_MADE = {"CREATE_PENDING", "CREATE_IN_PROGRESS"}
CHANGE_SET_LIVE_EXECUTION = {"AVAILABLE", "EXECUTE_IN_PROGRESS"}

# (state, latest event text or None) for the live line of this stack
OnProgress = Callable[[str, str | None], None]


# Actions that leave the stack short of what was asked: the exit status says so.
NOT_DONE = ("failed", "skipped")


class Stopped(Exception):
    """The user asked to stop waiting (Ctrl-C); CloudFormation carries on without us."""


@dataclass
class StackResult:
    """What happened to one stack: the row of the summary table."""

    region: str
    stack: str
    action: str  # created, updated, unchanged, failed, skipped, deleted, absent
    status: str = ""
    reason: str = ""
    note: str = ""
    started: float = 0.0  # time.monotonic()
    finished: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    stack_id: str = ""  # CloudFormation's StackId: tells this stack from a later one of the same name

    @property
    def ok(self) -> bool:
        return self.action not in NOT_DONE

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


def format_time(when: Any) -> str:
    """A CloudFormation timestamp (a datetime in UTC) as the summary and the messages show it."""
    return when.strftime("%Y-%m-%d %H:%M:%SZ") if hasattr(when, "strftime") else str(when or "?")


class Busy(Exception):
    """Another run (here or on another machine) is changing the stack; the message names what it is doing."""


def active_change_sets(client: Any, stack_id: str) -> list[dict[str, Any]]:
    """The stack's change sets that are being made, ready to execute or executing, oldest first."""
    summaries: list[dict[str, Any]] = []
    for page in client.get_paginator("list_change_sets").paginate(StackName=stack_id):
        summaries.extend(page.get("Summaries", []))
    active = [
        summary
        for summary in summaries
        if summary.get("Status") in CHANGE_SET_BEING_MADE
        or (summary.get("Status") == "CREATE_COMPLETE" and summary.get("ExecutionStatus") in CHANGE_SET_LIVE_EXECUTION)
    ]
    return sorted(active, key=_age_order)


def _age_order(summary: dict[str, Any]) -> tuple[str, str]:
    # CreationTime first, then the name: every run sorts the same change sets the same way.
    created = summary.get("CreationTime")
    return (created.isoformat() if hasattr(created, "isoformat") else str(created or ""), summary["ChangeSetName"])


def describe_change_set_summary(summary: dict[str, Any]) -> str:
    status = summary.get("ExecutionStatus") if summary.get("Status") == "CREATE_COMPLETE" else summary.get("Status")
    return f"change set {summary['ChangeSetName']} ({status}, made {format_time(summary.get('CreationTime'))})"


def refuse_if_busy(client: Any, stack: dict[str, Any] | None, label: str) -> None:
    """Raise Busy when another run is at work on `stack`: an operation in progress, or (under review) a change
    set being made or ready. An empty stack under review with no such change set is a leftover, not busy."""
    status = stack["StackStatus"] if stack else ""
    if status == UNDER_REVIEW:
        others = active_change_sets(client, stack["StackId"])
        if others:
            raise Busy(f"{label} is being created by another run: {describe_change_set_summary(others[0])}")
    elif status.endswith("_IN_PROGRESS"):
        since = stack.get("DeletionTime") or stack.get("LastUpdatedTime") or stack.get("CreationTime")
        raise Busy(f"{label} is busy: {status} since {format_time(since)} (another deploy or destroy?)")


def _contest(client: Any, spec: StackSpec, created: dict[str, str]) -> None:
    """Two runs made change sets for the same stack at once: the older change set (by CreationTime, then
    name) goes ahead; the younger run deletes its own and raises Busy naming the other."""
    mine = created["Id"]
    active = active_change_sets(client, created["StackId"])
    own = next((summary for summary in active if summary["ChangeSetId"] == mine), None)
    rivals = [summary for summary in active if summary["ChangeSetId"] != mine and _goes_first(summary, own)]
    if rivals:
        client.delete_change_set(ChangeSetName=mine)
        raise Busy(
            f"{spec.label} is being deployed by another run: {describe_change_set_summary(rivals[0])}; "
            "ours was made later and is withdrawn"
        )


def _goes_first(other: dict[str, Any], own: dict[str, Any] | None) -> bool:
    """Whether another run's active change set beats ours: it is executing, it is older, or ours is not active
    (then we cannot tell who came first, and stepping back is the safe side)."""
    executing = other.get("ExecutionStatus") == "EXECUTE_IN_PROGRESS"
    return own is None or executing or _age_order(other) < _age_order(own)


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
    Raises Stopped (the change set deleted, never executed) when `stop` is set while it is being made, and
    Busy (ours deleted) when another run made one for the same stack first."""
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
    _contest(client, spec, created)
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
    except Busy as error:
        result.action, result.reason = "failed", f"{error}; nothing was changed here, run again when it has finished"
    except ClientError as error:
        result.action, result.reason = "failed", _client_error_text(error, spec.region)
    except ENDPOINT_FAULTS as error:  # no credentials, endpoint unreachable: this region's failure, said plainly
        result.action, result.reason = "failed", fault_text(error)
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
    refuse_if_busy(client, existing, spec.label)
    status = existing["StackStatus"] if existing else ""
    if status in ("ROLLBACK_COMPLETE", UNDER_REVIEW):  # under review and not busy: a leftover empty stack
        if status == "ROLLBACK_COMPLETE":
            on_note(f"{spec.label} is in ROLLBACK_COMPLETE (an earlier create failed); deleting it to create it again")
            result.note = "ROLLBACK_COMPLETE stack deleted first"
        deleted = _delete_and_wait(client, existing, on_progress, poll_interval, stop)
        if deleted["StackStatus"] != "DELETE_COMPLETE":
            result.status = deleted["StackStatus"]
            result.reason = f"could not delete the {status} stack first: {deleted.get('Reason', 'no reason given')}"
            return
        existing, status = None, ""
    if status in NEEDS_ATTENTION:
        result.status, result.reason = status, f"{spec.label} is in {status} and needs attention in the console first"
        return
    kind = "UPDATE" if existing else "CREATE"
    on_progress("CREATING_CHANGE_SET", None)
    change_set = create_change_set(client, spec, kind, "deploy", poll_interval, stop)
    if change_set is None:
        result.action, result.status, result.outputs = "unchanged", status, stack_outputs(existing)
        result.stack_id = existing["StackId"] if existing else ""
        return
    if stop.is_set():  # Ctrl-C came while the change set was being made: never execute it
        client.delete_change_set(ChangeSetName=change_set["ChangeSetId"])
        raise Stopped()
    result.stack_id = change_set["StackId"]
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
    """Delete one stack and wait; "absent" when there was none. A stack another run is changing is left alone."""
    result = StackResult(region, name, "failed", started=time.monotonic())
    try:
        existing = describe_stack(client, name)
        if existing is None:
            result.action = "absent"
        else:
            result.stack_id = existing["StackId"]
            refuse_if_busy(client, existing, f"stack {name} in {region}")
            final = _delete_and_wait(client, existing, on_progress, poll_interval, stop)
            result.status = final["StackStatus"]
            if result.status == "DELETE_COMPLETE":
                result.action = "deleted"
            else:
                result.reason = final.get("Reason", result.status)
    except Busy as error:
        result.reason = f"{error}; not deleted, run again when it has finished"
    except ClientError as error:
        result.reason = _client_error_text(error, region)
    except ENDPOINT_FAULTS as error:
        result.reason = fault_text(error)
    result.finished = time.monotonic()
    on_progress(result.action if result.ok else "FAILED", None)
    return result


def plan_stack(client: Any, spec: StackSpec, poll_interval: float, stop: threading.Event) -> StackPlan:
    """What deploying `spec` would change: a change set made, described and deleted, never executed."""
    plan = StackPlan(spec.region, spec.name, "unchanged")
    kind = ""
    try:
        existing = describe_stack(client, spec.name)
        refuse_if_busy(client, existing, spec.label)
        status = existing["StackStatus"] if existing else ""
        if status == "ROLLBACK_COMPLETE":
            plan.kind, plan.reason = "recreate", "in ROLLBACK_COMPLETE: deploy deletes it and creates it again"
            return plan
        kind = "UPDATE" if existing and status != UNDER_REVIEW else "CREATE"
        change_set = create_change_set(client, spec, kind, "plan", poll_interval, stop)
        if change_set is None:
            return plan
        plan.kind, plan.changes = kind.lower(), planned_changes(change_set)
        client.delete_change_set(ChangeSetName=change_set["ChangeSetId"])
        if kind == "CREATE":
            # A CREATE change set leaves an empty stack under review; plan changes nothing.
            _delete_if_unused(client, change_set["StackId"])
    except ChangeSetFailed as error:
        plan.kind, plan.reason = "failed", f"change set refused: {error}"
        if kind == "CREATE" and error.stack_id:
            # The failed CREATE change set left an empty stack under review; plan changes nothing.
            try:
                _delete_if_unused(client, error.stack_id)
            except AWS_FAULTS as cleanup:
                plan.reason += f"; could not delete the empty stack it left: {cleanup}"
    except Busy as error:
        plan.kind, plan.reason = "failed", f"busy: {error}"
    except ClientError as error:
        plan.kind, plan.reason = "failed", _client_error_text(error, spec.region)
    except ENDPOINT_FAULTS as error:
        plan.kind, plan.reason = "failed", fault_text(error)
    return plan


def _delete_if_unused(client: Any, stack_id: str) -> None:
    """Delete an empty stack under review unless another run has meanwhile made a change set for it."""
    if not active_change_sets(client, stack_id):
        client.delete_stack(StackName=stack_id)
