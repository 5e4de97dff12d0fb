"""The errors a user can cause, with messages written for people.

Anything else that escapes is a bug in the generator and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is and what was expected."""

    source: str
    message: str
    key_path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.key_path}: {self.message}" if self.key_path else f"{where}: {self.message}"


class GeneratorError(Exception):
    """Base of every error meant for the user; str() is one line per problem."""

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(source="generator", message=problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(GeneratorError):
    """The config file cannot be read or does not describe a valid deployment."""


class RenderError(GeneratorError):
    """The config is valid but the rendered templates break a CloudFormation limit."""


class DeployError(GeneratorError):
    """A deploy, plan, status or destroy request cannot be carried out."""
