"""One stack in one region: deploy it, plan it, or delete it, each through the one classifier of what its
status means (stack_states.classify), and never raising for what AWS does: a failure is a result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from generator.deploy.changesets import (
    create_change_set,
    execute_change_set,
    execution_started,
    planned_changes,
    request_token,
    withdraw_change_set,
)
from generator.deploy.clients import AWS_FAULTS, ENDPOINT_FAULTS, fault_text
from generator.deploy.events import OnStackProgress
from generator.deploy.reports import Action, PlanKind, StackPlan, StackResult
from generator.deploy.specs import StackSpec
from generator.deploy.stack_errors import Busy, ChangeSetFailed, ContactLost, Stopped
from generator.deploy.stack_states import (
    StackCondition,
    active_change_sets,
    classify,
    describe_stack,
    stack_outputs,
)
from generator.deploy.statuses import SUCCEEDED, StackStatus, in_progress
from generator.deploy.watcher import StackWatcher

OnNote = Callable[[str], None]  # a message the user keeps
CREATING_CHANGE_SET = "CREATING_CHANGE_SET"  # a stack's state while its change set is being made
# What to do when this run lost sight of an operation CloudFormation accepted.
FOLLOW_UP = "CloudFormation carries on without us; `make status` shows how it ends"


def deploy_stack(
    client: Any,
    spec: StackSpec,
    on_progress: OnStackProgress,
    on_note: OnNote,
    poll_interval: float,
    stop: threading.Event,
) -> StackResult:
    """Create or update one stack through a change set and wait for it; never raises for AWS failures."""
    result = StackResult(spec.region, spec.name, Action.FAILED, started=time.monotonic())
    try:
        _deploy(client, spec, result, on_progress, on_note, poll_interval, stop)
    except ChangeSetFailed as error:
        result.action, result.reason = Action.FAILED, f"change set refused: {error}"
    except Busy as error:
        result.action, result.reason = (
            Action.FAILED,
            f"{error}; nothing was changed here, run again when it has finished",
        )
    except ContactLost as error:  # CloudFormation took the operation: it is not "failed", nor "refused"
        result.action, result.reason = Action.IN_PROGRESS, str(error)
    except ClientError as error:
        result.action, result.reason = Action.FAILED, client_error_text(error, spec.region)
    except ENDPOINT_FAULTS as error:  # no credentials, endpoint unreachable: this region's failure, said plainly
        result.action, result.reason = Action.FAILED, fault_text(error)
    result.finished = time.monotonic()
    on_progress(result.action, None)
    return result


def client_error_text(error: ClientError, region: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    text = fault_text(error)
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure"):
        text += f" (is {region} an opt-in region not enabled for this account?)"
    return text


def _deploy(
    client: Any,
    spec: StackSpec,
    result: StackResult,
    on_progress: OnStackProgress,
    on_note: OnNote,
    poll_interval: float,
    stop: threading.Event,
) -> None:
    situation = classify(client, describe_stack(client, spec.name), spec.label)
    existing, status = situation.stack, situation.status
    if situation.condition is StackCondition.BUSY:
        raise Busy(situation.why)
    if situation.condition is StackCondition.NEEDS_ATTENTION:
        result.status, result.reason = status, situation.why
        return
    if situation.condition in (StackCondition.FAILED_CREATE, StackCondition.LEFTOVER):
        if situation.condition is StackCondition.FAILED_CREATE:
            on_note(f"{spec.label} is in {status} (an earlier create failed); deleting it to create it again")
            result.note = f"{status} stack deleted first"
        deleted = _delete_and_wait(client, existing, on_progress, poll_interval, stop)
        if deleted["StackStatus"] != StackStatus.DELETE_COMPLETE:
            result.status = deleted["StackStatus"]
            result.reason = f"could not delete the {status} stack first: {deleted.get('Reason', 'no reason given')}"
            return
        existing, status = None, ""
    kind = "UPDATE" if existing else "CREATE"
    on_progress(CREATING_CHANGE_SET, None)
    change_set = create_change_set(client, spec, kind, "deploy", poll_interval, stop)
    if change_set is None:
        result.action, result.status, result.outputs = Action.UNCHANGED, status, stack_outputs(existing)
        result.stack_id = existing["StackId"] if existing else ""
        return
    if stop.is_set():  # Ctrl-C came while the change set was being made: never execute it
        withdraw_change_set(client, change_set["ChangeSetId"])
        raise Stopped()
    result.stack_id = change_set["StackId"]
    watcher = StackWatcher(client, change_set["StackId"], on_progress, poll_interval, stop)
    if kind == "UPDATE":  # a stack made by a CREATE change set has only its REVIEW_IN_PROGRESS event: no history
        watcher.skip_existing_events()
    what = f"change set {change_set.get('ChangeSetName', change_set['ChangeSetId'])} of {spec.label}"
    try:
        execute_change_set(client, spec, change_set)
    except ENDPOINT_FAULTS as error:  # no answer: it may have been taken all the same
        started = _started_anyway(client, change_set)
        if started is False:
            withdraw_change_set(client, change_set["ChangeSetId"])
            raise
        how = "was executed" if started else "was sent for execution and may be running"
        raise ContactLost(f"{what} {how}, then {fault_text(error)}; {FOLLOW_UP}") from None
    final = _wait_or_look_again(watcher, client, change_set["StackId"], f"executing {what}")
    result.status, result.outputs = final["StackStatus"], stack_outputs(final)
    if result.status in SUCCEEDED:
        result.action = Action.CREATED if kind == "CREATE" else Action.UPDATED
    else:
        result.action, result.reason = Action.FAILED, watcher.failure_reason()


def _started_anyway(client: Any, change_set: dict[str, Any]) -> bool | None:
    """After ExecuteChangeSet got no answer: whether CloudFormation took it; None when that cannot be told now
    (claiming "refused" for an operation that may be running is the wrong side to err on)."""
    try:
        return execution_started(client, change_set["ChangeSetId"])
    except AWS_FAULTS:
        return None


def _wait_or_look_again(watcher: StackWatcher, client: Any, stack_id: str, doing: str) -> dict[str, Any]:
    """The stack once its accepted operation is over. When contact is lost while watching, one more look: a
    stack that went on to finish is reported as it ended; one still changing (or out of sight) raises
    ContactLost, naming the operation."""
    try:
        return watcher.wait()
    except AWS_FAULTS as error:
        lost = fault_text(error)
    try:
        stack = describe_stack(client, stack_id)
    except AWS_FAULTS:
        stack = None
    else:
        if stack is None:
            return {"StackStatus": StackStatus.DELETE_COMPLETE, "StackId": stack_id}
        if not in_progress(stack["StackStatus"]):
            return stack
    status = f" (last seen {stack['StackStatus']})" if stack else ""
    raise ContactLost(f"lost contact while {doing}{status}: {lost}; {FOLLOW_UP}")


def _delete_and_wait(
    client: Any, stack: dict[str, Any], on_progress: OnStackProgress, poll_interval: float, stop: threading.Event
) -> dict[str, Any]:
    watcher = StackWatcher(client, stack["StackId"], on_progress, poll_interval, stop)
    watcher.skip_existing_events()
    try:
        client.delete_stack(StackName=stack["StackId"], ClientRequestToken=request_token())
    except ENDPOINT_FAULTS as error:  # no answer: DeleteStack may have been taken all the same
        raise ContactLost(f"asked to delete {stack['StackName']}, then {fault_text(error)}; {FOLLOW_UP}") from None
    final = _wait_or_look_again(watcher, client, stack["StackId"], f"deleting {stack['StackName']}")
    if final["StackStatus"] != StackStatus.DELETE_COMPLETE:
        final = {**final, "Reason": watcher.failure_reason()}
    return final


def delete_stack(
    client: Any, region: str, name: str, on_progress: OnStackProgress, poll_interval: float, stop: threading.Event
) -> StackResult:
    """Delete one stack and wait; "absent" when there was none. A stack another run is changing is left alone."""
    result = StackResult(region, name, Action.FAILED, started=time.monotonic())
    label = f"stack {name} in {region}"
    try:
        situation = classify(client, describe_stack(client, name), label)
        if situation.condition is StackCondition.ABSENT:
            result.action = Action.ABSENT
        elif situation.condition is StackCondition.BUSY:
            raise Busy(situation.why)
        else:
            result.stack_id = situation.stack["StackId"]
            final = _delete_and_wait(client, situation.stack, on_progress, poll_interval, stop)
            result.status = final["StackStatus"]
            if result.status == StackStatus.DELETE_COMPLETE:
                result.action = Action.DELETED
            else:
                result.reason = final.get("Reason", result.status)
    except Busy as error:
        result.reason = f"{error}; not deleted, run again when it has finished"
    except ContactLost as error:
        result.action, result.reason = Action.IN_PROGRESS, str(error)
    except ClientError as error:
        result.reason = client_error_text(error, region)
    except ENDPOINT_FAULTS as error:
        result.reason = fault_text(error)
    result.finished = time.monotonic()
    on_progress(result.action, None)
    return result


def plan_stack(client: Any, spec: StackSpec, poll_interval: float, stop: threading.Event) -> StackPlan:
    """What deploying `spec` would change: a change set made, described and deleted, never executed."""
    plan = StackPlan(spec.region, spec.name, PlanKind.UNCHANGED)
    kind = ""
    try:
        situation = classify(client, describe_stack(client, spec.name), spec.label)
        condition = situation.condition
        if condition in (StackCondition.BUSY, StackCondition.NEEDS_ATTENTION):
            plan.kind, plan.reason = PlanKind.FAILED, situation.why
            return plan
        if condition is StackCondition.FAILED_CREATE:
            plan.kind = PlanKind.RECREATE
            plan.reason = f"in {situation.status}: deploy deletes it and creates it again"
            return plan
        kind = "UPDATE" if condition is StackCondition.READY else "CREATE"
        change_set = create_change_set(client, spec, kind, "plan", poll_interval, stop)
        if change_set is None:
            return plan
        plan.kind, plan.changes = PlanKind(kind.lower()), planned_changes(change_set)
        withdraw_change_set(client, change_set["ChangeSetId"])
        if kind == "CREATE":
            # A CREATE change set leaves an empty stack under review; plan changes nothing.
            _delete_if_unused(client, change_set["StackId"])
    except ChangeSetFailed as error:
        plan.kind, plan.reason = PlanKind.FAILED, f"change set refused: {error}"
        if kind == "CREATE" and error.stack_id:
            # The failed CREATE change set left an empty stack under review; plan changes nothing.
            try:
                _delete_if_unused(client, error.stack_id)
            except AWS_FAULTS as cleanup:
                plan.reason += f"; could not delete the empty stack it left: {fault_text(cleanup)}"
    except Busy as error:
        plan.kind, plan.reason = PlanKind.FAILED, f"busy: {error}"
    except ClientError as error:
        plan.kind, plan.reason = PlanKind.FAILED, client_error_text(error, spec.region)
    except ENDPOINT_FAULTS as error:
        plan.kind, plan.reason = PlanKind.FAILED, fault_text(error)
    return plan


def _delete_if_unused(client: Any, stack_id: str) -> None:
    """Delete an empty stack under review unless another run has meanwhile made a change set for it."""
    if not active_change_sets(client, stack_id):
        client.delete_stack(StackName=stack_id)
