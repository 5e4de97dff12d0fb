"""The local UDP Gateway: datagrams in, batches through each region's function, replies out.

Threads, one job each: the receiver reads both sockets and cuts batches (by count, size
or time since the batch's first packet) and routes each to the region serving it at that
moment; one invoker per function process (`concurrency` per region) feeds its process and
sends the replies and reports each invocation (its region, packets and the handler's run) to
`on_invocation` when given; the control server (a Unix socket of the user's) marks regions down or up; with
add_latency, a delay line sends replies once the inter-region round trip has passed.
Memory stays bounded: a batch holds at most `count` datagrams and `size` bytes (a datagram
larger than `size` goes alone), and at most `queue_depth` batches wait per region; when they
are full the receiver waits and the kernel's socket buffer absorbs the burst (then drops, as
any UDP service does). The delay line holds at most what arrives in one round trip.
"""

from __future__ import annotations

import errno
import heapq
import itertools
import logging
import math
import os
import queue
import select
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.config import Batching, Config
from generator.errors import ControlError, GatewayError, Problem
from generator.local.gateway.control import ControlServer
from generator.local.gateway.function_process import FunctionFailure, FunctionProcess
from generator.local.gateway.routing import Router

LOG = logging.getLogger("generator.local.gateway")

LOOPBACK_HOSTS = ("127.0.0.1", "::1")
DEFAULT_PORT = 2000  # where `make local` listens unless told otherwise
MAX_DATAGRAM = 65536
# Without SizeInMb a batch is still cut at 4 MiB of data: base64 makes that ~5.4 MB of
# event, under Lambda's 6 MB synchronous payload limit.
DEFAULT_BATCH_BYTES = 4 * 1024 * 1024
RECEIVE_BUFFER_BYTES = 64 * 1024 * 1024
# Linux's SO_RCVBUFFORCE; Python's socket module does not name it.
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform.startswith("linux") else None)
BURST = 2048  # datagrams read per wake-up before checking the batch timer again


@dataclass(frozen=True)
class Invocation:
    """One batch handed to a region's function: the event `on_invocation` receives once it has run."""

    region: str
    packets: int
    handler_seconds: float | None  # how long the handler ran; None when the batch failed (timeout, crash)


@dataclass(frozen=True)
class GatewaySettings:
    """What one local gateway runs: the regions' function, its batching, and where it listens."""

    regions: tuple[str, ...]
    router: Router
    code: str
    batching: Batching
    formatter: str
    function_name: str
    function_memory_mb: int
    function_timeout_seconds: float
    port: int = DEFAULT_PORT
    hosts: tuple[str, ...] = LOOPBACK_HOSTS
    control: bool = False  # answer failover commands on a Unix socket (generator.local.gateway.control)
    control_directory: Path | None = None  # where that socket goes; None: the user's default
    add_latency: bool = False
    queue_depth: int = 16
    concurrency: int = 1  # function processes per region, as Lambda runs concurrent instances
    # Called from the invoker threads once per invocation, after its replies are sent or queued.
    on_invocation: Callable[[Invocation], None] | None = None

    @classmethod
    def from_config(cls, config: Config, code: str, router: Router, **overrides: Any) -> GatewaySettings:
        """The gateway a config describes (its regions, batching, formatter and function), with `overrides`."""
        settings = cls(
            regions=config.regions,
            router=router,
            code=code,
            batching=config.destination.batching,
            formatter=config.destination.formatter,
            function_name=config.function_name,
            function_memory_mb=config.function.memory_mb,
            function_timeout_seconds=config.function.timeout_seconds,
        )
        return replace(settings, **overrides)


@dataclass
class GatewayStats:
    datagrams: int = 0
    bytes: int = 0
    batches: Counter = field(default_factory=Counter)  # per serving region
    failed_batches: int = 0
    handler_errors: int = 0
    bad_replies: int = 0
    replies_sent: int = 0
    undeliverable: int = 0  # datagrams that arrived while every region was down

    def summary(self) -> str:
        per_region = ", ".join(f"{region} {count}" for region, count in sorted(self.batches.items())) or "none"
        return (
            f"{self.datagrams} datagrams ({self.bytes} bytes) in batches: {per_region}; "
            f"{self.replies_sent} replies sent; {self.failed_batches} batches failed; "
            f"{self.handler_errors} handler errors; {self.bad_replies} bad replies; "
            f"{self.undeliverable} datagrams with no region up"
        )


