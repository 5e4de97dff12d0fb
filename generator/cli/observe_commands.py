"""`canary` and `logs`: the canary run once against any endpoint, and the functions' logs of every region merged
in time order. The work is in generator.observe; here the command line is read and the results printed.

canary: the EMF records on stdout (one JSON line each, as the canary function logs them), the summary and a
failure on stderr. logs: one line per log line on stdout, `TIME REGION SOURCE MESSAGE`; notes on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generator.cli.argv import (
    MAX_WAIT_SECONDS,
    log_lines,
    percent,
    poll_seconds,
    port_to_send_to,
    since_time,
    sockets,
    wait_seconds,
)
from generator.cli.common import add_command, display_path, load_command_config
from generator.config import Config
from generator.deploy.specs import select_regions
from generator.errors import DeployError, ExitCode, Problem
from generator.observe.canary import run_canary
from generator.observe.logs import (
    DEFAULT_LIMIT,
    DEFAULT_POLL_SECONDS,
    MAX_SINCE_DAYS,
    LogClients,
    LogLine,
    LogNote,
    log_sources,
    read_logs,
)
from generator.render.observability_context import canary_namespace, canary_wait_seconds
from generator.traffic.endpoint import DEFAULT_OUTPUTS_FILE, resolve_endpoint

DEFAULT_SINCE = "10m"


def register_observe_commands(commands: argparse._SubParsersAction) -> None:
    """Add canary and logs to the CLI (called once from generator.cli.main.build_parser)."""
    canary = add_command(
        commands,
        "canary",
        command_canary,
        "run the UDP canary once against an endpoint and print its EMF record (exit 1 above the loss threshold)",
    )
    shown = display_path(DEFAULT_OUTPUTS_FILE) + " (with --env: its own)"
    canary.add_argument("--host", help=f"endpoint host (default: Domain in {shown})")
    canary.add_argument("--port", type=port_to_send_to, help=f"endpoint UDP port (default: Port in {shown})")
    canary.add_argument(
        "--outputs", type=Path, help="stack outputs file to read (default: ./out/outputs.json, or ./out/ENV/...)"
    )
    canary.add_argument(
        "-n",
        "--packets",
        type=sockets,
        help="probes, each from its own socket, below the open-file limit (default: the config's)",
    )
    canary.add_argument(
        "--wait",
        type=wait_seconds,
        help=f"seconds to wait for replies after the last probe, at most {MAX_WAIT_SECONDS:g} (default: as deployed)",
    )
    canary.add_argument(
        "--max-loss",
        type=percent,
        help="exit 1 above this loss, in percent from 0 to 100 (default: the config's max_loss_percent)",
    )

    logs = add_command(
        commands,
        "logs",
        command_logs,
        "the counter's and the canary's logs and Proxylity's delivery errors of every region, merged in time order "
        "(like sam logs --tail)",
    )
    logs.add_argument("--regions", nargs="*", metavar="REGION", help="only these of the config's regions")
    logs.add_argument(
        "--since",
        type=since_time,
        default=DEFAULT_SINCE,
        help=f"10m, 2h, 1d (at most {MAX_SINCE_DAYS:,}d) or an ISO time after 1970 (default: {DEFAULT_SINCE})",
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep polling for new lines until Ctrl-C")
    logs.add_argument("--filter", help="a CloudWatch Logs filter pattern, e.g. ERROR or '\"canary\"'")
    logs.add_argument(
        "--poll",
        type=poll_seconds,
        default=DEFAULT_POLL_SECONDS,
        help=f"seconds between polls with --follow, 0.05 to {MAX_WAIT_SECONDS:g} (default: %(default)g)",
    )
    logs.add_argument(
        "--limit", type=log_lines, default=DEFAULT_LIMIT, help="most lines without --follow (default: %(default)s)"
    )
    logs.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default chain)")
    logs.add_argument("--region", help="region of the AWS session, for credential providers that need one")


def command_canary(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    settings = config.observability.canary
    host, port = resolve_endpoint(args.host, args.port, args.outputs, source="canary")
    packets = args.packets or settings.packets
    source = "-n" if args.packets else f"observability.canary.packets in {display_path(args.config)} (or pass -n)"
    wait = args.wait or canary_wait_seconds(config)
    max_loss = settings.max_loss_percent if args.max_loss is None else args.max_loss
    print(f"canary: {packets} probes to {host}:{port}, replies awaited up to {wait:g} s ...", file=sys.stderr)
    run = run_canary(host, port, packets, wait, canary_namespace(config), packets_source=source)
    for record in run.records:
        print(json.dumps(record, separators=(",", ":")), flush=True)
    print(run.summary(), file=sys.stderr)
    if run.loss_percent > max_loss:
        print(f"FAIL: loss {run.loss_percent:.2f}% is above {max_loss:g}%", file=sys.stderr)
        return ExitCode.FAILED
    return ExitCode.OK


def _selected_regions(args: argparse.Namespace, config: Config) -> tuple[str, ...]:
    """The regions to read: REGIONS, or every configured region."""
    if args.regions is None:
        return config.regions
    words = " ".join(args.regions).replace(",", " ").split()
    if not words:
        raise DeployError([Problem("--regions", "names no region; for every configured region leave it out")])
    return select_regions(config, words)


def command_logs(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    sources = log_sources(config, _selected_regions(args, config))
    clients = LogClients({source.region for source in sources}, args.profile, args.region)
    width = max(len(source.region) for source in sources)
    readable = read_logs(
        clients,
        sources,
        args.since,
        lambda lines: _print_lines(lines, width),
        _print_note,
        filter_pattern=args.filter,
        follow=args.follow,
        poll_seconds=args.poll,
        limit=args.limit,
    )
    if not readable:
        print("logs: no log group could be read", file=sys.stderr)
        return ExitCode.FAILED
    return ExitCode.OK


def _print_lines(lines: list[LogLine], width: int) -> None:
    for line in lines:
        prefix = f"{line.when} {line.region:<{width}} {line.kind:<8}"
        for text in line.message.rstrip("\n").split("\n") or [""]:
            print(f"{prefix} {text.rstrip()}")
    sys.stdout.flush()


def _print_note(note: LogNote) -> None:
    where = f"{note.region} {note.kind}: " if note.region else ""
    print(f"logs: {where}{note.text}", file=sys.stderr, flush=True)
