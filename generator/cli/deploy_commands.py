"""The deploy, plan, status and destroy subcommands: argument parsing and printing only."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from generator.aws import aws_errors
from generator.cli.common import add_command, load_command_config
from generator.deploy import DEFAULT_MAX_PARALLEL, DEFAULT_POLL_INTERVAL, deploy, deploy_summary, format_plan, plan
from generator.errors import ExitCode
from generator.inventory import destroy, destroy_summary, format_status, inventory
from generator.parallel import Interrupted
from generator.paths import DEFAULT_OUT_DIR


def _regions(args: argparse.Namespace) -> list[str] | None:
    """--regions "us-west-2 eu-west-1" (or commas); empty means every configured region."""
    words = " ".join(args.regions or []).replace(",", " ").split()
    return words or None


def _interrupted(error: Interrupted) -> int:
    print("interrupted: stopped waiting. CloudFormation carries on with:", file=sys.stderr)
    for name in error.in_flight or ["(nothing was in progress)"]:
        print(f"  {name}", file=sys.stderr)
    return ExitCode.INTERRUPTED


def command_deploy(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    try:
        with aws_errors(config.source):
            report = deploy(
                config, _regions(args), out_dir=args.out, max_parallel=args.max_parallel, poll_interval=args.poll
            )
    except Interrupted as error:
        return _interrupted(error)
    print()
    print(deploy_summary(report))
    if report.outputs_path:
        print(f"\nwrote {report.outputs_path}")
    return 0 if report.ok else ExitCode.FAILED


def command_plan(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    try:
        with aws_errors(config.source):
            plans = plan(config, _regions(args), max_parallel=args.max_parallel)
    except Interrupted as error:
        return _interrupted(error)
    print(format_plan(plans))
    return ExitCode.FAILED if any(p.kind == "failed" for p in plans) else 0


def command_status(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    try:
        with aws_errors(config.source):
            found = inventory(config)
    except Interrupted as error:
        return _interrupted(error)
    print(format_status(config, found))
    return 0


def _confirm(assume_yes: bool):
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


def command_destroy(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    assume_yes = args.yes or os.environ.get("YES", "") in ("1", "yes", "true")
    try:
        with aws_errors(config.source):
            results = destroy(
                config,
                _regions(args),
                confirm=_confirm(assume_yes),
                max_parallel=args.max_parallel,
                poll_interval=args.poll,
            )
    except Interrupted as error:
        return _interrupted(error)
    if results is None:
        print("cancelled: nothing was deleted")
        return ExitCode.FAILED
    if not results:
        print("nothing to delete")
        return 0
    print()
    print(destroy_summary(results))
    return 0 if all(result.ok for result in results) else ExitCode.FAILED


def register_deploy_commands(commands: argparse._SubParsersAction) -> None:
    """Add deploy, plan, status and destroy to the CLI (called once from generator.cli.build_parser)."""

    def regional(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--regions", nargs="*", metavar="REGION", help="only these of the config's regions (default: all)"
        )
        command.add_argument(
            "--max-parallel",
            type=int,
            default=DEFAULT_MAX_PARALLEL,
            help=f"regions in flight at once (default: {DEFAULT_MAX_PARALLEL})",
        )

    def polling(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--poll",
            type=float,
            default=DEFAULT_POLL_INTERVAL,
            help=f"seconds between progress polls (default: {DEFAULT_POLL_INTERVAL:g})",
        )

    deploy_command = add_command(
        commands, "deploy", command_deploy, "deploy the global stack, then the regional stacks in parallel"
    )
    regional(deploy_command)
    polling(deploy_command)
    deploy_command.add_argument(
        "--out", type=Path, default=DEFAULT_OUT_DIR, help="where outputs.json goes (default: out/)"
    )
    regional(add_command(commands, "plan", command_plan, "show what deploy would change (change sets, not executed)"))
    add_command(commands, "status", command_status, "per region: stack status, last update, function ARN, orphans")
    destroy_command = add_command(
        commands, "destroy", command_destroy, "delete the regional stacks, then the global stack when none is left"
    )
    regional(destroy_command)
    polling(destroy_command)
    destroy_command.add_argument("--yes", action="store_true", help="do not ask for confirmation (also: YES=1)")
