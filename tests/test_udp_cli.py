"""`python -m generator demo` and `local` as a user runs them: real processes, loopback only."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import yaml

from generator.paths import DEFAULT_CONFIG, PROJECT_ROOT
from tests.conftest import run_cli
from tests.support.udp import exchange


def config_with_batching(tmp_path, count: int, timeout: float):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["destination"]["batching"] = {"count": count, "timeout_in_seconds": timeout}
    path = tmp_path / f"config-{count}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("count", "replies"), [(1, 100), (10, 10), (1000, 1)])
def test_demo_shows_batching_change_the_number_of_replies(tmp_path, count, replies):
    config = config_with_batching(tmp_path, count, 0.3)
    result = run_cli("demo", "--config", config, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"batching Count {count}, TimeoutInSeconds 0.3" in result.stdout
    assert f"packets counted:     100 (by {replies} {'reply' if replies == 1 else 'replies'})" in result.stdout
    assert f"us-west-2        replies {replies:>7}   packets       100" in result.stdout
    assert (tmp_path / "out" / "regional.template.json").exists()  # rendered first


def test_demo_with_the_home_region_down_is_served_by_the_next_nearest(tmp_path):
    config = config_with_batching(tmp_path, 10, 0.3)
    result = run_cli("demo", "--config", config, "--out", tmp_path / "out", "--down", "us-west-2", "-n", "20")
    assert result.returncode == 0, result.stderr
    assert "ingress us-west-2 -> serving us-east-1 (down: us-west-2)" in result.stdout
    assert "us-east-1        replies       2   packets        20" in result.stdout


def test_local_serves_until_sigterm_and_reports(tmp_path):
    config = config_with_batching(tmp_path, 10, 0.3)
    port = _free_udp_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "generator",
            "local",
            "--config",
            config,
            "--out",
            tmp_path / "out",
            "--port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "local gateway on 127.0.0.1:" in process.stdout.readline()
        replies = exchange(port, [b"packet_%d" % n for n in range(1, 21)])
        control = run_cli("local-control", "--control-port", port + 1, "down", "us-west-2")
        moved = exchange(port, [b"packet_%d" % n for n in range(1, 11)])
        bad = run_cli("local-control", "--control-port", port + 1, "down", "mars-north-1")
    finally:
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=20)
    assert replies == [b"10 us-west-2\n", b"10 us-west-2\n"]
    assert control.stdout == "ok ingress=us-west-2 serving=us-east-1 down=us-west-2\n"
    assert moved == [b"10 us-east-1\n"]
    assert bad.returncode == 2 and "mars-north-1 is not a configured region" in bad.stderr
    assert process.returncode == 0
    assert "stopped: 30 datagrams" in out


def _free_udp_port() -> int:
    import socket

    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65000 and _free(port) and _free(port + 1):
            return port
        time.sleep(0.01)
    raise AssertionError("no free UDP port pair")


def _free(port: int) -> bool:
    import socket

    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True
