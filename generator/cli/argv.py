"""The command line as argparse should read it, and the types of its number options.

Every number option is bounded where it is read, by one of the types at the end of this module, one per
meaning (packets, sockets, seconds, ...): a value out of range, inf, nan or a typo is refused by argparse
in one line naming the option and the range, before the command does anything.

`OPTION -5` becomes `--long-option=-5` before argparse reads the words.

argparse reads a word that starts with "-" as an option rather than as a value whenever the
parser has an option that looks like a negative number (smoke's `-4` and `-6` do). Then
`smoke -n -5` fails with "argument -n/--packets: expected one argument", which hides the cause.
Written as `--packets=-5`, the value reaches the option's own type, whose message says what
was expected and what was given. Which options take one value is read from each (sub)parser's
actions, so a new option is covered without a list to keep up to date.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from generator.errors import shown
from generator.local.lambda_quotas import NEW_ACCOUNT_CONCURRENCY
from generator.observe.logs import parse_since
from generator.traffic.endpoint import MAX_PORT
from generator.traffic.open_files import open_files_note, sockets_allowed
from generator.traffic.smoke import MAX_PACKETS_PER_RUN

Number = TypeVar("Number", int, float)

# "--" ends the options: every word after it is a value, so nothing there is rewritten.
END_OF_OPTIONS = "--"


def parse_command_line(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """`parser.parse_args` on `argv` (default: sys.argv[1:]) with negative values attached to their options."""
    words = list(sys.argv[1:] if argv is None else argv)
    return parser.parse_args(attach_negative_values(parser, words))


def attach_negative_values(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """`words` with each `OPTION VALUE`, where OPTION takes one value and VALUE looks like a
    negative number, written as one word (`--option=VALUE`). Everything else is unchanged."""
    result: list[str] = []
    options = _one_value_options(parser)
    commands = _subcommands(parser)
    index = 0
    while index < len(words):
        word = words[index]
        if word == END_OF_OPTIONS:
            result.extend(words[index:])
            break
        joined = _option_joiner(parser, options, word)
        value = words[index + 1] if index + 1 < len(words) else None
        if joined is not None and value is not None:
            # The value of an option is never a subcommand's name: step over it either way.
            result.extend([joined + value] if _looks_negative(value) else [word, value])
            index += 2
            continue
        result.append(word)
        if word in commands:
            # From here on the words belong to the subcommand, and so do the options to look up.
            parser = commands[word]
            options = _one_value_options(parser)
            commands = _subcommands(parser)
        index += 1
    return result


def _looks_negative(word: str) -> bool:
    """-5, -0.5, -.5, -1e3, -inf, -nan, and a mistyped -5x: meant as a value, not as an option."""
    if not word.startswith("-") or word.startswith(END_OF_OPTIONS):
        return False
    if word[1:2].isdigit():
        return True
    try:
        float(word)
    except ValueError:
        return False
    return True


def _one_value_options(parser: argparse.ArgumentParser) -> dict[str, str]:
    """{option string: the prefix that attaches a value to it} for the options taking exactly one value.

    A long option attaches with "=" (`--packets=`); an option with only short strings attaches
    directly (`-n-5`), as argparse reads a short option's value written right after it.
    """
    attach: dict[str, str] = {}
    for action in parser._actions:
        if not action.option_strings or action.nargs not in (None, 1) or _takes_no_value(action):
            continue
        longs = [string for string in action.option_strings if string.startswith("--")]
        prefix = f"{longs[0]}=" if longs else action.option_strings[0]
        for string in action.option_strings:
            attach[string] = prefix
    return attach


def _takes_no_value(action: argparse.Action) -> bool:
    # store_true, store_const, count, help, version: argparse gives them nargs=0.
    return action.nargs == 0


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _option_joiner(parser: argparse.ArgumentParser, options: dict[str, str], word: str) -> str | None:
    """The prefix to attach a value to `word` when it names a one-value option, else None.

    argparse also accepts a long option abbreviated to a unique prefix (`--pack` for
    `--packets`); such a word is read the same way here.
    """
    if word in options:
        return options[word]
    if not word.startswith("--") or "=" in word or not parser.allow_abbrev:
        return None
    # Among every long option, as argparse counts them: `--ma` is no abbreviation when two options start so.
    matches = {string for string in parser._option_string_actions if string.startswith(word)}
    return options.get(matches.pop()) if len(matches) == 1 else None


def number_type(
    convert: Callable[[str], Number], accepts: Callable[[Number], bool], expected: str | Callable[[], str]
) -> Callable[[str], Number]:
    """An argparse type: `convert(text)` when it works and `accepts` the value, else one line
    saying what was `expected` and what was given (argparse puts the option's name in front).
    `expected` may be a function, for a range known only when the command line is read."""

    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            value = None
        if value is None or not accepts(value):
            wanted = expected() if callable(expected) else expected
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {shown(text)}")
        return value

    return parse


def whole_number(
    unit: str, low: int, high: int | Callable[[], int], why: Callable[[], str] | None = None
) -> Callable[[str], int]:
    """A count of `unit` from `low` to `high`, e.g. packets 1..1,000,000. `high` may be a function, read when
    the option is (the open-file limit of this process); `why` then explains it."""

    def top() -> int:
        return high() if callable(high) else high

    def expected() -> str:
        return f"a whole number of {unit} from {low:,} to {top():,}{why() if why else ''}"

    return number_type(int, lambda value: low <= value <= top(), expected)


def real_number(what: str, low: float, high: float, above_low: bool = False) -> Callable[[str], float]:
    """`what` ("a number of seconds"), finite, from `low` (or above it, with above_low) to `high`."""
    top = f"{int(high):,}" if float(high).is_integer() else f"{high:g}"
    expected = f"{what} above {low:g} and at most {top}" if above_low else f"{what} from {low:g} to {top}"

    def accepts(value: float) -> bool:
        return math.isfinite(value) and (value > low if above_low else value >= low) and value <= high

    return number_type(float, accepts, expected)


# The bounds of every number option, one per meaning; each command's --help and README.md quote them.
# Waits, timeouts, delays and polls: an hour is longer than any of them needs; a larger one is a typo.
MAX_WAIT_SECONDS = 3600.0
# Packets sent by one run: the smoke client keeps a send time per packet (a million is tens of MB).
MAX_PACKETS = MAX_PACKETS_PER_RUN
# Packets per second: well above what one machine sends through the smoke client.
MAX_RATE = 1_000_000.0
# Function processes per region of the local gateway: each is a Python process.
MAX_PROCESSES = 64
# Log lines shown by one `logs` run without --follow.
MAX_LOG_LINES = 1_000_000
# Polling faster than this is a busy loop against what is polled (CloudFormation's API and its throttling).
MIN_POLL_SECONDS = 0.05
# Lambda concurrent executions per account and region the local cloud models: from a new account's quota up to a
# million (AWS raises quotas to tens of thousands; more is a typo).
MAX_LAMBDA_CONCURRENCY = 1_000_000
# The local cloud's clock for schedules, as a factor of real time: an hour's schedule in a second at most.
MAX_CLOCK_SPEED = 3600.0

packets = whole_number("packets", 1, MAX_PACKETS)
# One socket (an open file) each: at most the open-file limit less a margin, read as the option is.
sockets = whole_number("sockets", 1, sockets_allowed, lambda: f" ({open_files_note()})")
processes = whole_number("processes", 1, MAX_PROCESSES)
log_lines = whole_number("lines", 1, MAX_LOG_LINES)
lambda_concurrency = whole_number("concurrent executions", NEW_ACCOUNT_CONCURRENCY, MAX_LAMBDA_CONCURRENCY)
packets_per_second = real_number("a number of packets per second", 0, MAX_RATE, above_low=True)
# A wait that must end: above 0 (0 would not wait at all), at most an hour.
wait_seconds = real_number("a number of seconds", 0, MAX_WAIT_SECONDS, above_low=True)
# A delay that may be none at all.
delay_seconds = real_number("a number of seconds", 0, MAX_WAIT_SECONDS)
# Polling without a pause would hammer what it polls.
poll_seconds = real_number("a number of seconds", MIN_POLL_SECONDS, MAX_WAIT_SECONDS)
clock_speed = real_number("a factor of real time", 0, MAX_CLOCK_SPEED, above_low=True)
milliseconds = real_number("a number of milliseconds", 0, 1000 * MAX_WAIT_SECONDS, above_low=True)
# Loss thresholds, as the config's max_loss_percent: 0 (none allowed) to 100.
percent = real_number("a percentage", 0, 100)
# UDP ports: one to send to, or one to listen on (0 asks the kernel for any free one).
port_to_send_to = number_type(int, lambda v: 1 <= v <= MAX_PORT, f"a UDP port from 1 to {MAX_PORT}")
port_to_listen_on = number_type(
    int, lambda v: 0 <= v <= MAX_PORT, f"a UDP port from 1 to {MAX_PORT}, or 0 for any free one"
)
# TCP port of the local cloud (0: any free one).
tcp_port_to_listen_on = number_type(
    int, lambda v: 0 <= v <= MAX_PORT, f"a TCP port from 1 to {MAX_PORT}, or 0 for any free one"
)


def since_time(text: str) -> int:
    """`logs --since`: 10m, 2h, 90s, 1d (at most 3,653 days) or an ISO time from 1970 on -> epoch ms."""
    try:
        return parse_since(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
