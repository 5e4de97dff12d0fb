"""The functions' logs of every selected region, merged in time order: `make logs`, like `sam logs --tail` but
across regions.

Sources: in every selected region the packet counter's log group, with the canary on the canary's, and with the
delivery log on the log group where Proxylity writes the delivery errors of that region.
Every read is bounded: at most MAX_PAGES pages per source per read, at most `limit` events per run without
--follow; a follow polls every `poll_seconds` and remembers only the event ids of the last LATE_SECONDS (events
CloudWatch ingests late, with an older timestamp, are still shown once: in the round they arrive in).

The engine reads and returns LogLines and LogNotes through callbacks; generator/cli/observe_commands.py prints.
"""

from __future__ import annotations

import concurrent.futures
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, aws_errors, fault_text
from generator.errors import shown

MAX_PAGES = 10  # FilterLogEvents pages per source per read (each at most 10,000 events or 1 MB)
PAGE_EVENTS = 10_000
DEFAULT_LIMIT = 10_000  # events shown by one run without --follow
DEFAULT_POLL_SECONDS = 2.0
LATE_SECONDS = 30  # a follow reads this far back each round, for events ingested late
MAX_WORKERS = 16
CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=15)
_SINCE = re.compile(r"(?P<amount>[0-9]+)\s*(?P<unit>s|m|h|d)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# CloudWatch Logs keeps events at most 10 years (3,653 days): a SINCE further back finds nothing more.
MAX_SINCE_DAYS = 3653
_EXPECTED_SINCE = (
    f"expected a duration such as 10m, 2h, 90s or 1d (at most {MAX_SINCE_DAYS:,}d), or a time such as "
    "2026-11-27T10:00:00Z (from 1970 on)"
)


@dataclass(frozen=True)
class LogSource:
    """One log group in one region; `kind` is counter, canary or delivery."""

    region: str
    kind: str
    group: str


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    region: str
    kind: str
    message: str
    event_id: str = field(compare=False)

    @property
    def when(self) -> str:
        """ISO-8601 UTC with milliseconds: 2026-11-27T10:00:00.123Z."""
        moment = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.timestamp_ms % 1000:03d}Z"


@dataclass(frozen=True)
class LogNote:
    """Something about a source the user should know: not there yet, refused, or more events than shown."""

    region: str
    kind: str
    text: str


OnLines = Callable[[list[LogLine]], None]
OnNote = Callable[[LogNote], None]


