"""Why one stack's operation ended before it was done: raised inside the engine, turned into results."""

from __future__ import annotations


class Stopped(Exception):
    """The user asked to stop waiting (Ctrl-C); CloudFormation carries on without us."""


class Busy(Exception):
    """Another run (here or on another machine) is changing the stack; the message names what it is doing."""


class ChangeSetFailed(Exception):
    """CloudFormation refused to make the change set (template or parameter problem)."""

    def __init__(self, reason: str, stack_id: str = "") -> None:
        super().__init__(reason)
        self.stack_id = stack_id  # a CREATE change set's stack, left in REVIEW_IN_PROGRESS


class ContactLost(Exception):
    """CloudFormation accepted an operation (a change set executed, a stack deletion) and this run lost contact
    before it ended: it carries on. The message names the operation and how to see how it ends."""
