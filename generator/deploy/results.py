"""What the deploy engine returns: per stack, what happened (StackResult) or would happen (StackPlan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    """What happened to one stack: the action column of the summary."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"  # not tried, because something it waits for failed
    DELETED = "deleted"
    ABSENT = "absent"  # there was nothing to delete

    @property
    def done(self) -> bool:
        """Whether the stack is as was asked (failed and skipped are not)."""
        return self not in (Action.FAILED, Action.SKIPPED)


class PlanKind(StrEnum):
    """What a deploy would do to one stack."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    RECREATE = "recreate"  # ROLLBACK_COMPLETE: deploy deletes it and creates it again
    DELETE = "delete"  # a StackSet instance in an account or region the config no longer has
    FAILED = "failed"  # the plan could not be made (busy, refused, AWS fault); `reason` says why

    @property
    def changes_something(self) -> bool:
        return self in (PlanKind.CREATE, PlanKind.UPDATE, PlanKind.RECREATE, PlanKind.DELETE)


@dataclass
class StackResult:
    """What happened to one stack: the row of the summary table."""

    region: str
    stack: str
    action: Action
    status: str = ""  # CloudFormation's StackStatus at the end
    reason: str = ""
    note: str = ""
    started: float = 0.0  # time.monotonic()
    finished: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    stack_id: str = ""  # CloudFormation's StackId: tells this stack from a later one of the same name
    account: str = ""  # a StackSet instance's account ("" for a stack of the caller's account)
    stack_set: bool = False  # the row of a StackSet itself (its template and parameters), not of a stack

    @property
    def ok(self) -> bool:
        return self.action.done

    @property
    def duration(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True)
class PropertyChange:
    """One property of a resource that a change set changes (CloudFormation's ResourceChangeDetail)."""

    name: str
    change: str  # Add, Remove, Modify
    before: str | None = None  # the value before and after, as JSON text, when CloudFormation says
    after: str | None = None
    recreation: str = ""  # Never, Conditionally, Always: whether changing it replaces the resource


# IAM changes deserve a second look before a deploy: a resource of these types, or a property of these names.
IAM_RESOURCE_PREFIX = "AWS::IAM::"
IAM_PROPERTIES = {"Policies", "AssumeRolePolicyDocument", "ManagedPolicyArns", "PermissionsBoundary", "Role"}


@dataclass(frozen=True)
class PlannedChange:
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str = ""  # True, False, Conditional, or "" when CloudFormation does not say
    properties: tuple[PropertyChange, ...] = ()

    @property
    def replaces(self) -> bool:
        return self.replacement in ("True", "Conditional")

    @property
    def touches_iam(self) -> bool:
        """A change to who may do what: an IAM resource, or a role or policy property of another resource."""
        return self.resource_type.startswith(IAM_RESOURCE_PREFIX) or any(
            change.name in IAM_PROPERTIES for change in self.properties
        )


@dataclass
class StackPlan:
    region: str
    stack: str
    kind: PlanKind
    changes: list[PlannedChange] = field(default_factory=list)
    reason: str = ""
    account: str = ""  # a StackSet instance's account
    stack_set: bool = False  # the plan of a StackSet itself (its template and parameters)
