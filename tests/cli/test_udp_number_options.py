"""The number options of smoke, demo and local: a bad value is refused while the command line is read, in one
line saying what was expected, before anything is printed or sent (a real process and a loopback socket prove
nothing went out); a negative value reaches its option's own check."""

from __future__ import annotations

import argparse
import socket

import pytest

from generator.cli import build_parser
from generator.cli.argv import attach_negative_values, parse_command_line
from tests.support.cli import run_cli_in_process


def _sink() -> socket.socket:
    """A loopback UDP socket to point a command at: what it was sent can be read afterwards."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    return sink


def _received_nothing(sink: socket.socket) -> bool:
    # Called once the sender has exited: a loopback datagram is queued by the time sendto
    # returns, so an empty queue now means nothing was sent (no waiting involved).
    try:
        sink.recv(65536)
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # -5 after -n: argparse took it for an option (smoke has -4 and -6) and hid the cause.
        (["-n", "-5"], "argument -n/--packets: expected a whole number of packets from 1 to 1,000,000, got '-5'"),
        # 0 packets used to print "sending 0 packets" before failing.
        (["-n", "0"], "argument -n/--packets: expected a whole number of packets from 1 to 1,000,000, got '0'"),
        (["-n", "1e300"], "argument -n/--packets: expected a whole number of packets from 1 to 1,000,000, got '1e300'"),
        (
            ["--rate", "-100"],
            "argument --rate: expected a number of packets per second above 0 and at most 1,000,000, got '-100'",
        ),
    ],
)
def test_smoke_refuses_a_bad_count_before_printing_or_sending(words, expected):
    with _sink() as sink:
        result = run_cli_in_process("smoke", "--host", "127.0.0.1", "--port", sink.getsockname()[1], *words)
        assert _received_nothing(sink)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"python -m generator smoke: error: {expected}"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ["demo", "-n", "-5"],
            "demo: error: argument -n/--packets: expected a whole number of packets from 1 to 1,000,000, got '-5'",
        ),
        (
            ["local", "--concurrency", "-1"],
            "local: error: argument --concurrency: expected a whole number of processes from 1 to 64, got '-1'",
        ),
        (
            ["local", "--port", "-1"],
            "local: error: argument --port: expected a UDP port from 1 to 65535, or 0 for any free one, got '-1'",
        ),
    ],
)
def test_every_udp_command_refuses_a_bad_number_in_one_line(words, expected):
    result = run_cli_in_process(*words)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"python -m generator {expected}"


# What each number option expects, as its message says it; every option of smoke, demo and local.
PACKETS = "a whole number of packets from 1 to 1,000,000"
SOCKETS = "a whole number of sockets from 1 to "  # the rest depends on this machine's open-file limit
PROCESSES = "a whole number of processes from 1 to 64"
RATE = "a number of packets per second above 0 and at most 1,000,000"
SECONDS = "a number of seconds above 0 and at most 3,600"
PERCENT = "a percentage from 0 to 100"
SEND_PORT = "a UDP port from 1 to 65535"
LISTEN_PORT = "a UDP port from 1 to 65535, or 0 for any free one"
NUMBER_OPTIONS = {
    "smoke": {
        "-n": ("-n/--packets", PACKETS),
        "--packets": ("-n/--packets", PACKETS),
        "--clients": ("--clients", SOCKETS),
        "--rate": ("--rate", RATE),
        "--timeout": ("--timeout", SECONDS),
        "--max-loss": ("--max-loss", PERCENT),
        "--port": ("--port", SEND_PORT),
    },
    "demo": {
        "-n": ("-n/--packets", PACKETS),
        "--clients": ("--clients", SOCKETS),
        "--rate": ("--rate", RATE),
        "--timeout": ("--timeout", SECONDS),
        "--max-loss": ("--max-loss", PERCENT),
        "--concurrency": ("--concurrency", PROCESSES),
        "--port": ("--port", LISTEN_PORT),
    },
    "local": {"--concurrency": ("--concurrency", PROCESSES), "--port": ("--port", LISTEN_PORT)},
}
BAD_VALUES = {
    PACKETS: ["-5", "0", "1.5", "-1e3", "ten", "", "1000001", "1e300"],
    SOCKETS: ["-5", "0", "1.5", "ten", "100000000"],
    PROCESSES: ["-5", "0", "65", "2.5"],
    RATE: ["-5", "0", "-0", "-0.5", "nan", "inf", "-inf", "x", "1e300", "1000001"],
    SECONDS: ["-5", "0", "-0", "-0.5", "nan", "inf", "-inf", "x", "1e300", "3601"],
    PERCENT: ["-5", "-0.01", "100.5", "nan", "-inf", "inf", "1e300"],
    SEND_PORT: ["-5", "0", "65536", "2.5", "http"],
    LISTEN_PORT: ["-5", "-1", "65536", "2.5"],
}


def _parse(words: list[str]) -> None:
    """Read `words` as `python -m generator WORDS` does (the same parser, the same rewriting)."""
    parse_command_line(build_parser(), words)


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        (command, option, value)
        for command, options in NUMBER_OPTIONS.items()
        for option, (_name, expected) in options.items()
        for value in BAD_VALUES[expected]
    ],
)
def test_every_number_option_refuses_a_bad_value_saying_what_it_expected(command, option, value, capsys):
    name, expected = NUMBER_OPTIONS[command][option]
    with pytest.raises(SystemExit) as exited:
        _parse([command, option, value])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = captured.err.splitlines()[-1]
    assert line.startswith(f"python -m generator {command}: error: argument {name}: expected {expected}"), line
    assert line.endswith(f", got {value!r}"), line


def test_no_udp_command_has_a_number_option_without_a_checked_type():
    """A new option typed plain int or float would take -5 or 0 silently: each has a checking type."""
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    for name in ("smoke", "demo", "local", "local-control"):
        for action in commands.choices[name]._actions:
            assert action.type not in (int, float), f"{name} {'/'.join(action.option_strings)}"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["smoke", "-n", "-5"], ["smoke", "--packets=-5"]),
        (["smoke", "--packets", "-5"], ["smoke", "--packets=-5"]),
        (["smoke", "--pack", "-5"], ["smoke", "--packets=-5"]),  # argparse's abbreviations too
        (["smoke", "--timeout", "-.5", "-4"], ["smoke", "--timeout=-.5", "-4"]),
        (["smoke", "--rate", "-inf"], ["smoke", "--rate=-inf"]),
        (["demo", "--port", "-1", "-n", "5"], ["demo", "--port=-1", "-n", "5"]),
        # Left as they are: no value, an option, an attached value, after "--", a flag.
        (["smoke", "-4", "-n", "5"], ["smoke", "-4", "-n", "5"]),
        (["smoke", "-n", "--json"], ["smoke", "-n", "--json"]),
        (["smoke", "-n-5", "--packets=-5"], ["smoke", "-n-5", "--packets=-5"]),
        (["local-control", "--", "down", "-5"], ["local-control", "--", "down", "-5"]),
        (["smoke", "--json", "-5"], ["smoke", "--json", "-5"]),
        # A value that happens to be a subcommand's name stays a value.
        (["smoke", "--host", "demo", "-n", "-5"], ["smoke", "--host", "demo", "--packets=-5"]),
    ],
)
def test_a_negative_value_is_attached_to_its_option(words, expected):
    assert attach_negative_values(build_parser(), words) == expected


def test_good_numbers_still_read_as_before():
    args = parse_command_line(
        build_parser(),
        ["smoke", "-n", "7", "--clients", "2", "--rate", "0.5", "--max-loss", "12.5", "--port", "9", "-6"],
    )
    assert (args.packets, args.clients, args.rate, args.max_loss, args.port) == (7, 2, 0.5, 12.5, 9)
    assert args.family == socket.AF_INET6


@pytest.mark.parametrize("command", ["smoke", "demo"])
def test_a_send_that_would_take_longer_than_a_day_is_refused_before_anything_runs(command, tmp_path):
    with _sink() as sink:
        where = ["--host", "127.0.0.1", "--port", sink.getsockname()[1]] if command == "smoke" else []
        out = ["--out", tmp_path / "out"] if command == "demo" else []
        result = run_cli_in_process(command, *where, *out, "-n", "1000000", "--rate", "1e-300")
        assert _received_nothing(sink)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line == (
        f"{command}: -n/--packets 1,000,000 at --rate 1e-300 would take 1e+306 s to send: at most 86,400 s "
        "(a day); raise --rate or lower -n"
    )
    assert not (tmp_path / "out").exists()
