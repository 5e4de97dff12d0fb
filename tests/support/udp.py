"""Helpers for the UDP tests: a local gateway on loopback with chosen batching and regions.

Everything binds to 127.0.0.1 / ::1 on ephemeral ports and stops when the block ends.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.config import Batching, load_config
from generator.local_gateway.gateway import GatewaySettings, LocalGateway
from generator.local_gateway.handler_code import handler_code_for
from generator.local_gateway.routing import LatencyTable, Router, load_latency_table
from generator.paths import DEFAULT_CONFIG

SEED_REGIONS = ("us-west-2", "us-east-1", "eu-west-1")


def rendered_handler_code(out_dir: Path) -> str:
    """The handler code from the regional template rendered from the default config."""
    return handler_code_for(load_config(DEFAULT_CONFIG), out_dir)


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
) -> Iterator[LocalGateway]:
    router = Router(ingress, regions, table or load_latency_table(), down)
    settings = GatewaySettings(
        regions=regions,
        router=router,
        code=code,
        batching=Batching(count, timeout, size_in_mb),
        formatter=formatter,
        port=0,
        control_port=0 if control else None,
        function_timeout_seconds=function_timeout,
        add_latency=add_latency,
        concurrency=concurrency,
    )
    with LocalGateway(settings) as gateway:
        yield gateway


def exchange(
    port: int, payloads: list[bytes], host: str = "127.0.0.1", expect_packets: int | None = None, wait: float = 5.0
) -> list[bytes]:
    """Send `payloads` from one fresh socket; the replies until they count `expect_packets` or `wait` passes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    expect = len(payloads) if expect_packets is None else expect_packets
    replies: list[bytes] = []
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        for payload in payloads:
            sock.sendto(payload, (host, port))
        deadline = time.monotonic() + wait
        counted = 0
        while counted < expect and (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                reply = sock.recv(65536)
            except TimeoutError:
                break
            replies.append(reply)
            counted += int(reply.split()[0]) if reply.split() and reply.split()[0].isdigit() else 0
    return replies
