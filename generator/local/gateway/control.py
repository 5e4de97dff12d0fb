"""The failover control of a running local gateway: one line in, one line out, on a Unix socket.

    down <region>   stop serving from <region> (as if its stack were deleted)
    up <region>     serve from <region> again
    status          show the serving region and the regions marked down

Each command is answered with one line starting "ok" or "error". Only the user who started
the gateway can use it: the socket is in a directory of theirs that nobody else may enter
(mode 0700, under $XDG_RUNTIME_DIR, else <tempdir>/packet-counter-<uid>), the socket file is
0600, and on Linux the gateway also asks the kernel who connected (SO_PEERCRED) and refuses
any other uid. The socket is named after the gateway's UDP port, so
`python -m generator local-control --port PORT status` finds the gateway on PORT.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import socket
import struct
import threading
from collections.abc import Mapping
from pathlib import Path

from generator.errors import ControlError, Problem, RoutingError
from generator.local.gateway.routing import Router
from generator.private_directory import check_private_directory, make_private_directory, user_runtime_directory

LOG = logging.getLogger("generator.local.gateway")

COMMANDS_EXPECTED = "expected 'down REGION', 'up REGION' or 'status'"
MAX_LINE_BYTES = 1024  # a command is a few words: a longer line is refused, not read on forever
# How long one connection may take to send its line: a client that connects and says nothing
# must not hold the control for long (connections are answered one at a time).
CLIENT_SECONDS = 2.0
ANSWER_SECONDS = 5.0  # how long local-control waits for the answer
# SO_PEERCRED's struct ucred: pid, uid, gid.
PEER_CREDENTIALS = struct.Struct("iII")


# -- the commands -----------------------------------------------------------------------


def parse_command(words: list[str]) -> tuple[str, str | None]:
    """("down"|"up", region) or ("status", None); ValueError with what was expected otherwise."""
    if words == ["status"]:
        return "status", None
    if len(words) == 2 and words[0] in ("down", "up"):
        return words[0], words[1]
    raise ValueError(f"{COMMANDS_EXPECTED}, got {' '.join(words)!r}")


def status_line(router: Router) -> str:
    down = ",".join(router.down_regions()) or "-"
    return f"ok ingress={router.ingress} serving={router.serving_region() or 'none'} down={down}"


def apply_command(router: Router, line: str) -> str:
    """Carry out one control line; the answer to send back."""
    try:
        verb, region = parse_command(line.split())
    except ValueError as error:
        return f"error {error}"
    if region is not None:
        try:
            router.set_down(region, verb == "down")
        except RoutingError as error:
            return f"error {error.problems[0].message}"
        LOG.warning("control: %s marked %s; now serving from %s", region, verb, router.serving_region())
    return status_line(router)


# -- where the socket lives ---------------------------------------------------------------


def control_directory(environ: Mapping[str, str] = os.environ) -> Path:
    """The user's own directory for control sockets (generator.private_directory)."""
    return user_runtime_directory(environ)


def control_socket_path(port: int, directory: Path | None = None) -> Path:
    """The control socket of the local gateway listening on UDP `port`."""
    return (directory or control_directory()) / f"gateway-{port}.sock"


# -- the gateway's side -----------------------------------------------------------------------


def already_running(port: int, path: Path) -> ControlError:
    return ControlError(
        [
            Problem(
                "local gateway",
                f"a local gateway already runs on port {port} (its control socket {path} answers): "
                "stop it first, or choose another --port",
            )
        ]
    )


