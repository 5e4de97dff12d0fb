"""What a function's invocation logs, written to the local cloud's CloudWatch Logs as Lambda writes it: in the
function's own account and region, log group /aws/lambda/NAME (created when missing, as Lambda creates it), one
log stream per execution environment, and around what the handler printed Lambda's own lines:

    START RequestId: ID Version: $LATEST
    ... what the handler printed, one event per line (an exception: [ERROR] Type: message, and its traceback)
    END RequestId: ID
    REPORT RequestId: ID	Duration: 1.23 ms	Billed Duration: 2 ms	Memory Size: 128 MB	Max Memory Used: 30 MB

An environment's first invocation adds `Init Duration` to its REPORT line; an invocation that never returned
(timed out, crashed) logs Lambda's `Task timed out after N seconds` or the runtime's exit instead of the
handler's lines.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime

from moto.logs.models import logs_backends

from generator.local.gateway.function_pool import Invocation

LOG = logging.getLogger("generator.local.cloud")

_write_lock = threading.Lock()  # moto's log streams are plain lists: one writer at a time


def lambda_log_lines(invocation: Invocation) -> list[str]:
    """Lambda's lines for one invocation, in order."""
    spec = invocation.function
    memory = spec.memory_mb if spec is not None else 0
    request = invocation.request_id
    lines = [f"START RequestId: {request} Version: $LATEST"]
    if invocation.handler_seconds is None and spec is not None and "timed out" in (invocation.error or ""):
        lines.append(f"{_timestamp(invocation)} {request} Task timed out after {spec.timeout_seconds:.2f} seconds")
    elif invocation.handler_seconds is None:
        lines.append(f"{_timestamp(invocation)} {request} [ERROR] Runtime exited: {invocation.error}")
    lines += invocation.output.splitlines()
    lines.append(f"END RequestId: {request}")
    seconds = invocation.handler_seconds
    if seconds is None:
        seconds = invocation.ended_at - invocation.started_at
    milliseconds = seconds * 1000
    report = (
        f"REPORT RequestId: {request}\tDuration: {milliseconds:.2f} ms\tBilled Duration: "
        f"{max(1, math.ceil(milliseconds))} ms\tMemory Size: {memory} MB\tMax Memory Used: "
        f"{invocation.max_memory_mb} MB"
    )
    if invocation.init_seconds is not None:
        report += f"\tInit Duration: {invocation.init_seconds * 1000:.2f} ms"
    lines.append(report)
    return lines


def write_invocation_logs(invocation: Invocation) -> None:
    """Write the invocation's lines to its function's log group in the local cloud (never raises: logs that
    cannot be written are a warning, not a lost batch)."""
    spec = invocation.function
    if spec is None or not spec.account:
        return
    started_ms = int(invocation.started_at * 1000)
    ended_ms = max(started_ms, int(invocation.ended_at * 1000))
    lines = lambda_log_lines(invocation)
    # START when it began; what the handler printed and END, REPORT when it ended (in order, as PutLogEvents needs).
    events = [{"timestamp": started_ms, "message": lines[0]}]
    events += [{"timestamp": ended_ms, "message": line} for line in lines[1:]]
    try:
        backend = logs_backends[spec.account][spec.region]
        with _write_lock:
            backend.ensure_log_group(spec.log_group)
            group = backend.groups[spec.log_group]
            if invocation.log_stream not in group.streams:
                backend.create_log_stream(spec.log_group, invocation.log_stream)
            backend.put_log_events(spec.log_group, invocation.log_stream, events)
    except Exception as error:  # moto's own errors, or the log group deleted while we wrote
        LOG.warning("cannot write the logs of %s in %s: %s: %s", spec.name, spec.region, type(error).__name__, error)


def _timestamp(invocation: Invocation) -> str:
    """Lambda's ISO timestamp prefix of a platform error line."""
    return datetime.fromtimestamp(invocation.ended_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
