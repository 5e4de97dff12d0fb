"""The package as a user installs it: the wheel built from a fresh copy of this checkout (through its sdist, as
`python -m build` does), installed into a virtualenv of its own, and run in empty folders outside the checkout.

Offline and quick: the wheel is built without build isolation (the test venv's setuptools), and installed with
--no-deps and --no-index; its dependencies are the test venv's, reached through a .pth file, which adds that
folder to the path but runs none of its .pth files, so the editable install of this checkout stays out. The
package itself comes from the wheel only, which the test checks.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from generator.config import load_config
from generator.render import render_templates
from generator.resources import CONFIG, HANDLER, SHIPPED_FOLDER, TEMPLATES
from tests.support.checkout import CHECKOUT
from tests.support.lint_tools import cfn_lint

VERSION = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, the virtualenv it is installed in)."""
    root = tmp_path_factory.mktemp("install")
    clone, dist, venv = root / "clone", root / "dist", root / "venv"
    _copy_the_source(clone)
    built = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, clone], timeout=300)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = dist.glob("*.whl")
    assert [path.name for path in dist.glob("*.tar.gz")] == [f"packet_counter_generator-{VERSION}.tar.gz"]

    assert _run([sys.executable, "-m", "venv", "--without-pip", venv]).returncode == 0
    python = venv / "bin" / "python"
    site_packages = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    (Path(site_packages) / "test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    done = _run([*pip, "install", "--no-deps", "--no-index", "--no-compile", wheel], timeout=300)
    assert done.returncode == 0, done.stderr
    return wheel, venv


def test_the_installed_command_inits_and_renders_in_an_empty_folder_and_cfn_lint_passes(installed, tmp_path):
    _, venv = installed
    work = tmp_path / "work"
    work.mkdir()

    version = _command(venv, work, "--version")
    assert (version.returncode, version.stdout) == (0, f"packet-counter {VERSION}\n"), version.stderr
    where = _run([venv / "bin" / "python", "-c", "import generator; print(generator.__file__)"], cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(venv), where  # the wheel's code, not the checkout's

    init = _command(venv, work, "init")
    assert init.returncode == 0, init.stderr
    assert sorted(path.name for path in work.iterdir()) == ["config.schema.json", "config.yaml"]

    render = _command(venv, work, "render")
    assert render.returncode == 0, render.stderr
    assert render.stdout == "wrote out/global.template.json\nwrote out/regional.template.json\n"
    written = sorted((work / "out").iterdir())
    assert [path.name for path in written] == ["global.template.json", "regional.template.json"]
    # The wheel's templates and handler code are the checkout's: the same config renders to the same bytes.
    expected = {f"{t.name}.json": t.to_json() for t in render_templates(load_config(work / "config.yaml"))}
    assert {path.name: path.read_text(encoding="utf-8") for path in written} == expected
    regions = yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))["regions"]
    assert cfn_lint(written, regions) == []


def test_the_installed_package_never_edits_its_own_default_config(installed, tmp_path):
    _, venv = installed
    result = _command(venv, tmp_path, "tune", "--apply")  # no ./config.yaml here: the packaged default
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.endswith(
        f"/{SHIPPED_FOLDER}/config/config.yaml: is the installed package's default config, which is never edited; "
        "nothing to apply: `init` writes ./config.yaml to edit (or give --config FILE)"
    )
    assert Path(line.split(":")[0]).is_relative_to(venv)
    assert list(tmp_path.iterdir()) == []  # refused before measuring: no out/


def test_a_missing_extra_is_installed_from_where_the_package_came_from(installed, tmp_path):
    wheel, venv = installed
    code = "from generator.distribution import install_command; print(install_command('local'))"
    told = _run([venv / "bin" / "python", "-c", code], cwd=tmp_path)
    assert told.stdout == f"pip install {shlex.quote(f'{wheel}[local]')}\n", told.stderr


def test_the_wheel_carries_every_file_of_the_package_and_of_the_folders_mapped_into_it(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        carried = set(archive.namelist())
    expected = {f"generator/{name}" for name in _files(CHECKOUT / "generator")}
    for in_package, in_checkout in (TEMPLATES, CONFIG, HANDLER):
        expected |= {f"generator/{SHIPPED_FOLDER}/{in_package}/{name}" for name in _files(CHECKOUT / in_checkout)}
    assert expected - carried == set()


def _copy_the_source(destination: Path) -> None:
    """The checkout's files as a fresh clone has them (with the changes not yet committed): none of what a build
    leaves behind, such as the egg-info whose stale file list setuptools would add to the sdist."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = CHECKOUT / name
        if source.is_file():  # not deleted since it was committed
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _command(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([venv / "bin" / "packet-counter", *args], cwd=cwd)


def _run(command: list, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`command` with nothing of the checkout on its path: no PYTHONPATH, no virtualenv of ours active."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
