"""deploy/: templates -> CloudFormation, in either deploy mode, behind one front door (engine.py):

    engine = engine_for(config, EngineOptions(out_dir=..., on_event=...))
    engine.plan() / engine.deploy(confirm=...) / engine.drift() / engine.inventory()
    engine.destroy_plan() / engine.destroy(confirm=...)

Change-set mode (stack_engine: one stack per region through change sets) and StackSets mode
(stacksets/stackset_engine) return the same report types (reports.py) and report progress as the same typed
events (events.py) to a callback; the engine never prints. One stack's operations are stack_operations.py,
what its status means is stack_states.classify, CloudFormation's status words are statuses.py's, the order
of global and regional stacks is specs.regional_stacks_first, out/outputs.json is outputs.py's.
"""

from generator.deploy.clients import AwsClients, aws_errors
from generator.deploy.engine import DeployEngine, engine_for
from generator.deploy.engine_base import Confirm, EngineOptions, Question
from generator.deploy.events import Event, Notice, OnEvent, StackProgress, StackQueued, Waiting
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL, Interrupted
from generator.deploy.reports import (
    ABSENT,
    Action,
    Approval,
    Deletion,
    DeployReport,
    DestroyPlan,
    DestroyReport,
    DriftReport,
    DriftState,
    Inventory,
    Kept,
    Plan,
    PlanKind,
    PlannedChange,
    PropertyChange,
    PropertyDrift,
    Replacement,
    ResourceDrift,
    StackDrift,
    StackPlan,
    StackResult,
    StackState,
    Widening,
)
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL

__all__ = [
    "ABSENT",
    "DEFAULT_MAX_PARALLEL",
    "DEFAULT_POLL_INTERVAL",
    "Action",
    "Approval",
    "AwsClients",
    "Confirm",
    "Deletion",
    "DeployEngine",
    "DeployReport",
    "DestroyPlan",
    "DestroyReport",
    "DriftReport",
    "DriftState",
    "EngineOptions",
    "Event",
    "Interrupted",
    "Inventory",
    "Kept",
    "Notice",
    "OnEvent",
    "Plan",
    "PlanKind",
    "PlannedChange",
    "PropertyChange",
    "PropertyDrift",
    "Question",
    "Replacement",
    "ResourceDrift",
    "StackDrift",
    "StackPlan",
    "StackProgress",
    "StackQueued",
    "StackResult",
    "StackState",
    "Waiting",
    "Widening",
    "aws_errors",
    "engine_for",
]
