"""The errors a user can cause, with messages written for people, and the exit codes they end in.

Every error meant for the user is a GeneratorError subclass defined here, one per room or input it names
(the config, the templates, the deploy, the outputs file, the smoke client, the canary, the local gateway,
its routing and its control socket, the tuner, `init`, a missing extra), so `cli/` knows them all from one
module. An error of one problem is raised as `DeployError.of("--regions", "names no region")`. Anything else
that escapes is a bug in the generator and keeps its traceback.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Self


class ExitCode(IntEnum):
    """What a command's exit status means; every command uses these and no other numbers."""

    OK = 0
    # the work was tried and some of it failed: a region, AWS itself, loss above --max-loss, no batching
    # setting that `tune` measured meets its target
    FAILED = 1
    USAGE = 2  # the input is wrong: the config, the command line, a file named on it; nothing was changed
    CHANGES = 3  # plan only: the plan was made and a deploy would change something (terraform's -detailed-exitcode)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


# A problem is printed on one line: characters that would break the line (or the terminal) are escaped.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# However long a value the user gave, a problem line stays readable.
MAX_MESSAGE_CHARS = 1000


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` on one line: control characters escaped, cut to `limit` characters with a note."""
    escaped = _LINE_BREAKING.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
    if len(escaped) <= limit:
        return escaped
    return f"{escaped[:limit]}... ({len(escaped) - limit:,} more characters)"


def shown(value: object, limit: int = 80, quote: bool = True, as_json: bool = False) -> str:
    """A user's value as a message quotes it: 'text' (repr; "text" with as_json), true, null, 12; cut when
    long, so a 900 KB value is not echoed whole. `quote=False` takes text already formatted and only cuts it."""
    if not quote and isinstance(value, str):
        text = value
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False) if as_json else repr(value)
    elif isinstance(value, bool) or value is None:
        text = "true" if value is True else "false" if value is False else "null"
    else:
        text = repr(value) if isinstance(value, int | float) else str(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written out"
    return f"{text[:limit]}... ({size})"


def closest_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice a mistyped `word` most likely meant ("did you mean ...?"), or None."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return close[0] if close else None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is and what was expected."""

    source: str
    message: str
    key_path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = one_line(self.source) if self.line is None else f"{one_line(self.source)}:{self.line}"
        message = one_line(self.message)
        return f"{where}: {one_line(self.key_path)}: {message}" if self.key_path else f"{where}: {message}"


class GeneratorError(Exception):
    """Base of every error meant for the user; str() is one line per problem."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(source="generator", message=problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def of(cls, source: str, message: str, key_path: str = "", line: int | None = None) -> Self:
        """The error of one problem: `raise ConfigError.of(path, "no such file")`."""
        return cls([Problem(source, message, key_path, line)])


class ConfigError(GeneratorError):
    """The config file cannot be read or does not describe a valid deployment."""


class RenderError(GeneratorError):
    """The config is valid but the rendered templates break a CloudFormation limit."""


class DeployError(GeneratorError):
    """A deploy, plan, status or destroy request cannot be carried out as asked (nothing was changed)."""


class AwsError(GeneratorError):
    """AWS, or what stands at AWS_ENDPOINT_URL, could not be reached or refused: not the user's input."""

    exit_code = ExitCode.FAILED


class AlreadyRunning(DeployError):
    """Another deploy, plan or destroy holds the lock of this out dir; nothing was changed."""

    exit_code = ExitCode.FAILED


class OutputsFileError(GeneratorError):
    """The outputs file a client was pointed at cannot be read."""


class EndpointError(GeneratorError):
    """No usable host or port to send packets to."""


class SmokeError(GeneratorError):
    """The smoke client cannot send (host does not resolve, no socket)."""


class CanaryError(GeneratorError):
    """The canary code cannot be loaded."""


class GatewayError(GeneratorError):
    """The local gateway cannot start (port in use, bad settings)."""


class RoutingError(GeneratorError):
    """The latency table or the regions named for routing are not usable."""


class ControlError(GeneratorError):
    """The control socket cannot be set up or reached."""


class TuneError(GeneratorError):
    """The tuning cannot run as asked: a bad grid value, an unknown price region."""


class E2EError(GeneratorError):
    """`e2e` cannot run as asked (a FAILOVER region it does not deploy, stacks it did not make in the way);
    nothing was changed."""


class InitError(GeneratorError):
    """`init` cannot write the starter config: a file is in the way (without --force), or the folder is not usable;
    nothing was written."""


class MissingExtraError(GeneratorError):
    """The command needs an optional extra of the package (`local`, `tune`) that is not installed."""
