"""Helpers for the UDP tests: a local gateway on loopback with chosen batching and regions.

Everything binds to 127.0.0.1 / ::1 on ephemeral ports and stops when the block ends. Tests
wait for events (a reply, a state reached), each with a generous upper bound, never for a
fixed time: a loaded machine only makes them slower.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.config import Batching, load_config
from generator.local.gateway.gateway import GatewaySettings, Invocation, LocalGateway
from generator.local.gateway.routing import LatencyTable, Router, load_latency_table
from generator.render import render_function_code
from tests.support.checkout import DEFAULT_CONFIG

SEED_REGIONS = ("us-west-2", "us-east-1", "eu-west-1")


def rendered_handler_code(out_dir: Path) -> str:
    """The handler code from the regional template rendered from the default config."""
    return render_function_code(load_config(DEFAULT_CONFIG), out_dir)[0]


@contextmanager
def local_gateway(
    code: str,
    count: int = 10,
    timeout: float = 0.2,
    size_in_mb: float | None = None,
    regions: tuple[str, ...] = SEED_REGIONS,
    ingress: str = "us-west-2",
    down: tuple[str, ...] = (),
    table: LatencyTable | None = None,
    function_timeout: float = 10.0,
    add_latency: bool = False,
    control: bool = True,
    formatter: str = "base64",
    concurrency: int = 1,
    port: int = 0,
    control_directory: Path | None = None,
    start: bool = True,
    on_invocation: Callable[[Invocation], None] | None = None,
) -> Iterator[LocalGateway]:
    """A gateway on loopback, stopped when the block ends; with start=False the test calls
    gateway.start() itself (its sockets are bound already, so datagrams sent before wait in them)."""
    router = Router(ingress, regions, table or load_latency_table(), down)
    settings = GatewaySettings.from_config(
        load_config(DEFAULT_CONFIG),
        code,
        router,
        regions=regions,
        batching=Batching(count, timeout, size_in_mb),
        formatter=formatter,
        port=port,
        control=control,
        control_directory=control_directory,
        function_timeout_seconds=function_timeout,
        add_latency=add_latency,
        concurrency=concurrency,
        on_invocation=on_invocation,
    )
    gateway = LocalGateway(settings)
    try:
        yield gateway.start() if start else gateway
    finally:
        gateway.stop()


def exchange(
    port: int,
    payloads: list[bytes],
    host: str = "127.0.0.1",
    expect_packets: int | None = None,
    wait: float = 30.0,
    expect_replies: int | None = None,
    after_sending: Callable[[], object] | None = None,
) -> list[bytes]:
    """Send `payloads` from one fresh socket; the replies until they count `expect_packets` (default:
    one per payload), or until `expect_replies` have come when given (for replies that are not
    counts). `wait` only bounds a test that would otherwise hang: it ends by those events.
    `after_sending` runs between sending and reading, e.g. to start a gateway that was not reading."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    expect = len(payloads) if expect_packets is None else expect_packets
    replies: list[bytes] = []
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        for payload in payloads:
            sock.sendto(payload, (host, port))
        if after_sending is not None:
            after_sending()
        deadline = time.monotonic() + wait
        counted = 0
        while (counted < expect if expect_replies is None else len(replies) < expect_replies) and (
            remaining := deadline - time.monotonic()
        ) > 0:
            sock.settimeout(remaining)
            try:
                reply = sock.recv(65536)
            except TimeoutError:
                break
            replies.append(reply)
            counted += int(reply.split()[0]) if reply.split() and reply.split()[0].isdigit() else 0
    return replies


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Return once `condition()` holds (a state the code under test reaches); fail after `timeout`.

    The short pause between looks only spaces them out: the test ends as soon as the state is reached.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what}")
        time.sleep(0.01)


def free_udp_port() -> int:
    """A UDP port free on 127.0.0.1 and ::1 right now (for a test that must name its port up front)."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if _free(socket.AF_INET6, "::1", port):
            return port
    raise AssertionError("found no UDP port free on both loopback addresses")


def _free(family: int, host: str, port: int) -> bool:
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, port))
    except OSError as error:
        # No IPv6 here: the gateway serves IPv4 alone, so the port is as good as free.
        return error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)
    return True


@contextmanager
def silent_client(port: int, payload: bytes, host: str = "127.0.0.1") -> Iterator[Callable[[], bool]]:
    """Send `payload` from a socket of its own; yields `nothing_came()`, a look without waiting.

    Call it once replies to packets sent after this one have arrived: the gateway reads its
    socket in order and a region's function handles batches in order, so a reply to this
    packet would be waiting by then.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.sendto(payload, (host, port))

        def nothing_came() -> bool:
            try:
                sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return True
            return False

        yield nothing_came
