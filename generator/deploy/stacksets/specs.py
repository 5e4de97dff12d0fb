"""Config + rendered templates -> the two StackSets to deploy (StackSetSpec): names, bodies, parameters,
target accounts and regions, roles, and the operation preferences CloudFormation runs them with.

The StackSets themselves live in the administrator account (the caller) in home_region. The regional
StackSet takes no output of the global one: in bind routing each instance binds to its own account's
destination by its name, Config.destination_name, known before anything is deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.config import Config, RegionConcurrency
from generator.deploy.specs import DESTINATION_PARAMETER
from generator.deploy.template_bodies import same_template
from generator.paths import GLOBAL_TEMPLATE_NAME, REGIONAL_TEMPLATE_NAME
from generator.render import RenderedTemplate
from generator.render.proxylity_context import PARAMETER_PREFIX as PROXYLITY_PARAMETER_PREFIX

Instance = tuple[str, str]  # (account, region): one stack of a StackSet
# The StackSet's own value of a parameter that every instance overrides with its account's value.
PER_INSTANCE = "set per account and region by packet-counter"
MASKED = "****"  # how CloudFormation shows a NoEcho parameter's value


@dataclass(frozen=True)
class StackSetSpec:
    """One StackSet as it should be: its template and parameters, and its instances (accounts x regions)."""

    name: str
    region: str  # where the StackSet lives: the administrator account's home_region
    template_body: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]  # the regions of its instances
    description: str
    execution_role_name: str
    administration_role_arn: str | None = None  # None: AWS's default administration role
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    # IAM roles are created; a StackSet template has no macro (render/proxylity_context.py), so no AUTO_EXPAND.
    capabilities: tuple[str, ...] = ("CAPABILITY_IAM",)
    # Each instance's own parameter values (its account's Proxylity values); none for a template without them.
    overrides: Mapping[Instance, Mapping[str, str]] = field(default_factory=dict)

    @property
    def takes_overrides(self) -> bool:
        """Whether every instance gets values of its own (the template takes Proxylity's as parameters)."""
        return any(value == PER_INSTANCE for value in self.parameters.values())

    @property
    def label(self) -> str:
        return f"StackSet {self.name} in {self.region}"

    @property
    def instances(self) -> list[Instance]:
        """Every (account, region) the config asks for, in config order: region by region."""
        return [(account, region) for region in self.regions for account in self.accounts]

    def differences(self, deployed: Mapping[str, Any]) -> list[str]:
        """What differs between this spec and a deployed StackSet (as DescribeStackSet returns it), in words;
        [] when an UpdateStackSet would change nothing."""
        found = []
        if not same_template(deployed.get("TemplateBody"), self.template_body):
            found.append("template")
        stored = _pairs(deployed.get("Parameters"), "ParameterKey", "ParameterValue")
        # A NoEcho parameter comes back masked: its value cannot be compared (each instance overrides it anyway).
        if set(stored) != set(self.parameters) or any(
            stored[key] not in (value, MASKED) for key, value in self.parameters.items()
        ):
            found.append("parameters")
        if _pairs(deployed.get("Tags"), "Key", "Value") != dict(self.tags):
            found.append("tags")
        if deployed.get("ExecutionRoleName") != self.execution_role_name or (
            self.administration_role_arn and deployed.get("AdministrationRoleARN") != self.administration_role_arn
        ):
            found.append("roles")
        return found


def _pairs(items: Iterable[Mapping[str, str]] | None, key: str, value: str) -> dict[str, str]:
    return {item[key]: item.get(value, "") for item in items or []}


def _template(templates: Iterable[RenderedTemplate], name: str) -> str:
    return next(template for template in templates if template.name == name).to_json()


def _spec(
    config: Config,
    name: str,
    body: str,
    regions: tuple[str, ...],
    what: str,
    parameters: dict[str, str],
    overrides: Mapping[Instance, Mapping[str, str]],
) -> StackSetSpec:
    settings = config.stacksets
    assert settings is not None, "a StackSet spec needs the config's stacksets section"
    return StackSetSpec(
        name=name,
        region=config.home_region,
        template_body=body,
        accounts=settings.accounts,
        regions=regions,
        description=f"Packet counter ({what} stack), deployed by packet-counter",
        execution_role_name=settings.execution_role_name,
        administration_role_arn=settings.administration_role_arn,
        parameters=parameters,
        tags=dict(config.tags),
        overrides=overrides,
    )


def _per_instance(template_body: str) -> dict[str, str]:
    """The Proxylity parameters a template declares, each at the StackSet's placeholder value: a parameter must
    be the StackSet's for an instance to override it (CreateStackInstances, ParameterOverrides)."""
    declared = json.loads(template_body).get("Parameters") or {}
    return dict.fromkeys((name for name in declared if name.startswith(PROXYLITY_PARAMETER_PREFIX)), PER_INSTANCE)


def global_stackset_spec(
    config: Config, templates: list[RenderedTemplate], overrides: Mapping[Instance, Mapping[str, str]] | None = None
) -> StackSetSpec:
    """The global stack once per account, in home_region: each account its own listener (its own Proxylity
    API key, an override of its instance; `overrides` each instance's own values, when read)."""
    body = _template(templates, GLOBAL_TEMPLATE_NAME)
    parameters = _per_instance(body)
    return _spec(config, config.global_stack_name, body, (config.home_region,), "global", parameters, overrides or {})


def regional_stackset_spec(
    config: Config, templates: list[RenderedTemplate], overrides: Mapping[Instance, Mapping[str, str]] | None = None
) -> StackSetSpec:
    """The regional stack in every account and region; in bind routing it binds to the destination its own
    account's global instance made, by name, with its own account's Proxylity values."""
    body = _template(templates, REGIONAL_TEMPLATE_NAME)
    parameters = {DESTINATION_PARAMETER: config.destination_name or ""} if config.binds_per_region else {}
    parameters.update(_per_instance(body))
    return _spec(config, config.regional_stack_name, body, config.regions, "regional", parameters, overrides or {})


def operation_preferences(config: Config, regions: Iterable[str]) -> dict[str, Any]:
    """OperationPreferences from the config. SOFT_FAILURE_TOLERANCE, so that max_concurrent_percentage is the
    concurrency (CloudFormation's default, STRICT, would cap it at the failure tolerance + 1: one account at
    a time with a tolerance of 0)."""
    settings = config.stacksets
    assert settings is not None
    sequential = settings.region_concurrency is RegionConcurrency.SEQUENTIAL
    return {
        "RegionConcurrencyType": "SEQUENTIAL" if sequential else "PARALLEL",
        "RegionOrder": [region for region in config.regions if region in set(regions)],
        "MaxConcurrentPercentage": settings.max_concurrent_percentage,
        "FailureTolerancePercentage": settings.failure_tolerance_percentage,
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
    }


def target_groups(instances: Iterable[Instance]) -> list[tuple[list[str], list[str]]]:
    """Instances as (accounts, regions) products, as CreateStackInstances and DeleteStackInstances take them:
    accounts with the same regions go together, so each call names exactly these instances."""
    regions_of: dict[str, list[str]] = {}
    for account, region in instances:
        regions_of.setdefault(account, [])
        if region not in regions_of[account]:
            regions_of[account].append(region)
    groups: dict[tuple[str, ...], list[str]] = {}
    for account, regions in regions_of.items():
        groups.setdefault(tuple(regions), []).append(account)
    return [(accounts, list(regions)) for regions, accounts in groups.items()]
