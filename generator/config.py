"""YAML file -> validated, typed Config. The first step of the pipeline.

The schema checks types, ranges, patterns and enums; the checks below are the ones a schema
cannot express: real region names, networks that parse (and the same network written twice in
two spellings), domains and WireGuard keys listed twice, and tag keys AWS reserves.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import ConfigError, Problem, shown
from generator.regions import known_regions
from generator.schema import apply_defaults, schema_problems
from generator.yaml_source import KeyPath, YamlDocument, format_key_path, load_yaml_document


@dataclass(frozen=True)
class Batching:
    count: int
    timeout_in_seconds: float
    size_in_mb: float | None


@dataclass(frozen=True)
class WireGuardPeer:
    public_key: str
    allowed_ips: tuple[str, ...]


@dataclass(frozen=True)
class WireGuardSettings:
    peers: tuple[WireGuardPeer, ...]
    decapsulated_delivery: bool


@dataclass(frozen=True)
class ListenerSettings:
    name: str | None
    protocols: tuple[str, ...]
    client_networks: tuple[str, ...]
    client_domains: tuple[str, ...]
    wireguard: WireGuardSettings | None = None


@dataclass(frozen=True)
class DestinationSettings:
    name: str | None
    description: str
    formatter: str
    metrics_enabled: bool
    batching: Batching


@dataclass(frozen=True)
class FunctionSettings:
    runtime: str
    architecture: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int | None
    log_retention_days: int


@dataclass(frozen=True)
class Config:
    """A validated config, every default filled in."""

    source: str
    name_prefix: str
    home_region: str
    regions: tuple[str, ...]
    routing: str
    listener: ListenerSettings
    destination: DestinationSettings
    function: FunctionSettings
    tags: Mapping[str, str]

    @property
    def global_stack_name(self) -> str:
        return f"{self.name_prefix}-global"

    @property
    def regional_stack_name(self) -> str:
        return f"{self.name_prefix}-region"

    @property
    def function_name(self) -> str:
        return self.name_prefix


def load_config(path: Path | str, source: str | None = None) -> Config:
    """Read, validate and type the config at `path`; `source` is how errors name the file.

    Raises ConfigError listing every problem found, one per line.
    """
    path = Path(path)
    document = load_yaml_document(path, source or str(path))
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        raise ConfigError(
            [Problem(document.source, f"expected a mapping of settings at the top, got a {kind}", line=1)]
        )
    checked = [
        p for p in schema_problems(document) + semantic_problems(document) if p.key_path not in document.unreadable
    ]
    problems = document.problems + checked
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.key_path)))
    return _typed(document.source, apply_defaults(document.data))


def semantic_problems(document: YamlDocument) -> list[Problem]:
    """Checks beyond the schema; tolerant of data the schema already rejected."""
    checks = _SemanticChecks(document)
    data = document.data
    regions = data.get("regions")
    if isinstance(regions, list):
        checks.regions(regions)
    if isinstance(data.get("home_region"), str):
        checks.region(data["home_region"], ("home_region",))
    listener = _mapping(data.get("listener"))
    checks.networks(listener.get("client_networks"), ("listener", "client_networks"))
    checks.repeats(
        listener.get("client_domains"),
        ("listener", "client_domains"),
        "the same domain (domain names ignore case)",
        canonical=str.lower,
    )
    peers = _mapping(listener.get("wireguard")).get("peers")
    if isinstance(peers, list):
        keys = [_mapping(peer).get("public_key") for peer in peers]
        checks.repeats(keys, ("listener", "wireguard", "peers"), "the same public key", field="public_key")
        for index, peer in enumerate(peers):
            path = ("listener", "wireguard", "peers", index, "allowed_ips")
            checks.networks(_mapping(peer).get("allowed_ips"), path)
    tags = data.get("tags")
    if isinstance(tags, dict):
        for key in tags:
            if isinstance(key, str) and key.lower().startswith("aws:"):
                checks.report(("tags", key), "tag keys starting with 'aws:' are reserved by AWS")
    return checks.problems


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _SemanticChecks:
    """The checks a schema cannot express, each reporting one Problem per finding."""

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def report(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.document.source, message, format_key_path(path), self.document.line_of(path)))

    def where(self, path: KeyPath) -> str:
        return f"{format_key_path(path)}, line {self.document.line_of(path)}"

    def regions(self, regions: list[Any]) -> None:
        first_index: dict[str, int] = {}
        for index, region in enumerate(regions):
            if not isinstance(region, str):
                continue
            if region in first_index:
                first_line = self.document.line_of(("regions", first_index[region]))
                self.report(("regions", index), f"{region} is listed twice (first at line {first_line})")
            else:
                first_index[region] = index
                self.region(region, ("regions", index))

    def region(self, region: str, path: KeyPath) -> None:
        regions = known_regions()
        if region in regions:
            return
        close = difflib.get_close_matches(region, regions, n=1)
        hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(regions)}"
        self.report(path, f"{shown(region)} is not an AWS region; {hint}")

    def networks(self, items: Any, path: KeyPath) -> None:
        """Each item a network in CIDR form; one network written twice (in any spelling) is refused."""
        if not isinstance(items, list):
            return
        seen: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, int] = {}
        for index, text in enumerate(items):
            network = self.network(text, path + (index,)) if isinstance(text, str) else None
            if network is None:
                continue
            first = seen.setdefault(network, index)
            if first != index and items[first] != text:  # the schema reports the same spelling twice
                first_at = self.where(path + (first,))
                self.report(path + (index,), f"{text} is the network {network} again (first at {first_at})")

    def network(self, text: str, path: KeyPath) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        if "/" not in text:
            self.report(
                path, f"{shown(text)} is not a CIDR; expected an address with a prefix length, e.g. 203.0.113.0/24"
            )
            return None
        address, _, prefix = text.partition("/")
        if "%" in address:
            # fe80::%eth0 names an interface of one machine: it means nothing to a service on the internet.
            bare = f"{address.partition('%')[0]}/{prefix}"
            self.report(
                path, f"{shown(text)} names a network interface zone, which means nothing off one host; write {bare}"
            )
            return None
        try:
            return ipaddress.ip_network(text, strict=True)
        except ValueError as error:
            self.report(path, f"{shown(text)} is not a valid network: {error}")
            return None

    def repeats(
        self,
        items: Any,
        path: KeyPath,
        what: str,
        canonical: Callable[[str], str] = str,
        field: str | None = None,
    ) -> None:
        """An item that is `what` as an earlier one (`field` of each item, when given). Without a field, the
        schema's uniqueItems already reports the same spelling twice: only other spellings are reported."""
        if not isinstance(items, list):
            return
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, str):
                continue
            first = seen.setdefault(canonical(item), index)
            if first == index or (field is None and items[first] == item):
                continue
            suffix = (field,) if field else ()
            self.report(path + (index, *suffix), f"{shown(item)} is {what} as {self.where(path + (first, *suffix))}")


