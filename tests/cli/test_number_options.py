"""Every number option is bounded where the command line is read: a value out of its range, inf, nan, a
typo or a number of thousands of digits is refused by argparse in one line that names the option and the
range, exit 2, before the command prints, sends or writes anything.

The options are found from the parser itself, so a number option added later without a bounded type
fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from generator.cli import argv, build_parser
from generator.cli.argv import parse_command_line

COMMANDS = ("smoke", "canary", "logs", "tune", "local", "local-cloud", "local-control", "demo", "e2e")
# Every type a value option of those commands may have: paths and the bounded types of cli/argv.py.
BOUNDED = {
    argv.packets: "packets",
    argv.sockets: "sockets",
    argv.processes: "processes",
    argv.log_lines: "lines",
    argv.lambda_concurrency: "concurrent executions",
    argv.packets_per_second: "packets per second",
    argv.wait_seconds: "seconds",
    argv.delay_seconds: "seconds",
    argv.poll_seconds: "seconds",
    argv.milliseconds: "milliseconds",
    argv.clock_speed: "factor of real time",
    argv.percent: "percentage",
    argv.port_to_send_to: "port",
    argv.port_to_listen_on: "port",
    argv.tcp_port_to_listen_on: "port",
    argv.since_time: "duration",
}
HOSTILE = ["1e300", "-1e300", "inf", "-inf", "nan", "1e999", "9" * 400, "1" + "0" * 5000, "0x10", "", "ten", "1e3x"]


def _commands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {name: subparsers.choices[name] for name in COMMANDS}


def _number_options() -> list[tuple[str, str, str]]:
    """(command, the option as typed, the option as argparse names it) for every bounded option."""
    found = []
    for command, parser in _commands().items():
        for action in parser._actions:
            if action.type in BOUNDED:
                found.append((command, action.option_strings[-1], "/".join(action.option_strings)))
    return found


def _refusal(words: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        parse_command_line(build_parser(), words)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err.splitlines()[-1]


def test_every_value_option_has_a_path_or_a_bounded_type():
    for command, parser in _commands().items():
        for action in parser._actions:
            if action.option_strings and action.nargs != 0 and action.type is not None:
                assert action.type is Path or action.type in BOUNDED, f"{command} {action.option_strings}"


def test_the_options_the_task_names_are_all_bounded():
    found = {(command, typed) for command, typed, _ in _number_options()}
    for command, option in [
        ("smoke", "--packets"),
        ("smoke", "--rate"),
        ("smoke", "--clients"),
        ("smoke", "--timeout"),
        ("smoke", "--max-loss"),
        ("smoke", "--port"),
        ("canary", "--packets"),
        ("canary", "--wait"),
        ("canary", "--max-loss"),
        ("logs", "--poll"),
        ("logs", "--limit"),
        ("logs", "--since"),
        ("tune", "--rate"),
        ("tune", "--clients"),
        ("tune", "--seconds"),
        ("tune", "--p99"),
        ("local", "--concurrency"),
        ("local", "--port"),
        ("local-cloud", "--port"),
        ("local-cloud", "--delay"),
        ("local-cloud", "--lambda-concurrency"),
        ("local-cloud", "--clock-speed"),
        ("local-control", "--port"),
        ("e2e", "--packets"),
        ("e2e", "--max-loss"),
        ("e2e", "--timeout"),
        ("e2e", "--poll"),
        ("demo", "--concurrency"),
        ("demo", "--clients"),
        ("demo", "--packets"),
    ]:
        assert (command, option) in found


@pytest.mark.parametrize(("command", "option", "name"), _number_options())
@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_number_is_refused_in_one_line_naming_the_option_and_its_range(command, option, name, value, capsys):
    line = _refusal([command, f"{option}={value}"], capsys)
    assert line.startswith(f"python -m generator {command}: error: argument {name}: expected "), line
    # The range: "from 1 to 1,000,000", "above 0 and at most 3,600", "at most 3,653d", ...
    assert re.search(r"(from [\d.]+ to [\d,.]+|above [\d.]+ and at most [\d,.]+|at most [\d,]+d)", line), line
    assert len(line) < 400  # a 5,000-digit value is shown cut, not whole


@pytest.mark.parametrize(
    ("words", "accepted", "refused"),
    [
        (["smoke", "--packets"], "1000000", "1000001"),
        (["smoke", "--rate"], "1000000", "1000000.5"),
        (["smoke", "--timeout"], "3600", "3600.01"),
        (["smoke", "--max-loss"], "100", "100.01"),
        (["canary", "--wait"], "3600", "3601"),
        (["canary", "--max-loss"], "0", "-0.01"),
        (["logs", "--poll"], "0.05", "0.04"),
        (["logs", "--limit"], "1000000", "1000001"),
        (["tune", "--p99"], "3600000", "3600001"),
        (["tune", "--seconds"], "3600", "3601"),
        (["local", "--concurrency"], "64", "65"),
        (["local-cloud", "--delay"], "0", "3600.5"),
        (["local-cloud", "--lambda-concurrency"], "10", "9"),  # a new account's quota is the least there is
        (["local-cloud", "--lambda-concurrency"], "1000000", "1000001"),
        (["local-cloud", "--clock-speed"], "3600", "3600.5"),
        (["e2e", "--max-loss"], "100", "100.01"),
    ],
)
def test_each_bound_is_the_last_value_taken(words, accepted, refused, capsys):
    command, option = words
    args = parse_command_line(build_parser(), [command, option, accepted])
    assert getattr(args, option.lstrip("-").replace("-", "_")) == float(accepted)
    assert "expected" in _refusal([command, option, refused], capsys)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["smoke", "--rate", "1e300"], "expected a number of packets per second above 0 and at most 1,000,000"),
        (["smoke", "-n", "1e300"], "expected a whole number of packets from 1 to 1,000,000"),
        (["canary", "--wait", "inf"], "expected a number of seconds above 0 and at most 3,600"),
        (["canary", "--max-loss", "150"], "expected a percentage from 0 to 100"),
        (["tune", "--p99", "nan"], "expected a number of milliseconds above 0 and at most 3,600,000"),
        (["local", "--concurrency", "100000"], "expected a whole number of processes from 1 to 64"),
        (["logs", "--limit", "1e300"], "expected a whole number of lines from 1 to 1,000,000"),
        (["local-cloud", "--delay", "1e300"], "expected a number of seconds from 0 to 3,600"),
    ],
)
def test_the_message_says_what_the_option_takes(words, expected, capsys):
    assert expected in _refusal(words, capsys)
