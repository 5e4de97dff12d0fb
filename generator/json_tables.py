"""The shipped JSON tables (region latencies, Lambda prices): read whole, or one line naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.errors import GeneratorError, Problem


def read_json_table(path: Path, error_type: type[GeneratorError], what: str) -> Any:
    """The JSON document at `path`; an unreadable or malformed file raises `error_type` with one problem."""
    source = str(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise error_type([Problem(source, f"cannot read {what}: {error.strerror or error}")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        detail = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
        line = error.lineno if isinstance(error, json.JSONDecodeError) else None
        raise error_type([Problem(source, f"not valid JSON: {detail}", line=line)]) from None
