"""The local gateway runs the canary on its schedule, as each region's Events rule does: `make local` shows a
run at start and then every every_minutes, and `make demo` shows its figures after the smoke report."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys

import pytest

from generator.local.gateway.canary_schedule import CanarySchedule
from generator.observe.canary import load_canary, run_canary
from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli
from tests.support.udp import free_udp_port, local_gateway, read_until, rendered_handler_code

BOUND = 30.0  # a bound for a loaded machine; each run ends with its last reply


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return rendered_handler_code(tmp_path_factory.mktemp("out"))


def canary_config(write_config, every_minutes: int = 5):
    def edit(data):
        data["destination"]["batching"]["timeout_in_seconds"] = 0.3
        data["observability"]["canary"].update(enabled=True, every_minutes=every_minutes)

    return write_config(edit)


def test_runs_come_one_after_another_and_a_failing_run_does_not_stop_the_schedule(code):
    runs: queue.Queue = queue.Queue()
    canary = load_canary()
    attempts = []
    with local_gateway(code, count=10, timeout=0.2, ingress="eu-west-1") as gateway:

        def run():
            attempts.append(1)
            if len(attempts) == 2:
                raise OSError("no sockets left")  # the second run breaks; the third must still come
            return run_canary("127.0.0.1", gateway.port, 10, BOUND, "ns", gateway.router.ingress, canary)

        with CanarySchedule(run, 0.01, runs.put):
            first, third = runs.get(timeout=BOUND), runs.get(timeout=BOUND)
    for each in (first, third):
        assert each.result["Counted"] == 10 and each.records[0]["Region"] == "eu-west-1"
        assert each.result["ServedBy"] == {"eu-west-1": 10}
    assert len(attempts) >= 3


def test_make_local_runs_the_canary_at_start_and_says_how_often(write_config, tmp_path):
    port = free_udp_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "local", "--config", canary_config(write_config, 2)]
        + ["--out", tmp_path / "out", "--port", str(port)],
        cwd=CHECKOUT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = read_until(process.stdout, "probes to 127.0.0.1", 60)
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _err = process.communicate(timeout=60)
    assert "canary: every 2 min from us-west-2, the first run now" in started, started
    assert f"canary: 20 probes to 127.0.0.1:{port}: 20 answered, loss 0.00%" in started
    assert "served by us-west-2 20" in started
    assert process.returncode == 0 and "stopped: " in rest


def test_make_demo_shows_the_canary_figures_when_it_is_on(write_config, tmp_path):
    result = run_cli("demo", "--config", canary_config(write_config), "--out", tmp_path / "out", "-n", "20")
    assert result.returncode == 0, result.stderr
    canary_lines = [line for line in result.stdout.splitlines() if line.startswith("canary: ")]
    assert len(canary_lines) == 1 and "20 answered, loss 0.00%" in canary_lines[0]
    assert "served by us-west-2 20" in canary_lines[0]


def test_make_demo_without_the_canary_shows_none(tmp_path):
    result = run_cli("demo", "--out", tmp_path / "out", "-n", "10")
    assert result.returncode == 0, result.stderr
    assert "canary" not in result.stdout
