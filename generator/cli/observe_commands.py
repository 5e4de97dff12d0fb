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
from generator.cli.common import add_command, add_json_option, display_path, environment_json, load_command_config
from generator.cli.json_output import print_json, print_json_line
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
    add_json_option(canary, "print the run (its result and EMF records) as one JSON document")

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
    add_json_option(logs, "print the lines as one JSON document (with --follow: one JSON document a line)")


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
    failed = run.loss_percent > max_loss
    if args.json:
        print_json(
            {
                "ok": not failed,
                **environment_json(config),
                "host": host,
                "port": port,
                "packets": packets,
                "wait_seconds": wait,
                "loss_percent": run.loss_percent,
                "max_loss_percent": max_loss,
                "result": run.result,
                "records": run.records,
            }
        )
    else:
        for record in run.records:
            print(json.dumps(record, separators=(",", ":")), flush=True)
    print(run.summary(), file=sys.stderr)
    if failed:
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
    regions = _selected_regions(args, config)
    sources = log_sources(config, regions)
    clients = LogClients({source.region for source in sources}, args.profile, args.region)
    width = max(len(source.region) for source in sources)
    shown: list[LogLine] = []
    notes: list[LogNote] = []

    def on_lines(lines: list[LogLine]) -> None:
        if not args.json:
            _print_lines(lines, width)
        elif args.follow:  # a followed log has no end, so no one document: one JSON document a line (JSON Lines)
            for line in lines:
                print_json_line(_line_as_json(line))
        shown.extend(lines if not args.follow else lines[:1])  # following, only whether any came is kept

    def on_note(note: LogNote) -> None:
        notes.append(note)
        _print_note(note)

    readable = read_logs(
        clients,
        sources,
        args.since,
        on_lines,
        on_note,
        filter_pattern=args.filter,
        follow=args.follow,
        poll_seconds=args.poll,
        limit=args.limit,
    )
    if not readable:
        print("logs: no log group could be read", file=sys.stderr)
    elif not shown and not args.follow:
        matching = f" matching {args.filter!r}" if args.filter else ""
        print(f"logs: no log lines{matching} in {', '.join(regions)} since {_when(args.since)}", file=sys.stderr)
    if args.json and not args.follow:
        print_json(
            {
                "ok": bool(readable),
                **environment_json(config),
                "regions": list(regions),
                "since": _when(args.since),
                "filter": args.filter,
                "lines": [_line_as_json(line) for line in shown],
                "notes": [{"region": n.region or None, "source": n.kind or None, "text": n.text} for n in notes],
            }
        )
    if not readable:
        return ExitCode.FAILED
    return ExitCode.OK


def _when(epoch_ms: int) -> str:
    """An epoch time in ms as the log lines show theirs: 2026-11-27T10:00:00.000Z."""
    return LogLine(epoch_ms, "", "", "", "").when


def _line_as_json(line: LogLine) -> dict[str, str]:
    return {"time": line.when, "region": line.region, "source": line.kind, "message": line.message}


def _print_lines(lines: list[LogLine], width: int) -> None:
    for line in lines:
        prefix = f"{line.when} {line.region:<{width}} {line.kind:<8}"
        for text in line.message.rstrip("\n").split("\n") or [""]:
            print(f"{prefix} {text.rstrip()}")
    sys.stdout.flush()


def _print_note(note: LogNote) -> None:
    where = f"{note.region} {note.kind}: " if note.region else ""
    print(f"logs: {where}{note.text}", file=sys.stderr, flush=True)