class _Throttled:
    """Log the first few of a kind of problem, then every 1000th, so a flood cannot flood the log."""

    def __init__(self) -> None:
        self._seen: Counter = Counter()

    def warn(self, kind: str, message: str, *args: object) -> None:
        self._seen[kind] += 1
        seen = self._seen[kind]
        if seen <= 10 or seen % 1000 == 0:
            LOG.warning(message + (" (%d so far)" if seen > 10 else ""), *args, *((seen,) if seen > 10 else ()))


class LocalGateway:
    """`with LocalGateway(settings) as gateway:` serves until the block ends."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.router = settings.router
        self.stats = GatewayStats()
        self._stats_lock = threading.Lock()
        self._log = _Throttled()
        self._stopping = threading.Event()
        self.control: ControlServer | None = None
        if settings.control and settings.port:
            # Claimed before the UDP port: a gateway already running on that port is then named
            # as such, rather than as "address already in use".
            self.control = ControlServer(self.router, settings.port, settings.control_directory)
        try:
            self._sockets = self._bind(settings.hosts, settings.port)
        except GatewayError:
            if self.control is not None:
                self.control.close()
            raise
        self.port = self._sockets[0].getsockname()[1]
        if settings.control and self.control is None:
            try:
                self.control = ControlServer(self.router, self.port, settings.control_directory)
            except ControlError:
                for sock in self._sockets:
                    sock.close()
                raise
        # What the kernel granted (Linux reports double the bytes set, for its bookkeeping).
        self.receive_buffer_bytes = min(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) for sock in self._sockets)
        if self.receive_buffer_bytes < RECEIVE_BUFFER_BYTES:
            # Without root SO_RCVBUFFORCE fails and net.core.rmem_max caps the buffer: say so
            # once, since a burst bigger than the buffer is dropped by the kernel unseen.
            LOG.warning(
                "receive buffer is %d KiB, not the %d MiB asked (capped by net.core.rmem_max): a burst may "
                "drop packets; to raise it: sudo sysctl -w net.core.rmem_max=%d",
                self.receive_buffer_bytes // 1024,
                RECEIVE_BUFFER_BYTES // (1024 * 1024),
                RECEIVE_BUFFER_BYTES,
            )
        self._by_family = {sock.family: sock for sock in self._sockets}
        self._local = {
            "4": {"Domain": "localhost", "Port": self.port},
            "6": {"Domain": "localhost", "Port": self.port},
        }
        limit = settings.batching.size_in_mb
        self._batch_bytes = int(limit * 1024 * 1024) if limit else DEFAULT_BATCH_BYTES
        self._queues: dict[str, queue.Queue] = {
            region: queue.Queue(settings.queue_depth) for region in settings.regions
        }
        self._functions = {
            (region, instance): FunctionProcess(
                region,
                settings.code,
                settings.function_timeout_seconds,
                settings.function_name,
                settings.function_memory_mb,
            )
            for region in settings.regions
            for instance in range(settings.concurrency)
        }
        self._sequence = itertools.count(1)
        # Batches cross to the runtime process as pickles of plain types: no enum of ours (it loads none).
        self._formatter = str(settings.formatter)
        self._delay_line = _DelayLine(self._send_reply) if settings.add_latency else None
        self._wake_read, self._wake_write = os.pipe()
        self._threads: list[threading.Thread] = []

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> LocalGateway:
        try:
            for function in self._functions.values():
                function.launch()
            for function in self._functions.values():
                function.wait_ready()
        except FunctionFailure as error:
            self._stopping.set()
            if self.control is not None:
                self.control.close()
            self._close()
            raise GatewayError([Problem("local gateway", str(error))]) from None
        self._threads = [threading.Thread(target=self._receive, name="gateway-receive", daemon=True)]
        self._threads += [
            threading.Thread(target=self._invoke, args=key, name=f"gateway-{key[0]}-{key[1]}", daemon=True)
            for key in self._functions
        ]
        for thread in self._threads:
            thread.start()
        if self.control is not None:
            self.control.start()
        if self._delay_line is not None:
            self._delay_line.start()
        return self

    def stop(self) -> None:
        """Flush the open batch, let the functions finish what is queued, then close everything."""
        if self._stopping.is_set():
            return  # stopped already, or start() failed and closed everything
        if not self._threads:  # never started: only the sockets to let go
            self._stopping.set()
            if self.control is not None:
                self.control.close()
            self._close()
            return
        self._stopping.set()
        os.write(self._wake_write, b"x")
        self._threads[0].join()
        for region, _instance in self._functions:
            self._queues[region].put(None)  # one stop per invoker
        for thread in self._threads[1:]:
            thread.join()
        if self._delay_line is not None:
            self._delay_line.stop()
        if self.control is not None:
            self.control.stop()
        self._close()

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _close(self) -> None:
        for function in self._functions.values():
            function.stop()
        for sock in self._sockets:
            sock.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    @staticmethod
    def _bind(hosts: tuple[str, ...], port: int) -> list[socket.socket]:
        """One socket per loopback address, all on the same port (an ephemeral one when port is 0).

        A host without IPv6 loopback is served on 127.0.0.1 alone, with a warning.
        """
        for _attempt in range(20):
            sockets: list[socket.socket] = []
            try:
                for host in hosts:
                    family = socket.AF_INET6 if ":" in host else socket.AF_INET
                    chosen = port if port or not sockets else sockets[0].getsockname()[1]
                    try:
                        sock = socket.socket(family, socket.SOCK_DGRAM)
                    except OSError as error:
                        if family == socket.AF_INET6 and len(hosts) > 1:
                            LOG.warning("no IPv6 here (%s): serving IPv4 only", error.strerror or error)
                            continue
                        raise
                    sockets.append(sock)
                    if family == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    grow_receive_buffer(sock)
                    try:
                        sock.bind((host, chosen))
                    except OSError as error:
                        if error.errno == errno.EADDRNOTAVAIL and family == socket.AF_INET6 and len(hosts) > 1:
                            LOG.warning("no %s here: serving IPv4 only", host)
                            sockets.pop().close()
                            continue
                        raise
                    sock.setblocking(False)
                if not sockets:
                    raise GatewayError([Problem("local gateway", "no loopback address to listen on")])
                return sockets
            except OSError as error:
                for sock in sockets:
                    sock.close()
                if port == 0 and len(sockets) > 1 and error.errno == errno.EADDRINUSE:
                    continue  # the ephemeral port was taken on the other address: try another
                raise GatewayError(
                    [Problem("local gateway", f"cannot listen on {host} UDP port {chosen}: {error.strerror or error}")]
                ) from None
        raise GatewayError([Problem("local gateway", "found no UDP port free on every loopback address")])

    @property
    def addresses(self) -> list[str]:
        """Where it listens, e.g. ["127.0.0.1:2000", "[::1]:2000"]."""
        return [
            f"[{sock.getsockname()[0]}]:{self.port}"
            if sock.family == socket.AF_INET6
            else f"{sock.getsockname()[0]}:{self.port}"
            for sock in self._sockets
        ]

    # -- receiving and batching ---------------------------------------------------------

    def _receive(self) -> None:
        count_limit = self.settings.batching.count
        size_limit = self._batch_bytes
        timeout = self.settings.batching.timeout_in_seconds
        by_fd = {sock.fileno(): sock for sock in self._sockets}
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        monotonic, wall_clock = time.monotonic, time.time
        datagrams: list[bytes] = []
        addresses: list[tuple] = []
        received: list[float] = []
        size = 0
        deadline = math.inf
        while True:
            # On stop, one last pass without waiting: datagrams the kernel already holds join
            # the open batch, which is then flushed rather than lost.
            stopping = self._stopping.is_set()
            if stopping:
                wait_ms = 0
            else:
                wait_ms = -1 if deadline == math.inf else max(0, math.ceil((deadline - monotonic()) * 1000))
            for fd, _event in poller.poll(wait_ms):
                sock = by_fd.get(fd)
                if sock is None:
                    continue  # the wake-up pipe: `stopping` is seen on the next pass
                receive = sock.recvfrom
                for _ in range(BURST):
                    try:
                        data, address = receive(MAX_DATAGRAM)
                    except BlockingIOError:
                        break
                    except OSError as error:  # e.g. an ICMP error queued on the socket
                        self._log.warn("socket", "receive error ignored: %s", error)
                        continue
                    if datagrams and size + len(data) > size_limit:
                        # This one would take the batch past SizeInMb: send the batch without it.
                        self._dispatch(datagrams, addresses, received, size)
                        datagrams, addresses, received, size = [], [], [], 0
                    if not datagrams:
                        deadline = monotonic() + timeout
                    datagrams.append(data)
                    addresses.append(address)
                    received.append(wall_clock())
                    size += len(data)
                    if len(datagrams) >= count_limit or size >= size_limit:
                        self._dispatch(datagrams, addresses, received, size)
                        datagrams, addresses, received, size, deadline = [], [], [], 0, math.inf
            if datagrams and monotonic() >= deadline:
                self._dispatch(datagrams, addresses, received, size)
                datagrams, addresses, received, size, deadline = [], [], [], 0, math.inf
            if stopping:
                break
        if datagrams:
            self._dispatch(datagrams, addresses, received, size)

    def _dispatch(self, datagrams: list[bytes], addresses: list[tuple], received: list[float], size: int) -> None:
        """Hand a full (or timed-out) batch to the serving region's invoker; wait while its queue is full."""
        self.stats.datagrams += len(datagrams)
        self.stats.bytes += size
        region = self.router.serving_region()
        if region is None:
            self.stats.undeliverable += len(datagrams)
            self._log.warn("down", "every region is down: %d datagrams dropped", len(datagrams))
            return
        batch = {
            "tag_prefix": f"{next(self._sequence):x}-",
            "datagrams": datagrams,
            "addresses": addresses,
            "received": received,
            "local": self._local,
            "formatter": self._formatter,
        }
        self.stats.batches[region] += 1
        # Blocks while the region's queue is full: the invoker keeps draining it (a hung
        # handler is killed after the function timeout), so this always ends.
        self._queues[region].put(batch)

    # -- invoking and replying ------------------------------------------------------------

    def _invoke(self, region: str, instance: int) -> None:
        function = self._functions[region, instance]
        region_queue = self._queues[region]
        while (batch := region_queue.get()) is not None:
            try:
                result = function.invoke(batch)
            except FunctionFailure as error:
                self._count(failed_batches=1)
                self._log.warn("failure", "batch of %d datagrams lost: %s", len(batch["datagrams"]), error)
                self._report(Invocation(region, len(batch["datagrams"]), None))
                continue
            if result["error"] is not None:
                self._count(handler_errors=1)
                self._log.warn("error", "%s: handler raised %s", region, result["error"])
            for problem in result["problems"]:
                self._count(bad_replies=1)
                self._log.warn("reply", "%s: handler %s", region, problem)
            delay = self.router.rtt_to(region) / 1000 if self._delay_line is not None else 0.0
            # The round trip adds to the handler's time, as in a cross-region invoke: the batch
            # travels there, is handled, the replies travel back. So due = ready + RTT.
            due = time.monotonic() + delay
            for address, payload in result["replies"]:
                if delay > 0:
                    self._delay_line.push(due, address, payload)  # type: ignore[union-attr]
                else:
                    self._send_reply(address, payload)
            self._report(Invocation(region, len(batch["datagrams"]), result.get("seconds")))

    def _report(self, invocation: Invocation) -> None:
        if self.settings.on_invocation is not None:
            self.settings.on_invocation(invocation)

    def _send_reply(self, address: tuple, payload: bytes) -> None:
        sock = self._by_family[socket.AF_INET6 if len(address) == 4 else socket.AF_INET]
        for attempt in range(2):
            try:
                sock.sendto(payload, address)
                self._count(replies_sent=1)
                return
            except BlockingIOError:
                if attempt == 0:  # the send buffer is full: give it a moment to drain, once
                    select.select([], [sock], [], 0.5)
                else:
                    self._log.warn("send", "send buffer full: a reply to %s was dropped", address[0])
            except OSError as error:
                self._log.warn("send", "cannot reply to %s: %s", address[0], error)
                return

    def _count(self, **increments: int) -> None:
        """Add to the counters the invoker and delay threads share (the receiver's own need no lock)."""
        with self._stats_lock:
            for name, amount in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + amount)


class _DelayLine:
    """Sends replies when they fall due: the inter-region latency of a cross-region invoke."""

    def __init__(self, send) -> None:
        self._send = send
        self._heap: list[tuple[float, int, tuple, bytes]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="gateway-delay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def push(self, due: float, address: tuple, payload: bytes) -> None:
        with self._condition:
            heapq.heappush(self._heap, (due, next(self._order), address, payload))
            self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    if self._stopping and not self._heap:
                        return
                    timeout = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._condition.wait(timeout)
                _due, _order, address, payload = heapq.heappop(self._heap)
            self._send(address, payload)


def grow_receive_buffer(sock: socket.socket) -> None:
    """A big receive buffer absorbs bursts while a batch is handed over.

    As root, SO_RCVBUFFORCE goes past net.core.rmem_max; otherwise SO_RCVBUF is capped by it.
    """
    try:
        if SO_RCVBUFFORCE is None:
            raise PermissionError
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER_BYTES)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
