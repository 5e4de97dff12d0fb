"""Bad traffic and bad handlers are counted and logged; service goes on."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from generator.errors import GatewayError
from generator.local.gateway import gateway as gateway_module
from generator.local.gateway.control import control_socket_path
from generator.local.gateway.gateway import LocalGateway
from tests.support.checkout import CHECKOUT, DEFAULT_CONFIG
from tests.support.udp import (
    exchange,
    local_gateway,
    read_until,
    rendered_handler_code,
    silent_client,
    wait_until,
)

# A handler that misbehaves when a packet asks it to, else is the real packet counter.
MISBEHAVING = """
import base64, os, time

def handler(event, context=None):
    data = [base64.b64decode(m["Data"]) for m in event["Messages"]]
    if b"raise" in data:
        raise RuntimeError("asked to fail")
    if b"garbage" in data:
        return "not an object"
    if b"bad-replies" in data:
        tag = event["Messages"][0]["Tag"]
        return {"Replies": [{"Tag": "no-such-tag", "Data": "MQ=="}, {"Tag": tag, "Data": "%%%"}, 7]}
    if b"exit" in data:
        os._exit(3)
    if b"hang" in data:
        time.sleep(30)
    if b"print" in data:
        print("a handler's log line " * 1000)
    return real_handler(event, context)
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> str:
    return rendered_handler_code(tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def misbehaving_code(code: str) -> str:
    return code.replace("def handler(", "def real_handler(") + MISBEHAVING


def test_empty_garbage_and_largest_datagrams_are_counted_like_any_other(code):
    largest = b"\xff" * 65_507  # the largest UDP payload over IPv4
    with local_gateway(code, count=4) as gateway:  # one batch, cut by count
        replies = exchange(gateway.port, [b"", b"\x00\xff\xfe garbage \x80", largest, b"packet_4"])
    assert replies == [b"4 us-west-2\n"]
    assert gateway.stats.bytes == 65_507 + 13 + 8


def test_the_largest_ipv6_datagram_is_counted(code):
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback")
    largest = b"\x00" * 65_527  # 65,535 less the UDP header
    with local_gateway(code, count=2) as gateway:
        assert exchange(gateway.port, [largest, b"packet_2"], host="::1") == [b"2 us-west-2\n"]


@pytest.mark.parametrize("trigger", [b"raise", b"garbage", b"exit"])
def test_a_failing_handler_loses_its_batch_and_service_goes_on(misbehaving_code, trigger):
    # Count 1: each packet is its own batch, handled in order by the region's one function, so
    # once the two sent after the trigger are answered, no waiting tells that it got nothing.
    with local_gateway(misbehaving_code, count=1) as gateway, silent_client(gateway.port, trigger) as nothing_came:
        assert exchange(gateway.port, [b"packet_1", b"packet_2"]) == [b"1 us-west-2\n", b"1 us-west-2\n"]
        assert nothing_came()
    stats = gateway.stats
    assert (stats.handler_errors, stats.bad_replies, stats.failed_batches) == {
        b"raise": (1, 0, 0),
        b"garbage": (0, 1, 0),
        b"exit": (0, 0, 1),
    }[trigger]


def test_what_a_handler_prints_goes_to_the_log_not_into_the_replies(misbehaving_code, capfd):
    with local_gateway(misbehaving_code, count=2) as gateway:
        assert exchange(gateway.port, [b"print", b"packet_2"]) == [b"2 us-west-2\n"]
    assert "a handler's log line" in capfd.readouterr().err


def test_replies_with_unknown_tags_or_bad_data_are_dropped_and_counted(misbehaving_code):
    with (
        local_gateway(misbehaving_code, count=1) as gateway,  # in order, as above
        silent_client(gateway.port, b"bad-replies") as nothing_came,
    ):
        assert exchange(gateway.port, [b"packet_1"]) == [b"1 us-west-2\n"]
        assert nothing_came()
    assert gateway.stats.bad_replies == 3


def test_a_hanging_handler_is_killed_at_the_function_timeout(misbehaving_code):
    # The timeout applies to packet_1's invocation too (in a fresh runtime): 3 s is far more
    # than the counter needs on a loaded machine, and far less than the 30 s hang.
    with (
        local_gateway(misbehaving_code, count=1, function_timeout=3.0) as gateway,
        silent_client(gateway.port, b"hang") as nothing_came,
    ):
        assert exchange(gateway.port, [b"packet_1"]) == [b"1 us-west-2\n"]
        assert nothing_came()
    assert gateway.stats.failed_batches == 1


@pytest.mark.parametrize("control", [True, False])
def test_a_port_another_program_holds_is_one_clear_error(code, control):
    # Not a gateway (that case says "a local gateway already runs"): a plain socket on the port.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other, local_gateway(code, control=False) as template:
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        with pytest.raises(GatewayError) as raised:
            LocalGateway(replace(template.settings, port=port, control=control))
    [problem] = raised.value.problems
    assert str(problem) == f"local gateway: cannot listen on 127.0.0.1 UDP port {port}: Address already in use"
    assert not control_socket_path(port).exists()  # the control socket claimed first was let go


def test_a_gateway_stopped_before_it_started_lets_its_ports_go(code, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with local_gateway(code, start=False) as gateway:
        port, path = gateway.port, gateway.control.path
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", port))
    assert not path.exists()


def test_without_size_in_mb_a_batch_is_still_cut_at_4_mib(code):
    # 100 datagrams of 65,507 bytes are 6.2 MiB: more than one Lambda payload can carry. Each
    # is sent once the gateway has read the one before, so a receive buffer capped at
    # net.core.rmem_max (a few hundred KiB without root) drops none: this is about the cut.
    # The second batch is cut by the stop (its timer is a minute), never by a slow sender.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(30)
        with local_gateway(code, count=1000, timeout=60) as gateway:
            for _ in range(100):
                client.sendto(b"\x01" * 65_507, ("127.0.0.1", gateway.port))
                wait_until(lambda: not _waiting_bytes(gateway), "the gateway read the datagram")
            first = client.recv(65536)
        second = client.recv(65536)  # sent by the stop's flush before the block ended
    assert [int(first.split()[0]), int(second.split()[0])] == [64, 36]  # 4 MiB holds 64; the 65th starts the next


def _waiting_bytes(gateway: LocalGateway) -> int:
    """Bytes of the next datagram waiting in the gateway's IPv4 socket (0: it has read them all)."""
    ipv4 = next(sock for sock in gateway._sockets if sock.family == socket.AF_INET)
    return struct.unpack("i", fcntl.ioctl(ipv4.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def test_a_capped_receive_buffer_is_one_warning_naming_the_sysctl(code, monkeypatch, caplog):
    # Without SO_RCVBUFFORCE the gateway takes the unprivileged path: SO_RCVBUF, which the
    # kernel caps at net.core.rmem_max (real sockets; only root's way round it is switched off).
    monkeypatch.setattr(gateway_module, "SO_RCVBUFFORCE", None)
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text()) if Path("/proc/sys/net/core").exists() else 0
    if rmem_max * 2 >= gateway_module.RECEIVE_BUFFER_BYTES:
        pytest.skip(f"net.core.rmem_max is {rmem_max}: this host grants the full buffer without root")
    with caplog.at_level(logging.WARNING, logger="generator.local.gateway"), local_gateway(code) as gateway:
        pass
    assert gateway.receive_buffer_bytes < gateway_module.RECEIVE_BUFFER_BYTES
    warnings = [record.getMessage() for record in caplog.records if "receive buffer" in record.getMessage()]
    assert len(warnings) == 1, warnings
    assert "sudo sysctl -w net.core.rmem_max=67108864" in warnings[0]


def test_code_that_does_not_load_stops_the_gateway_from_starting_with_one_clear_line():
    with pytest.raises(GatewayError) as raised, local_gateway("def handler(:\n"):
        pass
    [problem] = raised.value.problems
    assert str(problem).startswith("local gateway: us-west-2: the function code does not load: SyntaxError: ")
    assert "\n" not in str(problem)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc, Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the function processes through /proc")
def test_ctrl_c_flushes_the_open_batch_and_stops_cleanly(tmp_path):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["destination"]["batching"] = {"count": 1000, "timeout_in_seconds": 60}  # only the stop cuts it
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    command = [sys.executable, "-m", "generator", "local", "--config", config, "--out", tmp_path / "out", "--port", "0"]
    # Its own session, as a shell gives a foreground job its own process group: the
    # SIGINT below goes to that whole group, as a terminal's Ctrl-C does.
    process = subprocess.Popen(
        command, cwd=CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        started = read_until(process.stdout, "Ctrl-C to stop", 60)
        assert "Ctrl-C to stop" in started, started
        port = int(re.search(r"127\.0\.0\.1:(\d+)", started).group(1))
        functions = _children(process.pid)
        assert len(functions) == len(data["regions"])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for n in range(1, 6):
                client.sendto(b"packet_%d" % n, ("127.0.0.1", port))
            os.killpg(process.pid, signal.SIGINT)
            client.settimeout(20)
            reply = client.recv(65536)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert reply == b"5 us-west-2\n"  # the open batch went through the function before the stop
    assert process.returncode == 0, err
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in err
    assert "lost" not in err
    assert "stopped: 5 datagrams" in out
    assert [pid for pid in functions if _running(pid)] == []
