"""Config files for tests: the default config/config.yaml, edited, written where the test wants it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.config import load_config
from generator.config.yaml_source import yaml_text
from generator.errors import ConfigError
from tests.support.checkout import DEFAULT_CONFIG

TOPIC = "arn:aws:sns:us-west-2:123456789012:alerts"  # an SNS topic for observability.alarms_topic_arn


@cache
def _default_config_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def dump_yaml(data: Any, allow_unicode: bool = True, sort_keys: bool = True) -> str:
    """`data` as YAML text that the project reads back as the same data (generator.config.yaml_source.yaml_text)."""
    return yaml_text(data, sort_keys=sort_keys, allow_unicode=allow_unicode)


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
    path.write_text(yaml_text(content), encoding="utf-8")
    return path


def config_problems(path: Path) -> list[str]:
    """What load_config refuses in the config at `path`, one line each as the user reads them (the file named
    cfg.yaml); a config it accepts fails the test."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, source="cfg.yaml")
    return [str(problem) for problem in caught.value.problems]


def text_problems(folder: Path, text: str) -> list[str]:
    """config_problems of `text` written to folder/config.yaml byte for byte (UTF-8, no newline translation)."""
    path = Path(folder) / "config.yaml"
    path.write_bytes(text.encode("utf-8"))
    return config_problems(path)


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
        "canary": {"enabled": True, "every_minutes": 1, "packets": 1000, "reserved_concurrency": 1},
        "alarms": True,
        "alarms_topic_arn": TOPIC,
        "dashboard": True,
        "delivery_log_retention_days": 3653,
    }
