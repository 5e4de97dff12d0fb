"""Where a template reads Proxylity's per-account values (ServiceToken, ServiceRole, ApiKey): the `proxylity` part
of the Jinja context, decided here once for both templates.

With change sets (the seed's way) the template includes the account's own customer-config.json from Proxylity's
bucket in its region (an AWS::Include macro in Mappings) and reads the values from that mapping. A StackSet's
template takes no macro: where an `Fn::Sub` include Location resolves for StackSet instances (each instance's
account and region, or once in the administrator's) is not documented, and service-managed StackSets refuse
macros outright. So with StackSets the values are parameters, which the deploy reads from each target account's
customer-config.json and passes to each instance as its own overrides (the key as a NoEcho parameter, and its
fingerprint beside it, so a change shows without the key).
"""

from __future__ import annotations

from typing import Any

from generator.config import Config

PARAMETER_PREFIX = "Proxylity"  # every parameter of Proxylity's values starts so
API_KEY_PARAMETER = "ProxylityApiKey"
API_KEY_FINGERPRINT_PARAMETER = "ProxylityApiKeyFingerprint"
SERVICE_TOKEN_PARAMETER = "ProxylityServiceToken"
SERVICE_ROLE_PARAMETER = "ProxylityServiceRole"


def _from_mapping(top: Any, name: str) -> dict[str, Any]:
    return {"Fn::FindInMap": ["ProxylityConfig", top, name]}


def proxylity_context(config: Config) -> dict[str, Any]:
    """The values' references for the templates, and whether they come from the include or from parameters."""
    if config.stacksets is None:
        return {
            "include": True,
            "service_token": _from_mapping({"Ref": "AWS::Region"}, "ServiceToken"),
            "service_role": _from_mapping({"Ref": "AWS::Region"}, "ServiceRole"),
            "api_key": _from_mapping("Account", "ApiKey"),
        }
    return {
        "include": False,
        "service_token": {"Ref": SERVICE_TOKEN_PARAMETER},
        "service_role": {"Ref": SERVICE_ROLE_PARAMETER},
        "api_key": {"Ref": API_KEY_PARAMETER},
        "parameters": {
            "api_key": API_KEY_PARAMETER,
            "api_key_fingerprint": API_KEY_FINGERPRINT_PARAMETER,
            "service_token": SERVICE_TOKEN_PARAMETER,
            "service_role": SERVICE_ROLE_PARAMETER,
        },
    }
