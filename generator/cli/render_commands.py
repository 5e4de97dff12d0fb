"""`validate` and `render`: check the config, write the templates."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.cli.common import (
    OUT_HELP,
    add_command,
    add_json_option,
    describe_config,
    display_path,
    environment_json,
    load_command_config,
)
from generator.cli.json_output import print_json
from generator.config import Config
from generator.errors import ExitCode
from generator.render import FORMATS, RenderedTemplate, render_templates, write_templates


def register_render_commands(commands: argparse._SubParsersAction) -> None:
    """Add validate and render to the CLI (called once from generator.cli.main.build_parser)."""
    validate = add_command(commands, "validate", command_validate, "check the config and the templates it renders")
    add_json_option(validate, "print the result as one JSON document (a refused config: its problems)")
    render = add_command(commands, "render", command_render, "write the global and regional templates")
    render.add_argument("--out", type=Path, help=f"output folder {OUT_HELP}")
    render.add_argument("--format", choices=FORMATS, default="json", help="template format (default: json)")
    add_json_option(render, "print what was written as one JSON document")


def command_validate(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    templates = render_templates(config)  # the size limits are part of "valid"
    if args.json:
        print_json({"ok": True, "valid": True, **_described(config, templates)})
        return ExitCode.OK
    print(f"{describe_config(config)}: valid ({len(config.regions)} regions, routing {config.routing})")
    return ExitCode.OK


def command_render(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    templates = render_templates(config)
    written = write_templates(templates, args.out, args.format)
    if args.json:
        print_json({"ok": True, **_described(config, templates), "written": [display_path(path) for path in written]})
        return ExitCode.OK
    for path in written:
        print(f"wrote {display_path(path)}")
    return ExitCode.OK


def _described(config: Config, templates: list[RenderedTemplate]) -> dict[str, object]:
    return {
        "config": config.source,
        **environment_json(config),
        "overlay": config.environment.source if config.environment else None,
        "regions": list(config.regions),
        "home_region": config.home_region,
        "routing": str(config.routing),
        "stacks": {"global": config.global_stack_name, "regional": config.regional_stack_name},
        "template_bytes": {template.name: template.size for template in templates},
    }
