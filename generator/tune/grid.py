"""The grid of batching settings to measure, and the workload that drives each one.

A grid value is checked against the same bounds as `destination.batching` in config.schema.json (the
one home of those bounds), so every setting measured is one a config may hold. A bad value is one
problem line naming the option and the value; nothing is measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from generator.config.schema import load_schema
from generator.errors import Problem, TuneError, shown
from generator.traffic.smoke import MAX_PACKETS_PER_RUN

DEFAULT_COUNTS = (1, 10, 100, 1000)
DEFAULT_TIMEOUTS = (0.05, 0.2, 1.0)
# Each setting is SECONDS of traffic and a gateway started and stopped: 100 of them (10 counts x 10 timeouts)
# is already most of an hour at the default 5 s.
MAX_SETTINGS = 100
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, order=True)
class Setting:
    """One batching setting: Proxylity's destination Batching Count and TimeoutInSeconds."""

    count: int
    timeout_in_seconds: float

    @property
    def label(self) -> str:
        return f"{self.count} / {self.timeout_in_seconds:g} s"


@dataclass(frozen=True)
class Grid:
    counts: tuple[int, ...]
    timeouts: tuple[float, ...]

    @property
    def settings(self) -> tuple[Setting, ...]:
        """Every (count, timeout) pair, count by count."""
        return tuple(Setting(count, timeout) for count in self.counts for timeout in self.timeouts)


@dataclass(frozen=True)
class Workload:
    """What the smoke client sends at each setting: `rate` packets/s from `clients` sockets for `seconds`."""

    rate: float
    clients: int
    seconds: float

    @property
    def packets(self) -> int:
        return round(self.rate * self.seconds)


def batching_bounds() -> dict[str, tuple[float, float]]:
    """{"count": (min, max), "timeout_in_seconds": (min, max)} from config.schema.json."""
    batching = load_schema()["properties"]["destination"]["properties"]["batching"]["properties"]
    return {key: (batching[key]["minimum"], batching[key]["maximum"]) for key in ("count", "timeout_in_seconds")}


def parse_grid(counts: Sequence[str], timeouts: Sequence[str]) -> Grid:
    """The grid from the words given for COUNTS and TIMEOUTS (each word may hold several values, separated
    by spaces or commas); sorted, duplicates dropped. Raises TuneError, one problem per bad value."""
    bounds = batching_bounds()
    low, high = bounds["count"]
    problems: list[Problem] = []
    parsed_counts: set[int] = set()
    for word in _values(counts):
        value = _number(word)
        if value is None or not value.is_integer() or not low <= value <= high:
            problems.append(Problem("tune", f"COUNTS: {shown(word)} is not a whole number from {low:g} to {high:g}"))
        else:
            parsed_counts.add(int(value))
    low, high = bounds["timeout_in_seconds"]
    parsed_timeouts: set[float] = set()
    for word in _values(timeouts):
        value = _number(word)
        if value is None or not low <= value <= high:
            problems.append(
                Problem("tune", f"TIMEOUTS: {shown(word)} is not a number of seconds from {low:g} to {high:g}")
            )
        else:
            parsed_timeouts.add(value)
    for name, words in (("COUNTS", counts), ("TIMEOUTS", timeouts)):
        if not _values(words):
            problems.append(Problem("tune", f"{name}: no value given"))
    settings = len(parsed_counts) * len(parsed_timeouts)
    if settings > MAX_SETTINGS:
        problems.append(
            Problem(
                "tune",
                f"COUNTS x TIMEOUTS is {len(parsed_counts)} x {len(parsed_timeouts)} = {settings:,} settings: "
                f"at most {MAX_SETTINGS} (each is SECONDS of traffic)",
            )
        )
    if problems:
        raise TuneError(problems)
    return Grid(tuple(sorted(parsed_counts)), tuple(sorted(parsed_timeouts)))


# Each setting is one smoke run.
MAX_PACKETS_PER_SETTING = MAX_PACKETS_PER_RUN


def check_workload(workload: Workload) -> None:
    """Refuse, in one line, a workload that would send no packet, or more than MAX_PACKETS_PER_SETTING."""
    total = workload.rate * workload.seconds
    if not math.isfinite(total) or total > MAX_PACKETS_PER_SETTING:
        raise TuneError(
            [
                Problem(
                    "tune",
                    f"RATE x SECONDS is {total:g} packets per setting: at most {MAX_PACKETS_PER_SETTING:,} "
                    "(lower RATE or SECONDS)",
                )
            ]
        )
    if workload.packets < 1:
        raise TuneError(
            [
                Problem(
                    "tune",
                    f"RATE x SECONDS is {workload.rate * workload.seconds:g} packets: at least one packet "
                    "is needed per setting",
                )
            ]
        )


def _values(words: Sequence[str]) -> list[str]:
    return [value for word in words for value in _SEPARATORS.split(word.strip()) if value]


def _number(word: str) -> float | None:
    try:
        value = float(word)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
