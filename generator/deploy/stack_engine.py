"""The engine of change-set mode (no `stacksets:` section): one stack per region in the caller's account, each
through CloudFormation change sets; the global stack in home_region, the regional ones in parallel."""

from __future__ import annotations

from collections.abc import Iterable

from generator.deploy.deploy_stacks import deploy_stacks
from generator.deploy.destroy_stacks import StackDestruction, destroy_stacks, plan_destruction, refuse_unchecked
from generator.deploy.drift_stacks import drift_stacks
from generator.deploy.engine_base import Confirm, EngineBase, confirm_nothing
from generator.deploy.inventory import stack_inventory
from generator.deploy.lock import run_lock
from generator.deploy.plan_changes import plan_stacks
from generator.deploy.reports import DeployReport, DestroyReport, DriftReport, Inventory, Plan
from generator.deploy.specs import select_regions
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL, PLAN_POLL_INTERVAL


class StackEngine(EngineBase):
    """deploy, plan, inventory and destroy of one stack per region through change sets."""

    def deploy(self, regions: Iterable[str] | None = None, confirm: Confirm = confirm_nothing) -> DeployReport:
        """Deletes nothing: a regional stack of a region the config no longer has is an orphan for destroy."""
        selected = select_regions(self.config, regions)
        with run_lock(self.options.out_dir, "deploy"):
            return deploy_stacks(self.run(DEFAULT_POLL_INTERVAL, confirm), selected)

    def plan(self, regions: Iterable[str] | None = None) -> Plan:
        selected = select_regions(self.config, regions)
        with run_lock(self.options.out_dir, "plan"):
            return plan_stacks(self.run(PLAN_POLL_INTERVAL), selected)

    def drift(self, regions: Iterable[str] | None = None) -> DriftReport:
        """Changes nothing that deploy owns (drift detection only reads), so no run lock."""
        return drift_stacks(self.run(PLAN_POLL_INTERVAL), select_regions(self.config, regions))

    def inventory(self) -> Inventory:
        return stack_inventory(self.config, self.clients, self.options.max_parallel)

    def _destruction(self, selected: tuple[str, ...] | None) -> StackDestruction:
        plan = plan_destruction(self.config, selected, self.clients, self.options.max_parallel)
        refuse_unchecked(self.config, plan)
        return plan

    def _delete(self, plan: StackDestruction) -> DestroyReport:
        return destroy_stacks(self.run(DEFAULT_POLL_INTERVAL), plan)
