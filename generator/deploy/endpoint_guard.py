"""What keeps every CloudFormation call bounded and its failures plain, whatever stands at the endpoint.

An answer that is not CloudFormation's XML, or no answer at all, becomes one EndpointFault (a
BotoCoreError, so every caller treats it as any AWS failure) whose message names the endpoint, the
operation and the region; a slow call is announced once (CallWatch).
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.exceptions
from botocore.exceptions import BotoCoreError

# Errors that mean the endpoint did not answer (as opposed to answering "slow down"): timeouts, refused,
# reset or dropped connections.
UNANSWERED = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
EXAMPLE_ENDPOINT = "http://127.0.0.1:4566"


@dataclass(frozen=True)
class Timeouts:
    """How long one CloudFormation call may take before we say so, and before we give up on it."""

    connect: float  # seconds to open a connection
    read: float  # seconds to wait for an answer on an open connection
    unanswered_attempts: int  # attempts of one call that get no answer before it gives up
    notice_after: float  # seconds a call may run before we say what we are waiting for

    @property
    def worst_case(self) -> float:
        return self.unanswered_attempts * (self.connect + self.read)


# botocore's defaults (60 s read timeout, 10 attempts) let an endpoint that accepts connections and never
# answers hold a command for over ten minutes, silently. A CloudFormation API call answers within seconds,
# so these give up after about 3 x 15 s, and say what they wait for after 5 s.
DEFAULT_TIMEOUTS = Timeouts(connect=5.0, read=15.0, unanswered_attempts=3, notice_after=5.0)


class EndpointFault(BotoCoreError):
    """The endpoint answered something that is not CloudFormation's, or did not answer in time."""

    fmt = "{message}"


OnWait = Callable[[str], None]


