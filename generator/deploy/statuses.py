"""CloudFormation's status vocabularies, as enums, and the few questions every command asks of them.

Values come from the CloudFormation API reference (the StackStatus, ChangeSetStatus, ExecutionStatus,
StackSetOperationStatus, StackSetOperationResultStatus, StackInstanceStatus and
StackInstanceDetailedStatus types). AWS may add a status: an answer is kept as the text AWS sent and
compared with these members (StrEnum members equal their text), so a new one is never a crash; what a
status means for deploy, plan and destroy is decided here and in stack_states / instance_states, never by
string tests scattered through the engine.
"""

from __future__ import annotations

from enum import StrEnum

IN_PROGRESS_SUFFIX = "_IN_PROGRESS"


def in_progress(status: str) -> bool:
    """Whether a stack or resource status means an operation is still running (the one place this is asked)."""
    return status.endswith(IN_PROGRESS_SUFFIX)


def failed(status: str) -> bool:
    """Whether a resource status reports a failure (CREATE_FAILED, UPDATE_FAILED, DELETE_FAILED, ...)."""
    return status.endswith("_FAILED")


class StackStatus(StrEnum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_FAILED = "CREATE_FAILED"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    ROLLBACK_COMPLETE = "ROLLBACK_COMPLETE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_FAILED = "DELETE_FAILED"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE_CLEANUP_IN_PROGRESS = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"
    UPDATE_ROLLBACK_IN_PROGRESS = "UPDATE_ROLLBACK_IN_PROGRESS"
    UPDATE_ROLLBACK_FAILED = "UPDATE_ROLLBACK_FAILED"
    UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    UPDATE_ROLLBACK_COMPLETE = "UPDATE_ROLLBACK_COMPLETE"
    REVIEW_IN_PROGRESS = "REVIEW_IN_PROGRESS"
    IMPORT_IN_PROGRESS = "IMPORT_IN_PROGRESS"
    IMPORT_COMPLETE = "IMPORT_COMPLETE"
    IMPORT_ROLLBACK_IN_PROGRESS = "IMPORT_ROLLBACK_IN_PROGRESS"
    IMPORT_ROLLBACK_FAILED = "IMPORT_ROLLBACK_FAILED"
    IMPORT_ROLLBACK_COMPLETE = "IMPORT_ROLLBACK_COMPLETE"


# Statuses from which CloudFormation goes on only after a person has looked (in the console).
NEEDS_ATTENTION = frozenset(
    {
        StackStatus.ROLLBACK_FAILED,
        StackStatus.DELETE_FAILED,
        StackStatus.UPDATE_ROLLBACK_FAILED,
        StackStatus.IMPORT_ROLLBACK_FAILED,
    }
)
# A create or update that ended as asked.
SUCCEEDED = frozenset({StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE})


class ChangeSetStatus(StrEnum):
    CREATE_PENDING = "CREATE_PENDING"
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    DELETE_PENDING = "DELETE_PENDING"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_FAILED = "DELETE_FAILED"
    FAILED = "FAILED"


class ExecutionStatus(StrEnum):
    UNAVAILABLE = "UNAVAILABLE"
    AVAILABLE = "AVAILABLE"
    EXECUTE_IN_PROGRESS = "EXECUTE_IN_PROGRESS"
    EXECUTE_COMPLETE = "EXECUTE_COMPLETE"
    EXECUTE_FAILED = "EXECUTE_FAILED"
    OBSOLETE = "OBSOLETE"


# A change set in one of these is being made; ready (AVAILABLE) or executing, it is live work of some run.
CHANGE_SET_BEING_MADE = frozenset({ChangeSetStatus.CREATE_PENDING, ChangeSetStatus.CREATE_IN_PROGRESS})
CHANGE_SET_LIVE_EXECUTION = frozenset({ExecutionStatus.AVAILABLE, ExecutionStatus.EXECUTE_IN_PROGRESS})
# Once executed (or executing), a change set has been accepted by CloudFormation: its stack is changing.
CHANGE_SET_STARTED = frozenset(
    {ExecutionStatus.EXECUTE_IN_PROGRESS, ExecutionStatus.EXECUTE_COMPLETE, ExecutionStatus.EXECUTE_FAILED}
)


class OperationStatus(StrEnum):
    """A StackSet operation (StackSetOperationStatus)."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"


class OperationResultStatus(StrEnum):
    """One instance within a StackSet operation (StackSetOperationResultStatus)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class InstanceStatus(StrEnum):
    """A StackSet instance (StackInstanceStatus)."""

    CURRENT = "CURRENT"
    OUTDATED = "OUTDATED"
    INOPERABLE = "INOPERABLE"


class InstanceDetailedStatus(StrEnum):
    """The last operation's outcome at an instance (StackInstanceDetailedStatus)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    INOPERABLE = "INOPERABLE"
    SKIPPED_SUSPENDED_ACCOUNT = "SKIPPED_SUSPENDED_ACCOUNT"
    FAILED_IMPORT = "FAILED_IMPORT"


class StackSetStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"


# How a StackSet operation, and each instance within it, can end.
FINAL_OPERATION = frozenset({OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.STOPPED})
FINAL_RESULT = frozenset(
    {OperationResultStatus.SUCCEEDED, OperationResultStatus.FAILED, OperationResultStatus.CANCELLED}
)
