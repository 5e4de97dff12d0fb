"""`deploy`, `plan`, `status` and `destroy`: argument parsing, the questions, and drawing what the engine
reports (generator.cli.display).

Results go to stdout (live lines, the summary table, the plan, the status table, or with --json one JSON
document); what went wrong goes to stderr, one line each (a failed stack with its reason, a warning, what a
slow AWS call is waiting for).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from generator.cli.argv import at_least_one, number_type
from generator.cli.common import add_command, display_path, load_command_config
from generator.cli.display import (
    ProgressDisplay,
    deploy_report_as_json,
    failure_lines,
    format_destroy_plan,
    format_plan,
    format_stackset_destroy_plan,
    format_stackset_status,
    format_status,
    inventory_as_json,
    plans_as_json,
    stackset_inventory_as_json,
    summary_table,
)
from generator.config import Config
from generator.deploy import (
    DEFAULT_MAX_PARALLEL,
    DEFAULT_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    AwsClients,
    Interrupted,
    PlanKind,
    aws_errors,
    deploy,
    destroy,
    destroy_plan,
    inventory,
    plan,
    run_lock,
)
from generator.deploy.stacksets import (
    deploy_stacksets,
    destroy_stacksets,
    plan_stacksets,
    stackset_destroy_plan,
    stackset_inventory,
)
from generator.errors import DeployError, ExitCode, Problem
from generator.paths import DEFAULT_OUT_DIR

CONFIRMING_ANSWERS = ("1", "yes", "true")  # YES=... that confirms a destroy


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _clients(args: argparse.Namespace) -> AwsClients:
    return AwsClients(profile=args.profile, region=args.region)


def _config(args: argparse.Namespace) -> Config:
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


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2, default=str))


def command_deploy(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    # With --json, stdout holds the JSON document alone: the live lines go to stderr.
    display = ProgressDisplay(stream=sys.stderr if args.json else None)
    # With a stacksets: section CloudFormation StackSets deploy every account; else change sets, stack by stack.
    engine = deploy_stacksets if config.stacksets else deploy
    try:
        with aws_errors(config.source), display:
            report = engine(
                config,
                regions,
                out_dir=args.out,
                clients=_clients(args),
                max_parallel=args.max_parallel,
                poll_interval=args.poll,
                on_event=display,
            )
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        _print_json(deploy_report_as_json(report))
    else:
        print()
        print(summary_table(report.results, report.endpoint, getattr(report, "endpoints", None)))
        if report.outputs_path:
            print(f"\nwrote {report.outputs_path}")
    for line in failure_lines(report.results):
        _say(line)
    for warning in report.warnings:
        _say(f"warning: {warning}")
    return ExitCode.OK if report.ok else ExitCode.FAILED


def command_plan(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    display = ProgressDisplay(stream=sys.stderr)  # plan reports only slow calls and notices
    try:
        with aws_errors(config.source):
            if config.stacksets:
                plans = plan_stacksets(config, regions, out_dir=args.out, clients=_clients(args), on_event=display)
            else:
                plans = plan(
                    config,
                    regions,
                    out_dir=args.out,
                    clients=_clients(args),
                    max_parallel=args.max_parallel,
                    on_event=display,
                )
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        _print_json(plans_as_json(plans))
    else:
        print(format_plan(plans))
    if any(p.kind is PlanKind.FAILED for p in plans):
        return ExitCode.FAILED
    return ExitCode.CHANGES if any(p.kind.changes_something for p in plans) else ExitCode.OK


def command_status(args: argparse.Namespace) -> int:
    config = _config(args)
    show = ProgressDisplay(stream=sys.stderr)
    try:
        with aws_errors(config.source):
            if config.stacksets:  # every StackSet instance, in every account
                found_sets = stackset_inventory(config, clients=_clients(args), on_event=show)
                document = stackset_inventory_as_json(found_sets)
                text = format_stackset_status(config.source, found_sets)
            else:
                found = inventory(config, clients=_clients(args), on_event=show)
                document, text = inventory_as_json(found), format_status(config.source, found)
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        _print_json(document)
    else:
        print(text)
    return ExitCode.OK


def _confirmed(listing: str, assume_yes: bool) -> bool:
    print("This deletes:\n" + listing)
    if assume_yes:
        return True
    try:
        answer = input("Type 'yes' to delete them: ")
    except EOFError:
        answer = ""
    return answer.strip().lower() == "yes"


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
    assume_yes = args.yes or os.environ.get("YES", "").lower() in CONFIRMING_ANSWERS
    _refuse_unattended(assume_yes)
    config = _config(args)
    clients = _clients(args)
    display = ProgressDisplay()
    try:
        # The lock is held from the look at what exists, through the question, to the last deletion.
        with aws_errors(config.source), run_lock(args.out, "destroy") as lock_warnings:
            if config.stacksets:  # the StackSets' instances, then the StackSets, regional before global
                plan_to_delete = stackset_destroy_plan(config, regions, clients, on_event=display)
                listing = format_stackset_destroy_plan(plan_to_delete)
            else:
                plan_to_delete = destroy_plan(config, regions, clients, on_event=display)
                listing = format_destroy_plan(plan_to_delete)
            if not plan_to_delete.empty and not _confirmed(listing, assume_yes):
                print("cancelled: nothing was deleted")
                return ExitCode.FAILED
            with display:
                if config.stacksets:
                    report = destroy_stacksets(
                        config,
                        plan_to_delete,
                        out_dir=args.out,
                        clients=clients,
                        poll_interval=args.poll,
                        on_event=display,
                    )
                else:
                    report = destroy(
                        config,
                        plan_to_delete,
                        out_dir=args.out,
                        clients=clients,
                        max_parallel=args.max_parallel,
                        poll_interval=args.poll,
                        on_event=display,
                    )
    except Interrupted as error:
        return _interrupted(error)
    if report.results:
        print()
        print(summary_table(report.results, ""))
    else:
        print("nothing to delete")
    for line in failure_lines(report.results):
        _say(line)
    for note in report.notes:
        print(note)
    for warning in [*lock_warnings, *report.warnings]:
        _say(f"warning: {warning}")
    return ExitCode.OK if report.ok else ExitCode.FAILED


# Polling without a pause (0, negative, nan) would hammer the API; inf would never poll again.
_poll_seconds = number_type(
    float,
    lambda value: math.isfinite(value) and value >= MIN_POLL_INTERVAL,
    f"a finite number of seconds, at least {MIN_POLL_INTERVAL:g}",
)


def register_deploy_commands(commands: argparse._SubParsersAction) -> None:
    """Add deploy, plan, status and destroy to the CLI (called once from generator.cli.main.build_parser)."""

    def aws(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
        command.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default chain)")
        command.add_argument(
            "--region",
            help="region of the AWS session, for credential providers that need one (default: AWS_REGION); "
            "each stack's region comes from the config",
        )
        return command

    def json_output(command: argparse.ArgumentParser) -> None:
        command.add_argument("--json", action="store_true", help="print the result as one JSON document")

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

    deploy_command = aws(
        add_command(commands, "deploy", command_deploy, "deploy the global stack, then the regional stacks in parallel")
    )
    regional(deploy_command)
    polling(deploy_command)
    json_output(deploy_command)
    plan_command = aws(
        add_command(
            commands,
            "plan",
            command_plan,
            "show what deploy would change, property by property (exit 0: nothing, 3: something would change)",
        )
    )
    regional(plan_command)
    json_output(plan_command)
    status_command = aws(
        add_command(commands, "status", command_status, "per region: stack status, last update, function ARN, orphans")
    )
    json_output(status_command)
    destroy_command = aws(
        add_command(
            commands, "destroy", command_destroy, "delete the regional stacks, then the global stack when none is left"
        )
    )
    regional(destroy_command)
    polling(destroy_command)
    destroy_command.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation (also: YES=1); needed when stdin is not a terminal",
    )
