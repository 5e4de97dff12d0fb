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

from generator.cli.argv import (
    MAX_PACKETS,
    MAX_RATE,
    MAX_WAIT_SECONDS,
    packets,
    packets_per_second,
    percent,
    port_to_send_to,
    sockets,
    wait_seconds,
)
from generator.cli.common import display_path
from generator.errors import ExitCode, SmokeError
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


# The loss above which smoke and demo exit 1, in percent, as the config's max_loss_percent and canary --max-loss.
DEFAULT_MAX_LOSS_PERCENT = 5.0
# Sending at --rate must end: a run planned to take longer than a day is a typo in -n or --rate.
MAX_SEND_SECONDS = 86_400


def add_traffic_options(parser: argparse.ArgumentParser, quiet_default: float | None = 5.0) -> None:
    parser.add_argument(
        "-n",
        "--packets",
        type=packets,
        default=100,
        help=f"packets to send, 1 to {MAX_PACKETS:,} (default: %(default)s)",
    )
    parser.add_argument(
        "--rate",
        type=packets_per_second,
        help=f"packets per second, at most {MAX_RATE:,.0f} (default: as fast as possible)",
    )
    parser.add_argument(
        "--clients",
        type=sockets,
        default=1,
        help="client sockets (source ports) to spread over, below the open-file limit (default: %(default)s)",
    )
    shown = f"{quiet_default:g}" if quiet_default else "the batch timeout + 2"
    parser.add_argument(
        "--timeout",
        type=wait_seconds,
        default=quiet_default,
        help=f"stop after this many quiet seconds, at most {MAX_WAIT_SECONDS:g} (default: {shown})",
    )
    parser.add_argument(
        "--max-loss",
        type=percent,
        default=DEFAULT_MAX_LOSS_PERCENT,
        help="exit 1 above this loss, in percent from 0 to 100, as max_loss_percent (default: %(default)g)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    family = parser.add_mutually_exclusive_group()
    family.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET, help="IPv4 only")
    family.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6, help="IPv6 only")
    parser.set_defaults(family=socket.AF_UNSPEC)


def check_send_time(args: argparse.Namespace, command: str) -> None:
    """Refuse, before anything runs, -n at --rate that would take longer than MAX_SEND_SECONDS to send."""
    if args.rate is None:
        return
    seconds = (args.packets - 1) / args.rate
    if seconds > MAX_SEND_SECONDS:
        shown = f"{seconds:,.0f}" if seconds < 1e9 else f"{seconds:.3g}"
        raise SmokeError.of(
            command,
            f"-n/--packets {args.packets:,} at --rate {args.rate:g} would take {shown} s to send: at most "
            f"{MAX_SEND_SECONDS:,} s (a day); raise --rate or lower -n",
        )


def print_report(report: SmokeReport, as_json: bool, max_loss_percent: float) -> int:
    """The report (text, or JSON with loss_percent and max_loss_percent); exit 1 above `max_loss_percent`."""
    loss_percent = report.loss_percent
    if as_json:
        document = {
            **asdict(report),
            "loss_percent": round(loss_percent, 4),
            "max_loss_percent": max_loss_percent,
        }
        print(json.dumps(document, indent=2))
    else:
        print(report.to_text())
    if loss_percent > max_loss_percent:
        print(f"FAIL: {loss_percent:.2f}% unaccounted, above --max-loss {max_loss_percent:g}%", file=sys.stderr)
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
    check_send_time(args, "smoke")
    host, port = resolve_endpoint(args.host, args.port, args.outputs)
    if not args.json:
        rate = f" at {args.rate:g}/s" if args.rate else ""
        print(f"sending {args.packets} packets to {host}:{port}{rate} ...", flush=True)
    report = run_smoke(smoke_options(args, host, port, args.timeout))
    return print_report(report, args.json, args.max_loss)
