"""One StackSet operation: started with an OperationId of ours (a retried call cannot start it twice) and
watched until CloudFormation ends it, reporting each instance's progress once per change.

StackSets have no stack events: DescribeStackSetOperation says how the operation goes (QUEUED behind another
one, RUNNING, SUCCEEDED, FAILED, STOPPED) and ListStackSetOperationResults how each instance does (PENDING,
RUNNING, SUCCEEDED, FAILED or CANCELLED, with a reason).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from generator.deploy.clients import AWS_FAULTS
from generator.deploy.stack_errors import Stopped
from generator.deploy.stacksets.specs import Instance
from generator.deploy.statuses import FINAL_OPERATION, FINAL_RESULT, OperationResultStatus, OperationStatus

OnInstance = Callable[[Instance, str, str], None]  # (instance, its status in this operation, reason)
OnOperation = Callable[[str, str], None]  # (operation status, reason)


@dataclass
class InstanceOutcome:
    status: str = OperationResultStatus.PENDING
    reason: str = ""
    started: float = 0.0  # time.monotonic() when it was first seen RUNNING
    finished: float = 0.0


@dataclass
class OperationOutcome:
    operation_id: str
    action: str  # CREATE, UPDATE, DELETE
    status: str = OperationStatus.QUEUED
    reason: str = ""
    instances: dict[Instance, InstanceOutcome] = field(default_factory=dict)

    @property
    def failed(self) -> list[Instance]:
        return [key for key, outcome in self.instances.items() if outcome.status == OperationResultStatus.FAILED]

    def summary(self, stack_set: str) -> str:
        """One line for the user: how the operation ended, and within or past the failure tolerance."""
        failed, total = len(self.failed), len(self.instances)
        text = f"{stack_set}: {self.action} operation {self.status}"
        if self.status == OperationStatus.FAILED:
            return text + (f": {self.reason}" if self.reason else "") + f" ({failed} of {total} instances failed)"
        if failed:
            return text + f" within the failure tolerance ({failed} of {total} instances failed)"
        return text


def new_operation_id() -> str:
    return str(uuid.uuid4())


def start_operation(client: Any, call: str, operation_id: str, **arguments: Any) -> None:
    """Call CreateStackInstances, UpdateStackSet or DeleteStackInstances with an OperationId of ours, so a
    call that got no answer can be looked up (operation_taken) and a retried call cannot start it twice."""
    getattr(client, call)(OperationId=operation_id, **arguments)


def operation_taken(client: Any, stack_set: str, operation_id: str) -> bool | None:
    """After a start that got no answer: whether CloudFormation has the operation; None when that cannot be
    told now (claiming "refused" for an operation that may be running is the wrong side to err on)."""
    try:
        client.describe_stack_set_operation(StackSetName=stack_set, OperationId=operation_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "OperationNotFoundException":
            return False
        return None
    except AWS_FAULTS:
        return None
    return True


def watch_operation(
    client: Any,
    stack_set: str,
    outcome: OperationOutcome,
    on_instance: OnInstance,
    on_operation: OnOperation,
    poll_interval: float,
    stop: threading.Event,
) -> OperationOutcome:
    """Poll the operation until it ends; each change of an instance (or of the operation) reported once."""
    while True:
        operation = client.describe_stack_set_operation(StackSetName=stack_set, OperationId=outcome.operation_id)[
            "StackSetOperation"
        ]
        status, reason = operation["Status"], operation.get("StatusReason") or ""
        # The results after the status: once the status is final, so is every result read after it.
        _read_results(client, stack_set, outcome, on_instance)
        if (status, reason) != (outcome.status, outcome.reason):
            outcome.status, outcome.reason = status, reason
            on_operation(status, reason)
        if status in FINAL_OPERATION:
            return outcome
        if stop.wait(poll_interval):
            raise Stopped()


def _read_results(client: Any, stack_set: str, outcome: OperationOutcome, on_instance: OnInstance) -> None:
    paginator = client.get_paginator("list_stack_set_operation_results")
    now = time.monotonic()
    for page in paginator.paginate(StackSetName=stack_set, OperationId=outcome.operation_id):
        for summary in page.get("Summaries", []):
            key = (summary["Account"], summary["Region"])
            new = key not in outcome.instances
            known = outcome.instances.setdefault(key, InstanceOutcome())
            status = summary.get("Status", OperationResultStatus.PENDING)
            reason = summary.get("StatusReason") or ""
            if (status, reason) == (known.status, known.reason) and not new:
                continue
            if status != OperationResultStatus.PENDING and not known.started:
                known.started = now
            if status in FINAL_RESULT and not known.finished:
                known.finished = now
            known.status, known.reason = status, reason
            on_instance(key, status, reason)
