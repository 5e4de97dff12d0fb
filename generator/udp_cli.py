"""Subcommands for real UDP traffic: smoke, local, local-control, demo.

`register_udp_commands(commands)` is the one call generator/cli.py makes; the work is in
generator.smoke and generator.local_gateway.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from generator.argv import at_least_one, number_type, positive_number, share
from generator.commands import add_command, display_path, load_command_config
from generator.config import Config
from generator.endpoint import DEFAULT_OUTPUTS_FILE, MAX_PORT, resolve_endpoint
from generator.errors import ExitCode, GeneratorError, Problem
from generator.local_gateway.control import control_socket_path, parse_command, send_control
from generator.local_gateway.gateway import GatewaySettings, LocalGateway
from generator.local_gateway.handler_code import (
    handler_code_for,
    handler_code_from_template,
    regional_template_path,
)
from generator.local_gateway.routing import DEFAULT_LATENCY_TABLE, Router, load_latency_table
from generator.paths import DEFAULT_OUT_DIR
from generator.smoke import SmokeOptions, run_smoke
from generator.smoke_report import SmokeReport

DEFAULT_LOCAL_PORT = 2000


def register_udp_commands(commands: argparse._SubParsersAction) -> None:

    summary = "send packets to a UDP Gateway and report the replies"
    smoke = commands.add_parser("smoke", help=summary, description=summary)  # no --config: it needs none
    smoke.set_defaults(handler=command_smoke)
    smoke.add_argument("--host", help=f"endpoint host (default: Domain in {_shown(DEFAULT_OUTPUTS_FILE)})")
    smoke.add_argument(
        "--port", type=_port_to_send_to, help=f"endpoint UDP port (default: Port in {_shown(DEFAULT_OUTPUTS_FILE)})"
    )
    smoke.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS_FILE, help="stack outputs file to read")
    _add_traffic_options(smoke)

    local = add_command(commands, "local", command_local, "run a local UDP Gateway on 127.0.0.1 and ::1")
    local.add_argument(
        "--port", type=_port_to_listen_on, default=DEFAULT_LOCAL_PORT, help="UDP port (default: %(default)s)"
    )
    _add_gateway_options(local)

    control = commands.add_parser(
        "local-control",
        help="mark a region down or up in a running local gateway, or show its routing",
        description=(
            "Send 'down REGION', 'up REGION' or 'status' to the local gateway on --port, through its control "
            f"socket ({control_socket_path(DEFAULT_LOCAL_PORT)} for port {DEFAULT_LOCAL_PORT}), which only "
            "the user who started it can use."
        ),
    )
    control.add_argument("words", nargs="+", metavar="WORD", help="down REGION | up REGION | status")
    control.add_argument(
        "--port",
        type=_port_to_send_to,
        default=DEFAULT_LOCAL_PORT,
        help="the gateway's UDP port (default: %(default)s)",
    )
    control.set_defaults(handler=command_local_control)

    demo = add_command(commands, "demo", command_demo, "render, start a local gateway, run the smoke client, stop")
    demo.add_argument(
        "--port", type=_port_to_listen_on, default=0, help="UDP port of the local gateway (default: any free one)"
    )
    _add_gateway_options(demo)
    _add_traffic_options(demo, quiet_default=None)


def _shown(path: Path) -> str:

    return display_path(path)


def _add_traffic_options(parser: argparse.ArgumentParser, quiet_default: float | None = 5.0) -> None:
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


def _add_gateway_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ingress", help="the region packets enter at (default: the config's home_region)")
    parser.add_argument("--down", action="append", default=[], metavar="REGION", help="start with REGION down")
    parser.add_argument(
        "--latency-table", type=Path, default=DEFAULT_LATENCY_TABLE, help="inter-region RTT table (JSON)"
    )
    parser.add_argument("--add-latency", action="store_true", help="delay replies by the ingress->region RTT")
    parser.add_argument(
        "--concurrency", type=at_least_one, default=1, help="function processes per region (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="where to render the templates (out/)")
    parser.add_argument("--template", type=Path, help="take the code from this regional template, do not render")


def gateway_settings(args: argparse.Namespace, config: Config, port: int, control: bool) -> GatewaySettings:
    """The local gateway's settings from the config and the command line."""
    ingress = args.ingress or config.home_region
    router = Router(ingress, config.regions, load_latency_table(args.latency_table), tuple(args.down))
    code = handler_code_from_template(args.template) if args.template else handler_code_for(config, args.out)
    return GatewaySettings(
        regions=config.regions,
        router=router,
        code=code,
        batching=config.destination.batching,
        formatter=config.destination.formatter,
        port=port,
        control=control,
        function_timeout_seconds=config.function.timeout_seconds,
        function_name=config.function_name,
        function_memory_mb=config.function.memory_mb,
        add_latency=args.add_latency,
        concurrency=args.concurrency,
    )


