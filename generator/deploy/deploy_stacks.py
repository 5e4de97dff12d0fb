"""`deploy` in change-set mode: the global stack in the home region and the regional stacks in parallel.

Data flows one way: config -> rendered templates (always from the whole config, so a partial deploy never
strips another region's permissions) -> StackSpecs -> change sets -> results -> out/outputs.json. The order
(global first, or regional first while switching bind -> map) is specs.regional_stacks_first()'s.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from generator.config import Config, Routing
from generator.deploy.approval import stack_widenings
from generator.deploy.clients import AWS_FAULTS, AwsClients
from generator.deploy.engine_base import Run
from generator.deploy.events import EventRelay
from generator.deploy.outputs import write_outputs
from generator.deploy.parallel import Interrupted, run_parallel
from generator.deploy.reports import Action, Approval, DeployReport, StackResult
from generator.deploy.specs import (
    StackSpec,
    deployed_routing,
    global_stack_spec,
    regional_stack_spec,
    regional_stacks_first,
)
from generator.deploy.stack_operations import CREATING_CHANGE_SET, deploy_stack
from generator.deploy.stack_states import deployed_template, describe_stack
from generator.paths import GLOBAL_TEMPLATE_NAME, REGIONAL_TEMPLATE_NAME
from generator.render import RenderedTemplate, render_templates


def deploy_stacks(run: Run, selected: tuple[str, ...]) -> DeployReport:
    """Deploy the global stack and the `selected` regions' stacks; a failed region does not stop the others,
    and a region never reached (the global stack failed) is a skipped row. Ctrl-C raises Interrupted naming
    the stacks still in progress."""
    config, clients, relay, max_parallel = run.config, run.clients, run.relay, run.max_parallel
    templates = render_templates(config)
    clients.prepare([config.home_region])
    stop = threading.Event()
    # Only a switch to map routing puts the regional stacks first, and only a switch with REGIONS left short is
    # refused: a bind deploy of every region need not look at what is deployed first (30 calls saved).
    if config.routing is Routing.MAP or set(selected) != set(config.regions):
        deployed = _deployed_routing(clients, config, max_parallel, stop)
    else:
        deployed = {}
    regional_first = regional_stacks_first(config, deployed, selected)
    approval = _approval(clients, config, templates, selected, max_parallel, stop)
    if not approval.empty and not run.confirm(approval):
        return DeployReport([], approval=approval, cancelled=True)
    try:
        global_result, regional_results = _deploy_in_order(
            config, templates, selected, regional_first, clients, relay, max_parallel, run.poll_interval, stop
        )
    except KeyboardInterrupt:  # while the global stack was in progress (run_parallel handles the rest)
        stop.set()
        raise Interrupted(relay.in_flight()) from None
    endpoint = global_result.outputs.get("Endpoint", "")
    report = DeployReport(
        [global_result, *regional_results], endpoints={"": endpoint} if endpoint else {}, approval=approval
    )
    if global_result.ok:
        report.outputs_path, report.warnings = write_outputs(config, global_result, regional_results, run.out_dir)
    return report


def _prepare_quietly(clients: AwsClients, regions: tuple[str, ...]) -> None:
    """Make the regions' clients ahead of need; a client that cannot be made is made (and fails, said plainly)
    again where it is needed, so nothing is raised here."""
    with contextlib.suppress(Exception):
        clients.prepare(regions)


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


def _approval(
    clients: AwsClients,
    config: Config,
    templates: list[RenderedTemplate],
    selected: tuple[str, ...],
    max_parallel: int,
    stop: threading.Event,
) -> Approval:
    """What this deploy widens, from each stack's deployed template against the one rendered now: read before
    anything changes, so the question comes first."""
    documents = {template.name: template.document for template in templates}
    stacks = [
        (config.global_stack_name, config.home_region, documents[GLOBAL_TEMPLATE_NAME]),
        *[(config.regional_stack_name, region, documents[REGIONAL_TEMPLATE_NAME]) for region in selected],
    ]
    tasks = {
        f"{name} {region}": (lambda name=name, region=region: _deployed_template(clients, name, region))
        for name, region, _ in stacks
    }
    deployed = run_parallel(tasks, max_parallel, stop, lambda: [])
    widenings = []
    for name in dict.fromkeys(name for name, _, _ in stacks):
        pairs = [
            (region, deployed[f"{name} {region}"][1], new)
            for stack, region, new in stacks
            if stack == name and deployed[f"{name} {region}"][0]
        ]
        widenings += stack_widenings(name, pairs)
    return Approval(tuple(widenings))


def _deployed_template(clients: AwsClients, name: str, region: str) -> tuple[bool, dict[str, Any] | None]:
    """(read, the stack's deployed template): None when the deploy creates everything anew (no stack, or one
    that never got its resources). Not read (AWS answered with a fault): the stack is left out of the question,
    and its deploy, whose first call meets the same fault, reports it, beside the other regions' results."""
    try:
        return True, deployed_template(clients.cloudformation(region), name)
    except AWS_FAULTS:
        return False, None


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
) -> tuple[StackResult, list[StackResult]]:
    global_spec = global_stack_spec(config, templates)
    relay.queued(global_spec.region, global_spec.name)
    for region in selected:
        relay.queued(region, config.regional_stack_name)

    preparing = threading.Event()

    def prepare_regional_clients() -> None:
        """Make the regions' clients while the global stack's operation runs (CloudFormation's time, idle here):
        clients are made one at a time (a Session is not thread-safe), and thirty of them take a quarter of a
        second of CPU that would otherwise delay the global stack or the regional ones."""
        if not preparing.is_set():
            preparing.set()
            threading.Thread(target=_prepare_quietly, args=(clients, selected), name="clients", daemon=True).start()

    def deploy_one(spec: StackSpec, once_under_way: Callable[[], None] | None = None) -> StackResult:
        progress = relay.for_stack(spec.region, spec.name)

        def on_progress(state: str, event: str | None = None) -> None:
            progress(state, event)
            if once_under_way is not None and state != CREATING_CHANGE_SET:
                once_under_way()

        return deploy_stack(
            clients.cloudformation(spec.region),
            spec,
            on_progress=on_progress,
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
        global_result = deploy_one(global_spec, once_under_way=prepare_regional_clients)
        if not global_result.ok:
            ended = "failed" if global_result.action is Action.FAILED else f"is {global_result.action}"
            why = f"not reached: it needs the global stack {global_spec.name} in {global_spec.region}, which {ended}"
            skipped = [relay.decided(region, config.regional_stack_name, Action.SKIPPED, why) for region in selected]
            return global_result, skipped
        return global_result, regional(global_result.outputs)
    regional_results = regional({})  # map routing: the regional stacks take nothing from the global one
    failed = [result.region for result in regional_results if not result.ok]
    if failed:
        global_result = relay.decided(
            global_spec.region,
            global_spec.name,
            Action.SKIPPED,
            f"not updated: switching to map routing waits until every region has dropped its binding "
            f"({', '.join(failed)} not done); run deploy again",
        )
    else:
        global_result = deploy_one(global_spec)
    return global_result, regional_results
