"""`status` and `destroy`: what is deployed where (orphans from older configs included), and removing it.

Orphans are regional stacks in regions the config no longer lists; finding them means asking every
region botocore knows. Regions that refuse (opt-in regions not enabled, no permission) are reported
and skipped, never fatal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from generator.aws import AWS_FAULTS, AwsClients, aws_errors, fault_text
from generator.changesets import StackResult, delete_stack, describe_stack, format_time, stack_outputs
from generator.config import Config
from generator.deploy import forget_outputs, run_lock
from generator.errors import DeployError, Problem
from generator.parallel import Interrupted, run_parallel
from generator.progress import Progress, format_table, summary_table
from generator.config.regions import known_regions
from generator.stacks import select_regions

SCAN_PARALLEL = 16


@dataclass(frozen=True)
class StackState:
    region: str
    stack: str
    status: str  # "absent" when there is no stack
    last_update: str = ""
    function_arn: str = ""
    orphan: bool = False
    stack_id: str = ""


@dataclass
class Inventory:
    global_stack: StackState
    regional: list[StackState] = field(default_factory=list)  # config regions, then orphans
    unreachable: dict[str, str] = field(default_factory=dict)  # region -> error, configured regions included

    @property
    def orphans(self) -> list[StackState]:
        return [state for state in self.regional if state.orphan]

    @property
    def deployed_regional(self) -> list[StackState]:
        return [state for state in self.regional if state.status != "absent"]


def _state(clients: AwsClients, region: str, name: str, orphan: bool = False) -> StackState:
    # Orphan candidates are every other region: the scan's quick client, so a blocked endpoint cannot stall.
    stack = describe_stack(clients.cloudformation(region, scan=orphan), name)
    if stack is None:
        return StackState(region, name, "absent", orphan=orphan)
    updated = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    return StackState(
        region,
        name,
        stack["StackStatus"],
        last_update=format_time(updated) if updated else "",
        function_arn=stack_outputs(stack).get("FunctionArn", ""),
        orphan=orphan,
        stack_id=stack["StackId"],
    )


def inventory(config: Config, clients: AwsClients | None = None, scan_orphans: bool = True) -> Inventory:
    clients = clients or AwsClients()
    others = [region for region in known_regions() if region not in config.regions] if scan_orphans else []
    clients.prepare([config.home_region, *config.regions])
    clients.prepare(others, scan=True)
    name = config.regional_stack_name
    with aws_errors(f"stack {config.global_stack_name} in {config.home_region}"):
        result = Inventory(_state(clients, config.home_region, config.global_stack_name))
    stop = threading.Event()

    def look(region: str, orphan: bool) -> StackState | str:
        try:
            return _state(clients, region, name, orphan)
        except AWS_FAULTS as error:
            return fault_text(error)

    tasks = {region: (lambda r=region: look(r, False)) for region in config.regions}
    tasks.update({region: (lambda r=region: look(r, True)) for region in others})
    found = run_parallel(tasks, SCAN_PARALLEL, stop, lambda: [])
    for region in [*config.regions, *others]:
        state = found[region]
        if isinstance(state, str):
            result.unreachable[region] = state
        elif not state.orphan or state.status != "absent":
            result.regional.append(state)
    return result


def format_status(config: Config, found: Inventory) -> str:
    rows = [
        (s.region, s.stack, s.status, s.last_update or "-", s.function_arn or "-", "orphan" if s.orphan else "")
        for s in [found.global_stack, *found.regional]
    ]
    lines = [format_table(("region", "stack", "status", "last update", "function ARN", "note"), rows)]
    for orphan in found.orphans:
        lines.append(
            f"orphan: {orphan.stack} in {orphan.region} is not in {config.source}'s regions "
            "(`make destroy` without REGIONS removes it)"
        )
    if found.unreachable:
        # On AWS these are mostly opt-in regions the account has not enabled: one line, not thirty.
        regions = ", ".join(sorted(found.unreachable))
        first_error = next(iter(found.unreachable.values()))
        lines.append(
            f"could not check {len(found.unreachable)} region(s) for orphans (opt-in regions not enabled?): "
            f"{regions}; first error: {first_error}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class DestroyPlan:
    regional: list[StackState]
    delete_global: bool
    global_stack: StackState
    kept: list[StackState]  # regional stacks that stay, which keep the global stack alive
    # configured regions that could not be checked (region -> error): a stack may remain there
    unchecked: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [f"  {s.stack} in {s.region}{' (orphan)' if s.orphan else ''}" for s in self.regional]
        if self.delete_global:
            lines.append(f"  {self.global_stack.stack} in {self.global_stack.region} (last)")
        elif self.global_stack.status != "absent":
            if self.kept:
                kept = ", ".join(s.region for s in self.kept)
                lines.append(f"  (keeping {self.global_stack.stack}: regional stacks remain in {kept})")
            for region, error in self.unchecked.items():
                lines.append(f"  (keeping {self.global_stack.stack}: could not check {region}: {error})")
        return "\n".join(lines)

    @property
    def empty(self) -> bool:
        return not self.regional and not self.delete_global


def destroy_plan(config: Config, regions: Iterable[str] | None, clients: AwsClients) -> DestroyPlan:
    """Without REGIONS everything, orphans included; the global stack only when no regional stack is left."""
    selected = set(select_regions(config, regions)) if regions is not None else None
    found = inventory(config, clients)
    deployed = found.deployed_regional
    targets = [s for s in deployed if selected is None or s.region in selected]
    kept = [s for s in deployed if s not in targets]
    # A configured region that did not answer may still hold a regional stack that needs the global one.
    unchecked = {region: error for region, error in found.unreachable.items() if region in config.regions}
    delete_global = not kept and not unchecked and found.global_stack.status != "absent"
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
    regions: Iterable[str] | None = None,
    *,
    confirm: Callable[[str], bool],
    out_dir: Path,
    clients: AwsClients | None = None,
    max_parallel: int = 8,
    poll_interval: float = 3.0,
    stream: TextIO | None = None,
    live: bool | None = None,
) -> DestroyReport | None:
    """Delete regional stacks in parallel, then the global one; None when the user says no.
    out_dir's outputs.json then forgets what was deleted."""
    clients = clients or AwsClients()
    with run_lock(out_dir, "destroy") as lock_warnings:
        plan = destroy_plan(config, regions, clients)
        if plan.empty and plan.unchecked:  # "nothing to delete" would hide a stack that may be there
            raise DeployError(
                [
                    Problem(
                        f"stack {config.regional_stack_name} in {region}", f"could not check: {error}; nothing deleted"
                    )
                    for region, error in plan.unchecked.items()
                ]
            )
        if plan.empty:
            return DestroyReport([], warnings=lock_warnings)
        if not confirm(plan.describe()):
            return None
        results = _delete_stacks(config, plan, clients, max_parallel, poll_interval, stream, live)
        notes, warnings = forget_outputs(config, out_dir, [result for result in results if result.action == "deleted"])
        return DestroyReport(results, notes, lock_warnings + warnings)


