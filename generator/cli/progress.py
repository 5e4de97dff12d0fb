"""The deploy engine's events as they happen: one live row per stack.

On a terminal the live display is a rich Live table that fits the terminal's width and redraws in place;
anywhere else (a pipe, a log, CI) each change is one plain line, so logs stay readable.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.table import Table

from generator.cli.tables import account_cell
from generator.deploy import Event, Notice, StackProgress, StackQueued, Waiting
from generator.errors import one_line

REFRESHES_PER_SECOND = 4  # the live table's clock ticks this often


@dataclass
class _Row:
    region: str
    stack: str
    account: str = ""  # a StackSet instance's account
    state: str = "waiting"
    event: str = ""
    started: float | None = None
    finished: float | None = None

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started


class ProgressDisplay:
    """The on_event callback of deploy, plan and destroy: `with ProgressDisplay() as show: deploy(...,
    on_event=show)`. Thread-safe (events come from the region workers)."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None, console: Console | None = None) -> None:
        self._stream = stream  # None: sys.stdout as it is when a line is written
        self._console = console  # the live display's; None: one on the stream, as wide as the terminal
        self.live = self._out().isatty() if live is None else live
        self._rows: dict[tuple[str, str, str], _Row] = {}  # (account, region, stack)
        self._lock = threading.Lock()
        self._live: Live | None = None

    def _out(self) -> TextIO:
        return self._stream or sys.stdout

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            console = self._console or Console(file=self._out())
            self._live = Live(self, console=console, refresh_per_second=REFRESHES_PER_SECOND, transient=False)
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()  # the final table stays on screen
            self._live = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The live table stopped while the user is asked something, and started again after."""
        if self._live is None:
            yield
            return
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()

    def __call__(self, event: Event) -> None:
        if isinstance(event, StackQueued):
            with self._lock:
                key = (event.account, event.region, event.stack)
                self._rows.setdefault(key, _Row(event.region, event.stack, event.account))
        elif isinstance(event, StackProgress):
            self._progress(event)
        elif isinstance(event, Notice):
            self._say(event.text, self._out())
        elif isinstance(event, Waiting):
            self._say(event.text, sys.stderr)

    def _progress(self, event: StackProgress) -> None:
        with self._lock:
            key = (event.account, event.region, event.stack)
            row = self._rows.setdefault(key, _Row(event.region, event.stack, event.account))
            accounts = self._accounts()
            now = time.monotonic()
            if row.started is None:
                row.started = now
            changed = event.state != row.state or (event.event is not None and event.event != row.event)
            row.state = event.state
            if event.event is not None:
                row.event = event.event
            if event.final:
                row.finished = now
            line = plain_progress_line(row, now, accounts) if changed and not self.live else None
        if line is not None:
            self._say(line, self._out())

    def _accounts(self) -> bool:
        """Whether the rows have an account column: StackSet instances, each in its own account."""
        return any(row.account for row in self._rows.values())

    def _say(self, text: str, stream: TextIO) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            stream.write(text + "\n")
            stream.flush()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The live table, built afresh at each refresh (so the clock ticks) for the terminal's width: the first
        four columns (five with accounts) as wide as their widest cell, the latest event in what is left, cut
        with an ellipsis."""
        now = time.monotonic()
        with self._lock:
            accounts = self._accounts()  # StackSets: an account column first
            rows = [
                (
                    *((account_cell(r.account),) if accounts else ()),
                    r.region,
                    r.stack,
                    r.state,
                    f"{r.elapsed(now):.1f}s",
                )
                + (r.event,)
                for r in self._rows.values()
            ]
        names = (*(("account",) if accounts else ()), "region", "stack", "state", "time")
        widths = [max([len(name), *(len(row[index]) for row in rows)]) for index, name in enumerate(names)]
        left = options.max_width - sum(widths) - 2 * len(widths)  # two spaces between columns
        table = Table(box=None, pad_edge=False, expand=False, show_edge=False)
        for name, width in zip(names, widths, strict=True):
            table.add_column(name, no_wrap=True, width=width, justify="right" if name == "time" else "left")
        table.add_column("latest event", overflow="ellipsis", no_wrap=True, width=max(left, 1))
        for row in rows:
            table.add_row(*row)
        yield table


def plain_progress_line(row: _Row, now: float, accounts: bool = False) -> str:
    event = f"  {one_line(row.event)}" if row.event else ""
    account = f"{account_cell(row.account):<12} " if accounts else ""
    return f"{account}{row.region:<15} {row.stack:<28} {row.state:<26} {row.elapsed(now):6.1f}s{event}"
