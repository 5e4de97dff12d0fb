"""`destroy` in change-set mode: what would be deleted (StackDestruction), then deleting it: regional stacks in
parallel, the global stack last and only when no regional stack is left; out/outputs.json then forgets what
is gone. The engine holds the run lock across both steps and the question between them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from generator.config import Config
from generator.deploy.clients import AwsClients
from generator.deploy.engine_base import Run
from generator.deploy.events import EventRelay
from generator.deploy.inventory import stack_inventory
from generator.deploy.outputs import forget_outputs
from generator.deploy.parallel import Interrupted, run_parallel
from generator.deploy.reports import ABSENT, Action, Deletion, DestroyPlan, DestroyReport, Kept, StackResult, StackState
from generator.deploy.stack_operations import delete_stack
from generator.errors import DeployError, Problem


@dataclass(frozen=True)
class StackDestruction:
    """What a destroy deletes in change-set mode, and what it keeps."""

    regional: list[StackState]
    delete_global: bool
    global_stack: StackState
    kept: list[StackState]  # regional stacks that stay, which keep the global stack alive
    # configured regions that could not be checked (region -> error): a stack may remain there
    unchecked: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.regional and not self.delete_global

    def view(self) -> DestroyPlan:
        """The plan as the question shows it."""
        deletions = [Deletion(s.region, s.stack, orphan=s.orphan) for s in self.regional]
        if self.delete_global:
            deletions.append(Deletion(self.global_stack.region, self.global_stack.stack))
        kept: list[Kept] = []
        if not self.delete_global and self.global_stack.status != ABSENT:
            if self.kept:
                regions = ", ".join(s.region for s in self.kept)
                kept.append(Kept(self.global_stack.stack, f"regional stacks remain in {regions}"))
            kept += [Kept(self.global_stack.stack, f"could not check {r}: {e}") for r, e in self.unchecked.items()]
        return DestroyPlan(tuple(deletions), tuple(kept))


def plan_destruction(
    config: Config, selected: Iterable[str] | None, clients: AwsClients, max_parallel: int
) -> StackDestruction:
    """Without REGIONS (`selected` None) everything, orphans included; the global stack only when no regional
    stack is left."""
    wanted = set(selected) if selected is not None else None
    found = stack_inventory(config, clients, max_parallel)
    global_stack, regional = found.stacks[0], found.stacks[1:]
    deployed = [state for state in regional if state.status != ABSENT]
    targets = [s for s in deployed if wanted is None or s.region in wanted]
    kept = [s for s in deployed if s not in targets]
    # A configured region that did not answer may still hold a regional stack that needs the global one.
    unchecked = {region: error for region, error in found.unreachable.items() if region in config.regions}
    delete_global = not kept and not unchecked and global_stack.status != ABSENT
    return StackDestruction(targets, delete_global, global_stack, kept, unchecked)


def refuse_unchecked(config: Config, plan: StackDestruction) -> None:
    """ "nothing to delete" would hide a stack that may be in a region that could not be checked."""
    if plan.empty and plan.unchecked:
        raise DeployError(
            [
                Problem(f"stack {config.regional_stack_name} in {region}", f"could not check: {error}; nothing deleted")
                for region, error in plan.unchecked.items()
            ]
        )


def destroy_stacks(run: Run, plan: StackDestruction) -> DestroyReport:
    """Delete what `plan` names (regional stacks in parallel, then the global one) and make the out folder's
    outputs.json forget it. Ctrl-C raises Interrupted naming what is in flight."""
    if plan.empty:
        return DestroyReport([])
    results = _delete_stacks(run.config, plan, run.clients, run.relay, run.max_parallel, run.poll_interval)
    deleted = [result for result in results if result.action is Action.DELETED]
    notes, warnings = forget_outputs(run.config, run.out_dir, deleted)
    return DestroyReport(results, notes, warnings)


def _delete_stacks(
    config: Config,
    plan: StackDestruction,
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
        if plan.delete_global:
            relay.queued(plan.global_stack.region, plan.global_stack.stack)

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
        if plan.delete_global:
            left = [result.region for result in results if not result.ok]
            if left:
                why = f"not deleted: regional stacks remain in {', '.join(left)}, which bind to its destination"
                results.append(relay.decided(plan.global_stack.region, plan.global_stack.stack, Action.SKIPPED, why))
            else:
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
