"""`smoke`: send packets to a UDP Gateway (deployed, or any HOST:PORT) and print the report.

The work is in generator.traffic; here the command line is read and the report printed.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from dataclasses import asdict
from pathlib import Path

from generator.cli.argv import at_least_one, port_to_send_to, positive_number, share
from generator.cli.common import display_path
from generator.errors import ExitCode
from generator.traffic.endpoint import DEFAULT_OUTPUTS_FILE, resolve_endpoint
from generator.traffic.report import SmokeReport
from generator.traffic.smoke import SmokeOptions, run_smoke


def register_traffic_commands(commands: argparse._SubParsersAction) -> None:
    """Add `smoke` to the CLI (called once from generator.cli.main.build_parser)."""
    summary = "send packets to a UDP Gateway and report the replies"
    smoke = commands.add_parser("smoke", help=summary, description=summary)  # no --config: it needs none
    smoke.set_defaults(handler=command_smoke)
    shown = display_path(DEFAULT_OUTPUTS_FILE)
    smoke.add_argument("--host", help=f"endpoint host (default: Domain in {shown})")
    smoke.add_argument("--port", type=port_to_send_to, help=f"endpoint UDP port (default: Port in {shown})")
    smoke.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS_FILE, help="stack outputs file to read")
    add_traffic_options(smoke)


def add_traffic_options(parser: argparse.ArgumentParser, quiet_default: float | None = 5.0) -> None:
    parser.add_argument(
        "-n", "--packets", type=at_least_one, default=100, help="packets to send (default: %(default)s)"
    )
    parser.add_argument("--rate", type=positive_number, help="packets per second (default: as fast as possible)")
    parser.add_argument(
        "--clients",
        type=at_least_one,
        default=1,
        help="client sockets (source ports) to spread over (default: %(default)s)",
    )
    shown = f"{quiet_default:g}" if quiet_default else "the batch timeout + 2"
    parser.add_argument(
        "--timeout",
        type=positive_number,
        default=quiet_default,
        help=f"stop after this many quiet seconds (default: {shown})",
    )
    parser.add_argument(
        "--max-loss",
        type=share,
        default=0.05,
        help="exit 1 above this share unaccounted, 0 to 1 (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    family = parser.add_mutually_exclusive_group()
    family.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET, help="IPv4 only")
    family.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6, help="IPv6 only")
    parser.set_defaults(family=socket.AF_UNSPEC)


def print_report(report: SmokeReport, as_json: bool, max_loss: float) -> int:
    if as_json:
        print(json.dumps({**asdict(report), "loss": round(report.loss, 6), "max_loss": max_loss}, indent=2))
    else:
        print(report.to_text())
    if report.loss > max_loss:
        print(f"FAIL: {100 * report.loss:.2f}% unaccounted, above --max-loss {100 * max_loss:g}%", file=sys.stderr)
        return ExitCode.FAILED
    return ExitCode.OK


def smoke_options(args: argparse.Namespace, host: str, port: int, quiet: float) -> SmokeOptions:
    return SmokeOptions(
        host=host,
        port=port,
        packets=args.packets,
        rate=args.rate,
        quiet_seconds=quiet,
        clients=args.clients,
        family=args.family,
    )


def command_smoke(args: argparse.Namespace) -> int:
    host, port = resolve_endpoint(args.host, args.port, args.outputs)
    if not args.json:
        rate = f" at {args.rate:g}/s" if args.rate else ""
        print(f"sending {args.packets} packets to {host}:{port}{rate} ...", flush=True)
    report = run_smoke(smoke_options(args, host, port, args.timeout))
    return print_report(report, args.json, args.max_loss)
