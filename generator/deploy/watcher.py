"""Watch one stack until its operation is over, reporting each new event once.

botocore's waiters poll every 30 s for up to an hour and show nothing; this polls describe_stack_events
(paginated, newest first, deduplicated by EventId) and describe_stacks itself, for live progress.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError

from generator.deploy.events import OnStackProgress
from generator.deploy.stack_errors import Stopped
from generator.deploy.stack_states import describe_stack, does_not_exist
from generator.deploy.statuses import StackStatus, failed, in_progress

STACK_TYPE = "AWS::CloudFormation::Stack"
# Seconds between polls of a stack in progress, by default, for a deploy or destroy and for a plan.
DEFAULT_POLL_INTERVAL = 3.0
PLAN_POLL_INTERVAL = 1.0
# describe_stacks every this many polls, besides the end (the events carry the status meanwhile).
DESCRIBE_EVERY = 10
# Descriptions that may show a final status without its stack event before we believe it anyway.
STALE_DESCRIPTIONS = 2


class StackWatcher:
    """Polls one stack until it leaves *_IN_PROGRESS, reporting each new event once (by EventId)."""

    def __init__(
        self, client: Any, stack_id: str, on_progress: OnStackProgress, poll_interval: float, stop: threading.Event
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
        entries carry the status); describe_stacks runs only at the end and every DESCRIBE_EVERY-th poll,
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
            event_says_final = bool(stack_events) and not in_progress(status)
            latest = describe_event(new[-1]) if new else None
            if event_says_final or poll % DESCRIBE_EVERY == 0:
                stack = describe_stack(self.client, self.stack_id)
                if stack is None:
                    self.on_progress(StackStatus.DELETE_COMPLETE, latest)
                    return {"StackStatus": StackStatus.DELETE_COMPLETE, "StackId": self.stack_id}
                described = stack["StackStatus"]
                if not in_progress(described):
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
            if not does_not_exist(error):
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
            if failed(event["ResourceStatus"]) and resource_type != STACK_TYPE:
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
