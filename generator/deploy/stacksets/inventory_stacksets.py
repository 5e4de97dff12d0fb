"""`status` with a stacksets: section: each StackSet (and what differs from what the config renders now), and
every instance, configured or not: account, region, status, last operation's outcome, drift status when a
drift detection has run, and its endpoint or function ARN read in its account. An instance in an account or
region the config no longer has is an orphan (`make destroy` removes it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generator.config import Config
from generator.deploy.clients import AwsClients, aws_errors
from generator.deploy.reports import ABSENT, Inventory, StackState
from generator.deploy.stack_states import format_time
from generator.deploy.stacksets.customer_config import override_differences, with_account_values
from generator.deploy.stacksets.instance_outputs import read_instance_outputs
from generator.deploy.stacksets.instance_states import look_up
from generator.deploy.stacksets.specs import global_stackset_spec, regional_stackset_spec
from generator.deploy.statuses import StackSetStatus
from generator.render import render_templates


def stackset_inventory(config: Config, clients: AwsClients, max_parallel: int) -> Inventory:
    """The StackSets first, then every configured instance (global, then regional), then the orphans."""
    templates = render_templates(config)
    with aws_errors(f"StackSets in {config.home_region}"):
        specs, unavailable = with_account_values(
            clients,
            config,
            (global_stackset_spec(config, templates), regional_stackset_spec(config, templates)),
            max_parallel,
        )
    admin = clients.cloudformation(config.home_region)
    states = []
    for spec in specs:
        with aws_errors(spec.label):
            states.append(look_up(admin, spec.name, spec.region, spec.takes_overrides))
    outputs, unreadable = read_instance_outputs(clients, config, states, max_parallel)
    found = Inventory(
        [
            StackState(
                spec.region,
                spec.name,
                StackSetStatus.ACTIVE if state.exists else ABSENT,
                stack_set=True,
                differences=tuple(spec.differences(state.description or {})) if state.exists else (),
            )
            for spec, state in zip(specs, states, strict=True)
        ],
        unreachable={" ".join((name, *instance)): why for (name, instance), why in unreadable.items()},
    )
    for name, instances in unavailable.items():
        found.unreachable.update({" ".join((name, *instance)): why for instance, why in instances.items()})
    orphans = []
    for spec, state in zip(specs, states, strict=True):
        for key in spec.instances:
            instance = _state(spec.name, key, state.instances.get(key), outputs, orphan=False)
            wanted = spec.overrides.get(key)
            if wanted and key in state.instances:  # its own Proxylity values, as its account's are now?
                changed = override_differences(state.overrides.get(key, {}), dict(wanted))
                instance = replace(instance, differences=tuple(changed))
            found.stacks.append(instance)
        orphans += [
            _state(spec.name, key, summary, outputs, orphan=True)
            for key, summary in state.instances.items()
            if key not in set(spec.instances)
        ]
    found.stacks += orphans
    return found


def _state(name: str, key: tuple[str, str], summary: dict[str, Any] | None, outputs: dict, orphan: bool) -> StackState:
    account, region = key
    if summary is None:
        return StackState(region, name, ABSENT, account=account)
    found = outputs.get((name, key), {})
    checked = summary.get("LastDriftCheckTimestamp")
    return StackState(
        region,
        name,
        summary.get("Status", "?"),
        account=account,
        last_operation=(summary.get("StackInstanceStatus") or {}).get("DetailedStatus", ""),
        reason=summary.get("StatusReason") or "",
        drift_status=summary.get("DriftStatus") or "",
        last_drift_check=format_time(checked) if checked else "",
        stack_id=summary.get("StackId") or "",
        endpoint=found.get("Endpoint", ""),
        function_arn=found.get("FunctionArn", ""),
        orphan=orphan,
    )
