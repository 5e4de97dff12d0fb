"""`plan` with a stacksets: section: per StackSet, whether a deploy would create or update it and how its
template changes, resource by resource and property by property; per instance, whether it would be created,
updated, deleted (its account or region left the config) or left alone. Changes nothing.

StackSets have no change sets: the template a StackSet holds (DescribeStackSet's TemplateBody) is compared
with the one rendered now.
"""

from __future__ import annotations

import json
from typing import Any

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, AwsClients, aws_errors, fault_text
from generator.deploy.reports import Plan, PlanKind, PlannedChange, PropertyChange, Replacement, StackPlan
from generator.deploy.stacksets.customer_config import override_differences, with_account_values
from generator.deploy.stacksets.instance_states import (
    InstanceCondition,
    StackSetState,
    describe_instance,
    look_up,
)
from generator.deploy.stacksets.specs import (
    Instance,
    StackSetSpec,
    global_stackset_spec,
    regional_stackset_spec,
)
from generator.deploy.template_bodies import parsed_template
from generator.render import render_templates
from generator.render.proxylity_context import API_KEY_PARAMETER


def plan_stacksets(config: Config, *, clients: AwsClients, max_parallel: int) -> Plan:
    """The global StackSet and its instances, then the regional StackSet and its instances."""
    templates = render_templates(config)
    admin = clients.cloudformation(config.home_region)
    specs = (global_stackset_spec(config, templates), regional_stackset_spec(config, templates))
    with aws_errors(f"StackSets in {config.home_region}"):
        specs_with_values, unavailable = with_account_values(clients, config, specs, max_parallel)
    plans: list[StackPlan] = []
    for spec in specs_with_values:
        try:
            state = look_up(admin, spec.name, spec.region, spec.takes_overrides)
        except AWS_FAULTS as error:
            plans.append(StackPlan(spec.region, spec.name, PlanKind.FAILED, reason=fault_text(error), stack_set=True))
            continue
        plans += plan_stack_set(spec, state, unavailable.get(spec.name, {}))
    return Plan(plans)


def plan_stack_set(
    spec: StackSetSpec, state: StackSetState, unavailable: dict[Instance, str] | None = None
) -> list[StackPlan]:
    """What a deploy would do to this StackSet and each of its instances (`unavailable`: instances whose
    account's Proxylity values could not be read, with why)."""
    description = state.description or {}
    differences = spec.differences(description) if state.exists else []
    set_plan = StackPlan(spec.region, spec.name, PlanKind.UNCHANGED, stack_set=True)
    if not state.exists:
        set_plan.kind, set_plan.changes = PlanKind.CREATE, template_changes(None, spec.template_body)
    elif differences:
        set_plan.kind = PlanKind.UPDATE
        set_plan.changes = template_changes(description.get("TemplateBody"), spec.template_body)
        set_plan.reason = _other_differences(spec, description, differences)
    plans = [set_plan]
    for key in spec.instances:
        account, region = key
        plan = StackPlan(region, spec.name, PlanKind.UNCHANGED, account=account)
        condition = state.condition(key)
        summary = state.instances.get(key, {})
        changed_values = _changed_values(spec, state, key)
        if unavailable and key in unavailable:
            plan.kind, plan.reason = PlanKind.FAILED, unavailable[key]
        elif condition is None:
            plan.kind = PlanKind.CREATE
        elif condition is InstanceCondition.NEEDS_ATTENTION:
            plan.kind = PlanKind.FAILED
            plan.reason = f"{describe_instance(summary)}: delete it with RetainStacks in the console first"
        elif differences or changed_values:
            plan.kind, plan.reason = PlanKind.UPDATE, changed_values
        elif condition is InstanceCondition.OUTDATED:
            plan.kind, plan.reason = PlanKind.UPDATE, f"{describe_instance(summary)}: deploy tries it again"
        elif condition is InstanceCondition.BUSY:
            plan.reason = f"{describe_instance(summary)}: an operation is working on it"
        plans.append(plan)
    wanted = set(spec.instances)
    for account, region in state.instances:
        if (account, region) not in wanted:
            why = "its account is not in stacksets.accounts" if account not in spec.accounts else "not in regions"
            why += "; a deploy deletes it only when confirmed (on a terminal, or YES=1), else keeps it"
            plans.append(StackPlan(region, spec.name, PlanKind.DELETE, reason=why, account=account))
    return plans


def _changed_values(spec: StackSetSpec, state: StackSetState, key: Instance) -> str:
    """In words, which of an existing instance's own Proxylity values would change ("" when none): the key
    named, never shown."""
    wanted = spec.overrides.get(key)
    if not wanted or key not in state.instances:
        return ""
    changed = override_differences(state.overrides.get(key, {}), dict(wanted))
    shown = [f"{name} (not shown)" if name == API_KEY_PARAMETER else name for name in changed]
    return f"its account's Proxylity values change: {', '.join(shown)}" if changed else ""


def _other_differences(spec: StackSetSpec, description: dict[str, Any], differences: list[str]) -> str:
    parts = []
    if "parameters" in differences:
        old = {p["ParameterKey"]: p.get("ParameterValue") for p in description.get("Parameters") or []}
        new = dict(spec.parameters)
        parts += [
            f"parameter {key}: {old.get(key)} -> {new.get(key)}"
            for key in sorted(old | new)
            if old.get(key) != new.get(key)
        ]
    parts += [f"{what} change" for what in differences if what in ("tags", "roles")]
    return "; ".join(parts)


def template_changes(old_body: str | None, new_body: str) -> list[PlannedChange]:
    """The resources the new template adds, removes or modifies, each modified one with its changed
    properties (old and new values as JSON, as a change set's Details say them)."""
    old = _resources(old_body)
    new = _resources(new_body)
    changes = []
    for logical_id in list(dict.fromkeys([*old, *new])):
        before, after = old.get(logical_id), new.get(logical_id)
        if before == after:
            continue
        resource_type = (after or before or {}).get("Type", "?")
        if before is None:
            changes.append(PlannedChange("Add", logical_id, resource_type))
        elif after is None:
            changes.append(PlannedChange("Remove", logical_id, resource_type))
        else:
            replaced = before.get("Type") != after.get("Type")
            replacement = Replacement.TRUE if replaced else Replacement.UNKNOWN
            changes.append(PlannedChange("Modify", logical_id, resource_type, replacement, _properties(before, after)))
    return changes


def _resources(body: str | None) -> dict[str, dict[str, Any]]:
    document = parsed_template(body)
    return dict(document.get("Resources") or {}) if isinstance(document, dict) else {}


def _properties(before: dict[str, Any], after: dict[str, Any]) -> tuple[PropertyChange, ...]:
    old, new = before.get("Properties") or {}, after.get("Properties") or {}
    return tuple(
        PropertyChange(
            name=name,
            change="Add" if name not in old else "Remove" if name not in new else "Modify",
            before=json.dumps(old[name], sort_keys=True) if name in old else None,
            after=json.dumps(new[name], sort_keys=True) if name in new else None,
        )
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    )
