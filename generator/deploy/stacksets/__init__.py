"""deploy/stacksets/: the deploy, plan, status and destroy of a config with a `stacksets:` section, through
CloudFormation StackSets in the administrator account (the caller) instead of change sets per stack.

specs (the two StackSets and their instances), instance_states (what an instance's status means),
operations (one StackSet operation, watched), converge (a StackSet made what its spec says), instance_outputs
(each instance's stack read in its own account), deploy_stacksets, plan_stacksets, inventory_stacksets,
destroy_stacksets. Events and results are the per-stack ones, each instance's with its account.
"""

from generator.deploy.stacksets.deploy_stacksets import StackSetDeployReport, deploy_stacksets
from generator.deploy.stacksets.destroy_stacksets import StackSetDestroyPlan, destroy_stacksets, stackset_destroy_plan
from generator.deploy.stacksets.inventory_stacksets import (
    InstanceState,
    StackSetInventory,
    StackSetStatus,
    stackset_inventory,
)
from generator.deploy.stacksets.plan_stacksets import plan_stacksets

__all__ = [
    "InstanceState",
    "StackSetDeployReport",
    "StackSetDestroyPlan",
    "StackSetInventory",
    "StackSetStatus",
    "deploy_stacksets",
    "destroy_stacksets",
    "plan_stacksets",
    "stackset_destroy_plan",
    "stackset_inventory",
]
