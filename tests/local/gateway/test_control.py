"""The failover control is the user's alone: a Unix socket in a 0700 directory, refused to other uids.

Real sockets throughout: a `local` process as the user runs it, `make local-down/up/status`, and
(as root) a forked child switched to the nobody user trying every way in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.errors import GeneratorError
from generator.local.gateway.control import control_directory, control_socket_path, send_control
from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli, run_cli_in_process
from tests.support.local_process import GeneratorProcess, running_generator
from tests.support.udp import exchange, free_udp_port, local_gateway, rendered_handler_code

UID = os.getuid()
AS_ROOT = pytest.mark.skipif(UID != 0, reason="switching to another uid needs root")
LINUX = pytest.mark.skipif(not hasattr(socket, "SO_PEERCRED"), reason="SO_PEERCRED is Linux's")


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return rendered_handler_code(tmp_path_factory.mktemp("out"))


@contextlib.contextmanager
def runtime_directory_others_can_enter() -> Iterator[Path]:
    """An XDG_RUNTIME_DIR that any uid may pass through (0711), so that only the gateway's own
    directory inside it stands between another user and the socket (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="packet-counter-test-"))
    path.chmod(0o711)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("XDG_RUNTIME_DIR", str(path))
            yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def regions_answering(port: int) -> set[str]:
    replies = exchange(port, [b"packet_%d" % n for n in range(1, 11)])  # Count 10: one batch, cut by count
    assert sum(int(reply.split()[0]) for reply in replies) == 10, replies
    return {reply.split()[1].decode() for reply in replies}


