"""`canary` and `logs` check every number as the command line is read, before anything is sent or asked."""

from __future__ import annotations

import argparse

import pytest

from generator.cli import build_parser
from generator.cli.argv import parse_command_line


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ["canary", "-n", "-5"],
            "canary: error: argument -n/--packets: expected a whole number of sockets from 1 to ",
        ),
        (
            ["canary", "--wait", "0"],
            "canary: error: argument --wait: expected a number of seconds above 0 and at most 3,600, got '0'",
        ),
        (
            ["canary", "--wait", "1e300"],
            "canary: error: argument --wait: expected a number of seconds above 0 and at most 3,600, got '1e300'",
        ),
        (
            ["canary", "--max-loss", "150"],
            "canary: error: argument --max-loss: expected a percentage from 0 to 100, got '150'",
        ),
        (
            ["canary", "--port", "70000"],
            "canary: error: argument --port: expected a UDP port from 1 to 65535, got '70000'",
        ),
        (
            ["logs", "--poll", "0"],
            "logs: error: argument --poll: expected a number of seconds from 0.05 to 3,600, got '0'",
        ),
        (
            ["logs", "--limit", "-1"],
            "logs: error: argument --limit: expected a whole number of lines from 1 to 1,000,000, got '-1'",
        ),
    ],
)
def test_a_bad_number_is_refused_saying_what_was_expected(words, expected, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_command_line(build_parser(), words)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"python -m generator {expected}")


def test_no_observe_command_has_a_number_option_without_a_checked_type():
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    for name in ("canary", "logs"):
        for action in commands.choices[name]._actions:
            assert action.type not in (int, float), f"{name} {'/'.join(action.option_strings)}"