def _typed(source: str, data: dict[str, Any]) -> Config:
    listener, destination, function = data["listener"], data["destination"], data["function"]
    batching = destination["batching"]
    wireguard = listener.get("wireguard")
    return Config(
        source=source,
        name_prefix=data["name_prefix"],
        home_region=data["home_region"],
        regions=tuple(data["regions"]),
        routing=data["routing"],
        listener=ListenerSettings(
            name=listener.get("name"),
            protocols=tuple(listener["protocols"]),
            client_networks=tuple(listener["client_networks"]),
            client_domains=tuple(listener["client_domains"]),
            wireguard=None
            if wireguard is None
            else WireGuardSettings(
                peers=tuple(
                    WireGuardPeer(peer["public_key"], tuple(peer["allowed_ips"])) for peer in wireguard["peers"]
                ),
                decapsulated_delivery=wireguard["decapsulated_delivery"],
            ),
        ),
        destination=DestinationSettings(
            name=destination.get("name"),
            description=destination["description"],
            formatter=destination["formatter"],
            metrics_enabled=destination["metrics_enabled"],
            batching=Batching(
                count=batching["count"],
                timeout_in_seconds=batching["timeout_in_seconds"],
                size_in_mb=batching.get("size_in_mb"),
            ),
        ),
        function=FunctionSettings(
            runtime=function["runtime"],
            architecture=function["architecture"],
            memory_mb=function["memory_mb"],
            timeout_seconds=function["timeout_seconds"],
            reserved_concurrency=function.get("reserved_concurrency"),
            log_retention_days=function["log_retention_days"],
        ),
        tags=dict(data["tags"]),
    )
