"""EventBridge schedules, run: moto keeps rules but never fires them. Every enabled rule with a `rate(...)`
ScheduleExpression on a default event bus of the local cloud invokes its Lambda targets once a period, the first
time one period after the rule is first seen (as EventBridge's rate schedules start), with EventBridge's
"Scheduled Event" (or the target's Input). `clock_speed` runs the periods that many times faster, to rehearse a
5-minute canary in seconds. The function runs as the data plane runs functions (function_pool.run_invocation),
with the local cloud's Lambda's code and configuration, and its logs go to CloudWatch Logs like any invocation's.

`cron(...)` expressions are not run (said once per rule on the log). A function's runs are one at a time; a run
that comes due while the one before is still going waits for it, and further ones are skipped until then.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events.models import events_backends

from generator.local.cloud.lambda_functions import DeployedFunctions
from generator.local.gateway.function_pool import Invocation, run_invocation
from generator.local.gateway.function_process import FunctionProcess, FunctionSpec

LOG = logging.getLogger("generator.local.cloud")

_RATE = re.compile(r"rate\(\s*(?P<amount>[0-9]+)\s+(?P<unit>minutes?|hours?|days?)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
SCAN_SECONDS = 0.5  # how often the rules are looked at (a rule's first run waits a period anyway)
MAX_RUNNING = 8  # invocations in flight at once, across every function


def rate_seconds(expression: str | None) -> float | None:
    """The period of a `rate(N unit)` expression in seconds; None for anything else (cron, none)."""
    match = _RATE.fullmatch((expression or "").strip())
    if not match or int(match["amount"]) < 1:
        return None
    return int(match["amount"]) * _UNIT_SECONDS[match["unit"].rstrip("s")]


class ScheduleRunner:
    """Fires the local cloud's rate schedules until stopped; `on_invocation` hears each run."""

    def __init__(
        self,
        functions: DeployedFunctions,
        on_invocation: Callable[[Invocation], None],
        clock_speed: float = 1.0,
    ) -> None:
        self.clock_speed = clock_speed
        self._functions = functions
        self._on_invocation = on_invocation
        self._due: dict[str, float] = {}  # rule ARN -> when it next fires (time.monotonic())
        self._warned: set[str] = set()
        self._processes: dict[tuple[str, str, str], tuple[FunctionProcess, threading.Lock]] = {}
        self._pending: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._executor = concurrent.futures.ThreadPoolExecutor(MAX_RUNNING, thread_name_prefix="local-cloud-schedule")
        self._thread = threading.Thread(target=self._loop, name="local-cloud-schedules", daemon=True)

    def start(self) -> ScheduleRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.reset()

    def reset(self) -> None:
        """Forget every rule's timing and stop every function's environment (the local cloud was reset)."""
        with self._lock:
            processes, self._processes = list(self._processes.values()), {}
            self._due.clear()
        for process, lock in processes:
            with lock:
                process.stop()

    def _loop(self) -> None:
        while not self._stop.wait(SCAN_SECONDS):
            try:
                self._fire_due(time.monotonic())
            except Exception as error:  # moto changing under us: look again next time
                LOG.warning("schedules: %s: %s", type(error).__name__, error)

    def _fire_due(self, now: float) -> None:
        firing = []
        with self._lock:
            seen = set()
            for account, region, rule in _rules():
                period = rate_seconds(rule.scheduled_expression)
                if period is None:
                    if rule.arn not in self._warned:
                        self._warned.add(rule.arn)
                        LOG.warning("schedules: %s is not run here (only rate(...) schedules are)", rule.arn)
                    continue
                seen.add(rule.arn)
                step = period / self.clock_speed
                due = self._due.setdefault(rule.arn, now + step)
                if now >= due:
                    self._due[rule.arn] = max(due + step, now)  # a late fire is not made up for by a burst
                    firing += [(account, region, rule, target) for target in list(rule.targets)]
            for arn in set(self._due) - seen:  # deleted or disabled: its period starts again when it returns
                del self._due[arn]
        for account, region, rule, target in firing:
            self._submit(account, region, rule, target)

    def _submit(self, account: str, region: str, rule: Any, target: dict[str, Any]) -> None:
        spec = self._functions.spec(str(target.get("Arn", "")))
        if spec is None:
            return  # not a Lambda function of the local cloud (or deleted): EventBridge would fail the delivery
        with self._lock:
            if spec.key in self._pending:
                return  # the run before is still waiting or running
            self._pending.add(spec.key)
        event = _event_of(account, region, rule, target)
        self._executor.submit(self._run, spec, event)

    def _run(self, spec: FunctionSpec, event: dict[str, Any]) -> None:
        try:
            process, lock = self._process_for(spec)
            with lock:
                _result, invocation = run_invocation(process, {"event": event})
            self._on_invocation(invocation)
        finally:
            with self._lock:
                self._pending.discard(spec.key)

    def _process_for(self, spec: FunctionSpec) -> tuple[FunctionProcess, threading.Lock]:
        """The function's environment, a new one when its code or configuration changed."""
        with self._lock:
            found = self._processes.get(spec.key)
            if found is not None and found[0].spec == spec:
                return found
            self._processes[spec.key] = fresh = (FunctionProcess(spec), threading.Lock())
        if found is not None:
            with found[1]:
                found[0].stop()
        return fresh


def _rules():
    """(account, region, rule) of every rule of every event bus moto holds (without creating a backend)."""
    for account, regions in list(dict.items(events_backends)):
        for region, backend in list(dict.items(regions)):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if rule.state == "ENABLED" and rule.scheduled_expression:
                        yield account, region, rule


def _event_of(account: str, region: str, rule: Any, target: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge hands a target of a schedule: the target's Input, else the Scheduled Event."""
    if target.get("Input"):
        try:
            return json.loads(target["Input"])
        except ValueError:
            pass
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule.arn],
        "detail": {},
    }
