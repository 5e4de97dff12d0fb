"""Config files for tests: the default config/config.yaml, edited, written where the test wants it."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from generator.paths import DEFAULT_CONFIG

TOPIC = "arn:aws:sns:us-west-2:123456789012:alerts"  # an SNS topic for observability.alarms_topic_arn


@cache
def _default_config_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


class Yaml12SafeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, which writes YAML 1.1, made to quote every string that a YAML 1.2 reader (as the
    project's, generator/config/yaml_source.py) would read as something else: PyYAML leaves `0E0`, `1e3` or
    `0o17` plain because YAML 1.1 reads them as text, and YAML 1.2 reads the first two as numbers."""


# The YAML 1.2 core schema's plain scalars that are not strings (https://yaml.org/spec/1.2.2/#1032-tag-resolution),
# added to the 1.1 ones PyYAML already quotes: a string matching any of them is written quoted.
_YAML12_CORE = {
    "tag:yaml.org,2002:null": (r"~|null|Null|NULL", "~nN"),
    "tag:yaml.org,2002:bool": (r"true|True|TRUE|false|False|FALSE", "tTfF"),
    "tag:yaml.org,2002:int": (r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    "tag:yaml.org,2002:float": (
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
}
for _tag, (_pattern, _first) in _YAML12_CORE.items():
    Yaml12SafeDumper.add_implicit_resolver(_tag, re.compile(rf"(?:{_pattern})\Z"), list(_first))


def dump_yaml(data: Any, allow_unicode: bool = True, sort_keys: bool = True) -> str:
    """`data` as YAML text that the project reads back as the same data (safe_dump, with YAML 1.2's numbers quoted)."""
    return yaml.dump(data, Dumper=Yaml12SafeDumper, allow_unicode=allow_unicode, sort_keys=sort_keys)


def default_config_data() -> dict[str, Any]:
    """config/config.yaml as plain data, a fresh copy to edit."""
    return copy.deepcopy(_default_config_data())


def write_config(
    folder: Path,
    edit: Callable[[dict[str, Any]], None] | None = None,
    name: str = "config.yaml",
    data: Any = None,
) -> Path:
    """The default config (or `data`), changed by `edit`, written to folder/name as a user would write it."""
    content = default_config_data() if data is None else data
    if edit is not None:
        edit(content)
    path = Path(folder) / name
    path.write_text(dump_yaml(content, sort_keys=False), encoding="utf-8")
    return path


def maximal(config: dict[str, Any]) -> None:
    """Every optional setting set, the other side of every switch."""
    config["listener"].update(name="edge", protocols=["udp", "wg"], client_networks=["10.0.0.0/8", "2001:db8::/32"])
    config["listener"].update(client_domains=["client.example.com"])
    config["listener"]["wireguard"] = {
        "peers": [{"public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "allowed_ips": ["10.10.10.2/32"]}],
        "decapsulated_delivery": True,
    }
    config["destination"].update(name="counter", formatter="utf8", metrics_enabled=False)
    config["destination"]["batching"].update(size_in_mb=1)
    config["function"].update(reserved_concurrency=20, architecture="arm64", log_retention_days=365)
    config["tags"] = {"team": "networking"}
    config["observability"] = {
        "canary": {"enabled": True, "every_minutes": 1, "packets": 1000},
        "alarms": True,
        "alarms_topic_arn": TOPIC,
        "dashboard": True,
        "delivery_log_retention_days": 3653,
    }
