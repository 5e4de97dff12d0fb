"""Handler files embedded verbatim as a function's inline code (Code.ZipFile).

The limits are today's, not the old 4,096 characters CloudFormation once put on Code.ZipFile (removed; aws-cdk
pull request #20624 cites the change). AWS::Lambda::Function, Code.ZipFile: "AWS CloudFormation places it in a
file named index and zips it to create a deployment package. This zip file cannot exceed 4MB." The template that
carries the code is bound more tightly still: a template body passed inline is at most 51,200 bytes, which
render/templates.py checks for the whole template (and names the inline code when it is what takes the room).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from generator.errors import Problem, RenderError
from generator.resources import packet_counter_handler_file

# The deployment package CloudFormation makes of Code.ZipFile may be at most 4 MB; read as 4,000,000 bytes, the
# stricter of the two readings of "MB".
MAX_INLINE_PACKAGE_BYTES = 4_000_000
# The name CloudFormation gives the inline code inside the package, for a Python runtime.
INLINE_FILE_NAME = "index.py"


def inline_package_size(code: str) -> int:
    """Bytes of the zip CloudFormation would make of `code`, at most: stored without compression, which no
    compression CloudFormation may use makes larger for source text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as package:
        package.writestr(INLINE_FILE_NAME, code)
    return len(buffer.getvalue())


def read_handler_code(path: Path | None = None) -> str:
    """A handler file (default: the packet counter), verbatim: the same file the tests import; refused when
    the package CloudFormation makes of it inline would be over Lambda's bound."""
    path = path or packet_counter_handler_file()
    # A file larger than the bound is refused unread: its package could only be larger.
    size = path.stat().st_size
    if size <= MAX_INLINE_PACKAGE_BYTES:
        code = path.read_text(encoding="utf-8")
        if (size := inline_package_size(code)) <= MAX_INLINE_PACKAGE_BYTES:
            return code
    raise RenderError(
        [
            Problem(
                str(path),
                f"makes an inline code package of at least {size:,} bytes; CloudFormation's package of "
                f"Code.ZipFile may be at most 4 MB ({MAX_INLINE_PACKAGE_BYTES:,} bytes)",
            )
        ]
    )
