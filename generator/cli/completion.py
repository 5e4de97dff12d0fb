"""Shell completion of `packet-counter` in bash and zsh, through argcomplete.

`packet-counter completion bash|zsh` prints the script that registers it with the shell. On each TAB the
shell runs the command itself with argcomplete's variables set; `autocomplete` (called by main before the
command line is read) then answers from the parser: the commands, their options (once a "-" is typed), the
choices of an option, region names from botocore for every option that takes a region, the environments beside
the config for --env, and file names for the rest.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import argcomplete

from generator.config.environments import environment_names
from generator.config.regions import known_regions
from generator.errors import ExitCode
from generator.paths import default_config

SHELLS = ("bash", "zsh")
# Options whose values are AWS region names, by their dest: --regions, --region, --ingress, --down, --fail-region.
REGION_OPTIONS = frozenset({"regions", "region", "ingress", "down", "fail_region"})


def register_completion_command(commands: argparse._SubParsersAction, program: str) -> None:
    """Add `completion` to the CLI (called once from generator.cli.main.build_parser)."""
    summary = "print the shell completion script (bash or zsh)"
    completion = commands.add_parser(
        "completion",
        help=summary,
        description=f"{summary}. To complete `{program}` in every new shell, add to ~/.bashrc: "
        f'eval "$({program} completion bash)", or to ~/.zshrc: eval "$({program} completion zsh)".',
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=lambda args: _print_script(args.shell, program))


def _print_script(shell: str, program: str) -> int:
    print(argcomplete.shellcode([program], shell=shell), end="")
    return ExitCode.OK


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell and exit when it asked for completions (argcomplete's variables set); else nothing."""
    for action in _all_actions(parser):
        if action.dest in REGION_OPTIONS:
            action.completer = complete_region  # type: ignore[attr-defined]  # argcomplete reads it
        elif action.dest == "env":
            action.completer = complete_environment  # type: ignore[attr-defined]
    # Options when a "-" is typed: after --regions, TAB offers regions, not every option of the command.
    argcomplete.autocomplete(parser, always_complete_options=False)


def complete_region(prefix: str, **_: object) -> list[str]:
    """Region names starting with `prefix`; after a comma (`us-east-1,eu-`), the next name of the list."""
    head, comma, last = prefix.rpartition(",")
    return [f"{head}{comma}{region}" for region in known_regions() if region.startswith(last)]


def complete_environment(prefix: str, parsed_args: argparse.Namespace | None = None, **_: object) -> list[str]:
    """The environments beside the config the command line names so far (or the default one)."""
    config = getattr(parsed_args, "config", None) or default_config()
    return [name for name in environment_names(config) if name.startswith(prefix)]


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from _all_actions(command)
