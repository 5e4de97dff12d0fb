"""Wide tables on a terminal: fitted to its width by rich, never a line wider than the terminal.

In a pipe or a file the tables stay plain aligned text (generator.cli.tables.format_table, tune's own), which a
script reads back; on a terminal the same headers and rows go through rich's Table: the columns a table marks
as wrapping (an ARN, a note) fold within what is left, and when even that does not fit, the columns of least
priority are left out, named under the table (--json has every column).
"""

from __future__ import annotations

import io
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.table import Table

GAP = 2  # spaces between columns, as in the plain tables
MIN_WRAPPED = 12  # the narrowest a wrapping column is folded to


@dataclass(frozen=True)
class Column:
    """A column of a fitted table: its header, the rank of the data it shows (0 is never left out; a higher
    rank goes first), whether it may fold onto more lines, and its alignment."""

    header: str
    rank: int = 0
    wraps: bool = False
    right: bool = False


def terminal_width(stream: TextIO | None = None) -> int | None:
    """The width of the terminal `stream` (default stdout) writes to; None when it is not a terminal."""
    stream = stream or sys.stdout
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):  # a closed or odd stream
        return None
    return shutil.get_terminal_size().columns


def fitted_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> str:
    """The table within `width` columns: wrapping columns folded, then columns of the highest rank left out
    until the rest fits (a line under the table names them)."""
    kept = list(range(len(columns)))
    while _narrowest(columns, rows, kept) > width and any(columns[i].rank for i in kept):
        worst = max(kept, key=lambda i: (columns[i].rank, i))
        kept.remove(worst)
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, GAP // 2), header_style="", expand=False)
    for index in kept:
        column = columns[index]
        table.add_column(
            column.header,
            justify="right" if column.right else "left",
            no_wrap=not column.wraps,
            overflow="fold" if column.wraps else "ellipsis",
            min_width=min(_widest(columns, rows, index), MIN_WRAPPED) if column.wraps else None,
        )
    for row in rows:
        table.add_row(*(row[index] for index in kept))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False, emoji=False, markup=False)
    console.print(table, crop=True)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    left_out = [columns[index].header for index in range(len(columns)) if index not in kept]
    if left_out:
        lines += wrapped(f"(left out for the terminal's width: {', '.join(left_out)}; --json has every column)", width)
    return "\n".join(lines)


def wrapped(text: str, width: int | None) -> list[str]:
    """`text` (one line of prose) broken at spaces to fit `width`; as it is when there is no width."""
    if width is None or len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _widest(columns: Sequence[Column], rows: Sequence[Sequence[str]], index: int) -> int:
    return max([len(columns[index].header), *(len(row[index]) for row in rows)])


def _narrowest(columns: Sequence[Column], rows: Sequence[Sequence[str]], kept: list[int]) -> int:
    """The fewest characters a line of the table needs with these columns."""
    widths = [
        min(_widest(columns, rows, i), MIN_WRAPPED) if columns[i].wraps else _widest(columns, rows, i) for i in kept
    ]
    return sum(widths) + GAP * (len(widths) - 1)
