"""`destroy` with a stacksets: section: what would be deleted (stackset_destroy_plan), then deleting it
(destroy_stacksets): the regional instances (orphans too), the regional StackSet, the global instances,
the global StackSet, each step only when the one before it left nothing behind. With REGIONS only the
regional instances in those regions go, and both StackSets stay. out/outputs.json then forgets what is gone.

As for stacks, the two steps are apart so the command line can ask in between, holding the run lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from generator.config import Config
from generator.deploy.clients import ENDPOINT_FAULTS, AwsClients, aws_errors, fault_text
from generator.deploy.engine_base import Run
from generator.deploy.outputs import forget_account_outputs
from generator.deploy.parallel import Interrupted
from generator.deploy.reports import Action, Deletion, DestroyPlan, DestroyReport, Kept, StackResult
from generator.deploy.stack_errors import Stopped
from generator.deploy.stacksets.converge import StackSetRun
from generator.deploy.stacksets.instance_states import look_up
from generator.deploy.stacksets.specs import Instance, StackSetSpec, global_stackset_spec, regional_stackset_spec
from generator.render import render_templates


@dataclass(frozen=True)
class StackSetDestruction:
    """What a destroy deletes with StackSets, and what it keeps."""

    region: str  # where the StackSets live
    regional_set: str
    global_set: str
    regional: list[Instance]  # regional instances to delete, orphans included
    global_instances: list[Instance]
    delete_regional_set: bool
    delete_global_set: bool
    kept: list[Instance] = field(default_factory=list)  # regional instances outside REGIONS, which stay
    orphans: list[Instance] = field(default_factory=list)  # of `regional`: accounts or regions not configured

    @property
    def empty(self) -> bool:
        return not (self.regional or self.global_instances or self.delete_regional_set or self.delete_global_set)

    def view(self) -> DestroyPlan:
        """The plan as the question shows it."""
        orphans = set(self.orphans)
        deletions = [Deletion(r, self.regional_set, a, orphan=(a, r) in orphans) for a, r in self.regional]
        if self.delete_regional_set:
            deletions.append(Deletion(self.region, self.regional_set, stack_set=True))
        deletions += [Deletion(region, self.global_set, account) for account, region in self.global_instances]
        if self.delete_global_set:
            deletions.append(Deletion(self.region, self.global_set, stack_set=True))
        kept = ()
        if self.kept:
            where = ", ".join(f"{account} {region}" for account, region in self.kept)
            kept = (Kept("both StackSets", f"regional instances remain in {where}"),)
        return DestroyPlan(tuple(deletions), kept)


def plan_stackset_destruction(
    config: Config, selected: Iterable[str] | None, clients: AwsClients
) -> StackSetDestruction:
    """Without REGIONS (`selected` None) everything, both StackSets included; with REGIONS the regional
    instances there."""
    wanted = set(selected) if selected is not None else None
    admin = clients.cloudformation(config.home_region)
    with aws_errors(f"StackSet {config.regional_stack_name} in {config.home_region}"):
        regional = look_up(admin, config.regional_stack_name, config.home_region)
    with aws_errors(f"StackSet {config.global_stack_name} in {config.home_region}"):
        global_state = look_up(admin, config.global_stack_name, config.home_region)
    assert config.stacksets is not None
    configured = {(account, region) for account in config.stacksets.accounts for region in config.regions}
    targets = [key for key in regional.instances if wanted is None or key[1] in wanted]
    everything = wanted is None
    return StackSetDestruction(
        region=config.home_region,
        regional_set=config.regional_stack_name,
        global_set=config.global_stack_name,
        regional=targets,
        global_instances=list(global_state.instances) if everything else [],
        delete_regional_set=everything and regional.exists,
        delete_global_set=everything and global_state.exists,
        kept=[key for key in regional.instances if key not in targets],
        orphans=[key for key in targets if key not in configured],
    )


def destroy_stacksets(engine_run: Run, plan: StackSetDestruction) -> DestroyReport:
    """Delete what `plan` names, regional before global, instances before their StackSet; each step only when
    the one before it left nothing behind (else its rows are skipped, with the reason)."""
    if plan.empty:
        return DestroyReport([])
    config, relay = engine_run.config, engine_run.relay
    templates = render_templates(config)
    global_spec, regional_spec = global_stackset_spec(config, templates), regional_stackset_spec(config, templates)
    admin = engine_run.clients.cloudformation(config.home_region)
    run = StackSetRun(config, admin, relay, engine_run.poll_interval, threading.Event())
    run.queue(regional_spec, plan.regional)
    run.queue(global_spec, plan.global_instances)
    try:
        results = list(run.delete_instances(regional_spec, plan.regional).values())
        why = "not deleted: regional instances remain"
        if plan.delete_regional_set:
            results.append(
                _delete_set(run, regional_spec) if _all_ok(results) else _skipped_set(run, regional_spec, why)
            )
        if plan.global_instances:
            if _all_ok(results):
                results += run.delete_instances(global_spec, plan.global_instances).values()
            else:
                results += [run.row(global_spec, key, Action.SKIPPED, why) for key in plan.global_instances]
        if plan.delete_global_set:
            why = "not deleted: instances remain"
            results.append(_delete_set(run, global_spec) if _all_ok(results) else _skipped_set(run, global_spec, why))
    except (KeyboardInterrupt, Stopped):
        run.stop.set()
        raise Interrupted(relay.in_flight()) from None
    deleted = [result for result in results if result.action is Action.DELETED]
    notes, warnings = forget_account_outputs(config, engine_run.out_dir, deleted)
    return DestroyReport(results, notes, warnings)


def _all_ok(results: list[StackResult]) -> bool:
    return all(result.ok for result in results)


def _skipped_set(run: StackSetRun, spec: StackSetSpec, reason: str) -> StackResult:
    result = StackResult(
        spec.region, spec.name, Action.SKIPPED, reason=reason, started=time.monotonic(), stack_set=True
    )
    return run.finish_set_row(result)


def _delete_set(run: StackSetRun, spec: StackSetSpec) -> StackResult:
    result = StackResult(spec.region, spec.name, Action.DELETED, started=time.monotonic(), stack_set=True)
    run.relay.for_stack(spec.region, spec.name)("DELETING_STACK_SET")
    try:
        run.client.delete_stack_set(StackSetName=spec.name)
    except (ClientError, *ENDPOINT_FAULTS) as error:
        result.action, result.reason = Action.FAILED, fault_text(error)
    return run.finish_set_row(result)
