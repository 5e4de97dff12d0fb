"""`status` as a person on an 80-column terminal sees it (a real pseudo-terminal, a real process): no line wider
than the terminal; and in a pipe, the plain aligned table a script reads, every column whole."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import FAST, deploy_cli, local_cloud_fixtures

local_cloud, cloud = local_cloud_fixtures()
REGIONS = ["us-west-2", "ap-southeast-2", "eu-central-1"]


def on_a_terminal(columns: int, *argv: str, within: float = 50.0) -> tuple[int, str]:
    """`python -m generator ARGV` with stdout a pseudo-terminal `columns` wide: (exit status, what it showed)."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *argv],
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": str(columns), "LINES": "40", "PYTHONPATH": str(CHECKOUT)},
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        status = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return status, shown.decode("utf-8").replace("\r\n", "\n")


def test_status_fits_an_80_column_terminal_and_stays_plain_in_a_pipe(cloud, tmp_path):
    config = write_config(tmp_path, lambda c: c.update(regions=REGIONS))
    assert deploy_cli(config, tmp_path).returncode == 0

    status, shown = on_a_terminal(80, "status", "--config", str(config), *FAST)

    assert status == 0, shown
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    assert [line.split()[:2] for line in lines if line.startswith(tuple(REGIONS))] == [
        ["us-west-2", "packet-counter-global"],
        *([region, "packet-counter-region"] for region in REGIONS),
    ]

    piped = run_cli_in_process("status", "--config", str(config), *FAST)
    assert piped.returncode == 0
    wide = piped.stdout.splitlines()
    assert set(wide[1]) <= {"-", " "}  # the plain table's rule under its header
    assert any("arn:aws:lambda:ap-southeast-2:123456789012:function:packet-counter" in line for line in wide)
    assert max(len(line) for line in wide) > 80
