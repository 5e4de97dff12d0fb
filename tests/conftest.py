"""Fixtures over tests/support: the default config as data, and config variants written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import config_files


@pytest.fixture
def default_config_data() -> dict[str, Any]:
    """config/config.yaml as plain data (a fresh copy: edit it freely)."""
    return config_files.default_config_data()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config(edit=None, data=None, name="config.yaml") -> path of a config file in tmp_path."""

    def write(
        edit: Callable[[dict[str, Any]], None] | None = None, data: Any = None, name: str = "config.yaml"
    ) -> Path:
        return config_files.write_config(tmp_path, edit, name=name, data=data)

    return write
