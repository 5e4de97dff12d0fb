"""config/: config.yaml -> validated, typed Config (yaml_source -> schema -> checks -> model)."""

from generator.config.loader import load_config
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

__all__ = [
    "Batching",
    "CanarySettings",
    "Config",
    "DestinationSettings",
    "EnvironmentSettings",
    "Formatter",
    "FunctionSettings",
    "ListenerSettings",
    "ObservabilitySettings",
    "PermissionModel",
    "Protocol",
    "RegionConcurrency",
    "Routing",
    "StackSetsSettings",
    "WireGuardPeer",
    "WireGuardSettings",
    "load_config",
]
