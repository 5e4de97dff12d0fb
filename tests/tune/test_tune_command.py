"""`tune` as a user runs it: a table, out/tune.json, out/tune.png, a recommendation (or a clear "none"),
--apply, and one line for a bad grid value."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from generator.cli.tune_commands import format_table
from generator.distribution import install_command
from generator.errors import ExitCode
from tests.support.checkout import CHECKOUT, DEFAULT_CONFIG
from tests.support.cli import run_cli_in_process, snapshot
from tests.support.tune import synthetic_result

# A small grid at a rate far above count/timeout (see test_measurement): seconds, not minutes.
SMALL = ("--rate", "400", "--clients", "4", "--seconds", "0.5", "--counts", "1", "10", "--timeouts", "1")


@pytest.mark.parametrize(
    ("option", "values", "message"),
    [
        ("--counts", ["1", "abc"], "tune: COUNTS: 'abc' is not a whole number from 1 to 1000"),
        ("--counts", ["0"], "tune: COUNTS: '0' is not a whole number from 1 to 1000"),
        ("--counts", ["10", "1001"], "tune: COUNTS: '1001' is not a whole number from 1 to 1000"),
        ("--counts", ["2.5"], "tune: COUNTS: '2.5' is not a whole number from 1 to 1000"),
        ("--timeouts", ["0.2", "0"], "tune: TIMEOUTS: '0' is not a number of seconds from 0.01 to 60"),
        ("--timeouts", ["nan"], "tune: TIMEOUTS: 'nan' is not a number of seconds from 0.01 to 60"),
        ("--timeouts", ["-1"], "tune: TIMEOUTS: '-1' is not a number of seconds from 0.01 to 60"),
    ],
)
def test_a_grid_with_a_bad_value_is_refused_in_one_line_before_anything_runs(tmp_path, option, values, message):
    result = run_cli_in_process("tune", option, *values, "--out", tmp_path / "out")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == message + "\n"
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


MAKE = ["make", "-s", "--no-print-directory", f"BIN={Path(sys.executable).parent}", "TUNE="]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("COUNTS=", "tune: COUNTS: no value given"),  # given empty: refused, not the default grid
        ("COUNTS=1, abc", "tune: COUNTS: 'abc' is not a whole number from 1 to 1000"),
        ('TIMEOUTS=0.05 "1"', "tune: TIMEOUTS: '\"1\"' is not a number of seconds from 0.01 to 60"),
        ("APPLY=2", "Makefile:"),
    ],
)
def test_make_passes_the_grid_as_typed(tmp_path, variable, message):
    config = tmp_path / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    typed = [variable, f"CONFIG={config}", f"OUT={tmp_path / 'out'}"]
    result = subprocess.run([*MAKE, "tune", *typed], cwd=CHECKOUT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.splitlines()[0].startswith(message), result.stderr
    if variable == "APPLY=2":
        assert "APPLY=2: expected 1 or 0" in result.stderr
    assert not (tmp_path / "out").exists()
    assert config.read_bytes() == DEFAULT_CONFIG.read_bytes()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(("variable", "applies"), [("APPLY=0", False), ("APPLY=no", False), ("APPLY=1", True)])
def test_make_applies_only_when_asked_with_1(variable, applies):
    planned = subprocess.run([*MAKE, "-n", "tune", variable], cwd=CHECKOUT, capture_output=True, text=True)
    assert planned.returncode == 0, planned.stderr
    assert ("--apply" in planned.stdout.split()) is applies


def test_tune_prints_the_table_writes_json_and_chart_and_applies_the_cheapest(tmp_path):
    config = tmp_path / "config.yaml"
    started = DEFAULT_CONFIG.read_text(encoding="utf-8")
    started = started.replace("    count: 10 ", "    count: 1 ", 1).replace(
        "timeout_in_seconds: 1 ", "timeout_in_seconds: 0.2 ", 1
    )
    config.write_text(started, encoding="utf-8")
    out = tmp_path / "out"
    # A target every setting meets: the recommendation is then the cheapest, count 10 (a tenth of the requests).
    result = run_cli_in_process("tune", "--config", config, "--out", out, *SMALL, "--p99", "60000", "--apply")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "Proxylity's own charges are not included" in result.stdout
    assert "[2/2] count 10, timeout 1 s: 200 packets, 20 invocations (model 20)" in result.stdout
    assert "recommended (the cheapest setting meeting p99 ≤ 60000 ms with no loss): count 10" in result.stdout
    assert f"applied: {config}:52: destination.batching.count: 1 -> 10\n" in result.stdout
    assert f"applied: {config}:53: destination.batching.timeout_in_seconds: 0.2 -> 1\n" in result.stdout
    # Those two values and not another byte (the spaces before their comments give the width back).
    expected = started.replace("    count: 1 ", "    count: 10", 1).replace("seconds: 0.2 ", "seconds: 1   ", 1)
    assert config.read_text(encoding="utf-8") == expected

    document = json.loads((out / "tune.json").read_text())
    assert [(s["count"], s["timeout_in_seconds"]) for s in document["settings"]] == [(1, 1.0), (10, 1.0)]
    for setting in document["settings"]:
        assert setting["measured"]["invocations"] == setting["model"]["predicted_invocations"]
        assert setting["measured"]["packets_unaccounted"] == 0
    meeting = [s for s in document["settings"] if s["meets_target"]]
    cheapest = min(meeting, key=lambda s: s["model"]["usd_per_million_packets"])
    assert document["recommendation"] == {"count": cheapest["count"], "timeout_in_seconds": 1.0}
    assert document["model"]["price"]["source"].startswith("https://aws.amazon.com/lambda/pricing")
    assert "Proxylity" in document["model"]["not_included"]
    assert document["workload"] == {"rate_pps": 400.0, "clients": 4, "seconds": 0.5, "packets_per_setting": 200}

    with Image.open(out / "tune.png") as chart:
        assert chart.format == "PNG" and chart.size[0] > 800


def test_when_no_setting_meets_the_target_it_says_so_and_applies_nothing(tmp_path):
    config = tmp_path / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    result = run_cli_in_process("tune", "--config", config, "--out", out, *SMALL, "--p99", "0.001", "--apply")
    assert result.returncode == ExitCode.FAILED
    assert "none meets the target (p99 ≤ 0.001 ms with no loss) at 400 packets/s: no recommendation" in result.stdout
    assert "left as it was: nothing to apply" in result.stderr
    assert json.loads((out / "tune.json").read_text())["recommendation"] is None
    assert (out / "tune.png").is_file()
    assert config.read_bytes() == before["config.yaml"]


def test_a_workload_too_large_to_send_is_one_line_before_measuring(tmp_path):
    for rate, seconds in (("1000000", "10"), ("2000", "3600")):
        result = run_cli_in_process("tune", "--rate", rate, "--seconds", seconds, "--out", tmp_path / "out")
        assert result.returncode == ExitCode.USAGE
        assert result.stderr.count("\n") == 1 and "packets per setting: at most 1,000,000" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_setting_the_config_would_refuse_is_measured_but_never_recommended(tmp_path, write_config):
    # With the canary's alarms on, a batch its 20 probes do not fill waits for the timeout: count 100 with
    # a 0.5 s timeout is refused by the config (max_p99_ms 500), count 10 is not.
    def canary_on(data):
        data["observability"] = {"canary": {"enabled": True, "packets": 20, "max_p99_ms": 500}, "alarms": True}

    config = write_config(canary_on)
    before = config.read_bytes()
    out = tmp_path / "out"
    grid = ("--rate", "400", "--clients", "4", "--seconds", "0.5", "--counts", "10", "100", "--timeouts", "0.5")
    result = run_cli_in_process("tune", "--config", config, "--out", out, *grid, "--p99", "5000", "--apply")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "count 100, timeout 0.5 s: measured, never recommended:" in result.stdout
    assert "observability.canary.max_p99_ms: 500 ms is not above" in result.stdout
    document = json.loads((out / "tune.json").read_text())
    refused = {s["count"]: s["refused_by_config"] for s in document["settings"]}
    assert refused[10] is None and "max_p99_ms" in refused[100]
    cheaper = min(document["settings"], key=lambda s: s["model"]["usd_per_million_packets"])
    assert cheaper["count"] == 100  # the cheaper one, but the config would refuse it
    assert document["recommendation"] == {"count": 10, "timeout_in_seconds": 0.5}
    assert config.read_bytes() != before and "timeout_in_seconds: 0.5" in config.read_text()


def test_a_serving_region_without_a_price_is_one_line_before_measuring(tmp_path, write_config):
    config = write_config(lambda data: data.update(home_region="af-south-1", regions=["af-south-1"]))
    result = run_cli_in_process("tune", "--config", config, "--out", tmp_path / "out")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.count("\n") == 1
    assert "no Lambda x86_64 price for af-south-1" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_output_says_when_the_aws_round_trip_is_in_the_figures(tmp_path):
    out = tmp_path / "out"
    args = ("--rate", "100", "--seconds", "0.1", "--counts", "1", "--timeouts", "1", "--out", out)
    result = run_cli_in_process("tune", *args, "--ingress", "ap-northeast-1", "--add-latency")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "AWS round trip: replies delayed by" in result.stdout
    assert "ingress ap-northeast-1 -> serving us-west-2" in result.stdout
    assert "the figures stand for a client near ap-northeast-1" in result.stdout
    assert json.loads((out / "tune.json").read_text())["round_trip"]["added"] is True


def test_without_matplotlib_it_says_how_to_install_it_before_measuring(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the `tune` extra were not installed
    result = run_cli_in_process("tune", "--out", tmp_path / "out")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == (
        "tune: drawing the chart needs the 'tune' extra of packet-counter-generator (matplotlib is not installed): "
        f"{install_command('tune')}\n"
    )
    assert install_command("tune").startswith("pip install ") and install_command("tune").endswith("[tune]'")
    assert not (tmp_path / "out").exists()


def test_apply_to_a_config_it_cannot_edit_is_refused_before_measuring(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "regions: [us-west-2]\nfunction:\n  memory_mb: &size 128\ndestination:\n  batching:\n    count: *size\n"
    )
    result = run_cli_in_process("tune", "--config", config, "--out", tmp_path / "out", "--apply")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.count("\n") == 1
    assert "destination.batching.count: the value is not written at its key: it is an alias (*size)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_table_never_rounds_a_lost_packet_away():
    one_in_ten_thousand = synthetic_result(10, 0.2, p99_ms=7, lost=1)
    one_in_a_million = synthetic_result(10, 0.2, p99_ms=7, lost=1, packets=1_000_000)
    none = synthetic_result(10, 0.2, p99_ms=7)
    rows = format_table(SimpleNamespace(results=[one_in_ten_thousand, one_in_a_million, none])).splitlines()[1:4]
    assert [row.split()[11] for row in rows]  # the timeout cell, "0.2 s", is two words == ["0.01%", "0.0001%", "0%"]
    assert [row.split()[-1] for row in rows] == ["loss", "loss", "meets"]


# -- all or nothing: tune.json and tune.png are written together or neither, and the config edit after them --


def test_a_grid_of_too_many_settings_is_one_line_before_measuring(tmp_path):
    counts = [str(count) for count in range(1, 12)]
    timeouts = [f"{0.05 * step:g}" for step in range(1, 11)]
    result = run_cli_in_process("tune", "--counts", *counts, "--timeouts", *timeouts, "--out", tmp_path / "out")
    assert result.returncode == ExitCode.USAGE
    assert (
        result.stderr == "tune: COUNTS x TIMEOUTS is 11 x 10 = 110 settings: at most 100 (each is SECONDS of traffic)\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("in_the_way", ["a file for the folder", "a folder for the chart", "a folder for the json"])
def test_results_that_could_not_be_written_are_refused_before_measuring(tmp_path, in_the_way):
    out = tmp_path / "out"
    if in_the_way == "a file for the folder":
        out.write_text("not a folder")
    else:
        (out / ("tune.png" if "chart" in in_the_way else "tune.json")).mkdir(parents=True)
    before = snapshot(tmp_path)
    result = run_cli_in_process("tune", "--out", out, *SMALL)
    assert result.returncode == ExitCode.USAGE
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "cannot write tune.json and tune.png here" in result.stderr
    assert snapshot(tmp_path) == before


def _fail_second_fsync_in(folder: Path, monkeypatch) -> None:
    """The disk fills up while out/ is written: the second file flushed there fails with ENOSPC."""
    real_fsync = os.fsync
    flushed = []

    def fsync(descriptor: int) -> None:
        if os.path.dirname(os.readlink(f"/proc/self/fd/{descriptor}")) == str(folder):
            flushed.append(descriptor)
            if len(flushed) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the file flushed through /proc")
@pytest.mark.parametrize("earlier_run", [False, True])
def test_a_disk_full_while_writing_leaves_neither_file_and_exits_2(tmp_path, monkeypatch, earlier_run):
    config = tmp_path / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    out = tmp_path / "out"
    if earlier_run:  # the results of an earlier run stay whole
        out.mkdir()
        (out / "tune.json").write_text('{"earlier": true}\n')
        (out / "tune.png").write_bytes(b"earlier chart")
    before = snapshot(tmp_path)
    _fail_second_fsync_in(out, monkeypatch)
    result = run_cli_in_process("tune", "--config", config, "--out", out, *SMALL, "--p99", "60000", "--apply")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        f"{out}: cannot write tune.json and tune.png: No space left on device; neither was written"
    ]
    assert snapshot(tmp_path) == before  # neither file, no leftovers, the config not applied
    assert out.exists() is earlier_run


def test_a_chart_that_cannot_be_drawn_writes_nothing(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def savefig(self, *args, **kwargs):
        raise ValueError("Image size of 1100000x770000 pixels is too large")

    monkeypatch.setattr(Figure, "savefig", savefig)
    config = tmp_path / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    before = snapshot(tmp_path)
    result = run_cli_in_process("tune", "--config", config, "--out", tmp_path / "out", *SMALL, "--apply")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        "tune: cannot draw the chart: ValueError: Image size of 1100000x770000 pixels is too large"
    ]
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "out").exists()


def test_apply_to_a_read_only_config_is_refused_before_measuring_and_it_stays_read_only(tmp_path):
    config = tmp_path / "config.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config)
    config.chmod(0o444)
    result = run_cli_in_process("tune", "--config", config, "--out", tmp_path / "out", "--apply")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == (
        f"{config}: is read-only (mode -r--r--r--); nothing to apply: make it writable (chmod u+w) or set "
        "destination.batching by hand\n"
    )
    assert result.stdout == ""
    assert config.stat().st_mode & 0o777 == 0o444 and config.read_bytes() == DEFAULT_CONFIG.read_bytes()
    assert not (tmp_path / "out").exists()


def test_apply_refused_after_the_results_are_written_exits_1_not_2(tmp_path, monkeypatch):
    """The config turns read-only while the settings are measured: the results are written, the config left
    alone, and the exit status is 1 (something was written), not 2 (nothing changed)."""
    from generator.cli import tune_commands

    config = tmp_path / "config.yaml"
    started = DEFAULT_CONFIG.read_text(encoding="utf-8").replace("    count: 10 ", "    count: 1  ", 1)
    config.write_text(started, encoding="utf-8")  # count 10, the recommendation, is not what it holds
    printed = tune_commands._print_progress

    def made_read_only_once_measured(event, say):
        printed(event, say)
        config.chmod(0o444)

    monkeypatch.setattr(tune_commands, "_print_progress", made_read_only_once_measured)
    out = tmp_path / "out"
    result = run_cli_in_process("tune", "--config", config, "--out", out, *SMALL, "--p99", "60000", "--apply")
    assert result.returncode == ExitCode.FAILED
    assert f"wrote {out / 'tune.json'} and {out / 'tune.png'}" in result.stdout
    assert result.stderr.splitlines() == [
        f"{config}: is read-only (mode -r--r--r--); nothing to apply: make it writable (chmod u+w) or set "
        "destination.batching by hand",
        f"{config} left as it was; the results are written",
    ]
    assert config.read_text(encoding="utf-8") == started
    assert json.loads((out / "tune.json").read_text())["recommendation"] == {"count": 10, "timeout_in_seconds": 1.0}


def test_tune_json_with_an_environment_applies_to_its_overlay_and_prints_one_document(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    (folder / "environments").mkdir(parents=True)
    base = folder / "config.yaml"
    base.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    prod = folder / "environments" / "prod.yaml"
    prod.write_text("# prod\nfunction: {memory_mb: 256}\n", encoding="utf-8")
    base_before = base.read_bytes()
    monkeypatch.chdir(tmp_path)

    result = run_cli_in_process(
        "tune", "--config", "config/config.yaml", "--env", "prod", *SMALL, "--p99", "60000", "--apply", "--json"
    )

    assert result.returncode == ExitCode.OK, result.stderr
    document = json.loads(result.stdout)  # stdout is the document alone; the table went to stderr
    assert document["ok"] is True and document["environment"] == "prod"
    assert document["recommendation"] == {"count": 10, "timeout_in_seconds": 1.0}
    assert document["applied"]["file"] == "config/environments/prod.yaml"
    assert [change["key_path"] for change in document["applied"]["changes"]] == [
        "destination.batching.count",
        "destination.batching.timeout_in_seconds",
    ]
    assert document["written"] == ["default-out/prod/tune.json", "default-out/prod/tune.png"]  # the environment's own
    assert "recommended (the cheapest setting" in result.stderr
    assert base.read_bytes() == base_before  # the base config is never edited for an environment
    edited = prod.read_text(encoding="utf-8")
    assert edited.endswith("destination:\n  batching:\n    count: 10\n    timeout_in_seconds: 1\n")
