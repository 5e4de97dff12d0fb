"""`local`, `local-control` and `demo`: the local UDP Gateway on loopback, its failover control,
and a render + gateway + smoke run in one command.

The CLI renders the templates and hands the gateway the function code read back from the rendered
regional template; the gateway itself (generator.local.gateway) never renders or writes out/.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from generator.cli.argv import MAX_PROCESSES, port_to_listen_on, port_to_send_to, processes
from generator.cli.common import OUT_HELP, add_command, display_path, load_command_config
from generator.cli.local_cloud_commands import register_local_cloud_commands
from generator.cli.traffic_commands import add_traffic_options, check_send_time, print_report, smoke_options
from generator.config import Config
from generator.errors import ExitCode, GeneratorError, Problem
from generator.local.gateway.canary_schedule import CanarySchedule
from generator.local.gateway.control import control_socket_path, parse_command, send_control
from generator.local.gateway.gateway import DEFAULT_PORT, GatewaySettings, LocalGateway
from generator.local.gateway.routing import DEFAULT_LATENCY_TABLE, Router, load_latency_table
from generator.observe.canary import CanaryRun, load_canary, run_canary
from generator.render import function_code_from_template, render_function_code
from generator.render.function_code import CANARY_RESOURCE
from generator.render.observability_context import canary_namespace, canary_wait_seconds
from generator.traffic.smoke import run_smoke


def register_local_commands(commands: argparse._SubParsersAction, deploy_command: str) -> None:
    """Add local, local-control, demo, local-cloud and local-names to the CLI (called once from
    generator.cli.main.build_parser); local-cloud's hint names `deploy_command`, the deploy the user runs against
    it."""
    local = add_command(commands, "local", command_local, "run a local UDP Gateway on 127.0.0.1 and ::1")
    local.add_argument("--port", type=port_to_listen_on, default=DEFAULT_PORT, help="UDP port (default: %(default)s)")
    _add_gateway_options(local)

    control = commands.add_parser(
        "local-control",
        help="mark a region down or up in a running local gateway, or show its routing",
        description=(
            "Send 'down REGION', 'up REGION' or 'status' to the local gateway on --port, through its control "
            f"socket ({control_socket_path(DEFAULT_PORT)} for port {DEFAULT_PORT}), which only "
            "the user who started it can use."
        ),
    )
    control.add_argument("words", nargs="+", metavar="WORD", help="down REGION | up REGION | status")
    control.add_argument(
        "--port", type=port_to_send_to, default=DEFAULT_PORT, help="the gateway's UDP port (default: %(default)s)"
    )
    control.set_defaults(handler=command_local_control)

    demo = add_command(commands, "demo", command_demo, "render, start a local gateway, run the smoke client, stop")
    demo.add_argument(
        "--port", type=port_to_listen_on, default=0, help="UDP port of the local gateway (default: any free one)"
    )
    _add_gateway_options(demo)
    add_traffic_options(demo, quiet_default=None)

    register_local_cloud_commands(commands, deploy_command, _program(deploy_command))


def _program(deploy_command: str) -> str:
    """How the user runs this tool, for hints: the installed command, or this interpreter's `-m generator`."""
    installed = deploy_command.split()[0]
    return installed if installed != "make" else f"{display_path(sys.executable)} -m generator"


