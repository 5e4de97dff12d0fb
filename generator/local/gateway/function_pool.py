"""A function's execution environments and one Lambda invoke through them.

FunctionPool: `concurrency` runtime processes of one FunctionSpec, each fed by an invoker thread of its own from
one bounded queue, as Lambda runs concurrent instances. A process starts on its first invocation (a cold start)
unless launch() started it before. run_invocation: one invoke, with its request id and times, reported as an
Invocation (what Lambda would log as START, END and REPORT), whether the handler answered, raised or never ran.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.local.gateway.function_process import FunctionFailure, FunctionProcess, FunctionSpec


@dataclass(frozen=True)
class Invocation:
    """One invocation of a function, once it has run: the event `on_invocation` receives."""

    region: str
    packets: int  # datagrams in the batch (0 for an event that is not a batch)
    handler_seconds: float | None  # how long the handler ran; None when the invocation failed (timeout, crash)
    function: FunctionSpec | None = None
    request_id: str = ""
    log_stream: str = ""  # the execution environment's log stream
    started_at: float = 0.0  # wall clock (time.time()) when the invoke began, and when it ended
    ended_at: float = 0.0
    output: str = ""  # what the handler printed, when its spec captures output
    error: str | None = None  # the handler's exception, or why the invocation failed
    init_seconds: float | None = None  # the environment's start, on its first invocation
    max_memory_mb: int = 0


def run_invocation(process: FunctionProcess, payload: dict[str, Any], packets: int = 0) -> tuple[Any, Invocation]:
    """Invoke `process` with `payload` (a Proxylity batch, or {"event": ...}): the runtime's result (None when
    the invocation failed) and the Invocation that reports it."""
    request_id = str(uuid.uuid4())
    spec = process.spec
    started = time.time()
    try:
        result = process.invoke({**payload, "request_id": request_id})
    except FunctionFailure as error:
        failed = Invocation(
            spec.region, packets, None, spec, request_id, process.log_stream, started, time.time(), error=str(error)
        )
        return None, failed
    invocation = Invocation(
        spec.region,
        packets,
        result.get("seconds"),
        spec,
        request_id,
        process.log_stream,
        started,
        time.time(),
        output=result.get("output") or "",
        error=result.get("error"),
        init_seconds=result.get("init_seconds"),
        max_memory_mb=result.get("max_memory_mb") or 0,
    )
    return result, invocation


class FunctionPool:
    """`concurrency` execution environments of one function, each fed by an invoker thread from one queue of at
    most `queue_depth` batches; `on_batch(process, batch)` runs each batch in the invoker's thread."""

    def __init__(
        self,
        spec: FunctionSpec,
        concurrency: int,
        queue_depth: int,
        on_batch: Callable[[FunctionProcess, dict[str, Any]], None],
    ) -> None:
        self.spec = spec
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(queue_depth)
        self._on_batch = on_batch
        self._processes = [FunctionProcess(spec) for _ in range(concurrency)]
        self._threads = [
            threading.Thread(target=self._run, args=(process,), name=f"gateway-{spec.region}-{index}", daemon=True)
            for index, process in enumerate(self._processes)
        ]

    def launch(self) -> None:
        """Start every environment now and wait until each has loaded the code (FunctionFailure when one cannot):
        launched first, then waited on, so they start side by side."""
        for process in self._processes:
            process.launch()
        for process in self._processes:
            process.wait_ready()

    def start(self) -> FunctionPool:
        for thread in self._threads:
            thread.start()
        return self

    def put(self, batch: dict[str, Any]) -> None:
        """Queue a batch; waits while the queue is full (the invokers keep draining it: a hung handler is killed
        after the function's timeout, so this always ends)."""
        self._queue.put(batch)

    def stop(self) -> None:
        """Run what is queued, then stop the invokers and the environments."""
        started = [thread for thread in self._threads if thread.is_alive() or thread.ident is not None]
        for _thread in started:
            self._queue.put(None)  # one stop per invoker
        for thread in started:
            thread.join()
        for process in self._processes:
            process.stop()

    def _run(self, process: FunctionProcess) -> None:
        while (batch := self._queue.get()) is not None:
            self._on_batch(process, batch)
