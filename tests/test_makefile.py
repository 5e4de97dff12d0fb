"""The Makefile passes every variable to the CLI as one argument, exactly as typed: a path with spaces works,
and what a shell or make would run or expand in a value (`;`, `$(...)`, backquotes, quotes, `*`) is never run
or expanded, whether the value comes from the command line or the environment.

make runs here for real, against this checkout's virtualenv (BIN=..., and the install stamps emptied so that
nothing is installed): `make -n` for every target, and real `make validate`, `render`, `smoke`, `destroy`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.checkout import CHECKOUT, DEFAULT_CONFIG

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

MAKEFILE = (CHECKOUT / "Makefile").read_text(encoding="utf-8")
# The virtualenv running these tests, and no install step before any target.
NO_INSTALL = [f"BIN={Path(sys.executable).parent}", "RUNTIME=", "LOCAL=", "TUNE=", "DEV="]
VARIABLES = (
    re.search(r"^USER_VARIABLES := (.*?)\n[^\t]", MAKEFILE, re.MULTILINE | re.DOTALL)[1].replace("\\", "").split()
)
TARGETS = sorted(set(re.findall(r"^([a-z][a-z0-9-]*):", MAKEFILE, re.MULTILINE)) - {"clean", "help"})
SWITCHES = ("APPLY", "ADD_LATENCY", "FOLLOW", "KEEP", "YES")  # 1/yes/true or 0/no/false: make stops on anything else


def _environment(**values: str) -> dict[str, str]:
    """This environment without any variable the Makefile reads, plus `values`; AWS pointed nowhere."""
    clean = {key: value for key, value in os.environ.items() if key not in VARIABLES and not key.startswith("ARG_")}
    return {**clean, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", **values}


def make(*words: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """make WORDS in this checkout; a BIN=, RUNTIME= ... among WORDS wins over NO_INSTALL's (the last one does)."""
    return subprocess.run(
        ["make", "--no-print-directory", *NO_INSTALL, *words],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or _environment(),
    )


def hostile_values(marker: Path) -> list[str]:
    """Values that would create `marker` if a shell or make ran what they hold."""
    return [
        f"$(shell touch {marker})",
        f"x; touch {marker}",
        f"x && touch {marker} #",
        f"`touch {marker}`",
        f"$(touch {marker})",
        f"$$(touch {marker})",
        f"x' ; touch {marker}; echo '",
        f'x" ; touch {marker}; echo "',
        f"x\ntouch {marker}",
        f"* | touch {marker}",
    ]