def _add_gateway_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ingress", help="the region packets enter at (default: the config's home_region)")
    parser.add_argument(
        "--down",
        action="append",
        default=[],
        metavar="REGION",
        help="start with REGION down (repeat it, or name several: --down 'us-east-1 eu-west-1')",
    )
    parser.add_argument(
        "--latency-table", type=Path, default=DEFAULT_LATENCY_TABLE, help="inter-region RTT table (JSON)"
    )
    parser.add_argument("--add-latency", action="store_true", help="delay replies by the ingress->region RTT")
    parser.add_argument(
        "--concurrency",
        type=processes,
        default=1,
        help=f"function processes per region, 1 to {MAX_PROCESSES} (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help=f"where to render the templates {OUT_HELP}")
    parser.add_argument("--template", type=Path, help="take the code from this regional template, do not render")


def function_code(args: argparse.Namespace, config: Config) -> tuple[str, Path]:
    """The function code to run and the template it came from: --template's, else the one rendered now."""
    if args.template:
        return function_code_from_template(args.template), args.template
    return render_function_code(config, args.out)


def gateway_settings(args: argparse.Namespace, config: Config, code: str, port: int, control: bool) -> GatewaySettings:
    """The local gateway's settings from the config, the command line and the function code to run."""
    ingress = args.ingress or config.home_region
    down = tuple(word for value in args.down for word in value.replace(",", " ").split())
    router = Router(ingress, config.regions, load_latency_table(args.latency_table), down)
    return GatewaySettings.from_config(
        config,
        code,
        router,
        port=port,
        control=control,
        add_latency=args.add_latency,
        concurrency=args.concurrency,
    )


def _configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="local gateway: %(message)s", stream=sys.stderr)


def _code_source(args: argparse.Namespace, template: Path) -> str:
    rendered = "" if args.template else f" (rendered from {display_path(args.config)})"
    return f"function code: Code.ZipFile of {display_path(template)}{rendered}"


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
    code, template = function_code(args, config)
    gateway = LocalGateway(gateway_settings(args, config, code, args.port, control=True))
    stop = threading.Event()
    # Both set explicitly: a shell starts a background job with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with gateway:
        print(_describe(gateway, config), flush=True)
        print(_code_source(args, template), flush=True)
        print(
            f"failover: python -m generator local-control --port {gateway.port} down|up REGION | status "
            f"(control socket {gateway.control.path}, for this user only)",  # type: ignore[union-attr]
            flush=True,
        )
        print("Ctrl-C to stop", flush=True)
        with _canary_schedule(config, template, gateway):
            while not stop.wait(0.5):
                pass
    print(f"stopped: {gateway.stats.summary()}", flush=True)
    return ExitCode.OK


def command_local_control(args: argparse.Namespace) -> int:
    try:
        parse_command(args.words)  # a mistyped command is told here, without a gateway to ask
    except ValueError as error:
        raise GeneratorError([Problem("local-control", str(error))]) from None
    answer = send_control(" ".join(args.words), args.port)
    if answer.startswith("error"):
        raise GeneratorError([Problem("local-control", answer.removeprefix("error "))])
    print(answer)
    return ExitCode.OK


def command_demo(args: argparse.Namespace) -> int:
    _configure_logging()
    check_send_time(args, "demo")
    config = load_command_config(args)
    quiet = args.timeout if args.timeout is not None else config.destination.batching.timeout_in_seconds + 2
    code, template = function_code(args, config)
    with LocalGateway(gateway_settings(args, config, code, args.port, control=False)) as gateway:
        if not args.json:
            print(_describe(gateway, config), flush=True)
            print(_code_source(args, template), flush=True)
            print(f"sending {args.packets} packets ...", flush=True)
        host = "::1" if args.family == socket.AF_INET6 else "127.0.0.1"
        report = run_smoke(smoke_options(args, host, gateway.port, quiet))
        # With the canary on, its first scheduled run, as `make local` starts it.
        canary = _canary_run(config, template, gateway)() if config.observability.canary.enabled else None
    status = print_report(report, args.json, args.max_loss)
    if canary is not None and not args.json:
        print(canary.summary())
    if not args.json:
        print(f"gateway: {gateway.stats.summary()}")
    return status


def _canary_run(config: Config, template: Path, gateway: LocalGateway) -> Callable[[], CanaryRun]:
    """One canary run against this gateway with the regional template's canary code, labelled with the ingress
    region (where its probes enter)."""
    module = load_canary(function_code_from_template(template, CANARY_RESOURCE), f"{template}: {CANARY_RESOURCE}")
    packets, wait = config.observability.canary.packets, canary_wait_seconds(config)
    ingress = gateway.router.ingress
    source = f"observability.canary.packets in {config.source}"
    return lambda: run_canary(
        "127.0.0.1", gateway.port, packets, wait, canary_namespace(config), ingress, module, packets_source=source
    )


def _canary_schedule(config: Config, template: Path, gateway: LocalGateway) -> contextlib.AbstractContextManager:
    """With the canary on: its schedule against this gateway, each run printed; else nothing."""
    every = config.observability.canary.every_minutes
    if not config.observability.canary.enabled:
        return contextlib.nullcontext()
    print(f"canary: every {every} min from {gateway.router.ingress}, the first run now", flush=True)
    return CanarySchedule(
        _canary_run(config, template, gateway), every * 60, lambda run: print(run.summary(), flush=True)
    )