def parse_since(text: str, now: float | None = None) -> int:
    """`10m`, `2h`, `90s`, `1d` before now, or an ISO-8601 time (`2026-11-27T10:00:00Z`) -> epoch milliseconds.
    ValueError says what was expected: a duration of at most MAX_SINCE_DAYS, a time not before 1970."""
    now = time.time() if now is None else now
    match = _SINCE.fullmatch(text.strip())
    if match:
        amount = match["amount"].lstrip("0") or "0"
        seconds = int(amount) * _UNIT_SECONDS[match["unit"]] if len(amount) <= 12 else math.inf
        if seconds > MAX_SINCE_DAYS * 86400:
            raise ValueError(f"{_EXPECTED_SINCE}; got {shown(text)}")
        return int((now - seconds) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        milliseconds = int(moment.timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{_EXPECTED_SINCE}; got {shown(text)}") from None
    if milliseconds < 0:
        raise ValueError(f"{_EXPECTED_SINCE}; got {shown(text)}, before 1970")
    return milliseconds


def log_sources(config: Config, regions: Iterable[str]) -> list[LogSource]:
    """The log groups to read in each of `regions`: the functions', and Proxylity's delivery errors when the config
    keeps them (Proxylity writes them in the region that delivered, so every regional stack has that group)."""
    groups = dict(config.log_group_names)
    if config.observability.delivery_log_retention_days is not None:
        groups["delivery"] = config.delivery_log_group_name
    return [LogSource(region, kind, group) for region in regions for kind, group in groups.items()]


class LogClients:
    """CloudWatch Logs clients per region, made up front (a Session is not thread-safe; clients are)."""

    def __init__(self, regions: Iterable[str], profile: str | None = None, region: str | None = None) -> None:
        with aws_errors("CloudWatch Logs"):
            session = boto3.session.Session(profile_name=profile, region_name=region)
            self._clients = {name: session.client("logs", region_name=name, config=CLIENT_CONFIG) for name in regions}

    def __getitem__(self, region: str) -> Any:
        return self._clients[region]


class _Cursor:
    """Where a source was read up to, and the event ids already shown at or after `start - LATE_SECONDS`."""

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self.seen: dict[str, int] = {}  # event id -> timestamp

    def fresh(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        new = [event for event in events if event["eventId"] not in self.seen]
        for event in new:
            self.seen[event["eventId"]] = event["timestamp"]
        if new:
            self.start_ms = max(self.start_ms, max(event["timestamp"] for event in new))
        horizon = self.start_ms - LATE_SECONDS * 1000
        self.seen = {event_id: stamp for event_id, stamp in self.seen.items() if stamp >= horizon}
        return new


def read_logs(
    clients: LogClients,
    sources: list[LogSource],
    since_ms: int,
    on_lines: OnLines,
    on_note: OnNote,
    filter_pattern: str | None = None,
    follow: bool = False,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    limit: int = DEFAULT_LIMIT,
    stop: threading.Event | None = None,
) -> int:
    """Read every source from `since_ms`, hand the lines over merged in time order; with `follow`, keep polling
    until `stop` is set. Returns how many sources could be read at least once (0: none, a failed run)."""
    stop = stop or threading.Event()
    cursors = {source: _Cursor(since_ms) for source in sources}
    readable: set[LogSource] = set()
    noted: set[tuple[LogSource, str]] = set()

    def note(source: LogSource, text: str) -> None:
        if (source, text) not in noted:  # a follow says each thing once
            noted.add((source, text))
            on_note(LogNote(source.region, source.kind, text))

    workers = max(1, min(MAX_WORKERS, len(sources)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logs") as executor:
        first = True
        while True:
            window = limit if not follow else None
            rounds = {
                source: executor.submit(
                    _read_source, clients[source.region], source, cursors[source], filter_pattern, window, first
                )
                for source in sources
            }
            lines: list[LogLine] = []
            for source, future in rounds.items():
                events, problem = future.result()
                if problem is not None:
                    note(source, problem)
                    continue
                readable.add(source)
                lines += [
                    LogLine(event["timestamp"], source.region, source.kind, event.get("message", ""), event["eventId"])
                    for event in cursors[source].fresh(events)
                ]
            lines.sort(key=lambda line: (line.timestamp_ms, line.region, line.kind))
            if not follow and len(lines) > limit:
                on_note(
                    LogNote(
                        "",
                        "",
                        f"more than {limit:,} events since then: showing the first {limit:,}; "
                        "narrow with SINCE= or FILTER=",
                    )
                )
                lines = lines[:limit]
            if lines:
                on_lines(lines)
            first = False
            if not follow or stop.wait(poll_seconds):
                return len(readable)


def _read_source(
    client: Any, source: LogSource, cursor: _Cursor, filter_pattern: str | None, limit: int | None, first: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """The events of `source` from its cursor (reading LATE_SECONDS back after the first round), at most
    MAX_PAGES pages; or a problem in words."""
    start = cursor.start_ms if first else cursor.start_ms - LATE_SECONDS * 1000
    request: dict[str, Any] = {"logGroupName": source.group, "startTime": max(0, start), "limit": PAGE_EVENTS}
    if filter_pattern:
        request["filterPattern"] = filter_pattern
    events: list[dict[str, Any]] = []
    try:
        for _page in range(MAX_PAGES):
            answer = client.filter_log_events(**request)
            events += answer.get("events", [])
            token = answer.get("nextToken")
            if not token or (limit is not None and len(events) > limit):
                break
            request["nextToken"] = token
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return [], f"no log group {source.group} yet (not deployed here, or nothing logged)"
        return [], f"cannot read {source.group}: {fault_text(error)}"
    except AWS_FAULTS as error:
        return [], f"cannot read {source.group}: {fault_text(error)}"
    return events, None
