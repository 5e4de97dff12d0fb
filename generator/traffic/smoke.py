"""The smoke client: send N packets to a UDP Gateway endpoint, account for them by the replies.

Successor of the seed's packet_counter_test.py. Packets are `packet_1..packet_N`, spread
round-robin over `clients` sockets (each its own source port, so each its own count at
the packet counter), at an optional rate. Replies are read while sending and afterwards
until every packet is accounted for or nothing has arrived for `quiet_seconds`.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import time
from dataclasses import dataclass

from generator.errors import Problem, SmokeError
from generator.traffic.local_names import local_addresses
from generator.traffic.open_files import is_out_of_files, out_of_files_advice
from generator.traffic.report import ClientLedger, SmokeReport, SmokeTally

SOCKET_BUFFER_BYTES = 16 * 1024 * 1024
BURST = 64  # packets sent between looks at the reply sockets when there is no rate
# The client keeps a send time per packet: a million packets is minutes of traffic at the rates a laptop
# sends, and still a few tens of MB.
MAX_PACKETS_PER_RUN = 1_000_000


@dataclass(frozen=True)
class SmokeOptions:
    host: str
    port: int
    packets: int = 100
    rate: float | None = None  # packets per second; None: as fast as the sockets take them
    quiet_seconds: float = 5.0
    clients: int = 1
    family: int = socket.AF_UNSPEC  # AF_INET or AF_INET6 to force one


def resolve(host: str, port: int, family: int = socket.AF_UNSPEC) -> tuple[int, tuple]:
    """The first address the host resolves to (IPv4 or IPv6, as the resolver orders them); a running local cloud's
    listener name resolves to the loopback addresses it serves (generator.traffic.local_names)."""
    try:
        infos = [
            info
            for address in local_addresses(host)
            for info in _numeric_infos(address, port, family)  # ::1 when asked for IPv4 only gives none
        ] or socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)
    except socket.gaierror as error:
        raise SmokeError([Problem("smoke", f"cannot resolve host {host!r}: {error.strerror}")]) from None
    if not infos:
        wanted = "IPv6" if family == socket.AF_INET6 else "IPv4"
        raise SmokeError([Problem("smoke", f"cannot resolve host {host!r} to an {wanted} address")])
    family, _type, _proto, _name, address = infos[0]
    return family, address


def _numeric_infos(address: str, port: int, family: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(address, port, family, socket.SOCK_DGRAM, 0, socket.AI_NUMERICHOST)
    except socket.gaierror:
        return []


def run_smoke(options: SmokeOptions) -> SmokeReport:
    """Send, collect, account. Never raises on what comes back; only on what cannot be sent.

    Every file it needs (the client sockets, the selectors) is opened before the first packet goes: running
    out of them is a SmokeError with nothing sent, never packets reported lost."""
    if options.packets < 1 or options.clients < 1:
        raise SmokeError([Problem("smoke", "packets and clients must be at least 1")])
    if options.rate is not None and options.rate <= 0:
        raise SmokeError([Problem("smoke", f"rate must be above 0 packets/s, got {options.rate:g}")])
    family, address = resolve(options.host, options.port, options.family)
    with contextlib.ExitStack() as opened:
        sockets = _client_sockets(family, options.clients, opened)
        try:
            readable = opened.enter_context(selectors.DefaultSelector())
            writable = opened.enter_context(selectors.DefaultSelector())
        except OSError as error:
            raise _cannot_open(error, options.clients) from None
        for sock in sockets:
            readable.register(sock, selectors.EVENT_READ)
        tally = SmokeTally(clients=[ClientLedger() for _ in sockets])
        send_seconds = _send_all(options, sockets, address, tally, writable)
        _collect(sockets, tally, options.quiet_seconds, readable)
    target = f"{options.host}:{options.port}"
    return SmokeReport.from_tally(tally, target, f"{address[0]}:{address[1]}", send_seconds)


def _client_sockets(family: int, count: int, opened: contextlib.ExitStack) -> list[socket.socket]:
    """`count` client sockets, each closed when `opened` is; SmokeError when they cannot all be opened."""
    sockets = []
    for _ in range(count):
        try:
            sock = opened.enter_context(socket.socket(family, socket.SOCK_DGRAM))
            for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                with contextlib.suppress(OSError):  # keep the default size
                    sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        except OSError as error:  # too many open files, no IPv6 on this machine, no free port, ...
            raise _cannot_open(error, count) from None
        sockets.append(sock)
    return sockets


def _cannot_open(error: OSError, clients: int) -> SmokeError:
    reason = error.strerror or str(error)
    if is_out_of_files(error):
        advice = out_of_files_advice("lower --clients")
        return SmokeError.of("smoke", f"{clients:,} client sockets need as many open files: {reason}; {advice}")
    return SmokeError.of("smoke", f"cannot open a UDP socket: {reason}")


def _send_all(
    options: SmokeOptions,
    sockets: list[socket.socket],
    address: tuple,
    tally: SmokeTally,
    writable: selectors.BaseSelector,
) -> float:
    """Send every packet, reading replies between bursts; the seconds the sending took."""
    clock = time.perf_counter
    ledgers = [client.send_times for client in tally.clients]
    senders = [sock.sendto for sock in sockets]
    count = len(sockets)
    total = options.packets
    started = clock()
    sent = 0
    while sent < total:
        if options.rate is None:
            burst_end = min(total, sent + BURST)
        else:
            due = int((clock() - started) * options.rate) + 1
            burst_end = min(total, due)
            if burst_end <= sent:
                _drain(sockets, tally)
                time.sleep(max(0.0, min(0.001, (sent + 1) / options.rate - (clock() - started))))
                continue
        for number in range(sent + 1, burst_end + 1):
            client = (number - 1) % count
            payload = b"packet_%d" % number
            while True:
                try:
                    ledgers[client].append(clock())
                    senders[client](payload, address)
                    break
                except BlockingIOError:
                    ledgers[client].pop()
                    _wait_until_writable(writable, sockets[client], 0.1)
                except OSError as error:
                    ledgers[client].pop()
                    if error.errno == errno.ENOBUFS:  # the kernel is short of buffers for a moment
                        time.sleep(0.001)
                        continue
                    raise SmokeError([Problem("smoke", f"cannot send to {address[0]}:{address[1]}: {error}")]) from None
        sent = burst_end
        _drain(sockets, tally)
    return clock() - started


def _drain(sockets: list[socket.socket], tally: SmokeTally) -> None:
    """Read every reply already waiting, without blocking."""
    for index, sock in enumerate(sockets):
        while True:
            try:
                data = sock.recv(65536, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break  # e.g. ICMP port unreachable: the report shows the missing replies
            tally.record(index, data, time.perf_counter())


def _collect(
    sockets: list[socket.socket], tally: SmokeTally, quiet_seconds: float, selector: selectors.BaseSelector
) -> None:
    """Read replies until every packet is accounted for or none has come for quiet_seconds.

    `selector` has every socket registered for reading: selectors (epoll here), not select.select, which
    refuses file descriptors above 1023."""
    last_heard = time.perf_counter()
    while not tally.all_accounted():
        remaining = quiet_seconds - (time.perf_counter() - last_heard)
        if remaining <= 0:
            return
        if selector.select(remaining):
            _drain(sockets, tally)
            last_heard = time.perf_counter()


def _wait_until_writable(selector: selectors.BaseSelector, sock: socket.socket, timeout: float) -> None:
    selector.register(sock, selectors.EVENT_WRITE)
    try:
        selector.select(timeout)
    finally:
        selector.unregister(sock)
