"""One region's packet counter function: a lambda_runtime.py process and how to invoke it.

Invocations are one at a time (a region's function with concurrency 1). A handler that
runs past the function's timeout is killed, as Lambda does; a runtime that dies is
started again on the next invocation. Either way the batch fails with FunctionFailure.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
from typing import Any

from generator.local.gateway.lambda_runtime import read_frame, write_frame
from generator.resources import lambda_runtime_script

RUNTIME_SCRIPT = lambda_runtime_script()
START_TIMEOUT_SECONDS = 10.0


class FunctionFailure(Exception):
    """A batch got no result: the runtime timed out, died, or could not load the code."""


class FunctionProcess:
    def __init__(
        self,
        region: str,
        code: str,
        timeout_seconds: float,
        function_name: str,
        memory_mb: int,
    ) -> None:
        self.region = region
        self.timeout_seconds = timeout_seconds
        self.function = {
            "code": code,
            "function_name": function_name,
            "memory_mb": memory_mb,
            "timeout_seconds": timeout_seconds,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the runtime and hand it the code; wait_ready() then waits for it to load.

        Two steps so that a gateway can launch every region's runtime before waiting for any.
        """
        environment = {**os.environ, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        self._process = subprocess.Popen(
            [sys.executable, str(RUNTIME_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            # Its own process group: a Ctrl-C in the terminal goes to the gateway alone, which
            # flushes the open batch through this process before stopping it (closing stdin).
            # Sharing the group, it would die mid-batch, even while still starting.
            process_group=0,
        )
        self._send(self.function)

    def wait_ready(self) -> None:
        ready = self._receive(START_TIMEOUT_SECONDS, "starting")
        if not ready.get("ready"):
            self.stop()
            raise FunctionFailure(f"{self.region}: the function code does not load: {ready.get('error')}")

    def invoke(self, batch: dict[str, Any]) -> dict[str, Any]:
        """{"replies": [(address, bytes)], "problems": [...], "error": str | None, "seconds": the handler's
        run} for one batch."""
        if self._process is None or self._process.poll() is not None:
            self.start()
        self._send(batch)
        return self._receive(self.timeout_seconds, "invoking")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _close_pipes(process)
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _send(self, payload: object) -> None:
        try:
            write_frame(self._process.stdin, payload)  # type: ignore[union-attr, arg-type]
        except (BrokenPipeError, OSError) as error:
            self._fail(f"runtime is gone ({error})")

    def _receive(self, timeout: float, doing: str) -> dict[str, Any]:
        stdout = self._process.stdout  # type: ignore[union-attr]
        readable, _, _ = select.select([stdout], [], [], timeout)
        if not readable:
            self._fail(f"timed out after {timeout:g} s {doing}; runtime killed")
        try:
            return read_frame(stdout)  # type: ignore[arg-type]
        except EOFError:
            self._fail(f"runtime exited (status {self._process.wait()}) while {doing}")  # type: ignore[union-attr]
        raise AssertionError("unreachable")

    def _fail(self, why: str) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            _close_pipes(process)
        raise FunctionFailure(f"{self.region}: {why}")


def _close_pipes(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            stream.close()  # type: ignore[union-attr]
