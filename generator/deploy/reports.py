"""What the deploy engine returns, the same types in both deploy modes (change sets, StackSets): per stack
what happened (StackResult, in a DeployReport or DestroyReport), what would happen (StackPlan, in a Plan),
what is deployed (StackState, in an Inventory) and what a destroy would delete (DestroyPlan).

A row of a StackSet instance carries its account; the row of a StackSet itself (its template and
parameters) has `stack_set` set. A display draws an account column when any row has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Action(StrEnum):
    """What happened to one stack: the action column of the summary, and the last state of its live row."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"  # not tried, because something it waits for failed or was not reached
    DELETED = "deleted"
    ABSENT = "absent"  # there was nothing to delete
    # CloudFormation accepted the operation, and this run lost contact (or stopped waiting) before it ended:
    # it carries on, and `make status` shows how it ends.
    IN_PROGRESS = "in progress"
    KEPT = "kept"  # deployed, no longer in the config, and not to be deleted unasked: `make destroy` removes it

    @property
    def done(self) -> bool:
        """Whether the stack is as was asked (failed, skipped and still in progress are not)."""
        return self not in (Action.FAILED, Action.SKIPPED, Action.IN_PROGRESS)


@dataclass
class StackResult:
    """What happened to one stack (one StackSet instance, one StackSet): the row of the summary table."""

    region: str
    stack: str
    action: Action
    status: str = ""  # CloudFormation's StackStatus (an instance's operation status) at the end
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
class Widening:
    """One thing a deploy would widen, in one stack (one StackSet), in the regions (accounts) listed."""

    stack: str
    where: tuple[str, ...]  # regions (or "account region" of StackSet instances, or the StackSet's own region)
    resource: str  # logical id
    resource_type: str
    kind: str  # "grants" (IAM allowed anew or wider) or "replaces"
    detail: str  # in words: the actions, resources and principals added; or what forces the replacement


