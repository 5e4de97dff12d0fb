"""`local-cloud` and `local-names`: the local AWS endpoint with its stand-in for Proxylity's control plane, whose
listeners are served on loopback; and the names of those listeners, for programs that resolve names themselves.

local-cloud reads commands from its terminal while it runs (`ingress REGION`, `ingress home`, `status`) when
that terminal is its own (it is the foreground job) or its stdin is a pipe.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
import threading
from typing import Any

from generator.cli.argv import (
    MAX_CLOCK_SPEED,
    MAX_LAMBDA_CONCURRENCY,
    MAX_WAIT_SECONDS,
    clock_speed,
    delay_seconds,
    lambda_concurrency,
    tcp_port_to_listen_on,
)
from generator.distribution import missing_extra
from generator.errors import ExitCode, GeneratorError, MissingExtraError, Problem
from generator.local.lambda_quotas import DEFAULT_ACCOUNT_CONCURRENCY, NEW_ACCOUNT_CONCURRENCY
from generator.private_directory import user_runtime_directory
from generator.traffic.local_names import HOSTS_VARIABLE, local_names, running_hosts_files
from generator.traffic.names_namespace import NamespaceRefused, hosts_lines, run_with_names

DEFAULT_CLOUD_PORT = 4566  # the port local AWS endpoints customarily use
COMMANDS_HELP = "'ingress REGION', 'ingress home' or 'status'"


def register_local_cloud_commands(commands: argparse._SubParsersAction, deploy_command: str, program: str) -> None:
    """Add local-cloud and local-names; local-cloud's hint names `deploy_command`, the deploy the user runs against
    it, and `program`, how the user runs this tool."""
    cloud = commands.add_parser(
        "local-cloud",
        help="a local AWS endpoint (moto) with a stand-in for Proxylity's control plane, until Ctrl-C",
        description=(
            "Run the local cloud on 127.0.0.1 for rehearsing deploy, plan, status, destroy, smoke, canary, logs and "
            "e2e offline. Every listener a deploy creates is served on 127.0.0.1 and ::1 at the port it returns, by "
            "the functions deployed in the local cloud's Lambda."
        ),
    )
    cloud.add_argument(
        "--port", type=tcp_port_to_listen_on, default=DEFAULT_CLOUD_PORT, help="TCP port (default %(default)s; 0: any)"
    )
    cloud.add_argument(
        "--delay",
        type=delay_seconds,
        default=2.0,
        help=f"seconds the Proxylity stand-in waits per answer, 0 to {MAX_WAIT_SECONDS:g} (default: %(default)g)",
    )
    cloud.add_argument("--fail-region", help="a region in which the Proxylity stand-in fails every request")
    cloud.add_argument(
        "--lambda-concurrency",
        type=lambda_concurrency,
        default=DEFAULT_ACCOUNT_CONCURRENCY,
        help="Lambda concurrent executions per account and region, as AWS's quota: a reservation that leaves less "
        f"unreserved than Lambda keeps (100, or all of a smaller quota) fails, {NEW_ACCOUNT_CONCURRENCY} to "
        f"{MAX_LAMBDA_CONCURRENCY:,} (default: %(default)s, Lambda's default; a new account has "
        f"{NEW_ACCOUNT_CONCURRENCY})",
    )
    cloud.add_argument(
        "--ingress",
        help="the Proxylity ingress region packets enter at (default: each listener's home region); "
        f"type {COMMANDS_HELP} in its terminal to change or show it while it runs",
    )
    cloud.add_argument(
        "--clock-speed",
        type=clock_speed,
        default=1.0,
        help="run EventBridge rate schedules (the canary's) this many times faster than real time, above 0 and "
        f"at most {MAX_CLOCK_SPEED:,.0f} (default: %(default)g; 60: a 5-minute schedule every 5 s)",
    )
    cloud.set_defaults(handler=lambda args: command_local_cloud(args, deploy_command, program))

    names = commands.add_parser(
        "local-names",
        help="the local cloud's listener names: print them as /etc/hosts lines, or run a command that resolves them",
        description=(
            "Without a command: print the /etc/hosts lines of the listeners of the local clouds running for this "
            "user. With one (after --): run it in a private mount namespace whose /etc/hosts also has those lines, "
            "so that it resolves them as it resolves any name; the machine's /etc/hosts is not changed."
        ),
    )
    names.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG ...]")
    names.set_defaults(handler=command_local_names)


def command_local_cloud(args: argparse.Namespace, deploy_command: str, program: str) -> int:
    try:
        # Imported here: moto is in the optional `local` extra, which the other commands do not need.
        from generator.local.cloud import LocalCloud, PortInUse, hint
    except ImportError as error:
        raise MissingExtraError.of("local-cloud", missing_extra("local", error.name)) from None
    cloud = LocalCloud(
        port=args.port,
        delay=args.delay,
        fail_region=args.fail_region or None,
        lambda_concurrency=args.lambda_concurrency,
        ingress=args.ingress or None,
        clock_speed=args.clock_speed,
    )
    try:
        cloud.start()
    except PortInUse as error:
        raise GeneratorError([Problem("local-cloud", str(error))]) from None
    failing = f", failing in {args.fail_region}" if args.fail_region else ""
    print(
        f"local cloud on {cloud.endpoint_url}: AWS APIs by moto, and a STAND-IN for Proxylity's control plane "
        f"(not the real service; answers after {args.delay:g}s{failing}); Lambda concurrency "
        f"{args.lambda_concurrency:,} per account and region"
    )
    print(f"listeners: served on 127.0.0.1 and ::1 at the Port each returns; {_ingress_text(cloud)}")
    print(
        f"listener names: listed in {cloud.names_file.path}, which smoke, canary and e2e read; any other program: "
        f"{program} local-names -- COMMAND ..."
    )
    schedules = f"{args.clock_speed:g}x real time" if args.clock_speed != 1 else "in real time"
    commands = f"; type {COMMANDS_HELP} here" if _reads_terminal() else ""
    print(f"EventBridge rate schedules (the canary's) run {schedules}{commands}")
    print(f"in another terminal: {hint(cloud.endpoint_url, deploy_command)}    (Ctrl-C here to stop)", flush=True)
    stop = threading.Event()
    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if _reads_terminal():
        threading.Thread(target=_read_commands, args=(cloud,), name="local-cloud-commands", daemon=True).start()
    while not stop.wait(0.5):
        pass
    cloud.stop()
    print("local cloud stopped")
    return ExitCode.OK


def _ingress_text(cloud: Any) -> str:
    if cloud.ingress:
        return f"packets enter at {cloud.ingress}"
    return "packets enter at each listener's home region"


def _reads_terminal() -> bool:
    """Whether stdin is ours to read: a pipe, or the terminal with us in its foreground (a background job that
    reads its terminal is stopped by the kernel)."""
    try:
        descriptor = sys.stdin.fileno()
        if os.isatty(descriptor):
            return os.tcgetpgrp(descriptor) == os.getpgrp()
        return stat.S_ISFIFO(os.fstat(descriptor).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _read_commands(cloud: Any) -> None:
    for line in sys.stdin:
        if line.strip():
            print(apply_cloud_command(cloud, line), flush=True)


def apply_cloud_command(cloud: Any, line: str) -> str:
    """Carry out one line typed to the local cloud; the answer."""
    words = line.split()
    if words == ["status"]:
        return f"{_ingress_text(cloud)}; listeners: {', '.join(cloud.endpoints.names()) or 'none'}"
    if len(words) == 2 and words[0] == "ingress":
        try:
            cloud.set_ingress(None if words[1] == "home" else words[1])
        except GeneratorError as error:
            return f"error: {error.problems[0].message}"
        return _ingress_text(cloud)
    return f"error: expected {COMMANDS_HELP}, got {line.strip()!r}"


def command_local_names(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    files = running_hosts_files()
    if not files:
        where = os.environ.get(HOSTS_VARIABLE) or user_runtime_directory()
        raise GeneratorError.of("local-names", f"no local cloud runs for this user (no listener names in {where})")
    names = sorted(local_names(files))
    if not command:
        for line in hosts_lines(names):
            print(line)
        return ExitCode.OK
    try:
        return run_with_names(names, command)
    except NamespaceRefused as refused:
        lines = "; ".join(hosts_lines(names)) or "(none: no listener is deployed)"
        print(
            f"local-names: cannot give {command[0]} a hosts file of its own here ({refused.reason}); "
            f"add these lines to /etc/hosts yourself (and remove them after): {lines}",
            file=sys.stderr,
        )
        return ExitCode.FAILED
