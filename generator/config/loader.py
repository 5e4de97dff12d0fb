"""YAML file -> validated, typed Config: the first step of the pipeline.

yaml_source reads the file (bounded, with lines), schema checks types, ranges and patterns and
fills defaults, checks adds what a schema cannot say; every problem is reported in one go.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.config.checks import semantic_problems
from generator.config.environments import (
    Overlay,
    find_overlay,
    own_destination_name,
    own_stack_names,
    read_overlay,
)
from generator.config.model import (
    Batching,
    CanarySettings,
    Config,
    DestinationSettings,
    EnvironmentSettings,
    Formatter,
    FunctionSettings,
    ListenerSettings,
    ObservabilitySettings,
    PermissionModel,
    Protocol,
    RegionConcurrency,
    Routing,
    StackSetsSettings,
    WireGuardPeer,
    WireGuardSettings,
)
from generator.config.overlay import overlaid
from generator.config.schema import SchemaFindings, apply_defaults, check_schema
from generator.config.yaml_source import YamlDocument, load_yaml_document
from generator.errors import ConfigError, Problem


def load_config(path: Path | str, source: str | None = None, environment: str | Overlay | None = None) -> Config:
    """Read, validate and type the config at `path`; `source` is how errors name the file. With `environment`
    (a name, or an Overlay already found), its overlay is laid over the config and the result validated as one
    config, each problem naming the file and line its value came from.

    Raises ConfigError listing every problem found, one per line.
    """
    read = _read(Path(path), source or str(path), environment)
    document, overlay = read.document, read.overlay
    problems = _one_line_per_wrong_value(document, check_schema(document), semantic_problems(document))
    if read.joined and overlay is not None:
        problems = [_explained_joined_name(problem, overlay, read.joined) for problem in problems]
    problems += read.naming
    if problems:
        first = {document.source: 0}  # the base's problems first, then the overlay's, each file's by line
        raise ConfigError(sorted(problems, key=lambda p: (first.get(p.source, 1), p.line or 0, p.key_path)))
    config = _typed(document.source, apply_defaults(document.data))
    if overlay is None:
        return config
    return replace(config, environment=EnvironmentSettings(overlay.name, overlay.source))


def config_document(
    path: Path | str, source: str | None = None, environment: str | Overlay | None = None
) -> YamlDocument:
    """The data load_config validates, not yet validated: the config's, or with `environment` its overlay laid
    over it (with the environment's own name_prefix). Raises ConfigError when a file cannot be read."""
    return _read(Path(path), source or str(path), environment).document


@dataclass(frozen=True)
class _Read:
    document: YamlDocument  # what is validated: the config, or the environment's overlay laid over it
    overlay: Overlay | None = None
    naming: list[Problem] = field(default_factory=list)  # an environment sharing another's stack names
    joined: frozenset[str] = frozenset()  # key paths of the base's names the environment's name was joined to


def _read(path: Path, source: str, environment: str | Overlay | None) -> _Read:
    document = load_yaml_document(path, source)
    _require_mapping(document)
    if environment is None:
        return _Read(document)
    overlay = environment if isinstance(environment, Overlay) else find_overlay(path, environment, source)
    overlay_document = read_overlay(overlay, source)
    merged = overlaid(document, overlay_document)
    naming = own_stack_names(merged, document, overlay_document, overlay, path)
    joined = {"name_prefix"} if "name_prefix" not in overlay_document.data else set()
    if own_destination_name(merged, document, overlay_document, overlay):
        joined.add("destination.name")
    return _Read(merged, overlay, naming, frozenset(joined))


def _require_mapping(document: YamlDocument) -> None:
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        raise ConfigError(
            [Problem(document.source, f"expected a mapping of settings at the top, got a {kind}", line=1)]
        )


def _explained_joined_name(problem: Problem, overlay: Overlay, joined: frozenset[str]) -> Problem:
    """A problem with a name an environment's name was joined to says so, and how to choose another."""
    if problem.key_path not in joined:
        return problem
    return replace(
        problem,
        message=f"{problem.message} (the {problem.key_path} of environment {overlay.name!r}: the base's with "
        f"'-{overlay.name}' joined; set {problem.key_path} in {overlay.source} to choose another)",
    )


def _one_line_per_wrong_value(document: YamlDocument, schema: SchemaFindings, semantic: list[Problem]) -> list[Problem]:
    """Every problem found, less those that a value which could not be read, or is of the wrong type, already
    explains: what the schema and the checks say at or below it, and what reading found inside it. So
    `stacksets: []` is one line, "expected a mapping", and not also a rule about keys a list cannot have."""
    unreadable, wrong_types = document.unreadable, schema.wrong_types
    explained = unreadable | wrong_types
    type_problems = [p for p in schema.type_problems if not _at_or_below(p.key_path, unreadable)]
    others = [p for p in schema.other_problems + semantic if not _at_or_below(p.key_path, explained)]
    inside = [p for p in document.problems if not _below(p.key_path, wrong_types)]
    return inside + type_problems + others


def _at_or_below(key_path: str, paths: AbstractSet[str]) -> bool:
    """Whether `key_path` is one of `paths` or inside one: `stacksets.accounts[0]` is inside `stacksets`."""
    return key_path in paths or _below(key_path, paths)


def _below(key_path: str, paths: AbstractSet[str]) -> bool:
    # A key path is written part after part, each after a `.` or `[`: its ancestors are its prefixes ending
    # before one. (A cut inside a quoted part is no key path, so it is in no set of them.)
    return any(key_path[:index] in paths for index, char in enumerate(key_path) if char in ".[" and index)


def _typed(source: str, data: dict[str, Any]) -> Config:
    listener, destination, function = data["listener"], data["destination"], data["function"]
    batching = destination["batching"]
    wireguard = listener.get("wireguard")
    return Config(
        source=source,
        name_prefix=data["name_prefix"],
        home_region=data["home_region"],
        regions=tuple(data["regions"]),
        routing=Routing(data["routing"]),
        listener=ListenerSettings(
            name=listener.get("name"),
            protocols=tuple(Protocol(protocol) for protocol in listener["protocols"]),
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
            formatter=Formatter(destination["formatter"]),
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
        observability=_observability(data["observability"]),
        stacksets=_stacksets(data.get("stacksets")),
    )


def _stacksets(data: dict[str, Any] | None) -> StackSetsSettings | None:
    if data is None:
        return None
    return StackSetsSettings(
        permission_model=PermissionModel(data["permission_model"]),
        accounts=tuple(data.get("accounts", ())),
        organizational_units=tuple(data.get("organizational_units", ())),
        auto_deployment=data.get("auto_deployment"),
        administration_role_arn=data.get("administration_role_arn"),
        execution_role_name=data["execution_role_name"],
        region_concurrency=RegionConcurrency(data["region_concurrency"]),
        max_concurrent_percentage=data["max_concurrent_percentage"],
        failure_tolerance_percentage=data["failure_tolerance_percentage"],
    )


def _observability(section: dict[str, Any]) -> ObservabilitySettings:
    canary = section["canary"]
    retention = section["delivery_log_retention_days"]
    return ObservabilitySettings(
        canary=CanarySettings(
            enabled=canary["enabled"],
            every_minutes=canary["every_minutes"],
            packets=canary["packets"],
            max_loss_percent=canary["max_loss_percent"],
            max_p99_ms=canary["max_p99_ms"],
            reserved_concurrency=canary.get("reserved_concurrency"),
        ),
        alarms=section["alarms"],
        alarms_topic_arn=section["alarms_topic_arn"],
        dashboard=section["dashboard"],
        # An enum holding null is not normalised to int by apply_defaults: `14.0` stays a float without this.
        delivery_log_retention_days=None if retention is None else int(retention),
    )
