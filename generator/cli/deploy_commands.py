"""The deploy, plan, status and destroy subcommands: argument parsing and printing only.

Results go to stdout (live lines, the summary table, the plan, the status table); what went wrong goes to
stderr, one line each (a failed stack with its reason, a warning, what a slow AWS call is waiting for).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from generator.cli.argv import at_least_one, number_type
from generator.aws import AwsClients, aws_errors
from generator.cli.common import add_command, display_path, load_command_config
from generator.config import Config
from generator.deploy import (
    DEFAULT_MAX_PARALLEL,
    DEFAULT_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    deploy,
    deploy_summary,
    format_plan,
    plan,
)
from generator.errors import DeployError, ExitCode, Problem
from generator.inventory import destroy, destroy_summary, format_status, inventory
from generator.parallel import Interrupted
from generator.paths import DEFAULT_OUT_DIR
from generator.progress import failure_lines


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _clients() -> AwsClients:
    return AwsClients(on_wait=_say)


def _config(args: argparse.Namespace) -> Config:
    # Checking region names asks botocore, which reads the AWS config file and profile: their errors are AWS's.
    with aws_errors(display_path(args.config)):
        return load_command_config(args)


def _regions(args: argparse.Namespace) -> list[str] | None:
    """--regions "us-west-2 eu-west-1" (or commas); None (every configured region) when --regions is left out.
    Given but naming no region is refused: it is not a way to say "everything"."""
    if args.regions is None:
        return None
    words = " ".join(args.regions).replace(",", " ").split()
    if not words:
        raise DeployError(
            [
                Problem(
                    "--regions",
                    "names no region; for every configured region leave --regions out "
                    "(with make: leave REGIONS unset); nothing was changed",
                )
            ]
        )
    return words


def _interrupted(error: Interrupted) -> int:
    print("interrupted: stopped waiting. CloudFormation carries on with:", file=sys.stderr)
    for name in error.in_flight or ["(nothing was in progress)"]:
        print(f"  {name}", file=sys.stderr)
    return ExitCode.INTERRUPTED


def command_deploy(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    try:
        with aws_errors(config.source):
            report = deploy(
                config,
                regions,
                out_dir=args.out,
                clients=_clients(),
                max_parallel=args.max_parallel,
                poll_interval=args.poll,
            )
    except Interrupted as error:
        return _interrupted(error)
    print()
    print(deploy_summary(report))
    for line in failure_lines(report.results):
        _say(line)
    if report.outputs_path:
        print(f"\nwrote {report.outputs_path}")
    for warning in report.warnings:
        _say(f"warning: {warning}")
    return ExitCode.OK if report.ok else ExitCode.FAILED


def command_plan(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    try:
        with aws_errors(config.source):
            plans = plan(config, regions, out_dir=args.out, clients=_clients(), max_parallel=args.max_parallel)
    except Interrupted as error:
        return _interrupted(error)
    print(format_plan(plans))
    return ExitCode.FAILED if any(p.kind == "failed" for p in plans) else ExitCode.OK


def command_status(args: argparse.Namespace) -> int:
    config = _config(args)
    try:
        with aws_errors(config.source):
            found = inventory(config, clients=_clients())
    except Interrupted as error:
        return _interrupted(error)
    print(format_status(config, found))
    return ExitCode.OK


def _confirm(assume_yes: bool) -> Callable[[str], bool]:
    def confirm(listing: str) -> bool:
        print("This deletes:\n" + listing)
        if assume_yes:
            return True
        try:
            answer = input("Type 'yes' to delete them: ")
        except EOFError:
            answer = ""
        return answer.strip().lower() == "yes"

    return confirm


def _refuse_unattended(assume_yes: bool) -> None:
    """Nobody can answer the question when stdin is not a terminal: say how to confirm, before any work."""
    if assume_yes or (sys.stdin is not None and sys.stdin.isatty()):
        return
    raise DeployError(
        [
            Problem(
                "destroy",
                "stdin is not a terminal, so there is no one to ask: confirm with YES=1 (make destroy YES=1) "
                "or --yes (python -m generator destroy --yes); nothing was deleted",
            )
        ]
    )


def command_destroy(args: argparse.Namespace) -> int:
    regions = _regions(args)
    assume_yes = args.yes or os.environ.get("YES", "") in ("1", "yes", "true")
    _refuse_unattended(assume_yes)
    config = _config(args)
    try:
        with aws_errors(config.source):
            report = destroy(
                config,
                regions,
                confirm=_confirm(assume_yes),
                out_dir=args.out,
                clients=_clients(),
                max_parallel=args.max_parallel,
                poll_interval=args.poll,
            )
    except Interrupted as error:
        return _interrupted(error)
    if report is None:
        print("cancelled: nothing was deleted")
        return ExitCode.FAILED
    if report.results:
        print()
        print(destroy_summary(report.results))
    else:
        print("nothing to delete")
    for line in failure_lines(report.results):
        _say(line)
    for note in report.notes:
        print(note)
    for warning in report.warnings:
        _say(f"warning: {warning}")
    return ExitCode.OK if report.ok else ExitCode.FAILED


# Polling without a pause (0, negative, nan) would hammer the API; inf would never poll again.
_poll_seconds = number_type(
    float,
    lambda value: math.isfinite(value) and value >= MIN_POLL_INTERVAL,
    f"a finite number of seconds, at least {MIN_POLL_INTERVAL:g}",
)


def register_deploy_commands(commands: argparse._SubParsersAction) -> None:
    """Add deploy, plan, status and destroy to the CLI (called once from generator.cli.build_parser)."""

    def regional(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--regions",
            nargs="*",
            metavar="REGION",
            help="only these of the config's regions (default, when left out: all)",
        )
        command.add_argument(
            "--max-parallel",
            type=at_least_one,
            default=DEFAULT_MAX_PARALLEL,
            help=f"regions in flight at once (default: {DEFAULT_MAX_PARALLEL})",
        )
        command.add_argument(
            "--out",
            type=Path,
            default=DEFAULT_OUT_DIR,
            help="where outputs.json and the lock that keeps runs apart are (default: out/)",
        )

    def polling(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--poll",
            type=_poll_seconds,
            default=DEFAULT_POLL_INTERVAL,
            help=f"seconds between progress polls (default: {DEFAULT_POLL_INTERVAL:g}, at least {MIN_POLL_INTERVAL:g})",
        )

    deploy_command = add_command(
        commands, "deploy", command_deploy, "deploy the global stack, then the regional stacks in parallel"
    )
    regional(deploy_command)
    polling(deploy_command)
    regional(add_command(commands, "plan", command_plan, "show what deploy would change (change sets, not executed)"))
    add_command(commands, "status", command_status, "per region: stack status, last update, function ARN, orphans")
    destroy_command = add_command(
        commands, "destroy", command_destroy, "delete the regional stacks, then the global stack when none is left"
    )
    regional(destroy_command)
    polling(destroy_command)
    destroy_command.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation (also: YES=1); needed when stdin is not a terminal",
    )
