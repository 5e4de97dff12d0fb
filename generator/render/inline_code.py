"""Handler files embedded verbatim as a function's inline code (Code.ZipFile)."""

from __future__ import annotations

from pathlib import Path

from generator.errors import Problem, RenderError
from generator.resources import packet_counter_handler_file

# Lambda refuses inline code (Code.ZipFile) longer than this.
MAX_INLINE_CODE_CHARS = 4096


def read_handler_code(path: Path | None = None) -> str:
    """A handler file (default: the packet counter), verbatim: the same file the tests import; refused when
    Lambda would refuse it inline."""
    path = path or packet_counter_handler_file()
    code = path.read_text(encoding="utf-8")
    if len(code) > MAX_INLINE_CODE_CHARS:
        raise RenderError(
            [
                Problem(
                    str(path),
                    f"is {len(code):,} characters; Lambda inline code (Code.ZipFile) allows at most "
                    f"{MAX_INLINE_CODE_CHARS:,}",
                )
            ]
        )
    return code