def test_the_user_variables_are_found():
    assert {"CONFIG", "OUT", "REGIONS", "PORT", "SECONDS", "COUNTS", "FILTER", "VENV", "PYTHON"} <= set(VARIABLES)
    assert {"FAILOVER", "KEEP", "CLOCK_SPEED", "INGRESS"} <= set(VARIABLES)
    assert {"render", "validate", "deploy", "destroy", "smoke", "tune", "logs", "e2e", "local-names"} <= set(TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_make_n_runs_nothing_a_value_holds_in_any_target(tmp_path, target):
    marker = tmp_path / "marker"
    switches_and_paths = (*SWITCHES, "VENV")
    for value in hostile_values(marker):
        given = [f"{name}={value}" for name in VARIABLES if name not in switches_and_paths]
        planned = make("-n", target, *given, "UNUSED=" + value)
        assert not marker.exists(), (target, value, planned.stdout, planned.stderr)
        assert planned.returncode == 0, planned.stderr
        # No value is written into a command: each goes through the environment, quoted.
        assert str(marker) not in planned.stdout, planned.stdout


@pytest.mark.parametrize("target", ["render", "tune", "lint", "clean"])
def test_the_virtualenv_paths_are_never_run_either(tmp_path, target):
    """VENV and BIN name files make itself builds (a space splits them, so make may refuse such a
    value); whatever it does, nothing in them is run."""
    marker = tmp_path / "marker"
    for value in hostile_values(marker):
        for name in ("VENV", "BIN", "PYTHON"):
            planned = make("-n", target, f"{name}={value}", "RUNTIME=.venv/.runtime", "TUNE=.venv/.tune")
            assert not marker.exists(), (target, name, value, planned.stdout, planned.stderr)
            assert str(marker) not in planned.stdout, planned.stdout


def test_values_from_the_environment_are_not_run_either(tmp_path):
    marker = tmp_path / "marker"
    for value in hostile_values(marker):
        env = _environment(**{name: value for name in VARIABLES if name not in SWITCHES})
        for target in ("render", "tune", "logs", "local-down", "e2e", "local-cloud"):
            make("-n", target, env=env)
    assert not marker.exists()


@pytest.mark.parametrize("target", ["validate", "render"])
def test_a_config_value_that_would_run_something_is_a_file_name_the_cli_refuses(tmp_path, target):
    marker = tmp_path / "marker"
    values = hostile_values(marker)
    # Both recipes pass CONFIG through the same CONFIG_ARGS: every value through one, a value of each quoting
    # (make's, the shell's single and double quotes, a line break) through the other (each run is a CLI's start).
    for value in values if target == "validate" else [values[0], values[6], values[7], values[8]]:
        result = make(target, f"CONFIG={value}", f"OUT={tmp_path / 'out'}")
        assert result.returncode == 2, result.stderr
        # The CLI got the value whole, as one file name (shown as it reads it, escaped on one line).
        assert result.stderr.splitlines()[0].endswith(": no such file"), result.stderr
        assert "touch" in result.stderr.splitlines()[0]
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_paths_with_spaces_work(tmp_path):
    folder = tmp_path / "my dir"
    folder.mkdir()
    config = folder / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    out = tmp_path / "my out"
    validated = make("validate", f"CONFIG={config}")
    assert validated.returncode == 0, validated.stderr
    assert f"{config}: valid" in validated.stdout
    rendered = make("render", f"CONFIG={config}", f"OUT={out}", "FORMAT=yaml")
    assert rendered.returncode == 0, rendered.stderr
    assert sorted(path.name for path in out.iterdir()) == ["global.template.yaml", "regional.template.yaml"]


@pytest.mark.parametrize("variable", ["PACKETS", "RATE", "CLIENTS", "PORT"])
def test_a_number_reaches_the_cli_as_one_argument_and_is_refused_whole(tmp_path, variable):
    marker = tmp_path / "marker"
    value = f"5; touch {marker}"
    given = {"PORT": "9", variable: value}
    result = make("smoke", "HOST=127.0.0.1", *(f"{name}={v}" for name, v in given.items()), f"OUT={tmp_path}")
    assert result.returncode == 2
    option = {"PACKETS": "-n/--packets", "RATE": "--rate", "CLIENTS": "--clients", "PORT": "--port"}[variable]
    line = next(line for line in result.stderr.splitlines() if "error:" in line)
    # the value as typed (a long one is cut, and says how long it was): one argument, never split by a shell
    assert f"argument {option}: expected " in line and f"got '5; touch {str(marker)[:20]}" in line, line
    assert not marker.exists()


@pytest.mark.parametrize("regions", ["", " ", "   ", ",", " , "])
def test_regions_given_blank_are_refused_never_taken_as_every_region(tmp_path, regions):
    # Refused before any AWS call: the endpoint points nowhere, and nothing is asked or deleted.
    result = make("destroy", f"REGIONS={regions}", "YES=1", f"OUT={tmp_path / 'out'}")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--regions: names no region" in result.stderr
    planned = make("-n", "destroy", f"REGIONS={regions}")
    assert "--regions=" in planned.stdout


def test_yes_confirms_a_destroy_without_a_terminal(tmp_path):
    # No usable credentials here: a confirmed destroy gets as far as AWS and fails there, never refused for want of
    # a terminal (make's own exit status is 2 either way, so the CLI's words tell).
    config = tmp_path / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    confirmed = make("destroy", "YES=1", f"CONFIG={config}", f"OUT={tmp_path / 'out'}")
    assert "stdin is not a terminal" not in confirmed.stderr, confirmed.stderr
    assert "credentials" in confirmed.stderr, confirmed.stderr
    assert "--yes" in make("-n", "destroy", "YES=yes").stdout.split()
    assert "--yes" not in make("-n", "deploy", "YES=0").stdout.split()


def test_regions_left_out_mean_every_region():
    planned = make("-n", "destroy")
    assert planned.returncode == 0 and "--regions" not in planned.stdout


@pytest.mark.parametrize(("follow", "flag"), [("1", True), ("0", False), ("no", False), ("", False)])
def test_follow_is_a_switch(follow, flag):
    planned = make("-n", "logs", f"FOLLOW={follow}")
    assert ("--follow" in planned.stdout.split()) is flag


@pytest.mark.parametrize(("keep", "flag"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_e2e_passes_keep_as_a_switch_and_failover_as_one_argument(keep, flag):
    planned = make("-n", "e2e", f"KEEP={keep}", "FAILOVER=us-west-2", "REGIONS=us-west-2 us-east-1")
    assert planned.returncode == 0, planned.stderr
    assert ("--keep" in planned.stdout.split()) is flag
    assert '--failover="$ARG_FAILOVER"' in planned.stdout and '--regions="$ARG_REGIONS"' in planned.stdout
    refused = make("-n", "e2e", "KEEP=maybe")
    assert refused.returncode != 0 and "KEEP=maybe: expected 1 or 0" in refused.stderr


def test_local_cloud_takes_ingress_and_clock_speed():
    planned = make("-n", "local-cloud", "INGRESS=eu-west-1", "CLOCK_SPEED=60")
    assert '--ingress="$ARG_INGRESS"' in planned.stdout and '--clock-speed="$ARG_CLOCK_SPEED"' in planned.stdout
    assert "--ingress" not in make("-n", "local-cloud").stdout


def test_a_region_that_looks_like_an_option_is_a_word_of_local_control(tmp_path):
    result = make("local-down", "REGION=--help", "LOCAL_PORT=9")
    assert result.returncode == 2
    assert "usage:" not in result.stdout + result.stderr  # not taken for --help: sent as the region to mark down
    assert "local-control: no local gateway runs on port 9" in result.stderr
