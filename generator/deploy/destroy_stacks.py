"""`destroy`: what would be deleted (destroy_plan), then deleting it (destroy): regional stacks in parallel,
the global stack last and only when no regional stack is left; out/outputs.json then forgets what is gone.

The two steps are apart so the command line can ask in between, holding the run lock (lock.run_lock) across
both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import Config
from generator.deploy.clients import AwsClients
from generator.deploy.events import EventRelay, OnEvent
from generator.deploy.inventory import ABSENT, StackState, inventory
from generator.deploy.outputs import forget_outputs
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL, Interrupted, run_parallel
from generator.deploy.results import Action, StackResult
from generator.deploy.specs import select_regions
from generator.deploy.stack_operations import delete_stack
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL
from generator.errors import DeployError, Problem


@dataclass(frozen=True)
class DestroyPlan:
    regional: list[StackState]
    delete_global: bool
    global_stack: StackState
    kept: list[StackState]  # regional stacks that stay, which keep the global stack alive
    # configured regions that could not be checked (region -> error): a stack may remain there
    unchecked: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.regional and not self.delete_global


def destroy_plan(
    config: Config, regions: Iterable[str] | None, clients: AwsClients, on_event: OnEvent | None = None
) -> DestroyPlan:
    """Without REGIONS everything, orphans included; the global stack only when no regional stack is left."""
    selected = set(select_regions(config, regions)) if regions is not None else None
    found = inventory(config, clients, on_event=on_event)
    deployed = found.deployed_regional
    targets = [s for s in deployed if selected is None or s.region in selected]
    kept = [s for s in deployed if s not in targets]
    # A configured region that did not answer may still hold a regional stack that needs the global one.
    unchecked = {region: error for region, error in found.unreachable.items() if region in config.regions}
    delete_global = not kept and not unchecked and found.global_stack.status != ABSENT
    return DestroyPlan(targets, delete_global, found.global_stack, kept, unchecked)


@dataclass
class DestroyReport:
    results: list[StackResult]
    notes: list[str] = field(default_factory=list)  # what was done to out/outputs.json, one line each
    warnings: list[str] = field(default_factory=list)  # one line each: what went wrong beside the stacks

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


def destroy(
    config: Config,
    plan: DestroyPlan,
    *,
    out_dir: Path,
    clients: AwsClients | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_event: OnEvent | None = None,
) -> DestroyReport:
    """Delete what `plan` names (regional stacks in parallel, then the global one) and make out_dir's
    outputs.json forget it. Progress goes to `on_event`; Ctrl-C raises Interrupted naming what is in flight."""
    if plan.empty and plan.unchecked:  # "nothing to delete" would hide a stack that may be there
        raise DeployError(
            [
                Problem(f"stack {config.regional_stack_name} in {region}", f"could not check: {error}; nothing deleted")
                for region, error in plan.unchecked.items()
            ]
        )
    if plan.empty:
        return DestroyReport([])
    relay = EventRelay(on_event)
    clients = clients or AwsClients()
    clients.set_on_wait(relay.waiting)
    results = _delete_stacks(config, plan, clients, relay, max_parallel, poll_interval)
    notes, warnings = forget_outputs(config, out_dir, [result for result in results if result.action is Action.DELETED])
    return DestroyReport(results, notes, warnings)


def _delete_stacks(
    config: Config,
    plan: DestroyPlan,
    clients: AwsClients,
    relay: EventRelay,
    max_parallel: int,
    poll_interval: float,
) -> list[StackResult]:
    clients.prepare([state.region for state in plan.regional])  # orphans had the scan's client so far
    stop = threading.Event()
    try:
        for state in plan.regional:
            relay.queued(state.region, state.stack)

        def delete(state: StackState) -> StackResult:
            return delete_stack(
                clients.cloudformation(state.region),
                state.region,
                state.stack,
                relay.for_stack(state.region, state.stack),
                poll_interval,
                stop,
            )

        tasks = {state.region: (lambda s=state: delete(s)) for state in plan.regional}
        found = run_parallel(tasks, max_parallel, stop, relay.in_flight)
        results = [found[state.region] for state in plan.regional]
        if plan.delete_global and all(result.ok for result in results):
            relay.queued(plan.global_stack.region, plan.global_stack.stack)
            results.append(delete(plan.global_stack))
        # A region we could not check may still hold a stack: a failed row, so the exit status says so.
        results += [
            StackResult(
                region, config.regional_stack_name, Action.FAILED, reason=f"could not check: {error}; not deleted"
            )
            for region, error in plan.unchecked.items()
        ]
        return results
    except KeyboardInterrupt:  # while the global stack was being deleted
        stop.set()
        raise Interrupted(relay.in_flight()) from None
