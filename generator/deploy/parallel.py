"""Run one task per region on a bounded pool, and stop waiting cleanly on Ctrl-C."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

# Each region is its own CloudFormation endpoint, throttled on its own, and gets one stack: every region may be
# in flight at once. The default is above the aws partition's region count (34 in botocore 1.44), so no
# deploy is cut into waves; --max-parallel lowers it for a small machine. Every command uses it.
DEFAULT_MAX_PARALLEL = 40


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
