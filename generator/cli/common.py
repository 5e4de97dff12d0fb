"""What every subcommand module shares: declaring a command that reads the config, loading it,
and naming files the way the user typed them. Kept apart from cli.py so the command modules
(deploy_cli, udp_cli) import it at the top without a cycle."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from generator.config import Config, load_config
from generator.paths import default_config


def display_path(path: Path | str) -> str:
    """`config/config.yaml` rather than an absolute path, when the file is under the cwd.

    Symlinks are not followed (abspath, not resolve): a link loop is reported when the file is
    read, as one line, instead of failing here.
    """
    relative = os.path.relpath(os.path.abspath(path), os.getcwd())
    return relative if not relative.startswith("..") else str(path)


def load_command_config(args: argparse.Namespace) -> Config:
    """The config named by --config; its errors name the file as the user gave it."""
    return load_config(args.config, source=display_path(args.config))


def add_command(
    commands: argparse._SubParsersAction,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    summary: str,
) -> argparse.ArgumentParser:
    """A subcommand that reads the config; `handler` runs it and returns the exit status."""
    command = commands.add_parser(name, help=summary, description=summary)
    command.add_argument(
        "--config",
        type=Path,
        default=default_config(),  # the parser is built when the command runs: the folder it runs in
        help="config file (default: ./config.yaml when there is one, else the packaged default config)",
    )
    command.set_defaults(handler=handler)
    return command
