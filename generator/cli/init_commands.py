"""`init`: a starter config.yaml (and the schema its first line names) in the folder the user works in."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.cli.common import display_path
from generator.config.starter import write_starter
from generator.errors import ExitCode
from generator.resources import DEFAULT_CONFIG_NAME, SCHEMA_NAME


def register_init_commands(commands: argparse._SubParsersAction, program: str) -> None:
    """Add `init` to the CLI (called once from generator.cli.main.build_parser)."""
    summary = f"write a commented starter {DEFAULT_CONFIG_NAME}, and the {SCHEMA_NAME} editors check it against"
    init = commands.add_parser(
        "init",
        help=summary,
        description=f"{summary}. Every other command reads ./{DEFAULT_CONFIG_NAME} when there is one "
        f"(`{program} render` writes ./out/).",
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR", help="where (default: .)")
    init.add_argument("--force", action="store_true", help="replace the files when they are there")
    init.set_defaults(handler=lambda args: command_init(args, program))


def command_init(args: argparse.Namespace, program: str) -> int:
    written = write_starter(args.folder, force=args.force)
    for path in written:
        print(f"wrote {display_path(path)}")
    print(f"next: edit {display_path(written[0])}; `{program} render` in its folder writes the templates to ./out/")
    return ExitCode.OK
