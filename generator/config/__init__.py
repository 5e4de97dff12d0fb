"""config/: config.yaml -> validated, typed Config (yaml_source -> schema -> checks -> model)."""

from generator.config.loader import load_config
from generator.config.model import (
    Batching,
    Config,
    DestinationSettings,
    Formatter,
    FunctionSettings,
    ListenerSettings,
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
    "Config",
    "DestinationSettings",
    "Formatter",
    "FunctionSettings",
    "ListenerSettings",
    "PermissionModel",
    "Protocol",
    "RegionConcurrency",
    "Routing",
    "StackSetsSettings",
    "WireGuardPeer",
    "WireGuardSettings",
    "load_config",
]