@dataclass(frozen=True)
class Approval:
    """What a deploy would widen, asked about before anything changes."""

    widenings: tuple[Widening, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.widenings


@dataclass
class DeployReport:
    """What a deploy did, row by row in the order it worked (global before regional, each StackSet before its
    instances), each account's listener endpoint, and where out/outputs.json went."""

    results: list[StackResult]
    endpoints: dict[str, str] = field(default_factory=dict)  # account ("" for the caller's own) -> domain:port
    outputs_path: Path | None = None
    warnings: list[str] = field(default_factory=list)  # one line each: what went wrong beside the stacks
    approval: Approval = field(default_factory=Approval)  # what the deploy widened (asked about, or refused)
    cancelled: bool = False  # the question about what it widens was answered no: nothing was changed

    @property
    def ok(self) -> bool:
        return not self.cancelled and bool(self.results) and all(result.ok for result in self.results)

    @property
    def endpoint(self) -> str:
        """The endpoint when there is exactly one listener, else ""."""
        return next(iter(self.endpoints.values())) if len(self.endpoints) == 1 else ""


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


@dataclass(frozen=True)
class PropertyChange:
    """One property of a resource that a change set changes (CloudFormation's ResourceChangeDetail)."""

    name: str
    change: str  # Add, Remove, Modify
    before: str | None = None  # the value before and after, as JSON text, when CloudFormation says
    after: str | None = None
    recreation: str = ""  # Never, Conditionally, Always: whether changing it replaces the resource

    @property
    def replaces(self) -> bool:
        return self.recreation in ("Always", "Conditionally")


# IAM changes deserve a second look before a deploy: a resource of these types, or a property of these names.
IAM_RESOURCE_PREFIX = "AWS::IAM::"
IAM_PROPERTIES = {"Policies", "AssumeRolePolicyDocument", "ManagedPolicyArns", "PermissionsBoundary", "Role"}


class Replacement(StrEnum):
    """Whether a change replaces its resource (ResourceChange.Replacement)."""

    TRUE = "True"
    CONDITIONAL = "Conditional"
    FALSE = "False"
    UNKNOWN = ""  # CloudFormation does not say (an Add or Remove; or the local cloud)


@dataclass(frozen=True)
class PlannedChange:
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str = ""  # a Replacement
    properties: tuple[PropertyChange, ...] = ()

    @property
    def replaces(self) -> bool:
        """Whether the change replaces the resource, certainly or depending on values only known when it runs:
        the one place this is decided (the plan's flag and its count both ask here)."""
        return self.replacement in (Replacement.TRUE, Replacement.CONDITIONAL)

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


@dataclass
class Plan:
    """What a deploy would do, stack by stack (StackSet by StackSet, instance by instance)."""

    stacks: list[StackPlan]

    @property
    def changes_something(self) -> bool:
        return any(stack.kind.changes_something for stack in self.stacks)

    @property
    def failed(self) -> list[StackPlan]:
        return [stack for stack in self.stacks if stack.kind is PlanKind.FAILED]


ABSENT = "absent"  # the status shown for a stack (an instance, a StackSet) that does not exist


@dataclass(frozen=True)
class StackState:
    """One deployed stack, StackSet instance or StackSet as `status` finds it."""

    region: str
    stack: str
    status: str  # CloudFormation's status (CURRENT/OUTDATED for an instance, ACTIVE for a StackSet), or ABSENT
    account: str = ""  # a StackSet instance's account
    stack_set: bool = False  # a StackSet's own row
    last_update: str = ""
    function_arn: str = ""  # a regional stack's function
    endpoint: str = ""  # a global StackSet instance's listener
    orphan: bool = False  # in a region (an account) the config no longer has
    stack_id: str = ""
    last_operation: str = ""  # a StackSet instance: the outcome of the last operation there
    reason: str = ""
    drift_status: str = ""  # the last drift detection's result (DRIFTED, IN_SYNC); "" or NOT_CHECKED before one
    last_drift_check: str = ""
    # what differs from what the config says now: a StackSet's template, parameters, tags, roles; a StackSet
    # instance's own parameter values (its account's Proxylity values, the key only named)
    differences: tuple[str, ...] = ()


@dataclass
class Inventory:
    """What is deployed: configured stacks first (global, then regional), then orphans."""

    stacks: list[StackState]
    # where -> why it could not be checked (a region; a StackSet instance's stack in its account)
    unreachable: dict[str, str] = field(default_factory=dict)

    @property
    def orphans(self) -> list[StackState]:
        return [state for state in self.stacks if state.orphan]


@dataclass(frozen=True)
class Deletion:
    """One stack, StackSet instance or StackSet a destroy would delete."""

    region: str
    stack: str
    account: str = ""
    stack_set: bool = False  # the StackSet itself, once its instances are gone
    orphan: bool = False


@dataclass(frozen=True)
class Kept:
    """Something a destroy keeps, and why (a global stack whose regional stacks remain)."""

    what: str
    why: str


@dataclass(frozen=True)
class DestroyPlan:
    """What a destroy would delete, in the order it deletes (regional before global, instances before their
    StackSet), and what it keeps."""

    deletions: tuple[Deletion, ...]
    kept: tuple[Kept, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.deletions


@dataclass
class DestroyReport:
    results: list[StackResult]
    notes: list[str] = field(default_factory=list)  # what happened to out/outputs.json
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False  # the question was answered no: nothing was deleted

    @property
    def ok(self) -> bool:
        return not self.cancelled and all(result.ok for result in self.results)


# --- drift ----------------------------------------------------------------------------------------------


class DriftState(StrEnum):
    """What a drift check found for one stack (StackSet instance)."""

    IN_SYNC = "in sync"
    DRIFTED = "drifted"
    NOT_DEPLOYED = "not deployed"  # nothing to check: the stack (instance) does not exist
    NOT_CHECKED = "could not check"  # AWS refused or failed the detection: `reason` says why


@dataclass(frozen=True)
class PropertyDrift:
    """One property whose live value differs from the template's: CloudFormation's PropertyDifference."""

    path: str  # /MemorySize, /Environment/Variables/NAME, /Policies/0/PolicyDocument/Statement/0/Action
    expected: str  # "" when the template has none (ADD)
    actual: str  # "" when the live resource has none (REMOVE)
    kind: str  # ADD, REMOVE or NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    """One resource of a drift check that is not simply in sync: modified, deleted, or not checked."""

    logical_id: str
    physical_id: str
    resource_type: str
    status: str  # CloudFormation's StackResourceDriftStatus: MODIFIED, DELETED, NOT_CHECKED
    differences: tuple[PropertyDrift, ...] = ()

    @property
    def drifted(self) -> bool:
        return self.status in ("MODIFIED", "DELETED")

    @property
    def custom(self) -> bool:
        """A custom resource (Proxylity's): CloudFormation does not check them for drift."""
        return self.resource_type.startswith("Custom::") or self.resource_type == "AWS::CloudFormation::CustomResource"


@dataclass(frozen=True)
class StackDrift:
    """The drift of one stack (one StackSet instance)."""

    region: str
    stack: str
    state: DriftState
    account: str = ""  # a StackSet instance's account
    checked_at: str = ""
    resources: tuple[ResourceDrift, ...] = ()  # modified, deleted and not-checked resources; in-sync ones left out
    in_sync_count: int = 0  # resources checked and found as the template says
    reason: str = ""


@dataclass
class DriftReport:
    """Every stack (StackSet instance) checked, in the order status lists them."""

    stacks: list[StackDrift]

    @property
    def drifted(self) -> bool:
        return any(stack.state is DriftState.DRIFTED for stack in self.stacks)

    @property
    def failed(self) -> bool:
        return any(stack.state in (DriftState.NOT_CHECKED, DriftState.NOT_DEPLOYED) for stack in self.stacks)
