"""`status` with a stacksets: section: each StackSet (and whether it holds what the config renders now), and
every instance, configured or not: account, region, status, last operation's outcome, drift status when a
drift detection has run, and its endpoint or function ARN read in its account. An instance in an account or
region the config no longer has is an orphan (a deploy or `make destroy` removes it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.config import Config
from generator.deploy.clients import AwsClients, aws_errors
from generator.deploy.events import EventRelay, OnEvent
from generator.deploy.inventory import ABSENT
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL
from generator.deploy.stack_states import format_time
from generator.deploy.stacksets.instance_outputs import read_instance_outputs
from generator.deploy.stacksets.instance_states import look_up
from generator.deploy.stacksets.specs import global_stackset_spec, regional_stackset_spec
from generator.render import render_templates


@dataclass(frozen=True)
class StackSetStatus:
    name: str
    region: str
    status: str  # ACTIVE, or ABSENT
    in_step: str  # "yes", or what differs from the config ("template, parameters"); "" when absent


@dataclass(frozen=True)
class InstanceState:
    account: str
    region: str
    stack_set: str
    status: str  # CURRENT, OUTDATED, INOPERABLE, or ABSENT
    detailed_status: str = ""  # the last operation's outcome here: SUCCEEDED, FAILED, CANCELLED, ...
    reason: str = ""
    drift_status: str = ""  # NOT_CHECKED until a drift detection has run
    last_drift_check: str = ""
    stack_id: str = ""
    endpoint: str = ""  # global instances: the account's listener
    function_arn: str = ""  # regional instances
    orphan: bool = False


@dataclass
class StackSetInventory:
    stack_sets: list[StackSetStatus]
    instances: list[InstanceState] = field(default_factory=list)  # configured (global, then regional), then orphans
    unreadable: dict[str, str] = field(default_factory=dict)  # "stack set account region" -> why its stack was not read

    @property
    def orphans(self) -> list[InstanceState]:
        return [state for state in self.instances if state.orphan]


def stackset_inventory(
    config: Config,
    clients: AwsClients | None = None,
    on_event: OnEvent | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
) -> StackSetInventory:
    templates = render_templates(config)
    specs = (global_stackset_spec(config, templates), regional_stackset_spec(config, templates))
    clients = clients or AwsClients()
    clients.set_on_wait(EventRelay(on_event).waiting)
    admin = clients.cloudformation(config.home_region)
    states = []
    for spec in specs:
        with aws_errors(spec.label):
            states.append(look_up(admin, spec.name, spec.region))
    outputs, unreadable = read_instance_outputs(clients, config, states, max_parallel)
    found = StackSetInventory(
        [
            StackSetStatus(
                spec.name,
                spec.region,
                "ACTIVE" if state.exists else ABSENT,
                ("yes" if not (d := spec.differences(state.description or {})) else "differs: " + ", ".join(d))
                if state.exists
                else "",
            )
            for spec, state in zip(specs, states, strict=True)
        ],
        unreadable={" ".join((name, *instance)): why for (name, instance), why in unreadable.items()},
    )
    orphans = []
    for spec, state in zip(specs, states, strict=True):
        for key in spec.instances:
            found.instances.append(_state(spec.name, key, state.instances.get(key), outputs, orphan=False))
        orphans += [
            _state(spec.name, key, summary, outputs, orphan=True)
            for key, summary in state.instances.items()
            if key not in set(spec.instances)
        ]
    found.instances += orphans
    return found


def _state(name: str, key: tuple[str, str], summary: dict | None, outputs: dict, orphan: bool) -> InstanceState:
    account, region = key
    if summary is None:
        return InstanceState(account, region, name, ABSENT)
    found = outputs.get((name, key), {})
    checked = summary.get("LastDriftCheckTimestamp")
    return InstanceState(
        account,
        region,
        name,
        summary.get("Status", "?"),
        detailed_status=(summary.get("StackInstanceStatus") or {}).get("DetailedStatus", ""),
        reason=summary.get("StatusReason") or "",
        drift_status=summary.get("DriftStatus") or "",
        last_drift_check=format_time(checked) if checked else "",
        stack_id=summary.get("StackId") or "",
        endpoint=found.get("Endpoint", ""),
        function_arn=found.get("FunctionArn", ""),
        orphan=orphan,
    )
