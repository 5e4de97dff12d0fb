"""Command line: a thin layer over the pipeline. `python -m generator --help`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from generator.argv import parse_command_line
from generator.commands import add_command, display_path, load_command_config
from generator.deploy_cli import register_deploy_commands
from generator.errors import ExitCode, GeneratorError
from generator.files import FORMATS, write_templates
from generator.paths import DEFAULT_OUT_DIR
from generator.render import render_templates
from generator.udp_cli import register_udp_commands


def command_validate(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    render_templates(config)  # the size limits are part of "valid"
    print(f"{display_path(args.config)}: valid ({len(config.regions)} regions, routing {config.routing})")
    return 0


def command_render(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    written = write_templates(render_templates(config), args.out, args.format)
    for path in written:
        print(f"wrote {display_path(path)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Render and check the Packet Counter CloudFormation templates from one config file.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_command(commands, "validate", command_validate, "check the config and the templates it renders")
    render = add_command(commands, "render", command_render, "write the global and regional templates")
    render.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="output folder (default: out/)")
    render.add_argument("--format", choices=FORMATS, default="json", help="template format (default: json)")
    register_deploy_commands(commands)
    register_udp_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_command_line(build_parser(), argv)
    try:
        return args.handler(args)
    except GeneratorError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) left: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.FAILED
