"""Shell completion as a shell does it: the script `packet-counter completion bash` prints, loaded into a real
bash, whose completion function asks the real command (argcomplete's protocol) for the words."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from generator.cli import build_parser
from generator.config.regions import known_regions
from tests.support.cli import run_cli

BIN = Path(sys.executable).parent  # where the install put `packet-counter`

# Completes the line on stdin as bash does at TAB (the cursor at its end): prints COMPREPLY, one word a line. The
# script `packet-counter completion bash` printed is in $COMPLETION_SCRIPT (it is the same for every line).
COMPLETE = r"""
eval "$COMPLETION_SCRIPT"
IFS= read -r COMP_LINE
COMP_POINT=${#COMP_LINE}
read -r -a COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_python_argcomplete packet-counter
printf '%s\n' "${COMPREPLY[@]}"
"""

needs_bash = pytest.mark.skipif(
    shutil.which("bash") is None or not (BIN / "packet-counter").exists(), reason="needs bash and packet-counter"
)


@cache
def completion_script() -> str:
    """What `packet-counter completion bash` prints, as a user's .bashrc would eval it."""
    printed = subprocess.run(
        [str(BIN / "packet-counter"), "completion", "bash"], capture_output=True, text=True, timeout=60, check=True
    )
    return printed.stdout


def completions(line: str) -> list[str]:
    """What bash offers for `line`, each word as the shell would insert it (argcomplete adds the space)."""
    done = subprocess.run(
        ["bash", "-c", COMPLETE],
        input=line + "\n",
        env={
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "COMPLETION_SCRIPT": completion_script(),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [word.rstrip() for word in done.stdout.splitlines() if word]


def command_names() -> set[str]:
    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(commands.choices)


@needs_bash
def test_bash_completes_every_command():
    offered = set(completions("packet-counter "))
    assert command_names() <= offered
    assert {"init", "render", "deploy", "local-cloud", "tune", "completion"} <= offered
    assert set(completions("packet-counter lo")) == {"local", "local-control", "local-cloud", "local-names", "logs"}


@needs_bash
def test_bash_completes_the_options_of_a_command():
    assert set(completions("packet-counter render --")) >= {"--config", "--out", "--format", "--help"}
    assert completions("packet-counter render --format ") == ["json", "yaml"]


@needs_bash
def test_bash_completes_region_names_from_botocore_for_regions():
    assert set(completions("packet-counter deploy --regions ")) == set(known_regions())
    assert completions("packet-counter destroy --regions us-east-1 eu-we") == ["eu-west-1", "eu-west-2", "eu-west-3"]
    assert completions("packet-counter logs --regions us-east-1,ap-northeast-") == [
        f"us-east-1,{region}" for region in known_regions() if region.startswith("ap-northeast-")
    ]


@needs_bash
def test_the_bash_script_registers_the_command_with_bash():
    registered = subprocess.run(
        ["bash", "-c", 'eval "$(packet-counter completion bash)" && complete -p packet-counter'],
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.startswith("complete ") and registered.stdout.endswith(
        " -F _python_argcomplete packet-counter\n"
    )


def test_the_zsh_script_registers_the_command_with_zsh():
    zsh = run_cli("completion", "zsh")
    assert zsh.returncode == 0
    assert zsh.stdout.startswith("#compdef packet-counter\n")
    assert "compdef _python_argcomplete packet-counter" in zsh.stdout


def test_an_unknown_shell_is_refused_in_one_line():
    result = run_cli("completion", "fish")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith("argument shell: invalid choice: 'fish' (choose from 'bash', 'zsh')")


@needs_bash
def test_bash_completes_the_environments_beside_the_config(tmp_path):
    environments = tmp_path / "environments"
    environments.mkdir()
    for name in ("prod", "staging", "perf"):
        (environments / f"{name}.yaml").write_text("{}\n")
    config = tmp_path / "config.yaml"
    config.write_text("regions: [us-west-2]\n")

    assert sorted(completions(f"packet-counter status --config {config} --env p")) == ["perf", "prod"]
