"""Shared fixtures: the default config as data, writing config variants, running the CLI."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.paths import DEFAULT_CONFIG, PROJECT_ROOT


@pytest.fixture(scope="session")
def default_config_data() -> dict[str, Any]:
    """config/config.yaml as plain data (read-only; tests deep-copy before editing)."""
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


@pytest.fixture
def write_config(tmp_path: Path, default_config_data: dict[str, Any]) -> Callable[..., Path]:
    """write_config(edit=None, data=None, name="config.yaml") -> path of a config file in tmp_path."""

    def write(
        edit: Callable[[dict[str, Any]], None] | None = None, data: Any = None, name: str = "config.yaml"
    ) -> Path:
        content = copy.deepcopy(default_config_data) if data is None else data
        if edit is not None:
            edit(content)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return write


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str | Path, cwd: Path = PROJECT_ROOT, timeout: float = 120, env: dict[str, str] | None = None
) -> CliResult:
    """Run `python -m generator ARGS` in a real subprocess, as a user would; `env` adds to the environment."""
    completed = subprocess.run(
        [sys.executable, "-m", "generator", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_child_env(), **(env or {})},
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def _child_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: to prove a failed run changed nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
