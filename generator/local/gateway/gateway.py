"""The local UDP Gateway: datagrams in, batches through a function, replies out.

What it serves comes from a GatewaySource (sources.py), asked at every batch: the destination's batching and
formatter, and where the batch goes (the serving region's function). `make local` serves a config
(StaticSource); the local cloud serves each listener it creates from what is deployed, which may change while
it runs (generator/local/cloud/deployed_source.py). One data plane for both.

Threads, one job each: the receiver reads both sockets and cuts batches (by count, size or time since the
batch's first packet, as the destination says when the batch opens) and routes each to the function serving it
at that moment; each function has a pool of `concurrency` execution environments (function_pool.py), each fed
by an invoker thread that sends the replies and reports each invocation to `on_invocation` when given; the
control server (a Unix socket of the user's) marks regions down or up; with add_latency, a delay line sends
replies once the inter-region round trip has passed. A function whose code or configuration changes gets a new
pool (new environments, as Lambda starts); the old one finishes what it holds and stops.
Memory stays bounded: a batch holds at most `count` datagrams and `size` bytes (a datagram
larger than `size` goes alone), and at most `queue_depth` batches wait per function; when they
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
import select
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from generator.config import Config
from generator.errors import ControlError, GatewayError, Problem
from generator.local.gateway.control import ControlServer
from generator.local.gateway.function_pool import FunctionPool, Invocation, run_invocation
from generator.local.gateway.function_process import FunctionFailure, FunctionProcess, FunctionSpec
from generator.local.gateway.routing import Router
from generator.local.gateway.sources import GatewaySource, StaticSource

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

__all__ = ["DEFAULT_PORT", "GatewaySettings", "GatewayStats", "Invocation", "LocalGateway"]

# StaticSource's parts that GatewaySettings.from_config takes as overrides, beside the gateway's own settings.
_SOURCE_OVERRIDES = (
    "regions",
    "code",
    "batching",
    "formatter",
    "function_name",
    "function_memory_mb",
    "function_timeout_seconds",
)


@dataclass(frozen=True)
class GatewaySettings:
    """What one local gateway runs: the source of what it serves, and where and how it listens."""

    source: GatewaySource
    port: int = DEFAULT_PORT
    hosts: tuple[str, ...] = LOOPBACK_HOSTS
    control: bool = False  # answer failover commands on a Unix socket (needs a source with a Router)
    control_directory: Path | None = None  # where that socket goes; None: the user's default
    add_latency: bool = False
    queue_depth: int = 16
    concurrency: int = 1  # execution environments per function, as Lambda runs concurrent instances
    # Called from the invoker threads once per invocation, after its replies are sent or queued.
    on_invocation: Callable[[Invocation], None] | None = None

    @classmethod
    def from_config(cls, config: Config, code: str, router: Router, **overrides: Any) -> GatewaySettings:
        """The gateway a config describes (its regions, batching, formatter and function, the same code in every
        region, the region chosen by `router`), with `overrides` of those or of the gateway's own settings."""
        unknown = set(overrides) - set(_SOURCE_OVERRIDES) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
        part = {
            "regions": config.regions,
            "code": code,
            "batching": config.destination.batching,
            "formatter": config.destination.formatter,
            "function_name": config.function_name,
            "function_memory_mb": config.function.memory_mb,
            "function_timeout_seconds": config.function.timeout_seconds,
        }
        part |= {name: overrides.pop(name) for name in _SOURCE_OVERRIDES if name in overrides}
        source = StaticSource(
            router,
            part["regions"],
            part["code"],
            part["batching"],
            part["formatter"],
            part["function_name"],
            part["function_memory_mb"],
            part["function_timeout_seconds"],
        )
        return replace(cls(source=source), **overrides)


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
        self.source = settings.source
        self.router: Router | None = getattr(settings.source, "router", None)  # a static source's, for control
        self.stats = GatewayStats()
        self._stats_lock = threading.Lock()
        self._log = _Throttled()
        self._stopping = threading.Event()
        self.control: ControlServer | None = None
        if settings.control and self.router is None:
            raise GatewayError([Problem("local gateway", "failover control needs a gateway with a fixed config")])
        if settings.control and settings.port:
            # Claimed before the UDP port: a gateway already running on that port is then named
            # as such, rather than as "address already in use".
            self.control = ControlServer(self.router, settings.port, settings.control_directory)  # type: ignore[arg-type]
        try:
            self._sockets = self._bind(settings.hosts, settings.port)
        except GatewayError:
            if self.control is not None:
                self.control.close()
            raise
        self.port = self._sockets[0].getsockname()[1]
        if settings.control and self.control is None:
            try:
                self.control = ControlServer(self.router, self.port, settings.control_directory)  # type: ignore[arg-type]
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
        domain = self.source.domain
        self._local = {"4": {"Domain": domain, "Port": self.port}, "6": {"Domain": domain, "Port": self.port}}
        # One pool of execution environments per function (account, region, name), replaced when the function
        # changes; pools being replaced finish in threads of their own, joined at stop.
        self._pools: dict[tuple[str, str, str], FunctionPool] = {}
        self._pools_lock = threading.Lock()
        self._retiring: list[threading.Thread] = []
        self._sequence = itertools.count(1)
        self._delay_line = _DelayLine(self._send_reply) if settings.add_latency else None
        self._wake_read, self._wake_write = os.pipe()
        self._threads: list[threading.Thread] = []

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> LocalGateway:
        """Start the source's functions (their code checked), then serve."""
        try:
            pools = [self._new_pool(spec) for spec in self.source.functions_to_start()]
            with self._pools_lock:
                self._pools.update((pool.spec.key, pool) for pool in pools)
            for pool in pools:
                pool.launch()
        except FunctionFailure as error:
            self._stopping.set()
            if self.control is not None:
                self.control.close()
            self._close()
            raise GatewayError([Problem("local gateway", str(error))]) from None
        for pool in pools:
            pool.start()
        self._threads = [threading.Thread(target=self._receive, name="gateway-receive", daemon=True)]
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
        with self._pools_lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.stop()
        for thread in list(self._retiring):
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
        with self._pools_lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.stop()
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
        # The destination as it is when a batch opens decides how that batch is cut and encoded.
        destination = self.source.destination()
        count_limit, size_limit, timeout = self._limits(destination)
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
                        self._dispatch(datagrams, addresses, received, size, destination.formatter)
                        datagrams, addresses, received, size = [], [], [], 0
                    if not datagrams:
                        destination = self.source.destination()
                        count_limit, size_limit, timeout = self._limits(destination)
                        deadline = monotonic() + timeout
                    datagrams.append(data)
                    addresses.append(address)
                    received.append(wall_clock())
                    size += len(data)
                    if len(datagrams) >= count_limit or size >= size_limit:
                        self._dispatch(datagrams, addresses, received, size, destination.formatter)
                        datagrams, addresses, received, size, deadline = [], [], [], 0, math.inf
            if datagrams and monotonic() >= deadline:
                self._dispatch(datagrams, addresses, received, size, destination.formatter)
                datagrams, addresses, received, size, deadline = [], [], [], 0, math.inf
            if stopping:
                break
        if datagrams:
            self._dispatch(datagrams, addresses, received, size, destination.formatter)

    @staticmethod
    def _limits(destination: Any) -> tuple[int, int, float]:
        """A batch's most packets, most bytes and longest wait after its first packet."""
        batching = destination.batching
        size = int(batching.size_in_mb * 1024 * 1024) if batching.size_in_mb else DEFAULT_BATCH_BYTES
        return batching.count, size, batching.timeout_in_seconds

    def _dispatch(
        self, datagrams: list[bytes], addresses: list[tuple], received: list[float], size: int, formatter: str
    ) -> None:
        """Hand a full (or timed-out) batch to the serving function's pool; wait while its queue is full."""
        self.stats.datagrams += len(datagrams)
        self.stats.bytes += size
        delivery = self.source.route()
        if delivery is None:
            self.stats.undeliverable += len(datagrams)
            self._log.warn("down", "no region can take the batch: %d datagrams dropped", len(datagrams))
            return
        batch = {
            "tag_prefix": f"{next(self._sequence):x}-",
            "datagrams": datagrams,
            "addresses": addresses,
            "received": received,
            "local": self._local,
            "formatter": formatter,
            "ingress": self.source.ingress(),
            "rtt_ms": delivery.rtt_ms,
        }
        self.stats.batches[delivery.region] += 1
        self._pool_for(delivery.function).put(batch)

    def _new_pool(self, spec: FunctionSpec) -> FunctionPool:
        return FunctionPool(spec, self.settings.concurrency, self.settings.queue_depth, self._invoke)

    def _pool_for(self, spec: FunctionSpec) -> FunctionPool:
        """The pool running `spec`: the one there is, a new one (started on its first batch), or, when the
        function has changed, a new one in place of the old, which finishes its queue in a thread of its own."""
        with self._pools_lock:
            pool = self._pools.get(spec.key)
            if pool is not None and pool.spec == spec:
                return pool
            self._pools[spec.key] = fresh = self._new_pool(spec).start()
        if pool is not None:
            retiring = threading.Thread(target=pool.stop, name="gateway-retire", daemon=True)
            self._retiring = [thread for thread in self._retiring if thread.is_alive()] + [retiring]
            retiring.start()
        return fresh

    # -- invoking and replying ------------------------------------------------------------

    def _invoke(self, process: FunctionProcess, batch: dict[str, Any]) -> None:
        """One batch through one execution environment (an invoker thread's): replies out, the invocation
        reported."""
        region = process.region
        result, invocation = run_invocation(process, batch, len(batch["datagrams"]))
        if result is None:
            self._count(failed_batches=1)
            self._log.warn("failure", "batch of %d datagrams lost: %s", len(batch["datagrams"]), invocation.error)
            self._report(invocation)
            return
        if result["error"] is not None:
            self._count(handler_errors=1)
            self._log.warn("error", "%s: handler raised %s", region, result["error"])
        for problem in result["problems"]:
            self._count(bad_replies=1)
            self._log.warn("reply", "%s: handler %s", region, problem)
        delay = batch["rtt_ms"] / 1000 if self._delay_line is not None else 0.0
        # The round trip adds to the handler's time, as in a cross-region invoke: the batch
        # travels there, is handled, the replies travel back. So due = ready + RTT.
        due = time.monotonic() + delay
        for address, payload in result["replies"]:
            if delay > 0:
                self._delay_line.push(due, address, payload)  # type: ignore[union-attr]
            else:
                self._send_reply(address, payload)
        self._report(invocation)

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
