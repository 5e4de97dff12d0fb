"""The deploy commands' command line: what it refuses before any AWS call, in one line, and why."""

from __future__ import annotations

import io

import pytest

from generator import cli
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import (
    FAST,
    GLOBAL,
    REGIONAL,
    REGIONS,
    deploy_cli,
    local_cloud_fixtures,
    stack,
)

local_cloud, cloud = local_cloud_fixtures()


def refused_by_argparse(capsys, *argv: str) -> str:
    """The one error line argparse prints (after its usage line) when it refuses `argv`; it exits 2."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        cli.main(list(argv))
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "0.01", "soon", "1e300", "3601"])
@pytest.mark.parametrize("command", ["deploy", "plan", "status", "destroy"])
def test_poll_must_be_a_pause_from_a_twentieth_of_a_second_to_an_hour(capsys, command, value):
    line = refused_by_argparse(capsys, command, "--poll", value)

    assert line == (
        f"python -m generator {command}: error: argument --poll: "
        f"expected a number of seconds from 0.05 to 3,600, got '{value}'"
    )


@pytest.mark.parametrize("value", ["0", "-2", "1.5", "many", "101", "1e300", "99999999999999999999"])
@pytest.mark.parametrize("command", ["deploy", "plan", "status", "destroy"])
def test_max_parallel_must_be_a_whole_number_from_one_to_a_hundred(capsys, command, value):
    line = refused_by_argparse(capsys, command, "--max-parallel", value)

    assert line == (
        f"python -m generator {command}: error: argument --max-parallel: "
        f"expected a whole number of stacks from 1 to 100, got '{value}'"
    )


@pytest.mark.parametrize("regions", [[], [","], [" , ", ","], [""]], ids=["nothing", "comma", "commas-spaces", "empty"])
@pytest.mark.parametrize("command", ["destroy", "deploy", "plan"])
def test_regions_naming_no_region_is_refused_not_taken_for_everything(
    cloud, capsys, tmp_path, monkeypatch, command, regions
):
    config_path = write_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0
    calls = len(cloud.proxylity.calls)
    extra = {"destroy": ("--yes", *FAST), "deploy": FAST, "plan": ()}[command]

    status, _, err = run_cli_in_process(
        command, "--config", str(config_path), "--out", str(tmp_path / "out"), *extra, "--regions", *regions
    )

    assert status == 2
    assert err.splitlines() == [
        "--regions: names no region; for every configured region leave --regions out "
        "(with make: leave REGIONS unset); nothing was changed"
    ]
    assert len(cloud.proxylity.calls) == calls
    assert stack("us-west-2", GLOBAL) is not None
    assert all(stack(region, REGIONAL) is not None for region in REGIONS)


@pytest.mark.parametrize("stdin", ["", "yes\n"], ids=["closed", "piped-yes"])
def test_destroy_without_a_terminal_or_yes_says_how_to_confirm_and_deletes_nothing(
    cloud, capsys, tmp_path, monkeypatch, stdin
):
    config_path = write_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))  # not a terminal: a pipe, a file, CI

    status, out, err = run_cli_in_process(
        "destroy", "--config", str(config_path), "--out", str(tmp_path / "out"), *FAST
    )

    assert status == 2
    assert out == ""  # it did not ask
    (line,) = err.splitlines()
    assert "YES=1" in line and "--yes" in line and "nothing was deleted" in line
    assert stack("us-west-2", GLOBAL) is not None
    assert all(stack(region, REGIONAL) is not None for region in REGIONS)


def test_destroy_without_a_terminal_but_with_yes_goes_ahead(cloud, capsys, tmp_path, monkeypatch):
    config_path = write_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("YES", "1")  # what `make destroy YES=1` passes

    status, _, err = run_cli_in_process("destroy", "--config", str(config_path), "--out", str(tmp_path / "out"), *FAST)

    assert status == 0, err
    assert stack("us-west-2", GLOBAL) is None