def as_nobody(action: Callable[[], str]) -> str:
    """`action()` in a forked child switched to the nobody user; what it returned (or raised).

    A fork rather than a new interpreter: nobody may not be able to run this one, and the
    child needs nothing but sockets.
    """
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        result = "child failed"
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            result = action()
        except BaseException as error:
            result = f"raised {type(error).__name__}: {error}"
        finally:
            os.write(write_end, result.encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        said = pipe.read().decode()  # ends when the child exits
    os.waitpid(pid, 0)
    return said


def try_control_socket(path: Path, line: bytes = b"down us-west-2\n") -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        try:
            sock.connect(str(path))
            sock.sendall(line)
            sock.shutdown(socket.SHUT_WR)
            return "answered " + sock.recv(1024).decode().strip()
        except OSError as error:
            return type(error).__name__


def try_udp_control(port: int, line: bytes = b"down us-west-2") -> str:
    """The old control: a datagram to 127.0.0.1:port. No listener there: the kernel's ICMP
    answer arrives as ConnectionRefusedError (the 30 s bound is for a stranger on that port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        try:
            sock.send(line)
            return "answered " + sock.recv(1024).decode().strip()
        except OSError as error:
            return type(error).__name__


# -- a `local` process, as the user starts it -------------------------------------------------------


@dataclass
class RunningLocal:
    port: int
    process: GeneratorProcess
    socket_path: Path
    out: Path


@pytest.fixture(scope="module")
def running_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocal]:
    out = tmp_path_factory.mktemp("out")
    with (
        runtime_directory_others_can_enter(),
        running_generator("local", "--out", out, "--port", "0") as local,
    ):
        path = control_socket_path(local.port)
        assert f"local-control --port {local.port} " in local.started and str(path) in local.started
        yield RunningLocal(local.port, local, path, out)
    assert local.returncode == 0, local.stderr
    assert "Traceback" not in local.stdout + local.stderr


def test_the_old_udp_control_port_changes_nothing(running_local):
    assert try_udp_control(running_local.port + 1) in ("ConnectionRefusedError", "TimeoutError")
    assert regions_answering(running_local.port) == {"us-west-2"}
    status = run_cli_in_process("local-control", "--port", running_local.port, "status")
    assert status.stdout == "ok ingress=us-west-2 serving=us-west-2 down=-\n", status.stderr


@AS_ROOT
def test_another_user_cannot_change_the_routing(running_local):
    port, path = running_local.port, running_local.socket_path

    def every_way_in() -> str:
        return f"socket {try_control_socket(path)}; udp {try_udp_control(port + 1)}"

    said = as_nobody(every_way_in)
    assert said.startswith("socket PermissionError; udp "), said  # the 0700 directory stops it
    assert "answered" not in said
    assert regions_answering(port) == {"us-west-2"}
    assert send_control("status", port) == "ok ingress=us-west-2 serving=us-west-2 down=-"


def test_make_targets_control_the_gateway_on_local_port(running_local):
    if shutil.which("make") is None:
        pytest.skip("no make here")
    # This interpreter runs the commands; RUNTIME= keeps make from checking the virtualenv.
    make = ["make", "-s", "--no-print-directory", f"BIN={Path(sys.executable).parent}", "RUNTIME="]
    port = f"LOCAL_PORT={running_local.port}"

    def run(*words: str) -> str:
        done = subprocess.run([*make, *words], cwd=CHECKOUT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[-1]

    assert run("local-status", port) == "ok ingress=us-west-2 serving=us-west-2 down=-"
    assert run("local-down", "REGION=us-west-2", port) == "ok ingress=us-west-2 serving=us-east-1 down=us-west-2"
    assert regions_answering(running_local.port) == {"us-east-1"}
    assert run("local-up", "REGION=us-west-2", port) == "ok ingress=us-west-2 serving=us-west-2 down=-"
    assert regions_answering(running_local.port) == {"us-west-2"}
    missing = subprocess.run([*make, "local-down", port], cwd=CHECKOUT, capture_output=True, text=True)
    assert missing.returncode != 0
    assert "local-down needs REGION=..., e.g. make local-down REGION=us-west-2" in missing.stderr


def test_a_second_gateway_on_the_same_port_is_one_clear_error(running_local):
    result = run_cli("local", "--port", running_local.port, "--out", running_local.out)
    assert result.returncode == 2
    assert result.stderr == (
        f"local gateway: a local gateway already runs on port {running_local.port} "
        f"(its control socket {running_local.socket_path} answers): stop it first, or choose another --port\n"
    )


# -- the socket and its directory -----------------------------------------------------------------


def test_the_socket_and_its_directory_are_the_users_alone(code, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    permissive = os.umask(0)  # even so: the modes are set, not left to the umask
    try:
        with local_gateway(code) as gateway:
            os.umask(permissive)
            path = gateway.control.path
            directory, socket_file = path.parent.lstat(), path.lstat()
            answer = send_control("status", gateway.port)
    finally:
        os.umask(permissive)
    assert path == tmp_path / "packet-counter" / f"gateway-{gateway.port}.sock"
    assert stat.S_ISDIR(directory.st_mode) and directory.st_uid == UID
    assert stat.S_IMODE(directory.st_mode) == 0o700
    assert stat.S_ISSOCK(socket_file.st_mode) and socket_file.st_uid == UID
    assert stat.S_IMODE(socket_file.st_mode) == 0o600
    assert answer == "ok ingress=us-west-2 serving=us-west-2 down=-"
    assert not path.exists()  # a gateway that stops removes its socket


def test_without_xdg_runtime_dir_the_directory_is_in_the_temp_dir_by_uid(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert control_directory() == tmp_path / f"packet-counter-{UID}"
    assert control_directory({"XDG_RUNTIME_DIR": "relative/dir"}) == tmp_path / f"packet-counter-{UID}"
    assert control_directory({"XDG_RUNTIME_DIR": "/run/user/7"}) == Path("/run/user/7/packet-counter")
    assert control_socket_path(2000) == tmp_path / f"packet-counter-{UID}" / "gateway-2000.sock"


def _group_readable(path: Path) -> None:
    path.mkdir(mode=0o750)
    path.chmod(0o750)


def _open_to_all(path: Path) -> None:
    path.mkdir()
    path.chmod(0o777)


def _link_to_a_private_directory(path: Path) -> None:
    target = path.with_name("elsewhere")
    target.mkdir(mode=0o700)
    path.symlink_to(target)


def _a_file(path: Path) -> None:
    path.write_text("")
    path.chmod(0o600)


def _owned_by_nobody(path: Path) -> None:
    path.mkdir(mode=0o700)
    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (_group_readable, f"a directory of uid {UID} with mode 0750"),
        (_open_to_all, f"a directory of uid {UID} with mode 0777"),
        (_link_to_a_private_directory, f"a link of uid {UID} with mode 0777"),
        (_a_file, f"not a directory of uid {UID} with mode 0600"),
        pytest.param(_owned_by_nobody, "a directory of uid 65534 with mode 0700", marks=AS_ROOT),
    ],
)
def test_a_directory_someone_else_could_use_is_refused(code, tmp_path, monkeypatch, make, found):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    directory = tmp_path / "packet-counter"
    make(directory)
    expected = (
        f"{directory}: expected a directory of uid {UID} that only it may use (mode 0700); found {found}: "
        "remove it (or set XDG_RUNTIME_DIR)"
    )
    with pytest.raises(GeneratorError) as by_the_gateway, local_gateway(code):
        pass
    with pytest.raises(GeneratorError) as by_local_control:
        send_control("status", 2000)  # nor does local-control talk to a socket in there
    assert [str(problem) for problem in by_the_gateway.value.problems] == [expected]
    assert [str(problem) for problem in by_local_control.value.problems] == [expected]


@AS_ROOT
@LINUX
def test_another_uid_is_refused_by_the_kernels_word_even_when_the_modes_let_it_in(code):
    with runtime_directory_others_can_enter(), local_gateway(code) as gateway:
        path = gateway.control.path
        path.parent.chmod(0o711)  # a broken setup: the modes no longer keep anyone out
        path.chmod(0o666)
        said = as_nobody(lambda: try_control_socket(path))
        assert said == f"answered error refused: uid {pwd.getpwnam('nobody').pw_uid} is not the gateway's user (uid 0)"
        assert gateway.router.down_regions() == ()
        assert regions_answering(gateway.port) == {"us-west-2"}


@AS_ROOT
@LINUX
def test_a_stranger_that_speaks_only_after_being_refused_still_hears_the_refusal(code):
    """The gateway decides to refuse on connect; a client may send its line only after that.
    It must read the refusal, not meet a closed socket (a broken pipe)."""
    go_read, go_write = os.pipe()

    def speak_when_told() -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            try:
                sock.connect(str(path))
                os.read(go_read, 1)  # the parent says: the gateway has refused this connection
                sock.sendall(b"down us-west-2\n")
                sock.shutdown(socket.SHUT_WR)
                return "answered " + sock.recv(1024).decode().strip()
            except OSError as error:
                return type(error).__name__

    class TellWhenRefused(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "refused process" in record.getMessage():
                os.write(go_write, b"x")  # the event the child waits on: the gateway has refused it

    gateway_log = logging.getLogger("generator.local.gateway")
    teller = TellWhenRefused(level=logging.WARNING)
    gateway_log.addHandler(teller)
    try:
        with runtime_directory_others_can_enter(), local_gateway(code) as gateway:
            path = gateway.control.path
            path.parent.chmod(0o711)
            path.chmod(0o666)
            said = as_nobody(speak_when_told)
            assert (
                said == f"answered error refused: uid {pwd.getpwnam('nobody').pw_uid} is not the gateway's user (uid 0)"
            )
            assert gateway.router.down_regions() == ()
    finally:
        gateway_log.removeHandler(teller)


# -- a gateway that died, a gateway still running -------------------------------------------------------


def _leave_a_socket_file(path: Path) -> None:
    """What a gateway killed with SIGKILL leaves: a socket file nothing listens on."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))


def test_a_socket_left_by_a_gateway_that_died_is_replaced(code, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    port = free_udp_port()
    path = control_socket_path(port)
    _leave_a_socket_file(path)
    with pytest.raises(GeneratorError) as stale:
        send_control("status", port)
    assert [str(problem) for problem in stale.value.problems] == [
        f"local-control: no local gateway runs on port {port} for this user ({path} is left from one that stopped)"
    ]
    with local_gateway(code, port=port) as gateway:
        assert send_control("status", port) == "ok ingress=us-west-2 serving=us-west-2 down=-"
        assert gateway.control.path == path
    assert not path.exists()


def test_a_control_socket_that_answers_means_a_gateway_already_runs(code, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with local_gateway(code) as first, pytest.raises(GeneratorError) as raised, local_gateway(code, port=first.port):
        pass
    assert [str(problem) for problem in raised.value.problems] == [
        f"local gateway: a local gateway already runs on port {first.port} (its control socket "
        f"{first.control.path} answers): stop it first, or choose another --port"
    ]
    # Whatever answers there (not a gateway of ours, holding no UDP port) is not replaced either.
    port = free_udp_port()
    path = control_socket_path(port)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(1)
        with (
            pytest.raises(GeneratorError, match=f"a local gateway already runs on port {port} "),
            local_gateway(code, port=port),
        ):
            pass
        assert path.exists()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", port))  # the refused gateway left the UDP port free


def test_local_control_without_a_gateway_or_with_a_bad_command_is_one_line(tmp_path):
    env_dir = tmp_path / "runtime"
    env_dir.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(env_dir))
        nothing = run_cli_in_process("local-control", "--port", "2999", "status")
        typo = run_cli_in_process("local-control", "down")
    assert nothing.returncode == 2
    assert nothing.stderr == (
        f"local-control: no local gateway runs on port 2999 for this user (no {env_dir / 'packet-counter'})\n"
    )
    assert typo.returncode == 2
    assert typo.stderr == "local-control: expected 'down REGION', 'up REGION' or 'status', got 'down'\n"


def test_control_lines_are_answered_one_line_each(code, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with local_gateway(code) as gateway:
        port = gateway.port
        assert send_control("down ap-south-1", port).startswith("error ap-south-1 is not a configured region")
        assert send_control("reboot", port) == ("error expected 'down REGION', 'up REGION' or 'status', got 'reboot'")
        assert try_control_socket(gateway.control.path, b"status " * 200) == (
            "answered error expected one line of at most 1024 bytes"
        )
        assert send_control("down us-west-2", port) == "ok ingress=us-west-2 serving=us-east-1 down=us-west-2"
        assert regions_answering(port) == {"us-east-1"}
