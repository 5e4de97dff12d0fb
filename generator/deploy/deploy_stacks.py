"""`deploy`: the global stack in the home region and the regional stacks in parallel.

Data flows one way: config -> rendered templates (always from the whole config, so a partial deploy never
strips another region's permissions) -> StackSpecs -> change sets -> results -> out/outputs.json. The order
(global first, or regional first while switching bind -> map) is specs.regional_stacks_first()'s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, AwsClients
from generator.deploy.events import EventRelay, OnEvent
from generator.deploy.lock import run_lock
from generator.deploy.outputs import write_outputs
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL, Interrupted, run_parallel
from generator.deploy.results import Action, StackResult
from generator.deploy.specs import (
    StackSpec,
    deployed_routing,
    global_stack_spec,
    regional_stack_spec,
    regional_stacks_first,
    select_regions,
)
from generator.deploy.stack_operations import deploy_stack
from generator.deploy.stack_states import describe_stack
from generator.deploy.watcher import DEFAULT_POLL_INTERVAL
from generator.render import RenderedTemplate, render_templates


@dataclass
class DeployReport:
    global_result: StackResult
    regional_results: list[StackResult] = field(default_factory=list)
    outputs_path: Path | None = None
    warnings: list[str] = field(default_factory=list)  # one line each: what went wrong beside the stacks

    @property
    def results(self) -> list[StackResult]:
        return [self.global_result, *self.regional_results]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results) and len(self.regional_results) > 0

    @property
    def endpoint(self) -> str:
        return self.global_result.outputs.get("Endpoint", "")


def deploy(
    config: Config,
    regions: Iterable[str] | None = None,
    *,
    out_dir: Path,
    clients: AwsClients | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_event: OnEvent | None = None,
) -> DeployReport:
    """Deploy the global stack and the selected regions' stacks; a failed region does not stop the others.
    Progress goes to `on_event`; Ctrl-C raises Interrupted naming the stacks still in progress."""
    selected = select_regions(config, regions)
    templates = render_templates(config)
    relay = EventRelay(on_event)
    clients = clients or AwsClients()
    clients.set_on_wait(relay.waiting)
    clients.prepare([config.home_region, *config.regions])
    with run_lock(out_dir, "deploy") as lock_warnings:
        stop = threading.Event()
        deployed = _deployed_routing(clients, config, max_parallel, stop)
        regional_first = regional_stacks_first(config, deployed, selected)
        try:
            report = _deploy_in_order(
                config, templates, selected, regional_first, clients, relay, max_parallel, poll_interval, stop
            )
        except KeyboardInterrupt:  # while the global stack was in progress (run_parallel handles the rest)
            stop.set()
            raise Interrupted(relay.in_flight()) from None
        report.warnings[:0] = lock_warnings
        if report.global_result.ok:
            report.outputs_path, warnings = write_outputs(
                config, report.global_result, report.regional_results, out_dir
            )
            report.warnings += warnings
        return report


def _deployed_routing(
    clients: AwsClients, config: Config, max_parallel: int, stop: threading.Event
) -> dict[str, str | None]:
    """Each configured region's deployed routing (None: no stack there, or it could not be read; its worker
    reports why when it runs)."""

    def look(region: str) -> str | None:
        try:
            return deployed_routing(describe_stack(clients.cloudformation(region), config.regional_stack_name))
        except AWS_FAULTS:
            return None

    tasks = {region: (lambda r=region: look(r)) for region in config.regions}
    return run_parallel(tasks, max_parallel, stop, lambda: [])


def _deploy_in_order(
    config: Config,
    templates: list[RenderedTemplate],
    selected: tuple[str, ...],
    regional_first: bool,
    clients: AwsClients,
    relay: EventRelay,
    max_parallel: int,
    poll_interval: float,
    stop: threading.Event,
) -> DeployReport:
    global_spec = global_stack_spec(config, templates)
    relay.queued(global_spec.region, global_spec.name)
    for region in selected:
        relay.queued(region, config.regional_stack_name)

    def deploy_one(spec: StackSpec) -> StackResult:
        return deploy_stack(
            clients.cloudformation(spec.region),
            spec,
            on_progress=relay.for_stack(spec.region, spec.name),
            on_note=relay.notice,
            poll_interval=poll_interval,
            stop=stop,
        )

    def regional(global_outputs: dict[str, str]) -> list[StackResult]:
        specs = {region: regional_stack_spec(config, templates, region, global_outputs) for region in selected}
        tasks = {region: (lambda spec=spec: deploy_one(spec)) for region, spec in specs.items()}
        results = run_parallel(tasks, max_parallel, stop, relay.in_flight)
        return [results[region] for region in selected]

    if not regional_first:
        global_result = deploy_one(global_spec)
        if not global_result.ok:
            return DeployReport(global_result)
        return DeployReport(global_result, regional(global_result.outputs))
    regional_results = regional({})  # map routing: the regional stacks take nothing from the global one
    failed = [result.region for result in regional_results if not result.ok]
    if failed:
        global_result = _skipped(
            global_spec,
            f"not updated: switching to map routing waits until every region has dropped its binding "
            f"({', '.join(failed)} failed); run deploy again",
        )
        relay.for_stack(global_spec.region, global_spec.name)(global_result.action)
    else:
        global_result = deploy_one(global_spec)
    return DeployReport(global_result, regional_results)


def _skipped(spec: StackSpec, reason: str) -> StackResult:
    now = time.monotonic()
    return StackResult(spec.region, spec.name, Action.SKIPPED, reason=reason, started=now, finished=now)
