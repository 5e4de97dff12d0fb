"""Run one task per region on a bounded pool, and stop waiting cleanly on Ctrl-C."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

# CloudFormation throttles per region and each region gets one stack, so many regions may be in flight at
# once; the bound is for the machine running this and for very large region lists. Every command uses it.
DEFAULT_MAX_PARALLEL = 16


class Interrupted(Exception):
    """Ctrl-C while stacks were in progress; `in_flight` names them (CloudFormation carries on)."""

    def __init__(self, in_flight: list[str]) -> None:
        super().__init__(", ".join(in_flight))
        self.in_flight = in_flight


def run_parallel(
    tasks: Mapping[str, Callable[[], T]],
    max_parallel: int,
    stop: threading.Event,
    in_flight: Callable[[], list[str]],
) -> dict[str, T]:
    """Every task's result by key; at most `max_parallel` at once (API throttling grows with it)."""
    results: dict[str, T] = {}
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_parallel), thread_name_prefix="region")
    try:
        futures = {executor.submit(task): key for key, task in tasks.items()}
        pending = set(futures)
        while pending:
            # A timeout keeps the main thread responsive to Ctrl-C.
            done, pending = concurrent.futures.wait(pending, timeout=0.2)
            for future in done:
                results[futures[future]] = future.result()
    except KeyboardInterrupt:
        stop.set()
        executor.shutdown(wait=False, cancel_futures=True)
        raise Interrupted(in_flight()) from None
    executor.shutdown(wait=True)
    return results
