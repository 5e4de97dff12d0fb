"""`deploy` with a stacksets: section: the global StackSet (one instance per account in home_region) and the
regional StackSet (every account x region), from the administrator account, then out/outputs.json.

The order, as for stacks: instances of accounts and regions no longer configured go first (regional before
global: a binding needs its destination); then the global StackSet, then the regional one, whose instances
of an account wait for that account's global instance (when it failed, they are skipped). Switching bind ->
map updates the regional StackSet first (specs.regional_stacks_first decides, as for stacks).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path

from generator.config import Config
from generator.deploy.approval import stack_widenings
from generator.deploy.clients import AWS_FAULTS, AwsClients, aws_errors, fault_text
from generator.deploy.engine_base import Run
from generator.deploy.outputs import write_account_outputs
from generator.deploy.parallel import Interrupted
from generator.deploy.reports import Action, Approval, Deletion, DeployReport, DestroyPlan, StackResult, Widening
from generator.deploy.specs import deployed_routing, regional_stacks_first
from generator.deploy.stack_errors import Stopped
from generator.deploy.stacksets.converge import StackSetRun
from generator.deploy.stacksets.customer_config import with_account_values
from generator.deploy.stacksets.instance_outputs import read_instance_outputs
from generator.deploy.stacksets.instance_states import StackSetState, look_up
from generator.deploy.stacksets.specs import Instance, StackSetSpec, global_stackset_spec, regional_stackset_spec
from generator.deploy.template_bodies import parsed_template
from generator.errors import DeployError
from generator.render import render_templates


def refuse_regions(config: Config, regions: Iterable[str] | None) -> None:
    """REGIONS narrows the per-stack deploy; a StackSet operation is the whole StackSet's."""
    if regions is not None:
        raise DeployError.of(
            "--regions",
            f"{config.source} deploys through StackSets, which CloudFormation runs in every configured "
            "account and region itself (stacksets.region_concurrency sets the order); leave --regions "
            "(REGIONS) out; nothing was changed",
        )


def deploy_stacksets(run: Run) -> DeployReport:
    """Converge both StackSets; a failed instance does not stop the others (within the failure tolerance).
    Ctrl-C raises Interrupted naming what is in flight (CloudFormation carries on)."""
    config, clients, relay = run.config, run.clients, run.relay
    templates = render_templates(config)
    specs = (global_stackset_spec(config, templates), regional_stackset_spec(config, templates))
    with aws_errors(f"StackSets in {config.home_region}"):
        (global_spec, regional_spec), unavailable = with_account_values(clients, config, specs, run.max_parallel)
    admin = clients.cloudformation(config.home_region)
    with aws_errors(global_spec.label):
        global_state = look_up(admin, global_spec.name, global_spec.region, global_spec.takes_overrides)
    with aws_errors(regional_spec.label):
        regional_state = look_up(admin, regional_spec.name, regional_spec.region, regional_spec.takes_overrides)
    approval = Approval((*_widenings(global_spec, global_state), *_widenings(regional_spec, regional_state)))
    if not approval.empty and not run.confirm(approval):
        return DeployReport([], approval=approval, cancelled=True)
    operations = StackSetRun(config, admin, relay, run.poll_interval, threading.Event(), run.max_parallel)
    operations.queue(global_spec, dict.fromkeys([*global_spec.instances, *global_state.instances]))
    operations.queue(regional_spec, dict.fromkeys([*regional_spec.instances, *regional_state.instances]))
    try:
        delete = _removals_confirmed(run, global_spec, global_state, regional_spec, regional_state)
        results = _converge_both(
            config, operations, (global_spec, global_state), (regional_spec, regional_state), delete, unavailable
        )
    except (KeyboardInterrupt, Stopped):
        operations.stop.set()
        raise Interrupted(relay.in_flight()) from None
    report = DeployReport(results, approval=approval)
    _outputs(config, clients, admin, report, run.out_dir, run.max_parallel)
    return report


def _widenings(spec: StackSetSpec, state: StackSetState) -> list[Widening]:
    """What converging `spec` widens in each of its instances: against the StackSet's stored template where the
    instance has a stack, everything anew where it has none (a new account or region)."""
    deployed = parsed_template((state.description or {}).get("TemplateBody"))
    rendered = json.loads(spec.template_body)
    pairs = [
        (
            f"{account} {region}",
            deployed if (state.instances.get((account, region)) or {}).get("StackId") else None,
            rendered,
        )
        for account, region in spec.instances
    ]
    return stack_widenings(spec.name, pairs)


