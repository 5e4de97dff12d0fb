"""`plan`: what a deploy would change, stack by stack, down to each property. Changes nothing: every change
set is made, described and deleted, never executed."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from generator.config import Config
from generator.deploy.clients import AwsClients, aws_errors
from generator.deploy.events import EventRelay, OnEvent
from generator.deploy.lock import run_lock
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL, run_parallel
from generator.deploy.results import StackPlan
from generator.deploy.specs import (
    DESTINATION_PARAMETER,
    ENDPOINT_PARAMETER,
    global_stack_spec,
    regional_stack_spec,
    select_regions,
)
from generator.deploy.stack_operations import plan_stack
from generator.deploy.stack_states import describe_stack, stack_outputs
from generator.deploy.watcher import PLAN_POLL_INTERVAL
from generator.render import render_templates

# What plan passes as DestinationId (and Endpoint) when the global stack does not exist yet.
PENDING_DESTINATION = "pending-global-stack-output"


def plan(
    config: Config,
    regions: Iterable[str] | None = None,
    *,
    out_dir: Path,
    clients: AwsClients | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    poll_interval: float = PLAN_POLL_INTERVAL,
    on_event: OnEvent | None = None,
) -> list[StackPlan]:
    """Per stack, what a deploy would add, modify (properties, replacement and IAM flagged) or remove."""
    selected = select_regions(config, regions)
    templates = render_templates(config)
    relay = EventRelay(on_event)
    clients = clients or AwsClients()
    clients.set_on_wait(relay.waiting)
    clients.prepare([config.home_region, *selected])
    with run_lock(out_dir, "plan"):
        global_spec = global_stack_spec(config, templates)
        home = clients.cloudformation(config.home_region)
        stop = threading.Event()
        global_plan = plan_stack(home, global_spec, poll_interval, stop)
        with aws_errors(global_spec.label):
            outputs = stack_outputs(describe_stack(home, global_spec.name))
        # Before the global stack exists its DestinationId is not known; plan shows the regional change anyway.
        outputs.setdefault(DESTINATION_PARAMETER, PENDING_DESTINATION)
        outputs.setdefault(ENDPOINT_PARAMETER, PENDING_DESTINATION)  # the canary's endpoint, likewise
        specs = {region: regional_stack_spec(config, templates, region, outputs) for region in selected}
        tasks = {
            region: (lambda spec=spec: plan_stack(clients.cloudformation(spec.region), spec, poll_interval, stop))
            for region, spec in specs.items()
        }
        results = run_parallel(tasks, max_parallel, stop, lambda: [])
        return [global_plan, *(results[region] for region in selected)]
