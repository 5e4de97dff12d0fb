"""Fixtures over tests/support: the default config as data, config variants written to tmp_path, the local cloud
of this test process; the hypothesis profile; and what keeps tests from sharing anything on disk."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import tests.support.properties  # noqa: F401  (loads the hypothesis profile: fast, or HYPOTHESIS_PROFILE's)
from tests.support import config_files


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (make test): two workers per usable core. Most tests wait on sockets, subprocesses and the local
    cloud, so one worker per core leaves the cores idle much of the run (measured: 175 s with 2 workers, 126 s
    with 4 on a 2-core machine)."""
    return 2 * len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2 * (os.cpu_count() or 1)


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


# --- nothing shared between tests, test processes (pytest-xdist workers) or the developer's own files -------


@pytest.fixture(scope="session", autouse=True)
def _own_runtime_directory() -> Iterator[None]:
    """A local gateway's control socket goes under an XDG_RUNTIME_DIR of this test process's own (short enough
    for a Unix socket's path, 108 bytes), never the developer's, where a gateway they run would be met."""
    path = Path(tempfile.mkdtemp(prefix="pc-run-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(path))
        yield
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _default_out_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run in this process without --out or --outputs uses tmp_path/default-out, not the checkout's
    out/, which every test process would share (its .deploy.lock too) and which holds the developer's own
    outputs.json. (The defaults are module constants of generator/: each one equal to a default is replaced.)"""
    from generator.paths import DEFAULT_OUT_DIR

    out = tmp_path / "default-out"
    replacements = {DEFAULT_OUT_DIR: out}
    replacements |= {DEFAULT_OUT_DIR / name: out / name for name in ("outputs.json", "tune.json", "tune.png")}
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "generator" or name.startswith("generator.")):
            for attribute, value in list(vars(module).items()):
                if isinstance(value, Path) and value in replacements:
                    monkeypatch.setattr(module, attribute, replacements[value])


class _SearchPaths(list):
    """A loader's search paths, each once: every boto3 Session appends boto3's own data folder to its loader's."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every botocore Session of this test process shares one loader of AWS's service models. The deploy code
    makes a Session per command, which re-reads and parses the same JSON models (near a third of a deploy test's
    CPU); the models are read-only data, shared already by every client of one Session."""
    import botocore.loaders
    import botocore.session

    @cache
    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        loader = botocore.loaders.create_loader(search_path_string)
        loader._search_paths = _SearchPaths(loader.search_paths)
        return loader

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared_loader)
        yield


@pytest.fixture(scope="session")
def worker_local_cloud() -> Iterator[Any]:
    """The one local cloud of this test process (moto patches its module globals, so one per process); test
    modules reach it through tests.support.deploy.local_cloud_fixtures, which empties it before each test."""
    from generator.local.cloud import LocalCloud  # moto: imported by the processes that need it

    cloud = LocalCloud()
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()
