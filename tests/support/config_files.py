"""Config files for tests: the default config/config.yaml, edited, written where the test wants it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from generator.paths import DEFAULT_CONFIG


@cache
def _default_config_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


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
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
