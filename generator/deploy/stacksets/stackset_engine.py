"""The engine of StackSets mode (a `stacksets:` section): two StackSets in the administrator account (the
caller) in home_region, their instances in every configured account and region, run by CloudFormation."""

from __future__ import annotations

from collections.abc import Iterable

from generator.deploy.engine_base import Confirm, EngineBase, confirm_nothing
from generator.deploy.lock import run_lock
from generator.deploy.reports import DeployReport, DestroyReport, DriftReport, Inventory, Plan
from generator.deploy.stacksets.deploy_stacksets import deploy_stacksets, refuse_regions
from generator.deploy.stacksets.destroy_stacksets import (
    StackSetDestruction,
    destroy_stacksets,
    plan_stackset_destruction,
)
from generator.deploy.stacksets.drift_stacksets import drift_stacksets
from generator.deploy.stacksets.inventory_stacksets import stackset_inventory
from generator.deploy.stacksets.plan_stacksets import plan_stacksets
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL, PLAN_POLL_INTERVAL


class StackSetEngine(EngineBase):
    """deploy, plan, inventory and destroy through CloudFormation StackSets."""

    def deploy(self, regions: Iterable[str] | None = None, confirm: Confirm = confirm_nothing) -> DeployReport:
        refuse_regions(self.config, regions)
        with run_lock(self.options.out_dir, "deploy"):
            return deploy_stacksets(self.run(DEFAULT_POLL_INTERVAL, confirm))

    def plan(self, regions: Iterable[str] | None = None) -> Plan:
        refuse_regions(self.config, regions)
        with run_lock(self.options.out_dir, "plan"):
            return plan_stacksets(self.config, clients=self.clients, max_parallel=self.options.max_parallel)

    def drift(self, regions: Iterable[str] | None = None) -> DriftReport:
        refuse_regions(self.config, regions)
        return drift_stacksets(self.run(PLAN_POLL_INTERVAL))

    def inventory(self) -> Inventory:
        return stackset_inventory(self.config, self.clients, self.options.max_parallel)

    def _destruction(self, selected: tuple[str, ...] | None) -> StackSetDestruction:
        return plan_stackset_destruction(self.config, selected, self.clients)

    def _delete(self, plan: StackSetDestruction) -> DestroyReport:
        return destroy_stacksets(self.run(DEFAULT_POLL_INTERVAL), plan)
