"""What the deploy engine reports while it works: typed events, handed to a callback the caller gives.

The engine never prints. A command line draws the events (generator/cli/progress.py); a test or a script
may collect them. EventRelay forwards them and remembers which stacks are in flight, which is what a
Ctrl-C needs to name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from generator.deploy.reports import Action, StackResult

# CloudFormation's statuses and our own final words (an Action) both arrive as `state`: an Action ends a row.
FINAL_STATES = frozenset(Action)


@dataclass(frozen=True)
class StackQueued:
    """A stack this run will work on (so a display can show it before it starts)."""

    region: str
    stack: str
    account: str = ""  # a StackSet instance's account; "" for a stack of the caller's account, or a StackSet


@dataclass(frozen=True)
class StackProgress:
    """A stack's state changed, or a new event of it arrived: CREATING_CHANGE_SET, CREATE_IN_PROGRESS, ...,
    and at the end an Action (one of FINAL_STATES)."""

    region: str
    stack: str
    state: str
    event: str | None = None  # the latest stack event, in words
    account: str = ""  # a StackSet instance's account (see StackQueued)

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class Notice:
    """Something the user should read and keep (e.g. a stack deleted before it is created again)."""

    text: str


@dataclass(frozen=True)
class Waiting:
    """An AWS call is taking long: what is being waited for."""

    text: str


Event = StackQueued | StackProgress | Notice | Waiting
OnEvent = Callable[[Event], None]
OnStackProgress = Callable[[str, str | None], None]  # (state, latest event) of one stack


def ignore(event: Event) -> None:
    """The default listener: a caller that wants no events."""


class EventRelay:
    """Forwards events to `on_event` (from any thread) and keeps which stacks have started and not finished."""

    def __init__(self, on_event: OnEvent | None = None) -> None:
        self._on_event = on_event or ignore
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str, str], str] = {}  # (account, region, stack) -> latest state

    def emit(self, event: Event) -> None:
        if isinstance(event, StackProgress):
            with self._lock:
                key = (event.account, event.region, event.stack)
                if event.final:
                    self._running.pop(key, None)
                else:
                    self._running[key] = event.state
        self._on_event(event)

    def queued(self, region: str, stack: str, account: str = "") -> None:
        self.emit(StackQueued(region, stack, account))

    def notice(self, text: str) -> None:
        self.emit(Notice(text))

    def waiting(self, text: str) -> None:
        self.emit(Waiting(text))

    def decided(
        self, region: str, stack: str, action: Action, reason: str = "", account: str = "", status: str = ""
    ) -> StackResult:
        """The row of a stack decided without an operation (unchanged, skipped), shown as final at once."""
        now = time.monotonic()
        self.for_stack(region, stack, account)(action, reason or None)
        return StackResult(
            region, stack, action, status=status, reason=reason, started=now, finished=now, account=account
        )

    def for_stack(self, region: str, stack: str, account: str = "") -> OnStackProgress:
        """The progress callback of one stack's operation (of one StackSet instance, with its account)."""
        return lambda state, event=None: self.emit(StackProgress(region, stack, state, event, account))

    def in_flight(self) -> list[str]:
        """The stacks started and not finished, e.g. when the user presses Ctrl-C."""
        with self._lock:
            return [
                f"{stack} in {region}{f' of account {account}' if account else ''} ({state})"
                for (account, region, stack), state in self._running.items()
            ]
