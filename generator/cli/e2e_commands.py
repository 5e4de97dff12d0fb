"""`e2e`: deploy, send packets and check every one is answered, the failover drill, destroy; the steps drawn as
they run (a deploy's or destroy's stacks live, as `deploy` draws them), a table of steps at the end, and
out/e2e.json with the JUnit report out/e2e.xml. The work is generator.e2e's; here the command line is read and
the run drawn. Exit 0 when every step passed, 1 when one failed, 130 on Ctrl-C (what is left deployed is named).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from generator.cli.argv import MAX_WAIT_SECONDS, packets, percent, poll_seconds, wait_seconds
from generator.cli.common import OUT_HELP, add_command, add_json_option, display_path, load_command_config
from generator.cli.json_output import print_json
from generator.cli.progress import ProgressDisplay
from generator.cli.questions import assume_yes, engine_questions, on_a_terminal
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
    e2e.add_argument("--out", type=Path, help=f"outputs.json, the run lock and the reports {OUT_HELP}")
    e2e.add_argument(
        "--yes",
        action="store_true",
        help="when the run deploys over stacks it found (KEEP=1), go ahead if that widens IAM (also: YES=1); "
        "what its own new stacks grant needs no confirmation",
    )
    add_json_option(e2e, "print the run's report (out/e2e.json's document)")
    e2e.add_argument("--poll", type=poll_seconds, help="seconds between progress polls of a deploy or destroy")


class E2EDisplay:
    """The run's events drawn: each step's name as it starts, its stacks live while a deploy or destroy runs,
    and its result when it ends."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream  # None: stdout; with --json, stderr
        self._stacks: ProgressDisplay | None = None
        self._started = ""

    def _say(self, text: str) -> None:
        print(text, file=self._stream or sys.stdout, flush=True)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The live table of the step's stacks stopped while the user is asked something."""
        with self._stacks.paused() if self._stacks is not None else contextlib.nullcontext():
            yield

    def __call__(self, event: StepStarted | StepFinished | Event) -> None:
        if isinstance(event, StepStarted):
            self._say(f"== {event.name}")
            self._started = event.name
            self._stacks = ProgressDisplay(stream=self._stream).__enter__()
        elif isinstance(event, StepFinished):
            self.close()
            result = event.result
            if result.name != self._started:  # a step that did not run (skipped): no header yet
                self._say(f"== {result.name}")
            self._say(f"   {result.status}: {result.detail} ({result.seconds:.1f}s)")
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
    display = E2EDisplay(stream=sys.stderr if args.json else None)
    confirm, _ = engine_questions(assume_yes(args), args.json, ask=on_a_terminal(), display=display, command="e2e")
    options = E2EOptions(
        engine=engine,
        confirm=confirm,
        regions=regions,
        failover=args.failover or None,
        keep=args.keep,
        packets=args.packets,
        max_loss_percent=args.max_loss,
        quiet_seconds=args.timeout,
    )
    interrupted = False
    try:
        with aws_errors(config.source):
            report = run_e2e(config, options, display)
    except E2EInterrupted as stopped:
        report, interrupted = stopped.report, True
    finally:
        display.close()
    # With --json, stdout holds the report's document alone; what a person reads goes to stderr.
    person = sys.stderr if args.json else sys.stdout
    print(file=person)
    print(steps_table(report), file=person)
    paths = write_reports(report, args.out)
    print(f"\nwrote {display_path(paths[0])} and {display_path(paths[1])} (JUnit)", file=person)
    if report.left_deployed:
        print(
            f"left deployed: {', '.join(report.left_deployed)} (make status shows them; make destroy removes them)",
            file=person,
        )
    if args.json:
        print_json(report.as_json())
    if interrupted:
        print("interrupted: stopped at Ctrl-C", file=sys.stderr)
        return ExitCode.INTERRUPTED
    failed = [step for step in report.steps if step.status is StepStatus.FAILED]
    if failed:
        print(f"e2e: FAILED: {len(failed)} of {len(report.steps)} steps failed", file=sys.stderr)
        return ExitCode.FAILED
    print(f"e2e: passed ({len(report.steps)} steps, {report.seconds:.1f}s)", file=person)
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
