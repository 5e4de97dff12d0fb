"""`e2e`: deploy, send packets and check every one is answered, the failover drill, destroy; the steps drawn as
they run (a deploy's or destroy's stacks live, as `deploy` draws them), a table of steps at the end, and
out/e2e.json with the JUnit report out/e2e.xml. The work is generator.e2e's; here the command line is read and
the run drawn. Exit 0 when every step passed, 1 when one failed, 130 on Ctrl-C (what is left deployed is named).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.cli.argv import MAX_WAIT_SECONDS, packets, percent, poll_seconds, wait_seconds
from generator.cli.common import add_command, display_path, load_command_config
from generator.cli.progress import ProgressDisplay
from generator.deploy import AwsClients, EngineOptions, Event, aws_errors
from generator.e2e import (
    SERVING,
    E2EInterrupted,
    E2EOptions,
    E2EReport,
    StepFinished,
    StepStarted,
    StepStatus,
    run_e2e,
    write_reports,
)
from generator.errors import DeployError, ExitCode
from generator.paths import DEFAULT_OUT_DIR


def register_e2e_commands(commands: argparse._SubParsersAction) -> None:
    """Add `e2e` to the CLI (called once from generator.cli.main.build_parser)."""
    e2e = add_command(
        commands,
        "e2e",
        command_e2e,
        "deploy, send packets and check every one is answered, optionally the failover drill, then destroy; "
        "out/e2e.json and the JUnit report out/e2e.xml",
    )
    e2e.add_argument("--regions", nargs="*", metavar="REGION", help="only these of the config's regions (default: all)")
    e2e.add_argument(
        "--failover",
        metavar="REGION",
        help=f"the drill: delete REGION's stack, check another region answers, deploy it again, check it answers "
        f"as before; {SERVING!r}: the region that answered (against AWS, the one Proxylity routes you to)",
    )
    e2e.add_argument("--keep", action="store_true", help="leave everything deployed at the end (also: KEEP=1)")
    e2e.add_argument("-n", "--packets", type=packets, default=100, help="packets per traffic step (default: 100)")
    e2e.add_argument(
        "--max-loss",
        type=percent,
        default=0.0,
        help="a traffic step fails above this share of packets unanswered, in percent (default: 0, every one)",
    )
    e2e.add_argument(
        "--timeout",
        type=wait_seconds,
        help=f"quiet seconds a traffic step waits for late replies, at most {MAX_WAIT_SECONDS:g} "
        "(default: the batch timeout + 2)",
    )
    e2e.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default chain)")
    e2e.add_argument("--region", help="region of the AWS session, for credential providers that need one")
    e2e.add_argument(
        "--out", type=Path, default=DEFAULT_OUT_DIR, help="outputs.json, the run lock and the reports (default: ./out)"
    )
    e2e.add_argument("--poll", type=poll_seconds, help="seconds between progress polls of a deploy or destroy")


class E2EDisplay:
    """The run's events drawn: each step's name as it starts, its stacks live while a deploy or destroy runs,
    and its result when it ends."""

    def __init__(self) -> None:
        self._stacks: ProgressDisplay | None = None
        self._started = ""

    def __call__(self, event: StepStarted | StepFinished | Event) -> None:
        if isinstance(event, StepStarted):
            print(f"== {event.name}", flush=True)
            self._started = event.name
            self._stacks = ProgressDisplay().__enter__()
        elif isinstance(event, StepFinished):
            self.close()
            result = event.result
            if result.name != self._started:  # a step that did not run (skipped): no header yet
                print(f"== {result.name}", flush=True)
            print(f"   {result.status}: {result.detail} ({result.seconds:.1f}s)", flush=True)
        elif self._stacks is not None:
            self._stacks(event)

    def close(self) -> None:
        if self._stacks is not None:
            self._stacks.__exit__(None, None, None)
            self._stacks = None


def command_e2e(args: argparse.Namespace) -> int:
    regions = None
    if args.regions is not None:
        regions = tuple(" ".join(args.regions).replace(",", " ").split())
        if not regions:
            raise DeployError.of("--regions", "names no region; for every configured region leave REGIONS unset")
    with aws_errors(display_path(args.config)):
        config = load_command_config(args)
        engine = EngineOptions(
            out_dir=args.out, clients=AwsClients(profile=args.profile, region=args.region), poll_interval=args.poll
        )
    options = E2EOptions(
        engine=engine,
        regions=regions,
        failover=args.failover or None,
        keep=args.keep,
        packets=args.packets,
        max_loss_percent=args.max_loss,
        quiet_seconds=args.timeout,
    )
    display = E2EDisplay()
    interrupted = False
    try:
        with aws_errors(config.source):
            report = run_e2e(config, options, display)
    except E2EInterrupted as stopped:
        report, interrupted = stopped.report, True
    finally:
        display.close()
    print()
    print(steps_table(report))
    paths = write_reports(report, args.out)
    print(f"\nwrote {display_path(paths[0])} and {display_path(paths[1])} (JUnit)")
    if report.left_deployed:
        print(f"left deployed: {', '.join(report.left_deployed)} (make status shows them; make destroy removes them)")
    if interrupted:
        print("interrupted: stopped at Ctrl-C", file=sys.stderr)
        return ExitCode.INTERRUPTED
    failed = [step for step in report.steps if step.status is StepStatus.FAILED]
    if failed:
        print(f"e2e: FAILED: {len(failed)} of {len(report.steps)} steps failed", file=sys.stderr)
        return ExitCode.FAILED
    print(f"e2e: passed ({len(report.steps)} steps, {report.seconds:.1f}s)")
    return ExitCode.OK


def steps_table(report: E2EReport) -> str:
    """One row per step: name, result, seconds, and the line that says why."""
    rows = [(step.name, str(step.status), f"{step.seconds:.1f}s", step.detail) for step in report.steps]
    header = ("step", "result", "time", "detail")
    widths = [max(len(header[index]), *(len(row[index]) for row in rows)) for index in range(3)]
    lines = []
    for row in [header, tuple("-" * width for width in widths) + ("-" * 6,), *rows]:
        name, result, seconds, detail = row
        lines.append(f"{name:<{widths[0]}}  {result:<{widths[1]}}  {seconds:>{widths[2]}}  {detail}".rstrip())
    return "\n".join(lines)