def _converge_both(
    config: Config,
    run: StackSetRun,
    global_: tuple[StackSetSpec, StackSetState],
    regional_: tuple[StackSetSpec, StackSetState],
    delete: bool,
    unavailable: dict[str, dict[Instance, str]],
) -> list[StackResult]:
    (global_spec, global_state), (regional_spec, regional_state) = global_, regional_
    removed = run.remove(regional_spec, regional_state, delete=delete)
    # An account whose regional instances are not all gone keeps its destination (its global instance).
    remaining = {
        account
        for (account, region) in regional_state.instances
        if (account, region) not in removed or removed[(account, region)].action is not Action.DELETED
    }
    deployed = deployed_routing(regional_state.description)
    if regional_stacks_first(config, dict.fromkeys(config.regions, deployed), config.regions):
        regional_set, regional = run.converge(
            regional_spec, regional_state, unavailable=unavailable.get(regional_spec.name)
        )
        if all(result.ok for result in [regional_set, *regional.values()]):
            global_set, global_rows = _converge_global(
                run, global_spec, global_state, remaining, delete, unavailable.get(global_spec.name)
            )
        else:
            why = "not updated: switching to map routing waits until every regional instance has dropped its binding"
            global_set = run.finish_set_row(
                StackResult(global_spec.region, global_spec.name, Action.SKIPPED, reason=why, stack_set=True)
            )
            global_rows = {key: run.row(global_spec, key, Action.SKIPPED, why) for key in global_spec.instances}
    else:
        global_set, global_rows = _converge_global(
            run, global_spec, global_state, remaining, delete, unavailable.get(global_spec.name)
        )
        ready = {account for (account, _), row in global_rows.items() if row.ok and row.action is not Action.DELETED}

        def blocked(account: str) -> str:
            return "" if account in ready else f"not deployed: account {account}'s global instance is not deployed"

        regional_set, regional = run.converge(
            regional_spec, regional_state, blocked, unavailable.get(regional_spec.name)
        )
    regional = {**regional, **removed}
    return [global_set, *global_rows.values(), regional_set, *regional.values()]


def _removals_confirmed(
    run: Run,
    global_spec: StackSetSpec,
    global_state: StackSetState,
    regional_spec: StackSetSpec,
    regional_state: StackSetState,
) -> bool:
    """Whether the deploy may delete the instances of accounts and regions the config no longer has: never
    unasked (a removed account, or a typo in its id, must not lose its listener on a plain deploy); the
    question lists them, regional before global, as destroy's does."""
    regional = [key for key in regional_state.instances if key not in set(regional_spec.instances)]
    global_ = [key for key in global_state.instances if key not in set(global_spec.instances)]
    if not regional and not global_:
        return False
    deletions = [Deletion(region, regional_spec.name, account, orphan=True) for account, region in regional]
    deletions += [Deletion(region, global_spec.name, account, orphan=True) for account, region in global_]
    return run.confirm(DestroyPlan(tuple(deletions)))


def _converge_global(
    run: StackSetRun,
    spec: StackSetSpec,
    state: StackSetState,
    remaining: set[str],
    delete: bool,
    unavailable: dict[Instance, str] | None,
) -> tuple[StackResult, dict[Instance, StackResult]]:
    def keep(instance: Instance) -> str:
        if instance[0] in remaining:
            return f"kept: account {instance[0]} still has regional instances, which bind to its destination"
        return ""

    removed = run.remove(spec, state, keep, delete=delete)
    set_row, rows = run.converge(spec, state, unavailable=unavailable)
    return set_row, {**rows, **removed}


def _outputs(
    config: Config, clients: AwsClients, admin: object, report: DeployReport, out_dir: Path, max_parallel: int
) -> None:
    """Read each instance's outputs in its account, put them on the rows, and write out/outputs.json."""
    assert config.stacksets is not None
    try:
        states = [
            look_up(admin, name, config.home_region) for name in (config.global_stack_name, config.regional_stack_name)
        ]
    except AWS_FAULTS as error:  # the deploy is done; only its record is missing
        report.warnings.append(f"StackSets in {config.home_region}: cannot read their instances: {fault_text(error)}")
        return
    found, unreadable = read_instance_outputs(clients, config, states, max_parallel)
    report.warnings += [
        f"{name} of account {account} in {region}: {why}" for (name, (account, region)), why in unreadable.items()
    ]
    for result in report.results:
        if not result.stack_set and result.account:
            result.outputs = found.get((result.stack, (result.account, result.region)), {})
    accounts: dict[str, dict] = {}
    global_state, regional_state = states
    for account in config.stacksets.accounts:
        key = (account, config.home_region)
        summary = global_state.instances.get(key)
        outputs = found.get((config.global_stack_name, key))
        if summary is None or not outputs:
            continue
        accounts[account] = {**outputs, "StackId": summary.get("StackId"), "regions": {}}
        if outputs.get("Endpoint"):
            report.endpoints[account] = outputs["Endpoint"]
    actions = {(r.account, r.region): r.action for r in report.results if r.stack == config.regional_stack_name}
    for account, region in regional_state.instances:
        if account in accounts and region in config.regions:
            arn = found.get((config.regional_stack_name, (account, region)), {}).get("FunctionArn")
            accounts[account]["regions"][region] = {
                "stack": config.regional_stack_name,
                "action": str(actions.get((account, region), Action.UNCHANGED)),
                "FunctionArn": arn,
            }
    if accounts:
        report.outputs_path, warnings = write_account_outputs(config, accounts, out_dir)
        report.warnings += warnings
