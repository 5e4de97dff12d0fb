"""Where the smoke client sends: HOST and PORT from flags, else from out/outputs.json (read by
generator.deploy.outputs, which owns that file's format)."""

from __future__ import annotations

from pathlib import Path

from generator.deploy.outputs import DEFAULT_OUTPUTS_FILE, read_outputs
from generator.errors import EndpointError, Problem

MAX_PORT = 65535  # UDP ports are 16 bits; 0 is "any free port" when listening, never a destination


def resolve_endpoint(
    host: str | None, port: int | None, outputs_path: Path = DEFAULT_OUTPUTS_FILE, source: str = "smoke"
) -> tuple[str, int]:
    """HOST and PORT: the flags win; what is missing comes from the outputs file. `source` names the command."""
    if host is None and port is None and not outputs_path.exists():
        # destroy removes the file with the listener: say that plainly, not which keys are missing.
        raise EndpointError(
            [
                Problem(
                    source,
                    f"nothing is deployed: there is no {outputs_path} (deploy writes it, destroy removes it); "
                    "deploy first, or pass HOST=... PORT=... (--host, --port) of a listener",
                )
            ]
        )
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
            Problem(source, f"no host: pass HOST=... (or --host), or deploy first so {outputs_path} has a Domain")
        )
    if port is None:
        problems.append(
            Problem(source, f"no port: pass PORT=... (or --port), or deploy first so {outputs_path} has a Port")
        )
    elif not 1 <= port <= MAX_PORT:
        problems.append(Problem(source, f"port {port} is out of range (1..{MAX_PORT})"))
    if problems:
        raise EndpointError(problems)
    return host, port  # type: ignore[return-value]
