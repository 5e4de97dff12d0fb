"""The typed config: what the rest of the pipeline reads, every default filled in.

Fixed choices are StrEnums (they compare equal to the strings of the YAML and the templates), and
the decisions derived from the config are properties here, computed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Routing(StrEnum):
    """How each region's function reaches the destination (see the schema's description)."""

    BIND = "bind"  # the destination has no ARNs; each regional stack binds its own function
    MAP = "map"  # the global destination lists every region's function ARN


class Formatter(StrEnum):
    """How packet bytes appear in the Lambda event's Data field."""

    BASE64 = "base64"
    HEX = "hex"
    ASCII = "ascii"
    UTF8 = "utf8"


class Protocol(StrEnum):
    UDP = "udp"
    WIREGUARD = "wg"


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
    protocols: tuple[Protocol, ...]
    client_networks: tuple[str, ...]
    client_domains: tuple[str, ...]
    wireguard: WireGuardSettings | None = None


@dataclass(frozen=True)
class DestinationSettings:
    name: str | None
    description: str
    formatter: Formatter
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


class PermissionModel(StrEnum):
    """Who lets StackSets into the target accounts (see the schema's stacksets.permission_model)."""

    SELF_MANAGED = "self-managed"  # roles the user creates: an administration role here, an execution role there
    SERVICE_MANAGED = "service-managed"  # AWS Organizations (refused by the schema, with the reason)


class RegionConcurrency(StrEnum):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"


@dataclass(frozen=True)
class StackSetsSettings:
    """Deploy through CloudFormation StackSets to these accounts (stacksets: in the config)."""

    permission_model: PermissionModel
    accounts: tuple[str, ...]
    organizational_units: tuple[str, ...]
    auto_deployment: bool | None
    administration_role_arn: str | None  # None: AWS's default, AWSCloudFormationStackSetAdministrationRole
    execution_role_name: str
    region_concurrency: RegionConcurrency
    max_concurrent_percentage: int
    failure_tolerance_percentage: int


@dataclass(frozen=True)
class CanarySettings:
    enabled: bool
    every_minutes: int
    packets: int
    max_loss_percent: float
    max_p99_ms: float
    reserved_concurrency: int | None  # None: no reservation


@dataclass(frozen=True)
class ObservabilitySettings:
    canary: CanarySettings
    alarms: bool
    alarms_topic_arn: str | None
    dashboard: bool
    delivery_log_retention_days: int | None


@dataclass(frozen=True)
class EnvironmentSettings:
    """The environment a config was read for: the base config with environments/<name>.yaml laid over it."""

    name: str
    source: str  # the overlay file, as messages name it


@dataclass(frozen=True)
class Config:
    """A validated config, every default filled in."""

    source: str
    name_prefix: str
    home_region: str
    regions: tuple[str, ...]
    routing: Routing
    listener: ListenerSettings
    destination: DestinationSettings
    function: FunctionSettings
    tags: Mapping[str, str]
    observability: ObservabilitySettings
    stacksets: StackSetsSettings | None = None
    environment: EnvironmentSettings | None = None  # None: the base config alone

    @property
    def binds_per_region(self) -> bool:
        """bind routing: each regional stack binds its function and takes the global DestinationId."""
        return self.routing is Routing.BIND

    @property
    def global_stack_name(self) -> str:
        return f"{self.name_prefix}-global"

    @property
    def regional_stack_name(self) -> str:
        return f"{self.name_prefix}-region"

    @property
    def function_name(self) -> str:
        return self.name_prefix

    @property
    def canary_function_name(self) -> str:
        return f"{self.name_prefix}-canary"

    @property
    def log_group_names(self) -> dict[str, str]:
        """{what: log group} of the functions in every regional stack: the counter's, and the canary's when on."""
        groups = {"counter": f"/aws/lambda/{self.function_name}"}
        if self.observability.canary.enabled:
            groups["canary"] = f"/aws/lambda/{self.canary_function_name}"
        return groups

    @property
    def delivery_log_group_name(self) -> str:
        """The log group where Proxylity writes the destination's delivery errors (its LogGroupName): one of this
        name in every regional stack, as Proxylity writes them in the region that delivered."""
        return f"/proxylity/udp-listeners/{self.name_prefix}"

    @property
    def destination_name(self) -> str | None:
        """The destination's Name: the user's; else, with StackSets, name_prefix, so every account's regional
        instances bind to their own account's destination by a name known in advance (no outputs passed
        from account to account); else None, and Proxylity generates one."""
        if self.destination.name is not None or self.stacksets is None:
            return self.destination.name
        return self.name_prefix
