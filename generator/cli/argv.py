"""The command line as argparse should read it, and the types of its number options.

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

from generator.traffic.endpoint import MAX_PORT

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
    convert: Callable[[str], Number], accepts: Callable[[Number], bool], expected: str
) -> Callable[[str], Number]:
    """An argparse type: `convert(text)` when it works and `accepts` the value, else one line
    saying what was `expected` and what was given (argparse puts the option's name in front)."""

    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


# nan and inf would stall or skip a loop that waits or paces by it.
positive_number = number_type(float, lambda v: math.isfinite(v) and v > 0, "a finite number above 0")
# A share above 1 would switch a check on it off; nan compares false, so it is refused too.
share = number_type(float, lambda v: 0 <= v <= 1, "a share from 0 to 1 (5% is 0.05)")
# Counts of things to make (packets, sockets, processes): 0 would do nothing, a fraction means nothing.
at_least_one = number_type(int, lambda v: v >= 1, "a whole number of at least 1")
# A wait that may be none at all: 0 or more seconds, finite.
seconds_or_none = number_type(float, lambda v: math.isfinite(v) and v >= 0, "a finite number of seconds, 0 or more")
# UDP ports: one to send to, or one to listen on (0 asks the kernel for any free one).
port_to_send_to = number_type(int, lambda v: 1 <= v <= MAX_PORT, f"a UDP port from 1 to {MAX_PORT}")
port_to_listen_on = number_type(
    int, lambda v: 0 <= v <= MAX_PORT, f"a UDP port from 1 to {MAX_PORT}, or 0 for any free one"
)
