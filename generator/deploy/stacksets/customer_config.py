"""Each target account's Proxylity values, read from its customer-config.json, as a StackSet instance's overrides.

Proxylity keeps `s3://proxylity-config-REGION/ACCOUNT/customer-config.json` for every subscribed account in every
region: `{REGION: {ServiceToken, ServiceRole}, "Account": {ApiKey}}`, the document the seed's template includes.
StackSet templates take no macro (proxylity_context says why), so the deploy reads each account's document
itself, through the execution role it already assumes there (which needs s3:GetObject on it), and hands every
instance its own account's key and its own region's token and role as parameter overrides. The key is a NoEcho
parameter; its fingerprint beside it lets plan and status tell a change without showing the key.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, AwsClients, fault_text
from generator.deploy.parallel import run_parallel
from generator.deploy.stacksets.specs import MASKED, Instance, StackSetSpec
from generator.render.proxylity_context import (
    API_KEY_FINGERPRINT_PARAMETER,
    API_KEY_PARAMETER,
    SERVICE_ROLE_PARAMETER,
    SERVICE_TOKEN_PARAMETER,
)

FINGERPRINT_CHARACTERS = 16  # of the key's SHA-256, in hex: tells keys apart, gives nothing of the key away


def customer_config_location(account: str, region: str) -> tuple[str, str]:
    """(bucket, key) of an account's customer-config.json in a region."""
    return f"proxylity-config-{region}", f"{account}/customer-config.json"


@dataclass(frozen=True)
class ProxylityValues:
    """What one account's customer-config.json says for one region."""

    api_key: str
    service_token: str
    service_role: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:FINGERPRINT_CHARACTERS]

    def overrides(self, role: bool) -> dict[str, str]:
        """The parameter overrides of an instance: the regional template takes no ServiceRole (`role` False)."""
        values = {
            API_KEY_PARAMETER: self.api_key,
            API_KEY_FINGERPRINT_PARAMETER: self.fingerprint,
            SERVICE_TOKEN_PARAMETER: self.service_token,
        }
        if role:
            values[SERVICE_ROLE_PARAMETER] = self.service_role
        return values


class CustomerConfigUnreadable(Exception):
    """An account's customer-config.json in a region cannot be read or does not hold what is needed."""


def parse_customer_config(text: bytes | str, account: str, region: str) -> ProxylityValues:
    bucket, key = customer_config_location(account, region)
    where = f"s3://{bucket}/{key}"
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise CustomerConfigUnreadable(f"{where} is not JSON") from None
    regional = document.get(region) if isinstance(document, dict) else None
    account_part = document.get("Account") if isinstance(document, dict) else None
    found = {
        "ServiceToken": regional.get("ServiceToken") if isinstance(regional, dict) else None,
        "ServiceRole": regional.get("ServiceRole") if isinstance(regional, dict) else None,
        "ApiKey": account_part.get("ApiKey") if isinstance(account_part, dict) else None,
    }
    missing = [name for name, value in found.items() if not isinstance(value, str) or not value]
    if missing:
        raise CustomerConfigUnreadable(f"{where} has no {', '.join(missing)} for {region}")
    return ProxylityValues(found["ApiKey"], found["ServiceToken"], found["ServiceRole"])


def read_customer_configs(
    clients: AwsClients, config: Config, instances: Iterable[Instance], max_parallel: int
) -> tuple[dict[Instance, ProxylityValues], dict[Instance, str]]:
    """Each (account, region)'s values, and the ones that could not be read with why (one line, naming the
    object, the role and what it needs)."""
    assert config.stacksets is not None
    role = config.stacksets.execution_role_name
    wanted = list(dict.fromkeys(instances))

    def read(account: str, region: str) -> ProxylityValues | str:
        bucket, key = customer_config_location(account, region)
        try:
            answer: Any = clients.s3_in(account, role, region).get_object(Bucket=bucket, Key=key)
            return parse_customer_config(answer["Body"].read(), account, region)
        except AWS_FAULTS as error:
            return (
                f"cannot read s3://{bucket}/{key} through role {role} of account {account}: {fault_text(error)} "
                f"(is the account subscribed to Proxylity in {region}? the role needs s3:GetObject on it)"
            )
        except CustomerConfigUnreadable as error:
            return str(error)

    tasks = {f"{account}|{region}": (lambda a=account, r=region: read(a, r)) for account, region in wanted}
    found = run_parallel(tasks, max_parallel, threading.Event(), lambda: [])
    values: dict[Instance, ProxylityValues] = {}
    unreadable: dict[Instance, str] = {}
    for account, region in wanted:
        result = found[f"{account}|{region}"]
        if isinstance(result, str):
            unreadable[(account, region)] = result
        else:
            values[(account, region)] = result
    return values, unreadable


def override_differences(current: dict[str, str], wanted: dict[str, str]) -> list[str]:
    """The overrides that differ, named (a NoEcho key, shown masked by CloudFormation, by its fingerprint):
    [] when the instance has the values it should."""
    changed = []
    for name, value in wanted.items():
        if name == API_KEY_PARAMETER:
            if current.get(name) not in (value, MASKED) or current.get(name) is None:
                changed.append(name)
        elif current.get(name) != value:
            changed.append(API_KEY_PARAMETER if name == API_KEY_FINGERPRINT_PARAMETER else name)
    return sorted(set(changed))


def with_account_values(
    clients: AwsClients, config: Config, specs: Iterable[StackSetSpec], max_parallel: int
) -> tuple[list[StackSetSpec], dict[str, dict[Instance, str]]]:
    """The specs, each instance of a template that takes Proxylity's values given its account's own as overrides;
    and per StackSet the instances whose values could not be read, with why."""
    specs = list(specs)
    needed = [key for spec in specs if spec.takes_overrides for key in spec.instances]
    values, unreadable = read_customer_configs(clients, config, needed, max_parallel)
    filled, unavailable = [], {}
    for spec in specs:
        if not spec.takes_overrides:
            filled.append(spec)
            continue
        role = SERVICE_ROLE_PARAMETER in spec.parameters
        overrides = {key: values[key].overrides(role) for key in spec.instances if key in values}
        filled.append(replace(spec, overrides=overrides))
        unavailable[spec.name] = {key: unreadable[key] for key in spec.instances if key in unreadable}
    return filled, unavailable
