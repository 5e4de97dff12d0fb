"""`python -m generator demo` and `local` as a user runs them: real UDP on loopback; `local` as a process of
its own, stopped by a signal."""

from __future__ import annotations

import pytest

from tests.support.cli import run_cli_in_process
from tests.support.config_files import default_config_data, dump_yaml
from tests.support.local_process import running_generator
from tests.support.udp import exchange


def config_with_batching(tmp_path, count: int, timeout: float):
    data = default_config_data()
    data["destination"]["batching"] = {"count": count, "timeout_in_seconds": timeout}
    path = tmp_path / f"config-{count}.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("count", "replies"), [(1, 100), (10, 10), (1000, 1)])
def test_demo_shows_batching_change_the_number_of_replies(tmp_path, count, replies):
    # Count 1 and 10 cut every batch by count. With 1000 the timer cuts the one batch: 2 s
    # after the first packet, so a sender that a loaded machine pauses still fits all 100 in it.
    config = config_with_batching(tmp_path, count, 2)
    result = run_cli_in_process("demo", "--config", config, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"batching Count {count}, TimeoutInSeconds 2" in result.stdout
    assert f"packets counted:     100 (by {replies} {'reply' if replies == 1 else 'replies'})" in result.stdout
    assert f"us-west-2        replies {replies:>7}   packets       100" in result.stdout
    assert (tmp_path / "out" / "regional.template.json").exists()  # rendered first


def test_demo_with_the_home_region_down_is_served_by_the_next_nearest(tmp_path):
    config = config_with_batching(tmp_path, 10, 0.3)
    out = tmp_path / "out"
    result = run_cli_in_process("demo", "--config", config, "--out", out, "--down", "us-west-2", "-n", "20")
    assert result.returncode == 0, result.stderr
    assert "ingress us-west-2 -> serving us-east-1 (down: us-west-2)" in result.stdout
    assert "us-east-1        replies       2   packets        20" in result.stdout


def test_local_serves_until_sigterm_and_reports(tmp_path):
    config = config_with_batching(tmp_path, 10, 0.3)
    with running_generator("local", "--config", config, "--out", tmp_path / "out", "--port", "0") as local:
        port = local.port
        replies = exchange(port, [b"packet_%d" % n for n in range(1, 21)])
        control = run_cli_in_process("local-control", "--port", port, "down", "us-west-2")
        moved = exchange(port, [b"packet_%d" % n for n in range(1, 11)])
        bad = run_cli_in_process("local-control", "--port", port, "down", "mars-north-1")
    assert f"local gateway on 127.0.0.1:{port}" in local.started
    assert replies == [b"10 us-west-2\n", b"10 us-west-2\n"]
    assert control.stdout == "ok ingress=us-west-2 serving=us-east-1 down=us-west-2\n"
    assert moved == [b"10 us-east-1\n"]
    assert bad.returncode == 2 and "mars-north-1 is not a configured region" in bad.stderr
    assert local.returncode == 0, local.stderr
    assert "stopped: 30 datagrams" in local.stdout


def test_demo_takes_several_regions_down_in_one_argument_as_make_passes_down(tmp_path):
    config = config_with_batching(tmp_path, 10, 0.3)
    down = "us-west-2, us-east-1"  # DOWN="us-west-2 us-east-1" reaches the CLI as one argument
    result = run_cli_in_process("demo", "--config", config, "--out", tmp_path / "out", "--down", down, "-n", "10")
    assert result.returncode == 0, result.stderr
    assert "-> serving eu-west-1 (down: us-west-2, us-east-1)" in result.stdout
