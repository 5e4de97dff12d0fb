"""What an end-to-end run returns: its steps, each passed, failed or skipped with one line of why and its
figures, and what it leaves deployed. As data for out/e2e.json (as_json) and the JUnit report (junit.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: a step before it failed, or KEEP=1 kept what it would delete
    INTERRUPTED = "interrupted"  # Ctrl-C while it ran


@dataclass(frozen=True)
class StepResult:
    """One step: its name (the JUnit test case), how it ended, why in one line, how long, and its figures."""

    name: str
    status: StepStatus
    detail: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (StepStatus.PASSED, StepStatus.SKIPPED)


@dataclass
class E2EReport:
    """The whole run: its steps in order, when it started (ISO-8601 UTC), the config and regions it ran, the
    failover region, and the stacks it leaves deployed (KEEP=1, a failure to delete, Ctrl-C)."""

    config: str
    started: str
    regions: tuple[str, ...]
    failover: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    left_deployed: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.steps) and not self.interrupted and all(step.ok for step in self.steps)

    @property
    def seconds(self) -> float:
        return round(sum(step.seconds for step in self.steps), 3)

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["regions"] = list(self.regions)
        document["ok"] = self.ok
        document["seconds"] = self.seconds
        return document
