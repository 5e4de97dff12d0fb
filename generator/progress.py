"""Live progress of many stacks, one line per stack, and the summary table at the end.

On a terminal the lines are rewritten in place (and the elapsed time ticks); otherwise a plain line
is printed whenever a stack's state or latest event changes, so logs stay readable.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from generator.changesets import StackResult
from generator.errors import one_line

FINAL_STATES = {"created", "updated", "unchanged", "skipped", "deleted", "absent", "FAILED"}


@dataclass
class _Row:
    region: str
    stack: str
    state: str = "waiting"
    event: str = ""
    started: float | None = None
    finished: float | None = None

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started


class Progress:
    """Thread-safe: workers call update(); the main thread calls close()."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None, tick: float = 1.0) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()
        self._drawn = 0
        self._closed = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.live:
            self._ticker = threading.Thread(target=self._tick, args=(tick,), daemon=True)
            self._ticker.start()

    @staticmethod
    def key(region: str, stack: str) -> str:
        return f"{region}/{stack}"

    def add(self, region: str, stack: str) -> None:
        with self._lock:
            self._rows.setdefault(self.key(region, stack), _Row(region, stack))
            self._redraw()

    def update(self, region: str, stack: str, state: str, event: str | None = None) -> None:
        with self._lock:
            row = self._rows.setdefault(self.key(region, stack), _Row(region, stack))
            now = time.monotonic()
            if row.started is None:
                row.started = now
            changed = state != row.state or (event is not None and event != row.event)
            row.state = state
            if event is not None:
                row.event = event
            if state in FINAL_STATES:
                row.finished = now
            if self.live:
                self._redraw()
            elif changed:
                self.stream.write(self._line(row, now) + "\n")
                self.stream.flush()

    def note(self, text: str) -> None:
        """A message that stays (printed above the live lines)."""
        with self._lock:
            self._clear()
            self.stream.write(text + "\n")
            self._redraw()

    def in_flight(self) -> list[str]:
        """The stacks started and not finished, e.g. when the user presses Ctrl-C."""
        with self._lock:
            return [
                f"{row.stack} in {row.region} ({row.state})"
                for row in self._rows.values()
                if row.started is not None and row.finished is None
            ]

    def close(self) -> None:
        self._closed.set()
        if self._ticker:
            self._ticker.join(timeout=2)
        with self._lock:
            if self.live:
                self._redraw()
                self._drawn = 0  # leave the final lines on screen

    def _tick(self, interval: float) -> None:
        while not self._closed.wait(interval):
            with self._lock:
                self._redraw()

    def _line(self, row: _Row, now: float) -> str:
        event = f"  {row.event}" if row.event else ""
        return f"{row.region:<15} {row.stack:<28} {row.state:<26} {row.elapsed(now):6.1f}s{event}"

    def _clear(self) -> None:
        if self.live and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _redraw(self) -> None:
        if not self.live:
            return
        self._clear()
        now = time.monotonic()
        for row in self._rows.values():
            self.stream.write("\x1b[2K" + self._line(row, now)[:200] + "\n")
        self._drawn = len(self._rows)
        self.stream.flush()


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
        for line in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return "\n".join(lines)


def summary_table(results: Sequence[StackResult], endpoint: str) -> str:
    """region, stack, action, duration, endpoint (the reasons of failures are failure_lines())."""
    rows = [
        (
            result.region,
            result.stack,
            result.action + (f" ({result.note})" if result.note else ""),
            f"{result.duration:.1f}s",
            endpoint if result.ok and result.action != "deleted" and endpoint else "-",
        )
        for result in results
    ]
    return format_table(("region", "stack", "action", "duration", "endpoint"), rows)


def failure_lines(results: Sequence[StackResult]) -> list[str]:
    """One line per stack short of what was asked: FAILED (or SKIPPED), region, stack and the reason."""
    return [f"{r.action.upper()} {r.region} {r.stack}: {one_line(r.reason)}" for r in results if not r.ok]