def _delete_stacks(
    config: Config,
    plan: DestroyPlan,
    clients: AwsClients,
    max_parallel: int,
    poll_interval: float,
    stream: TextIO | None,
    live: bool | None,
) -> list[StackResult]:
    clients.prepare([state.region for state in plan.regional])  # orphans had the scan's client so far
    stop = threading.Event()
    progress = Progress(stream, live=live)
    try:
        for state in plan.regional:
            progress.add(state.region, state.stack)

        def delete(state: StackState) -> StackResult:
            return delete_stack(
                clients.cloudformation(state.region),
                state.region,
                state.stack,
                lambda status, event: progress.update(state.region, state.stack, status, event),
                poll_interval,
                stop,
            )

        tasks = {state.region: (lambda s=state: delete(s)) for state in plan.regional}
        found = run_parallel(tasks, max_parallel, stop, progress.in_flight)
        results = [found[state.region] for state in plan.regional]
        if plan.delete_global and all(result.ok for result in results):
            progress.add(plan.global_stack.region, plan.global_stack.stack)
            results.append(delete(plan.global_stack))
        # A region we could not check may still hold a stack: a failed row, so the exit status says so.
        results += [
            StackResult(region, config.regional_stack_name, "failed", reason=f"could not check: {error}; not deleted")
            for region, error in plan.unchecked.items()
        ]
        return results
    except KeyboardInterrupt:  # while the global stack was being deleted
        stop.set()
        raise Interrupted(progress.in_flight()) from None
    finally:
        progress.close()


def destroy_summary(results: list[StackResult]) -> str:
    return summary_table(results, "")