def _answers(path: Path) -> bool:
    """Whether a gateway listens on the socket at `path`; False for a file left by one that died."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(ANSWER_SECONDS)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError as error:
            if error.errno in (errno.ENOTSOCK, errno.ECONNREFUSED):
                return False
            raise
        return True


class ControlServer:
    """Answers control lines on the Unix socket of the gateway on UDP `port`, in a thread of its own."""

    def __init__(self, router: Router, port: int, directory: Path | None = None) -> None:
        self.router = router
        self.port = port
        self.path = control_socket_path(port, directory)
        make_private_directory(self.path.parent)
        try:
            if _answers(self.path):
                raise already_running(port, self.path)
            # Nothing answers: a file left by a gateway that crashed (only this uid can write here).
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError as error:
            raise ControlError([Problem(str(self.path), f"cannot set up: {error.strerror or error}")]) from None
        try:
            self.socket.bind(str(self.path))
            # Before listen(): until then nobody can connect, so no one sees a wider mode.
            os.chmod(self.path, 0o600)
            self.socket.listen(8)
            self._inode = os.stat(self.path).st_ino
        except OSError as error:
            self.socket.close()
            raise ControlError(
                [Problem(str(self.path), f"cannot listen for control: {error.strerror or error}")]
            ) from None
        self._wake_read, self._wake_write = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="gateway-control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._wake_write.send(b"x")
            self._thread.join()
        self.close()

    def close(self) -> None:
        """Close the socket and remove its file (when it is still the one this server made)."""
        self.socket.close()
        self._wake_read.close()
        self._wake_write.close()
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                self.path.unlink()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _events in selector.select()}
                if self._wake_read in ready:
                    return
                try:
                    connection, _address = self.socket.accept()
                except OSError:
                    continue
                with connection:
                    self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(CLIENT_SECONDS)
        try:
            refusal = _refusal(connection)
            # Read the client's line even when refusing it: closing with its words unread could
            # reach the client before it finished sending, as a broken pipe instead of our answer.
            try:
                line, problem = _read_line(connection), None
            except ValueError as error:
                line, problem = "", f"error {error}"
            except TimeoutError:
                if refusal is None:
                    raise
                line, problem = "", None  # a stranger that says nothing still hears why it is refused
            answer = refusal or problem
            if answer is None:
                if not line:
                    return  # connected and left without a word: e.g. a gateway checking this one is alive
                answer = apply_command(self.router, line)
            connection.sendall((answer + "\n").encode())
        except OSError as error:
            LOG.warning("control: a connection ended before its answer: %s", error.strerror or error)


def _refusal(connection: socket.socket) -> str | None:
    """An error answer when the connecting process is not this uid (Linux tells; elsewhere the
    directory's and the socket's modes are the guard)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEER_CREDENTIALS.size)
    pid, uid, _gid = PEER_CREDENTIALS.unpack(credentials)
    if uid == os.getuid():
        return None
    LOG.warning("control: refused process %d of uid %d: only uid %d may control this gateway", pid, uid, os.getuid())
    return f"error refused: uid {uid} is not the gateway's user (uid {os.getuid()})"


def _read_line(connection: socket.socket) -> str:
    """The first line the client sends (up to a newline or the end of its sending)."""
    data = b""
    while b"\n" not in data:
        chunk = connection.recv(MAX_LINE_BYTES)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_LINE_BYTES:
            raise ValueError(f"expected one line of at most {MAX_LINE_BYTES} bytes")
    return data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()


# -- local-control's side -----------------------------------------------------------------------


def send_control(command: str, port: int, directory: Path | None = None, timeout: float = ANSWER_SECONDS) -> str:
    """Send one control line to the local gateway on UDP `port` and return its answer line."""
    path = control_socket_path(port, directory)
    none_here = f"no local gateway runs on port {port} for this user"
    try:
        check_private_directory(path.parent)  # never talk to a socket someone else could have put there
    except FileNotFoundError:
        raise ControlError([Problem("local-control", f"{none_here} (no {path.parent})")]) from None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            try:
                sock.sendall((command + "\n").encode())
                sock.shutdown(socket.SHUT_WR)
            except BrokenPipeError:
                pass  # the gateway closed its side early; whatever it answered is still here to read
            answer = _read_line(sock)
        except FileNotFoundError:
            raise ControlError([Problem("local-control", f"{none_here} (no {path})")]) from None
        except ConnectionRefusedError:
            raise ControlError(
                [Problem("local-control", f"{none_here} ({path} is left from one that stopped)")]
            ) from None
        except TimeoutError:
            raise ControlError(
                [Problem("local-control", f"the local gateway on port {port} did not answer within {timeout:g} s")]
            ) from None
        except (OSError, ValueError) as error:
            raise ControlError(
                [Problem("local-control", f"{path}: {getattr(error, 'strerror', None) or error}")]
            ) from None
    if not answer:
        raise ControlError([Problem("local-control", f"the local gateway on port {port} closed without an answer")])
    return answer
