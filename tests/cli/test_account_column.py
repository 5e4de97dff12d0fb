"""How a StackSets run is shown: an account column (StackSet for a StackSet's own row) in the live display,
its plain lines and the summary, still within an 80-column terminal."""

from __future__ import annotations

import io
import re

from rich.console import Console

from generator.cli.progress import ProgressDisplay
from generator.cli.tables import failure_lines, summary_table
from generator.deploy import Action, StackProgress, StackQueued, StackResult

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[78]")
REASON = (
    "ResourceLogicalId:DestinationArnBinding, ResourceType:Custom::ProxylityUdpGatewayDestinationArn, "
    "ResourceStatusReason:Proxylity stand-in: failing every request of account 222222222222 in ap-southeast-2."
)


def test_the_live_table_with_accounts_fits_an_80_column_terminal():
    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    with ProgressDisplay(live=True, console=console) as show:
        show(StackQueued("us-west-2", "packet-counter-region"))
        show(StackQueued("ap-southeast-2", "packet-counter-region", "222222222222"))
        show(StackProgress("us-west-2", "packet-counter-region", "CREATING_STACK_SET"))
        show(StackProgress("ap-southeast-2", "packet-counter-region", "CREATE_FAILED", REASON, "222222222222"))
    lines = ANSI.sub("", screen.getvalue()).replace("\r", "\n").splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(re.match(r"^StackSet\s+us-west-2\s+packet-counter-region\s+CREATING_STACK_SET", line) for line in lines)
    assert any(
        re.match(r"^222222222222\s+ap-southeast-2\s+packet-counter-region\s+CREATE_FAILED", line) for line in lines
    )


def test_off_a_terminal_each_line_starts_with_the_account():
    stream = io.StringIO()
    with ProgressDisplay(stream=stream) as show:
        show(StackProgress("us-west-2", "packet-counter-global", "CREATE_RUNNING", None, "111111111111"))
        show(StackProgress("us-west-2", "packet-counter-global", "CREATE_RUNNING"))
    first, second = stream.getvalue().splitlines()
    assert re.match(r"^111111111111 us-west-2\s+packet-counter-global\s+CREATE_RUNNING\s", first)
    assert re.match(r"^StackSet\s+us-west-2\s+packet-counter-global\s+CREATE_RUNNING\s", second)


def test_the_summary_shows_each_accounts_own_endpoint_and_failures_name_the_account():
    results = [
        StackResult("us-west-2", "packet-counter-global", Action.CREATED, stack_set=True),
        StackResult("us-west-2", "packet-counter-global", Action.CREATED, account="111111111111"),
        StackResult("us-west-2", "packet-counter-global", Action.CREATED, account="222222222222"),
        StackResult("ap-southeast-2", "packet-counter-region", Action.FAILED, reason=REASON, account="222222222222"),
    ]
    endpoints = {"111111111111": "one.proxylity.com:2001", "222222222222": "two.proxylity.com:2002"}

    table = summary_table(results, endpoints).splitlines()

    assert table[0].split() == ["account", "region", "stack", "action", "duration", "endpoint"]
    assert table[2].split() == ["StackSet", "us-west-2", "packet-counter-global", "created", "0.0s", "-"]
    assert table[3].split()[-1] == "one.proxylity.com:2001" and table[4].split()[-1] == "two.proxylity.com:2002"
    assert table[5].split()[-1] == "-"
    assert failure_lines(results) == [f"FAILED 222222222222 ap-southeast-2 packet-counter-region: {REASON}"]
