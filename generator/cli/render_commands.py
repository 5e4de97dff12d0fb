"""`validate` and `render`: check the config, write the templates."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.cli.common import OUT_HELP, add_command, display_path, load_command_config
from generator.errors import ExitCode
from generator.render import FORMATS, render_templates, write_templates


def register_render_commands(commands: argparse._SubParsersAction) -> None:
    """Add validate and render to the CLI (called once from generator.cli.main.build_parser)."""
    add_command(commands, "validate", command_validate, "check the config and the templates it renders")
    render = add_command(commands, "render", command_render, "write the global and regional templates")
    render.add_argument("--out", type=Path, help=f"output folder {OUT_HELP}")
    render.add_argument("--format", choices=FORMATS, default="json", help="template format (default: json)")


def command_validate(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    render_templates(config)  # the size limits are part of "valid"
    print(f"{display_path(args.config)}: valid ({len(config.regions)} regions, routing {config.routing})")
    return ExitCode.OK


def command_render(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    written = write_templates(render_templates(config), args.out, args.format)
    for path in written:
        print(f"wrote {display_path(path)}")
    return ExitCode.OK
