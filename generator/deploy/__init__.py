"""deploy/: StackSpecs -> CloudFormation change sets in every region; deploy, plan, status and destroy.

The engine returns data and reports progress as typed events (events.py) to a callback; it never prints.
One stack's operations are stack_operations.py, what its status means is stack_states.classify, the order
of global and regional stacks is specs.regional_stacks_first, out/outputs.json is outputs.py's.
"""

from generator.deploy.clients import AwsClients, aws_errors
from generator.deploy.deploy_stacks import DeployReport, deploy
from generator.deploy.destroy_stacks import DestroyPlan, DestroyReport, destroy, destroy_plan
from generator.deploy.events import Event, Notice, StackProgress, StackQueued, Waiting
from generator.deploy.inventory import Inventory, StackState, inventory
from generator.deploy.lock import run_lock
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL, Interrupted
from generator.deploy.plan_changes import plan
from generator.deploy.results import Action, PlanKind, PlannedChange, PropertyChange, StackPlan, StackResult
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL
from generator.errors import AlreadyRunning

__all__ = [
    "DEFAULT_MAX_PARALLEL",
    "DEFAULT_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "Action",
    "AlreadyRunning",
    "AwsClients",
    "DeployReport",
    "DestroyPlan",
    "DestroyReport",
    "Event",
    "Interrupted",
    "Inventory",
    "Notice",
    "PlanKind",
    "PlannedChange",
    "PropertyChange",
    "StackPlan",
    "StackProgress",
    "StackQueued",
    "StackResult",
    "StackState",
    "Waiting",
    "aws_errors",
    "deploy",
    "destroy",
    "destroy_plan",
    "inventory",
    "plan",
    "run_lock",
]