def _print_report(report: SmokeReport, as_json: bool, max_loss: float) -> int:
    if as_json:
        print(json.dumps({**asdict(report), "loss": round(report.loss, 6), "max_loss": max_loss}, indent=2))
    else:
        print(report.to_text())
    if report.loss > max_loss:
        print(f"FAIL: {100 * report.loss:.2f}% unaccounted, above --max-loss {100 * max_loss:g}%", file=sys.stderr)
        return ExitCode.FAILED
    return 0


def _smoke_options(args: argparse.Namespace, host: str, port: int, quiet: float) -> SmokeOptions:
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
    report = run_smoke(_smoke_options(args, host, port, args.timeout))
    return _print_report(report, args.json, args.max_loss)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="local gateway: %(message)s", stream=sys.stderr)


def _code_source(args: argparse.Namespace) -> str:

    rendered = "" if args.template else f" (rendered from {display_path(args.config)})"
    path = args.template or regional_template_path(args.out)
    return f"function code: Code.ZipFile of {display_path(path)}{rendered}"


def _describe(gateway: LocalGateway, config: Config) -> str:
    batching = config.destination.batching
    size = f", SizeInMb {batching.size_in_mb:g}" if batching.size_in_mb else ""
    router = gateway.router
    down = ", ".join(router.down_regions()) or "none"
    return (
        f"local gateway on {' and '.join(gateway.addresses)}; ingress {router.ingress} "
        f"-> serving {router.serving_region() or 'nothing (all down)'} (down: {down}); "
        f"batching Count {batching.count}, TimeoutInSeconds {batching.timeout_in_seconds:g}{size}"
    )


def command_local(args: argparse.Namespace) -> int:
    _configure_logging()
    config = load_command_config(args)
    gateway = LocalGateway(gateway_settings(args, config, args.port, control=True))
    stop = threading.Event()
    # Both set explicitly: a shell starts a background job with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with gateway:
        print(_describe(gateway, config), flush=True)
        print(_code_source(args), flush=True)
        print(
            f"failover: python -m generator local-control --port {gateway.port} down|up REGION | status "
            f"(control socket {gateway.control.path}, for this user only)",  # type: ignore[union-attr]
            flush=True,
        )
        print("Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            pass
    print(f"stopped: {gateway.stats.summary()}", flush=True)
    return 0


def command_local_control(args: argparse.Namespace) -> int:
    try:
        parse_command(args.words)  # a mistyped command is told here, without a gateway to ask
    except ValueError as error:
        raise GeneratorError([Problem("local-control", str(error))]) from None
    answer = send_control(" ".join(args.words), args.port)
    if answer.startswith("error"):
        raise GeneratorError([Problem("local-control", answer.removeprefix("error "))])
    print(answer)
    return 0


def command_demo(args: argparse.Namespace) -> int:
    _configure_logging()
    config = load_command_config(args)
    quiet = args.timeout if args.timeout is not None else config.destination.batching.timeout_in_seconds + 2
    with LocalGateway(gateway_settings(args, config, args.port, control=False)) as gateway:
        if not args.json:
            print(_describe(gateway, config), flush=True)
            print(_code_source(args), flush=True)
            print(f"sending {args.packets} packets ...", flush=True)
        host = "::1" if args.family == socket.AF_INET6 else "127.0.0.1"
        report = run_smoke(_smoke_options(args, host, gateway.port, quiet))
    status = _print_report(report, args.json, args.max_loss)
    if not args.json:
        print(f"gateway: {gateway.stats.summary()}")
    return status


_port_to_send_to = number_type(int, lambda v: 1 <= v <= MAX_PORT, f"a UDP port from 1 to {MAX_PORT}")
_port_to_listen_on = number_type(
    int, lambda v: 0 <= v <= MAX_PORT, f"a UDP port from 1 to {MAX_PORT}, or 0 for any free one"
)
