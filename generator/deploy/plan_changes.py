"""`plan` in change-set mode: what a deploy would change, stack by stack, down to each property. Changes
nothing: every change set is made, described and deleted, never executed."""

from __future__ import annotations

import threading

from generator.deploy.clients import aws_errors
from generator.deploy.engine_base import Run
from generator.deploy.parallel import run_parallel
from generator.deploy.reports import Plan
from generator.deploy.specs import (
    DESTINATION_PARAMETER,
    ENDPOINT_PARAMETER,
    global_stack_spec,
    regional_stack_spec,
)
from generator.deploy.stack_operations import plan_stack
from generator.deploy.stack_states import describe_stack, stack_outputs
from generator.render import render_templates

# What plan passes as DestinationId (and Endpoint) when the global stack does not exist yet.
PENDING_DESTINATION = "pending-global-stack-output"


def plan_stacks(run: Run, selected: tuple[str, ...]) -> Plan:
    """Per stack, what a deploy would add, modify (properties, replacement and IAM flagged) or remove."""
    config, clients, poll_interval = run.config, run.clients, run.poll_interval
    templates = render_templates(config)
    clients.prepare([config.home_region, *selected])
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
    results = run_parallel(tasks, run.max_parallel, stop, lambda: [])
    return Plan([global_plan, *(results[region] for region in selected)])
