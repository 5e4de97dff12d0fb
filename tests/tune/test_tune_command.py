"""`tune` as a user runs it: a table, out/tune.json, out/tune.png, a recommendation (or a clear "none"),
--apply, and one line for a bad grid value."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from PIL import Image

from generator.errors import ExitCode
from generator.paths import DEFAULT_CONFIG
from tests.support.cli import run_cli, run_cli_in_process, snapshot

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


def test_make_passes_the_grid_as_typed(tmp_path):
    # COUNTS="1, 10" (commas) reads as two counts, as does "1 10".
    result = run_cli_in_process("tune", "--counts", "1,", "abc", "--out", tmp_path)
    assert result.stderr == "tune: COUNTS: 'abc' is not a whole number from 1 to 1000\n"


def test_tune_prints_the_table_writes_json_and_chart_and_applies_the_cheapest(tmp_path):
    config = tmp_path / "config.yaml"
    started = DEFAULT_CONFIG.read_text(encoding="utf-8")
    started = started.replace("    count: 10 ", "    count: 1 ", 1).replace(
        "timeout_in_seconds: 1 ", "timeout_in_seconds: 0.2 ", 1
    )
    config.write_text(started, encoding="utf-8")
    out = tmp_path / "out"
    # A target every setting meets: the recommendation is then the cheapest, count 10 (a tenth of the requests).
    result = run_cli("tune", "--config", config, "--out", out, *SMALL, "--p99", "60000", "--apply")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "Proxylity's own charges are not included" in result.stdout
    assert "[2/2] count 10, timeout 1 s: 200 packets, 20 invocations (model 20)" in result.stdout
    assert "recommended (the cheapest setting meeting p99 ≤ 60000 ms with no loss): count 10" in result.stdout
    assert f"applied: {config}:52: destination.batching.count: 1 -> 10\n" in result.stdout
    assert f"applied: {config}:53: destination.batching.timeout_in_seconds: 0.2 -> 1\n" in result.stdout
    # Those two values and not another byte.
    expected = started.replace("    count: 1 ", "    count: 10 ", 1).replace("seconds: 0.2 ", "seconds: 1 ", 1)
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
    result = run_cli("tune", "--config", config, "--out", out, *SMALL, "--p99", "0.001", "--apply")
    assert result.returncode == ExitCode.FAILED
    assert "none meets the target (p99 ≤ 0.001 ms with no loss) at 400 packets/s: no recommendation" in result.stdout
    assert "left as it was: nothing to apply" in result.stderr
    assert json.loads((out / "tune.json").read_text())["recommendation"] is None
    assert (out / "tune.png").is_file()
    assert config.read_bytes() == before["config.yaml"]


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
        "tune: drawing the chart needs matplotlib, which is not installed (matplotlib): "
        "pip install -e '.[tune]' (make tune does it)\n"
    )
    assert not (tmp_path / "out").exists()


def test_apply_to_a_config_it_cannot_edit_is_refused_before_measuring(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "regions: [us-west-2]\nfunction:\n  memory_mb: &size 128\ndestination:\n  batching:\n    count: *size\n"
    )
    result = run_cli_in_process("tune", "--config", config, "--out", tmp_path / "out", "--apply")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.count("\n") == 1
    assert "destination.batching.count: the value is not written at its key (an alias?)" in result.stderr
    assert not (tmp_path / "out").exists()
