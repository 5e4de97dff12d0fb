"""`deploy`, `plan`, `drift`, `status` and `destroy`: parse the command line, hand the engine of the config's
deploy mode (generator.deploy.engine_for) the work, and draw what it returns.

Results go to stdout (live lines, the summary table, the plan, the status, or with --json one JSON document);
what went wrong goes to stderr, one line each (a failed stack with its reason, a warning, what a slow AWS call
is waiting for). These commands never ask which deploy mode the config uses: both engines answer alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.cli.argv import MIN_POLL_SECONDS, poll_seconds, whole_number
from generator.cli.common import (
    OUT_HELP,
    add_command,
    display_path,
    environment_json,
    environment_line,
    load_command_config,
)
from generator.cli.fitted_tables import terminal_width
from generator.cli.json_output import (
    deploy_report_as_json,
    destroy_report_as_json,
    drift_as_json,
    inventory_as_json,
    plan_as_json,
    print_json,
)
from generator.cli.progress import ProgressDisplay
from generator.cli.questions import assume_yes, engine_questions, on_a_terminal, refuse_unattended
from generator.cli.tables import (
    DRIFT_NOTE,
    failure_lines,
    format_drift,
    format_plan,
    format_status,
    summary_table,
)
from generator.config import Config
from generator.deploy import (
    DEFAULT_MAX_PARALLEL,
    DEFAULT_POLL_INTERVAL,
    AwsClients,
    DeployEngine,
    EngineOptions,
    Interrupted,
    OnEvent,
    StackResult,
    aws_errors,
    engine_for,
)
from generator.errors import DeployError, ExitCode

APPROVAL_BROADENING, APPROVAL_NEVER = "broadening", "never"  # deploy --require-approval, as cdk's
MAX_PARALLEL_LIMIT = 100  # regions (stacks) in flight at once; the aws partition has 34 regions


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _config(args: argparse.Namespace) -> Config:
    with aws_errors(display_path(args.config)):
        return load_command_config(args)


def _engine(args: argparse.Namespace, config: Config, on_event: OnEvent) -> DeployEngine:
    """The engine of the config's deploy mode, with the command line's options."""
    options = EngineOptions(
        out_dir=args.out,
        clients=AwsClients(profile=args.profile, region=args.region),
        max_parallel=args.max_parallel,
        poll_interval=args.poll,
        on_event=on_event,
    )
    return engine_for(config, options)


def _regions(args: argparse.Namespace) -> list[str] | None:
    """--regions "us-west-2 eu-west-1" (or commas); None (every configured region) when --regions is left out.
    Given but naming no region is refused: it is not a way to say "everything"."""
    if args.regions is None:
        return None
    words = " ".join(args.regions).replace(",", " ").split()
    if not words:
        raise DeployError.of(
            "--regions",
            "names no region; for every configured region leave --regions out (with make: leave REGIONS unset); "
            "nothing was changed",
        )
    return words


def _interrupted(error: Interrupted) -> int:
    print("interrupted: stopped waiting. CloudFormation carries on with:", file=sys.stderr)
    for name in error.in_flight or ["(nothing was in progress)"]:
        print(f"  {name}", file=sys.stderr)
    return ExitCode.INTERRUPTED


def _report_lines(results: list[StackResult], warnings: list[str]) -> None:
    for line in failure_lines(results):
        _say(line)
    for warning in warnings:
        _say(f"warning: {warning}")


def command_deploy(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    # With --json, stdout holds the JSON document alone: the live lines go to stderr.
    display = ProgressDisplay(stream=sys.stderr if args.json else None)
    engine = _engine(args, config, display)
    # What widens IAM (or replaces a resource) goes ahead only when confirmed: YES=1, or yes on a terminal; else
    # nothing changes. What the config no longer has is deleted only when confirmed; else kept.
    confirm, _ = engine_questions(
        assume_yes(args),
        args.json,
        ask=on_a_terminal(),
        display=display,
        approve=args.require_approval == APPROVAL_NEVER,
    )
    try:
        with aws_errors(config.source), display:
            report = engine.deploy(regions, confirm)
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        print_json({**environment_json(config), **deploy_report_as_json(report)})
    elif report.cancelled:
        print("cancelled: nothing was changed")
    else:
        print()
        _print_environment(args, config)
        print(summary_table(report.results, report.endpoints, width=terminal_width()))
        if report.outputs_path:
            print(f"\nwrote {report.outputs_path}")
    _report_lines(report.results, report.warnings)
    return ExitCode.OK if report.ok else ExitCode.FAILED


def command_plan(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    engine = _engine(args, config, ProgressDisplay(stream=sys.stderr))  # plan reports only slow calls and notices
    try:
        with aws_errors(config.source):
            plan = engine.plan(regions)
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        print_json({**environment_json(config), **plan_as_json(plan)})
    else:
        _print_environment(args, config)
        print(format_plan(plan))
    if plan.failed:
        return ExitCode.FAILED
    return ExitCode.CHANGES if plan.changes_something else ExitCode.OK


def command_drift(args: argparse.Namespace) -> int:
    regions = _regions(args)
    config = _config(args)
    engine = _engine(args, config, ProgressDisplay(stream=sys.stderr))  # only slow calls and notices
    try:
        with aws_errors(config.source):
            report = engine.drift(regions)
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        print_json({**environment_json(config), **drift_as_json(report)})
        if report.drifted:
            print(DRIFT_NOTE, file=sys.stderr)  # what a person reads goes to stderr beside the document
    else:
        _print_environment(args, config)
        print(format_drift(report))
    if report.failed:
        return ExitCode.FAILED
    return ExitCode.CHANGES if report.drifted else ExitCode.OK


def command_status(args: argparse.Namespace) -> int:
    config = _config(args)
    engine = _engine(args, config, ProgressDisplay(stream=sys.stderr))
    try:
        with aws_errors(config.source):
            found = engine.inventory()
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        print_json({**environment_json(config), **inventory_as_json(found)})
    else:
        _print_environment(args, config)
        print(format_status(config.source, found, width=terminal_width()))
    return ExitCode.OK


def _print_environment(args: argparse.Namespace, config: Config) -> None:
    line = environment_line(config, args.config)
    if line is not None:
        print(line)


def command_destroy(args: argparse.Namespace) -> int:
    regions = _regions(args)
    confirmed = assume_yes(args)
    refuse_unattended(confirmed)
    config = _config(args)
    display = ProgressDisplay(stream=sys.stderr if args.json else None)
    engine = _engine(args, config, display)
    confirm, asked = engine_questions(confirmed, args.json)
    if not args.json:
        _print_environment(args, config)  # before the question: which environment's stacks it would delete
    try:
        with aws_errors(config.source), display:
            report = engine.destroy(regions, confirm)
    except Interrupted as error:
        return _interrupted(error)
    if args.json:
        print_json({**environment_json(config), **destroy_report_as_json(report, asked[0] if asked else None)})
    elif report.cancelled:
        print("cancelled: nothing was deleted")
    elif report.results:
        print()
        print(summary_table(report.results, width=terminal_width()))
        for note in report.notes:
            print(note)
    else:
        print("nothing to delete")
    _report_lines(report.results, report.warnings)
    return ExitCode.OK if report.ok else ExitCode.FAILED


_parallel_stacks = whole_number("stacks", 1, MAX_PARALLEL_LIMIT)


def _with_engine_options(
    command: argparse.ArgumentParser, json_help: str = "print the result as one JSON document"
) -> argparse.ArgumentParser:
    """The options every deploy command shares: AWS session, out folder, parallelism, polling, --json."""
    command.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default chain)")
    command.add_argument(
        "--region",
        help="region of the AWS session, for credential providers that need one (default: AWS_REGION); "
        "each stack's region comes from the config",
    )
    command.add_argument(
        "--out",
        type=Path,
        help=f"where outputs.json and the lock that keeps runs apart are {OUT_HELP}",
    )
    command.add_argument(
        "--max-parallel",
        type=_parallel_stacks,
        default=DEFAULT_MAX_PARALLEL,
        help=f"regions in flight at once (default: {DEFAULT_MAX_PARALLEL})",
    )
    command.add_argument(
        "--poll",
        type=poll_seconds,
        help=f"seconds between progress polls (default: {DEFAULT_POLL_INTERVAL:g}, plan 1; at least "
        f"{MIN_POLL_SECONDS:g})",
    )
    command.add_argument("--json", action="store_true", help=json_help)
    return command


def _with_regions(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--regions",
        nargs="*",
        metavar="REGION",
        help="only these of the config's regions (default, when left out: all)",
    )


def register_deploy_commands(commands: argparse._SubParsersAction) -> None:
    """Add deploy, plan, drift, status and destroy to the CLI (called once from generator.cli.main.build_parser)."""
    deploy = add_command(commands, "deploy", command_deploy, "deploy the global stack, then the regional stacks")
    _with_regions(_with_engine_options(deploy))
    deploy.add_argument(
        "--yes",
        action="store_true",
        help="go ahead without asking: with IAM granted anew or wider, or a resource replaced (without a terminal "
        "or this, refused), and deleting what the config no longer has (without a terminal or this, kept); also YES=1",
    )
    deploy.add_argument(
        "--require-approval",
        choices=(APPROVAL_BROADENING, APPROVAL_NEVER),
        default=APPROVAL_BROADENING,
        help="when to ask before deploying, as cdk deploy's option: broadening (default: IAM granted anew or "
        "wider, a resource replaced) or never",
    )
    plan = add_command(
        commands,
        "plan",
        command_plan,
        "show what deploy would change, property by property (exit 0: nothing, 3: something would change)",
    )
    _with_regions(_with_engine_options(plan))
    drift = add_command(
        commands,
        "drift",
        command_drift,
        "detect what was changed outside CloudFormation, resource by resource (exit 0: in sync, 3: drifted, "
        "1: could not check)",
    )
    _with_regions(_with_engine_options(drift))
    status = add_command(
        commands, "status", command_status, "per region: stack status, last update, function ARN, orphans"
    )
    _with_engine_options(status)
    destroy = add_command(
        commands, "destroy", command_destroy, "delete the regional stacks, then the global stack when none is left"
    )
    _with_regions(_with_engine_options(destroy, "print what was deleted as one JSON document (the question on stderr)"))
    destroy.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation (also: YES=1); needed when stdin is not a terminal",
    )
