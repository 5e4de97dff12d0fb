"""The live display of a deploy: on a terminal a table that fits its width (rich), elsewhere one plain line
per change; and an end-to-end deploy on an 80-column pseudo-terminal that never writes a wider line."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

from rich.console import Console

from generator.cli.progress import ProgressDisplay
from generator.deploy import Notice, StackProgress, StackQueued
from generator.local.cloud import DUMMY_CREDENTIALS
from tests.support.checkout import CHECKOUT
from tests.support.config_files import write_config
from tests.support.deploy import APPROVED, local_cloud_fixtures

local_cloud, cloud = local_cloud_fixtures()

LONG_EVENT = "DestinationArnBinding CREATE_FAILED: " + "a reason CloudFormation gives at length " * 4  # > 121 chars
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[78]")


def test_the_live_table_fits_an_80_column_terminal_however_long_the_event():
    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    with ProgressDisplay(live=True, console=console) as show:
        show(StackQueued("ap-southeast-2", "packet-counter-region"))
        show(StackProgress("ap-southeast-2", "packet-counter-region", "CREATE_IN_PROGRESS", LONG_EVENT))
        show(Notice("a note that stays above the table"))
    lines = ANSI.sub("", screen.getvalue()).replace("\r", "\n").splitlines()
    assert lines, "the live display drew nothing"
    assert max(len(line) for line in lines) <= 80
    assert any("ap-southeast-2" in line and "CREATE_IN_PROGRESS" in line for line in lines)
    assert any(line.strip() == "a note that stays above the table" for line in lines)


def test_off_a_terminal_each_change_is_one_plain_line():
    stream = io.StringIO()
    with ProgressDisplay(stream=stream) as show:
        show(StackQueued("eu-west-1", "packet-counter-region"))
        show(StackProgress("eu-west-1", "packet-counter-region", "CREATE_IN_PROGRESS", "binding CREATE_IN_PROGRESS"))
        show(StackProgress("eu-west-1", "packet-counter-region", "CREATE_IN_PROGRESS", "binding CREATE_IN_PROGRESS"))
        show(StackProgress("eu-west-1", "packet-counter-region", "created"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the repeated state is not written twice
    assert re.match(r"^eu-west-1\s+packet-counter-region\s+CREATE_IN_PROGRESS\s+\d+\.\ds  binding", lines[0])
    assert re.match(r"^eu-west-1\s+packet-counter-region\s+created\s", lines[1])
    assert "\x1b" not in stream.getvalue()


def test_a_deploy_on_an_80_column_terminal_writes_no_wider_line(cloud, tmp_path):
    config = write_config(tmp_path, lambda c: c.update(regions=["us-west-2", "ap-southeast-2", "eu-west-1"]))
    controller, terminal = os.openpty()
    environment = {
        **os.environ,
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": cloud.endpoint_url,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "COLUMNS": "80",
        "LINES": "24",
        "PYTHONPATH": str(CHECKOUT),
    }
    command = [sys.executable, "-m", "generator", "deploy", "--config", str(config), "--out", str(tmp_path / "out")]
    with subprocess.Popen(
        [*command, "--poll", "0.05", *APPROVED],
        stdout=terminal,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
        env=environment,
    ) as process:
        os.close(terminal)
        try:
            written = _read_all(controller)
            status = process.wait(timeout=50)
        finally:
            if process.poll() is None:  # the test gave up (its time bound): the deploy does not go on without it
                process.kill()
    text = ANSI.sub("", written.decode("utf-8", "replace")).replace("\r", "\n")
    assert status == 0, text
    summary_start = re.search(r"^region\s+stack\s+action\s+duration", text, re.M).start()
    live, summary = text[:summary_start], text[summary_start:]  # the redrawn part, then the summary printed once
    assert "ap-southeast-2" in live and "created" in live and "ap-southeast-2" in summary
    assert max(len(line) for line in live.splitlines()) <= 80


def _read_all(descriptor: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(descriptor)
    return b"".join(chunks)
