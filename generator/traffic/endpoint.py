"""Where the smoke client sends: HOST and PORT from flags, else from out/outputs.json.

A deploy writes the global stack's outputs there. Two shapes are read: a flat object
({"Domain": ..., "Port": ...}) and the list `describe-stacks` prints
([{"OutputKey": "Domain", "OutputValue": ...}, ...]).
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.errors import GeneratorError, Problem
from generator.paths import DEFAULT_OUT_DIR, OUTPUTS_FILE_NAME

DEFAULT_OUTPUTS_FILE = DEFAULT_OUT_DIR / OUTPUTS_FILE_NAME
MAX_PORT = 65535  # UDP ports are 16 bits; 0 is "any free port" when listening, never a destination


class EndpointError(GeneratorError):
    """No usable host or port to send packets to."""


def read_outputs(path: Path) -> dict[str, object]:
    """The stack outputs in `path` as {key: value}; {} when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise EndpointError([Problem(str(path), f"cannot read: {error.strerror or error}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise EndpointError([Problem(str(path), f"not valid JSON: {error.msg}", line=error.lineno)]) from None
    if isinstance(data, list):
        return {
            item["OutputKey"]: item.get("OutputValue")
            for item in data
            if isinstance(item, dict) and isinstance(item.get("OutputKey"), str)
        }
    if isinstance(data, dict):
        return data
    raise EndpointError([Problem(str(path), "expected an object of stack outputs or a list of OutputKey/OutputValue")])


def resolve_endpoint(host: str | None, port: int | None, outputs_path: Path = DEFAULT_OUTPUTS_FILE) -> tuple[str, int]:
    """HOST and PORT: the flags win; what is missing comes from the outputs file."""
    if host is None or port is None:
        outputs = read_outputs(outputs_path)
        if host is None:
            host = outputs.get("Domain") if isinstance(outputs.get("Domain"), str) else None
        if port is None and outputs.get("Port") is not None:
            try:
                port = int(str(outputs["Port"]))
            except ValueError:
                raise EndpointError(
                    [Problem(str(outputs_path), f"expected a port number, got {outputs['Port']!r}", key_path="Port")]
                ) from None
    problems = []
    if host is None:
        problems.append(
            Problem("smoke", f"no host: pass HOST=... (or --host), or deploy first so {outputs_path} has a Domain")
        )
    if port is None:
        problems.append(
            Problem("smoke", f"no port: pass PORT=... (or --port), or deploy first so {outputs_path} has a Port")
        )
    elif not 1 <= port <= MAX_PORT:
        problems.append(Problem("smoke", f"port {port} is out of range (1..{MAX_PORT})"))
    if problems:
        raise EndpointError(problems)
    return host, port  # type: ignore[return-value]
