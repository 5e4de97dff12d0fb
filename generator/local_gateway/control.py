"""The failover control: one-line commands in UDP datagrams to 127.0.0.1:<control port>.

    down <region>   stop serving from <region> (as if its stack were deleted)
    up <region>     serve from <region> again
    status          show the serving region and the regions marked down

Each command is answered with one line starting "ok" or "error". Try it with
`python -m generator local-control down us-west-2` or
`echo "down us-west-2" | nc -u -w1 127.0.0.1 2001`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from generator.errors import GeneratorError, Problem
from generator.local_gateway.routing import Router, RoutingError

LOG = logging.getLogger("generator.local_gateway")


def status_line(router: Router) -> str:
    down = ",".join(router.down_regions()) or "-"
    return f"ok ingress={router.ingress} serving={router.serving_region() or 'none'} down={down}"


def apply_command(router: Router, line: str) -> str:
    """Carry out one control line; the answer to send back."""
    words = line.split()
    if words == ["status"]:
        return status_line(router)
    if len(words) == 2 and words[0] in ("down", "up"):
        try:
            router.set_down(words[1], words[0] == "down")
        except RoutingError as error:
            return f"error {error.problems[0].message}"
        LOG.warning("control: %s marked %s; now serving from %s", words[1], words[0], router.serving_region())
        return status_line(router)
    return "error expected 'down <region>', 'up <region>' or 'status'"


class ControlServer:
    """Answers control lines on a loopback UDP port, in a thread of its own."""

    def __init__(self, router: Router, port: int, host: str = "127.0.0.1") -> None:
        self.router = router
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, port))
        self.socket.settimeout(0.05)  # how often the thread checks for stop
        self.port = self.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="gateway-control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, address = self.socket.recvfrom(1024)
            except TimeoutError:
                continue
            except OSError:
                continue
            answer = apply_command(self.router, data.decode("utf-8", errors="replace").strip())
            with contextlib.suppress(OSError):
                self.socket.sendto((answer + "\n").encode(), address)


def send_control(command: str, port: int, host: str = "127.0.0.1", timeout: float = 2.0) -> str:
    """Send one control line to a running local gateway and return its answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(command.encode(), (host, port))
        try:
            return sock.recv(1024).decode("utf-8", errors="replace").strip()
        except (TimeoutError, ConnectionRefusedError):
            raise GeneratorError(
                [Problem("local-control", f"no answer from a local gateway's control port {host}:{port}")]
            ) from None
