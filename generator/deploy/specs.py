"""Config + rendered templates -> the stacks to deploy (StackSpec): names, regions, bodies, parameters.

This is the one place where the global stack's outputs become the regional stacks' parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.config import Config, Routing
from generator.errors import DeployError, Problem, shown
from generator.paths import GLOBAL_TEMPLATE_NAME, REGIONAL_TEMPLATE_NAME
from generator.render import RenderedTemplate
from generator.render.observability_context import ENDPOINT_PARAMETER as OBSERVABILITY_ENDPOINT_PARAMETER

# IAM roles are created, and AWS::Include is a macro: CloudFormation wants both acknowledged.
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")
# The global outputs written to out/outputs.json and shown to users.
GLOBAL_OUTPUT_KEYS = ("Domain", "Port", "Endpoint", "DestinationId")
# In bind routing the regional stacks take the global DestinationId output as a parameter of this name.
DESTINATION_PARAMETER = "DestinationId"
# With the canary on they take the global Endpoint output (domain:port) as a parameter of this name.
ENDPOINT_PARAMETER = OBSERVABILITY_ENDPOINT_PARAMETER


@dataclass(frozen=True)
class StackSpec:
    """One stack in one region, ready to hand to CloudFormation."""

    name: str
    region: str
    template_body: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = CAPABILITIES

    @property
    def label(self) -> str:
        return f"stack {self.name} in {self.region}"


def _template(templates: Iterable[RenderedTemplate], name: str) -> RenderedTemplate:
    return next(template for template in templates if template.name == name)


def global_stack_spec(config: Config, templates: list[RenderedTemplate]) -> StackSpec:
    """The global stack, always rendered from the whole config, in the home region."""
    body = _template(templates, GLOBAL_TEMPLATE_NAME).to_json()
    return StackSpec(config.global_stack_name, config.home_region, body, {}, dict(config.tags))


def regional_parameters(config: Config, global_outputs: Mapping[str, str]) -> dict[str, str]:
    """What a regional stack takes from the global stack's outputs: the destination (bind mode) and the endpoint
    its canary probes (when the canary is on)."""
    wanted = []
    if config.binds_per_region:
        wanted.append(DESTINATION_PARAMETER)
    if config.observability.canary.enabled:
        wanted.append(ENDPOINT_PARAMETER)
    missing = [key for key in wanted if not global_outputs.get(key)]
    if missing:
        raise DeployError(
            [
                Problem(
                    f"stack {config.global_stack_name} in {config.home_region}",
                    f"has no {key} output; the regional stacks need it (deploy the global stack first)",
                )
                for key in missing
            ]
        )
    return {key: global_outputs[key] for key in wanted}


def regional_stack_spec(
    config: Config, templates: list[RenderedTemplate], region: str, global_outputs: Mapping[str, str]
) -> StackSpec:
    body = _template(templates, REGIONAL_TEMPLATE_NAME).to_json()
    return StackSpec(
        config.regional_stack_name, region, body, regional_parameters(config, global_outputs), dict(config.tags)
    )


def select_regions(config: Config, requested: Iterable[str] | None) -> tuple[str, ...]:
    """REGIONS narrowed to the config's regions, in config order; anything else is refused."""
    if requested is None:
        return config.regions
    requested = [region for region in requested if region]
    unknown = [region for region in requested if region not in config.regions]
    if unknown:
        raise DeployError(
            [
                Problem(
                    config.source,
                    f"REGIONS names {shown(region)}, which is not in the config's regions "
                    f"({', '.join(config.regions)}); nothing was changed",
                    key_path="regions",
                )
                for region in unknown
            ]
        )
    return tuple(region for region in config.regions if region in requested)


def deployed_routing(stack: Mapping[str, Any] | None) -> Routing | None:
    """How a deployed regional stack routes: bind when it takes the DestinationId parameter (its binding
    resource names the destination), map when it does not, None when there is no stack."""
    if stack is None:
        return None
    keys = {parameter.get("ParameterKey") for parameter in stack.get("Parameters") or []}
    return Routing.BIND if DESTINATION_PARAMETER in keys else Routing.MAP


def regional_stacks_first(config: Config, deployed: Mapping[str, Routing | None], selected: Iterable[str]) -> bool:
    """Whether this deploy updates the regional stacks before the global one.

    Proxylity keeps one function ARN per destination and ingress region, written both by the global
    stack's map and by the regional stacks' bindings, and removing either removes it. So a switch must
    never remove what the new routing has just written:
    - bind -> map: the regional stacks first (each drops its binding), then the global stack (whose map
      then names every region's function);
    - map -> bind (and every deploy that is not a switch): the global stack first (the map emptied), then
      the regional stacks (which bind to the global DestinationId).
    A switch changes every deployed region, so it is refused for a REGIONS subset that leaves some out.
    `deployed` is each configured region's deployed_routing().
    """
    switching = sorted(region for region, routing in deployed.items() if routing and routing != config.routing)
    left_out = [region for region in switching if region not in set(selected)]
    if left_out:
        old = deployed[left_out[0]]
        raise DeployError(
            [
                Problem(
                    config.source,
                    f"switching routing from {old} to {config.routing} changes every region's stack, but REGIONS "
                    f"leaves out {', '.join(left_out)}; deploy without REGIONS; nothing was changed",
                    key_path="routing",
                )
            ]
        )
    return config.routing is Routing.MAP and bool(switching)
