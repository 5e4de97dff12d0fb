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
from pathlib import Path

from botocore.exceptions import ClientError

from generator.config import Config
from generator.deploy.clients import ENDPOINT_FAULTS, AwsClients, aws_errors, fault_text
from generator.deploy.destroy_stacks import DestroyReport
from generator.deploy.events import EventRelay, OnEvent
from generator.deploy.outputs import forget_account_outputs
from generator.deploy.parallel import Interrupted
from generator.deploy.results import Action, StackResult
from generator.deploy.specs import select_regions
from generator.deploy.stack_errors import Stopped
from generator.deploy.stacksets.converge import StackSetRun
from generator.deploy.stacksets.instance_states import look_up
from generator.deploy.stacksets.specs import Instance, StackSetSpec, global_stackset_spec, regional_stackset_spec
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL
from generator.render import render_templates


@dataclass(frozen=True)
class StackSetDestroyPlan:
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


def stackset_destroy_plan(
    config: Config, regions: Iterable[str] | None, clients: AwsClients, on_event: OnEvent | None = None
) -> StackSetDestroyPlan:
    """Without REGIONS everything, both StackSets included; with REGIONS the regional instances there."""
    selected = set(select_regions(config, regions)) if regions is not None else None
    clients.set_on_wait(EventRelay(on_event).waiting)
    admin = clients.cloudformation(config.home_region)
    with aws_errors(f"StackSet {config.regional_stack_name} in {config.home_region}"):
        regional = look_up(admin, config.regional_stack_name, config.home_region)
    with aws_errors(f"StackSet {config.global_stack_name} in {config.home_region}"):
        global_state = look_up(admin, config.global_stack_name, config.home_region)
    assert config.stacksets is not None
    configured = {(account, region) for account in config.stacksets.accounts for region in config.regions}
    targets = [key for key in regional.instances if selected is None or key[1] in selected]
    everything = selected is None
    return StackSetDestroyPlan(
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


def destroy_stacksets(
    config: Config,
    plan: StackSetDestroyPlan,
    *,
    out_dir: Path,
    clients: AwsClients | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_event: OnEvent | None = None,
) -> DestroyReport:
    """Delete what `plan` names, regional before global, instances before their StackSet."""
    if plan.empty:
        return DestroyReport([])
    templates = render_templates(config)
    global_spec, regional_spec = global_stackset_spec(config, templates), regional_stackset_spec(config, templates)
    relay = EventRelay(on_event)
    clients = clients or AwsClients()
    clients.set_on_wait(relay.waiting)
    run = StackSetRun(config, clients.cloudformation(config.home_region), relay, poll_interval, threading.Event())
    run.queue(regional_spec, plan.regional)
    run.queue(global_spec, plan.global_instances)
    try:
        results = list(run.delete_instances(regional_spec, plan.regional).values())
        if plan.delete_regional_set and all(result.ok for result in results):
            results.append(_delete_set(run, regional_spec))
        if plan.global_instances and all(result.ok for result in results):
            results += run.delete_instances(global_spec, plan.global_instances).values()
        if plan.delete_global_set and all(result.ok for result in results):
            results.append(_delete_set(run, global_spec))
    except (KeyboardInterrupt, Stopped):
        run.stop.set()
        raise Interrupted(relay.in_flight()) from None
    notes, warnings = forget_account_outputs(config, out_dir, [r for r in results if r.action is Action.DELETED])
    return DestroyReport(results, notes, warnings)


def _delete_set(run: StackSetRun, spec: StackSetSpec) -> StackResult:
    result = StackResult(spec.region, spec.name, Action.DELETED, started=time.monotonic(), stack_set=True)
    run.relay.for_stack(spec.region, spec.name)("DELETING_STACK_SET")
    try:
        run.client.delete_stack_set(StackSetName=spec.name)
    except (ClientError, *ENDPOINT_FAULTS) as error:
        result.action, result.reason = Action.FAILED, fault_text(error)
    return run.finish_set_row(result)
