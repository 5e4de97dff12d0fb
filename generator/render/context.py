"""Validated Config -> the Jinja context of the templates. All the deciding happens here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generator.config import Config
from generator.render.observability_context import observability_context
from generator.render.proxylity_context import proxylity_context


def function_arn(config: Config, region: str) -> dict[str, str]:
    """The packet counter's ARN in `region`, for the account the stack is deployed in."""
    # name_prefix's schema pattern allows no "${", so the Fn::Sub string cannot be extended.
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:lambda:{region}:${{AWS::AccountId}}:function:{config.function_name}"}


def template_context(config: Config, handler_code: str) -> dict[str, Any]:
    """Everything the global and regional templates read, and nothing else."""
    if not config.binds_per_region:
        destination_arns = {region: function_arn(config, region) for region in config.regions}
        # The global stack changes with the region list anyway, so grant exactly those ARNs.
        invoke_resources: Any = list(destination_arns.values())
    else:
        destination_arns = {}
        # bind: regions come and go without touching the global stack, so the role may invoke
        # this account's function of this name in any region, and nothing else.
        invoke_resources = function_arn(config, "*")
    return {
        "stack": {"global_name": config.global_stack_name, "regional_name": config.regional_stack_name},
        "routing": config.routing,
        "bind": config.binds_per_region,
        "function_name": config.function_name,
        "listener": config.listener,
        "destination": replace(config.destination, name=config.destination_name),
        "batching": config.destination.batching,
        "function": config.function,
        "destination_arns": destination_arns,
        "invoke_resources": invoke_resources,
        "wireguard_peers": [
            {"PublicKey": peer.public_key, "AllowedIPs": list(peer.allowed_ips)}
            for peer in (config.listener.wireguard.peers if config.listener.wireguard else ())
        ],
        "tags": [{"Key": key, "Value": value} for key, value in config.tags.items()],
        "handler_code": handler_code,
        # Proxylity's ServiceToken, ServiceRole and ApiKey: from the include (change sets) or parameters (StackSets).
        "proxylity": proxylity_context(config),
        # The canary, alarms, dashboard and delivery log (observability_*.json.j2); all off by default.
        "obs": observability_context(config),
    }
