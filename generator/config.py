"""YAML file -> validated, typed Config. The first step of the pipeline.

The schema checks types, ranges and enums; the checks below are the ones a schema
cannot express (real region names, duplicates, CIDRs that parse).
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import ConfigError, Problem
from generator.regions import known_regions
from generator.schema import apply_defaults, schema_problems
from generator.yaml_source import YamlDocument, format_key_path, load_yaml_document


@dataclass(frozen=True)
class Batching:
    count: int
    timeout_in_seconds: float
    size_in_mb: float | None


@dataclass(frozen=True)
class ListenerSettings:
    name: str | None
    protocols: tuple[str, ...]
    client_networks: tuple[str, ...]
    client_domains: tuple[str, ...]


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
    data = document.data
    problems: list[Problem] = []

    def report(path: tuple, message: str) -> None:
        problems.append(Problem(document.source, message, format_key_path(path), document.line_of(path)))

    regions = data.get("regions")
    if isinstance(regions, list):
        first_index: dict[str, int] = {}
        for index, region in enumerate(regions):
            if not isinstance(region, str):
                continue
            if region in first_index:
                first_line = document.line_of(("regions", first_index[region]))
                report(("regions", index), f"{region} is listed twice (first at line {first_line})")
            else:
                first_index[region] = index
                _check_region(region, ("regions", index), report)
    home = data.get("home_region")
    if isinstance(home, str):
        _check_region(home, ("home_region",), report)
    listener = data.get("listener")
    networks = listener.get("client_networks") if isinstance(listener, dict) else None
    if isinstance(networks, list):
        for index, network in enumerate(networks):
            if isinstance(network, str):
                _check_cidr(network, ("listener", "client_networks", index), report)
    tags = data.get("tags")
    if isinstance(tags, dict):
        for key in tags:
            if isinstance(key, str) and key.lower().startswith("aws:"):
                report(("tags", key), "tag keys starting with 'aws:' are reserved by AWS")
    return problems


def _check_region(region: str, path: tuple, report) -> None:
    regions = known_regions()
    if region in regions:
        return
    close = difflib.get_close_matches(region, regions, n=1)
    hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(regions)}"
    report(path, f"{region!r} is not an AWS region; {hint}")


def _check_cidr(text: str, path: tuple, report) -> None:
    if "/" not in text:
        report(path, f"{text!r} is not a CIDR; expected an address with a prefix length, e.g. 203.0.113.0/24")
        return
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        report(path, f"{text!r} is not a valid network: {error}")


def _typed(source: str, data: dict[str, Any]) -> Config:
    listener, destination, function = data["listener"], data["destination"], data["function"]
    batching = destination["batching"]
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
