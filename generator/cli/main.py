"""The command line: argument parsing and the exit status. `python -m generator --help`.

Only generator/cli/ prints, asks or reads the terminal; every command is a thin layer over the
engine (config, render, deploy, traffic, local), which returns data.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from generator.cli.argv import parse_command_line
from generator.cli.completion import autocomplete, register_completion_command
from generator.cli.deploy_commands import register_deploy_commands
from generator.cli.e2e_commands import register_e2e_commands
from generator.cli.init_commands import register_init_commands
from generator.cli.json_output import error_as_json, print_json
from generator.cli.local_commands import register_local_commands
from generator.cli.observe_commands import register_observe_commands
from generator.cli.render_commands import register_render_commands
from generator.cli.traffic_commands import register_traffic_commands
from generator.cli.tune_commands import register_tune_commands
from generator.distribution import version
from generator.errors import ExitCode, GeneratorError

CONSOLE_SCRIPT = "packet-counter"  # pyproject.toml [project.scripts]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line. Built when a command runs: the defaults of --config and --out are read against the
    folder it runs in."""
    program = _program_name()
    parser = argparse.ArgumentParser(
        prog=program,
        description="Render, deploy and exercise the Packet Counter (Proxylity UDP Gateway + Lambda in many regions).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_init_commands(commands, program)
    register_render_commands(commands)
    register_deploy_commands(commands)
    register_traffic_commands(commands)
    # `python -m generator` is the checkout's (make local-cloud runs it), where make deploy passes CONFIG and OUT.
    register_local_commands(commands, f"{program} deploy" if program == CONSOLE_SCRIPT else "make deploy")
    register_observe_commands(commands)
    register_e2e_commands(commands)
    register_tune_commands(commands)
    register_completion_command(commands, CONSOLE_SCRIPT)
    return parser


def _program_name() -> str:
    """How the user called us, for usage lines: the console script, or `python -m generator`."""
    called = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return CONSOLE_SCRIPT if called == CONSOLE_SCRIPT else "python -m generator"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (an ExitCode)."""
    parser = build_parser()
    autocomplete(parser)  # exits here when the shell asked for completions
    args = parse_command_line(parser, argv)
    try:
        return args.handler(args)
    except GeneratorError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        if getattr(args, "json", False):  # a script still reads one document on stdout
            print_json(error_as_json(error))
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) left: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.FAILED