class CallGuard:
    """The event handlers that keep one client's calls bounded and their failures plain.

    - before-parse: a 2xx answer must be XML whose root is <{Operation}Response> (holding its
      <{Operation}Result>); an error answer must be XML too (botocore itself copes with a 5xx that is
      empty or an HTML page). Otherwise botocore's parser raises ResponseParserError or KeyError.
    - needs-retry, registered first: botocore asks its handlers in order and takes the first answer
      that is not None. Throttling and 5xx get None here and so botocore's standard retries; an
      attempt that got no answer (timeout, refused or dropped connection) counts, and the attempt that
      reaches `unanswered_attempts` raises one EndpointFault (nothing retries that) instead of ten long
      retries.
    - before-call / after-call / after-call-error: tell the CallWatch what is in flight, and refuse at
      once an endpoint this run has already given up on.
    """

    STARTED = "packet_counter_started"  # key in botocore's per-call context
    UNANSWERED = "packet_counter_unanswered"

    def __init__(
        self, client: Any, region: str, timeouts: Timeouts, watch: CallWatch, given_up: dict[str, str]
    ) -> None:
        self.client = client
        self.region = region
        self.timeouts = timeouts
        self.watch = watch
        self.given_up = given_up
        self.endpoint = client.meta.endpoint_url
        self.service = client.meta.service_model.service_id  # CloudFormation, STS (StackSets read other accounts)

    def install(self) -> None:
        events = self.client.meta.events
        name = self.service.hyphenize()
        events.register_first(f"needs-retry.{name}", self.needs_retry)
        if self.client.meta.service_model.protocol == "query":  # CloudFormation, STS: an XML document per answer
            events.register(f"before-parse.{name}", self.check_answer)
        events.register(f"before-call.{name}", self.call_started)
        events.register(f"after-call.{name}", self.call_ended)
        events.register(f"after-call-error.{name}", self.call_ended)

    def describe(self, operation: str) -> str:
        return f"{self.service} {operation} in {self.region} at {self.endpoint}"

    def call_started(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.endpoint in self.given_up:
            raise EndpointFault(
                message=f"{self.describe(model.name)}: not asked, because {self.given_up[self.endpoint]}"
            )
        context[self.STARTED] = time.monotonic()
        self.watch.started(self.describe(model.name))

    def call_ended(self, **_: Any) -> None:
        self.watch.ended()

    def check_answer(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        status = response_dict.get("status_code", 0)
        problem = answer_problem(operation_model, status, response_dict.get("body") or b"")
        if problem:
            raise EndpointFault(
                message=f"{self.describe(operation_model.name)} answered HTTP {status} with {problem}; "
                f"is it {self.service} (or a local cloud such as {EXAMPLE_ENDPOINT})?"
            )

    def needs_retry(
        self, caught_exception: Exception | None, operation: Any, request_dict: dict[str, Any], **_: Any
    ) -> bool | None:
        if not isinstance(caught_exception, UNANSWERED):
            return None  # an answer (or a throttle): botocore's standard retries decide
        context = request_dict["context"]
        context[self.UNANSWERED] = context.get(self.UNANSWERED, 0) + 1
        if context[self.UNANSWERED] < self.timeouts.unanswered_attempts:
            return None
        waited = time.monotonic() - context.get(self.STARTED, time.monotonic())
        reason = (
            f"no answer after {context[self.UNANSWERED]} attempts in {waited:.1f}s "
            f"(connect timeout {self.timeouts.connect:g}s, read timeout {self.timeouts.read:g}s; "
            f"last: {' '.join(str(caught_exception).split())})"
        )
        self.given_up[self.endpoint] = f"{operation.name} in {self.region} got {reason}"
        raise EndpointFault(message=f"{self.describe(operation.name)}: {reason}; is the endpoint up and reachable?")


def answer_problem(operation_model: Any, status: int, body: bytes) -> str | None:
    """What is wrong with an answer to `operation_model`, or None when botocore can parse it."""
    if status >= 500 and (not body.strip() or body.strip().startswith(b"<html>")):
        return None  # botocore's generic 5xx error (retried as a server error)
    if not body.strip():
        return "an empty body"
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return f"something that is not XML ({_start_of(body)})"
    if status >= 300:
        return None  # botocore reads any XML error document
    expected = f"{operation_model.name}Response"
    if _local_name(root.tag) != expected:
        return f"<{_local_name(root.tag)}> where <{expected}> was expected ({_start_of(body)})"
    shape = operation_model.output_shape
    wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
    if wrapper and not any(_local_name(child.tag) == wrapper for child in root):
        return f"<{expected}> without its <{wrapper}>"
    return None


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _start_of(body: bytes, limit: int = 60) -> str:
    text = " ".join(body[:limit].decode("utf-8", "replace").split())
    return f"starts {text!r}" if len(body) <= limit else f"starts {text!r}..."


class CallWatch:
    """Says once what a call waits for when it takes longer than `notice_after` seconds.

    One thread per AwsClients, started by the first call and gone once no call has been in flight for
    IDLE_EXIT seconds (calls are keyed by thread: a thread makes one call at a time)."""

    TICK = 0.25
    IDLE_EXIT = 2.0

    def __init__(self, on_wait: OnWait, notice_after: float) -> None:
        self.on_wait = on_wait
        self.notice_after = notice_after
        self._lock = threading.Lock()
        self._calls: dict[int, tuple[str, float]] = {}  # thread -> (what, since)
        self._noticed: set[int] = set()
        self._thread: threading.Thread | None = None

    def started(self, what: str) -> None:
        with self._lock:
            key = threading.get_ident()
            self._calls[key] = (what, time.monotonic())
            self._noticed.discard(key)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="aws-call-watch", daemon=True)
                self._thread.start()

    def ended(self) -> None:
        with self._lock:
            self._calls.pop(threading.get_ident(), None)

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            time.sleep(self.TICK)
            with self._lock:
                now = time.monotonic()
                if self._calls:
                    idle_since = now
                elif now - idle_since >= self.IDLE_EXIT:
                    self._thread = None
                    return
                due = [
                    (key, what, now - since)
                    for key, (what, since) in self._calls.items()
                    if now - since >= self.notice_after and key not in self._noticed
                ]
                self._noticed.update(key for key, _, _ in due)
            for _, what, waited in due:
                self.on_wait(f"waiting for {what} (no answer for {waited:.1f}s) ...")
