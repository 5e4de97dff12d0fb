"""One Lambda function's execution environment: a lambda_runtime.py process and how to invoke it.

FunctionSpec is what a function is, wherever it came from (the rendered template for `make local`, the local
cloud's Lambda for a deploy): its region, name, handler code, memory, timeout and environment. A process is
started with Lambda's own variables for that function (AWS_REGION of its region, AWS_LAMBDA_FUNCTION_NAME, ...),
the function's Environment, and none of the caller's AWS_ variables (its credentials are not the function's).

Invocations are one at a time (one execution environment). A handler that runs past the function's timeout is
killed, as Lambda does; a runtime that dies is started again on the next invocation. Either way the invocation
fails with FunctionFailure.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from generator.local.gateway.lambda_runtime import HOSTS_VARIABLE, read_frame, write_frame
from generator.resources import lambda_runtime_script

RUNTIME_SCRIPT = lambda_runtime_script()
START_TIMEOUT_SECONDS = 10.0


class FunctionFailure(Exception):
    """An invocation got no result: the runtime timed out, died, or could not load the code."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function as an execution environment runs it. Equal specs run in the same processes; a function
    whose code or configuration changes is a new spec, run by new processes (as Lambda starts new environments)."""

    region: str
    name: str
    code: str  # the handler module's source (index.py for inline code)
    memory_mb: int = 128
    timeout_seconds: float = 3.0
    handler: str = "handler"  # the function of the module Lambda calls (Handler "index.handler")
    module: str = "index"
    environment: tuple[tuple[str, str], ...] = ()  # the function's own Environment.Variables
    arn: str = ""
    account: str = ""
    capture_output: bool = False  # return what the handler prints (for CloudWatch Logs) rather than pass it on
    hosts_file: str = ""  # names resolved before the system resolver (lambda_runtime.HOSTS_VARIABLE)
    # Which deployment of the function this is: a function deleted and created again with the same code and
    # configuration is another one, with environments of its own (Lambda starts them cold).
    revision: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """Which function this is, whatever its version: (account, region, name)."""
        return (self.account, self.region, self.name)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    def process_environment(self) -> dict[str, str]:
        """The environment of a process running this function: the caller's without its AWS_ variables, then
        Lambda's variables of this function, then the function's own."""
        environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        environment |= {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": self.log_group,
            "_HANDLER": f"{self.module}.{self.handler}",
        }
        environment |= dict(self.environment)
        environment.pop(HOSTS_VARIABLE, None)
        if self.hosts_file:
            environment[HOSTS_VARIABLE] = self.hosts_file
        return environment


class FunctionProcess:
    """One execution environment of `spec`; started on its first invocation unless started before."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.region = spec.region
        self.timeout_seconds = spec.timeout_seconds
        # Lambda's log stream of one execution environment: date/[$LATEST]id
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.function = {
            "code": spec.code,
            "handler": spec.handler,
            "module": spec.module,
            "function_name": spec.name,
            "memory_mb": spec.memory_mb,
            "timeout_seconds": spec.timeout_seconds,
            "capture_output": spec.capture_output,
            "arn": spec.arn,
            "log_stream": self.log_stream,
        }
        self._process: subprocess.Popen[bytes] | None = None
        self._launched = 0.0
        # How long the environment took to start, until its first invocation reports it (Lambda's Init Duration).
        self._init_seconds: float | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the runtime and hand it the code; wait_ready() then waits for it to load.

        Two steps so that a gateway can launch every region's runtime before waiting for any.
        """
        self._launched = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, str(RUNTIME_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.spec.process_environment(),
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
        self._init_seconds = time.perf_counter() - self._launched

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def invoke(self, invocation: dict[str, Any]) -> dict[str, Any]:
        """One invocation: a Proxylity batch, or {"event": ...} for any other event; with "request_id".
        {"replies": [(address, bytes)], "problems": [...], "error": str | None, "seconds": the handler's run,
        "max_memory_mb", "init_seconds" (the first of an environment, else None) and with capture_output "output"}."""
        if not self.running:
            self.start()
        init_seconds, self._init_seconds = self._init_seconds, None
        self._send(invocation)
        return {**self._receive(self.timeout_seconds, "invoking"), "init_seconds": init_seconds}

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
