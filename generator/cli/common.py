"""What every subcommand module shares: declaring a command that reads the config, loading it,
and naming files the way the user typed them. Kept apart from cli.py so the command modules
(deploy_cli, udp_cli) import it at the top without a cycle."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from generator.config import Config, load_config
from generator.config.environments import environment_names
from generator.deploy.outputs import OUTPUTS_FILE_NAME
from generator.paths import default_config, default_out_dir


def display_path(path: Path | str) -> str:
    """`config/config.yaml` rather than an absolute path, when the file is under the cwd.

    Symlinks are not followed (abspath, not resolve): a link loop is reported when the file is
    read, as one line, instead of failing here.
    """
    relative = os.path.relpath(os.path.abspath(path), os.getcwd())
    return relative if not relative.startswith("..") else str(path)


OUT_HELP = "(default: ./out, or ./out/ENV with --env ENV)"


def load_command_config(args: argparse.Namespace) -> Config:
    """The config named by --config, with --env's overlay laid over it; its errors name the files as the user
    gave them. Then the command's --out (and --outputs) left out default to the environment's own folder."""
    config = load_config(args.config, source=display_path(args.config), environment=args.env)
    out = default_out_dir(args.env)
    if getattr(args, "out", ...) is None:
        args.out = out
    if getattr(args, "outputs", ...) is None:
        args.outputs = out / OUTPUTS_FILE_NAME
    return config


def environment_line(config: Config, config_path: Path) -> str | None:
    """The first line of a plan, a status or a deploy's summary: which environment it describes. None for the
    base config when it has no environments (the output is as it always was)."""
    if config.environment is not None:
        return f"environment {config.environment.name}: {config.source} with {config.environment.source}"
    names = environment_names(config_path)
    if not names:
        return None
    return f"base config {config.source}, no environment (--env NAME, make ENV=NAME: one of {', '.join(names)})"


def environment_json(config: Config) -> dict[str, str | None]:
    """What a JSON document says of its environment: {"environment": "prod"} (null: the base config)."""
    return {"environment": config.environment.name if config.environment else None}


def describe_config(config: Config) -> str:
    """Which config, and which environment of it, a result is about: `config/config.yaml` or `environment
    prod (config/config.yaml with config/environments/prod.yaml)`."""
    if config.environment is None:
        return config.source
    return f"environment {config.environment.name} ({config.source} with {config.environment.source})"


def add_json_option(command: argparse.ArgumentParser, summary: str = "print the result as one JSON document") -> None:
    """--json: one JSON document on stdout (generator.cli.json_output.print_json), progress and notes on stderr.
    A command refused with --json still prints one document: {"ok": false, "problems": [...]} (main)."""
    command.add_argument("--json", action="store_true", help=f"{summary}; progress and notes go to stderr")


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
    command.add_argument(
        "--env",
        metavar="NAME",
        help="the environment: lay environments/NAME.yaml (beside the config) over the config; its stacks and "
        "its out folder (./out/NAME) are its own",
    )
    command.set_defaults(handler=handler)
    return command
