"""The smoke client: accounting by replies, latency from the first packet a reply counts, exit status."""

from __future__ import annotations

import json
import selectors
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from generator.errors import EndpointError, SmokeError
from generator.local.gateway.gateway import grow_receive_buffer
from generator.traffic.endpoint import resolve_endpoint
from generator.traffic.report import ClientLedger, SmokeTally, parse_reply
from generator.traffic.smoke import SmokeOptions, run_smoke
from tests.support.checkout import CHECKOUT
from tests.support.cli import limit_open_files, run_cli, run_cli_in_process


class ScriptedServer:
    """A loopback UDP server in a thread: after each packet it sends `replies(seen)` back to its
    sender (seen: packets so far). Its receive buffer is grown as the gateway's is, so a burst
    arriving while a loaded machine has not run this thread is kept, not dropped."""

    def __init__(self, replies: Callable[[int], list[bytes]]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        grow_receive_buffer(self.sock)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.replies = replies
        self.seen = 0
        self._wake_read, self._wake_write = socket.socketpair()  # stop: an event, not a polling timeout
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while self._wake_read not in {key.fileobj for key, _events in selector.select()}:
                _, address = self.sock.recvfrom(2048)
                self.seen += 1
                self.handle(address)

    def handle(self, address: tuple) -> None:
        for reply in self.replies(self.seen):
            self.sock.sendto(reply, address)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wake_write.send(b"x")
        self.thread.join()
        for sock in (self.sock, self._wake_read, self._wake_write):
            sock.close()


def every(packets: int, reply: bytes) -> Callable[[int], list[bytes]]:
    """Replies: `reply` after every `packets`-th packet."""
    return lambda seen: [reply] if seen % packets == 0 else []


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        (b"10 us-west-2\n", (10, "us-west-2")),
        (b"1 eu-west-1", (1, "eu-west-1")),
        (b"", None),
        (b"ten us-west-2\n", None),
        (b"0 us-west-2\n", None),
        (b"10\n", None),
        (b"\xff\xfe", None),
        (b"10 us-west-2 extra\n", None),
    ],
)
def test_replies_are_parsed_or_called_malformed(data, parsed):
    reply = parse_reply(data)
    assert (reply.count, reply.region) == parsed if parsed else reply is None


def test_a_replys_latency_runs_from_the_first_packet_it_counts():
    tally = SmokeTally(clients=[ClientLedger(send_times=deque([0.0, 0.1, 0.2, 0.3, 0.4]))])
    tally.record(0, b"2 us-west-2\n", 0.5)  # counts packets sent at 0.0 and 0.1
    tally.record(0, b"3 us-east-1\n", 0.6)  # counts packets sent at 0.2, 0.3, 0.4
    tally.record(0, b"1 us-east-1\n", 0.7)  # more than was sent
    tally.record(0, b"hello", 0.8)
    assert tally.latencies == pytest.approx([0.5, 0.4])
    assert tally.counted == 5 and tally.excess == 1 and tally.malformed_count == 1
    assert {name: (t.replies, t.packets) for name, t in tally.regions.items()} == {
        "us-west-2": (1, 2),
        "us-east-1": (2, 4),
    }


def test_malformed_replies_are_counted_and_shown_never_a_crash():
    # A malformed reply to every packet, then one good reply for all five: the client stops on
    # that one (every packet accounted for), and it comes after the malformed ones on the same
    # socket, so all of them have been read by then. The quiet bound never decides.
    def replies(seen: int) -> list[bytes]:
        return [b"\xffnot a count\x00"] + ([b"5 test-region\n"] if seen == 5 else [])

    with ScriptedServer(replies) as server:
        report = run_smoke(SmokeOptions("127.0.0.1", server.port, packets=5, quiet_seconds=30))
    assert report.malformed_replies == 5
    assert report.packets_unaccounted == 0 and report.packets_over_counted == 0
    assert "malformed replies:   5" in report.to_text()
    assert "packets counted:     5 (by 1 reply)" in report.to_text()  # malformed ones count nothing


def test_more_packets_than_the_seeds_100_and_a_rate():
    with ScriptedServer(every(50, b"50 test-region\n")) as server:
        # Ends when the 20th reply accounts for the last packet; 30 s only bounds a broken run.
        report = run_smoke(SmokeOptions("127.0.0.1", server.port, packets=1000, rate=5000, quiet_seconds=30))
    assert report.packets_sent == 1000
    assert report.regions == {"test-region": {"replies": 20, "packets": 1000}}
    assert report.send_seconds >= 0.15  # 1000 packets at 5000/s take about 0.2 s


def test_an_unresolvable_host_is_one_clear_error():
    with pytest.raises(SmokeError, match=r"cannot resolve host 'no-such-host\.invalid'"):
        run_smoke(SmokeOptions("no-such-host.invalid", 2000, packets=1))


def test_host_and_port_come_from_the_deploys_outputs(tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"Domain": "ingress-1.proxylity.com", "Port": "2047"}))
    assert resolve_endpoint(None, None, flat) == ("ingress-1.proxylity.com", 2047)
    assert resolve_endpoint("127.0.0.1", None, flat) == ("127.0.0.1", 2047)
    listed = tmp_path / "listed.json"
    listed.write_text(
        json.dumps([{"OutputKey": "Domain", "OutputValue": "d"}, {"OutputKey": "Port", "OutputValue": 9}])
    )
    assert resolve_endpoint(None, None, listed) == ("d", 9)


def test_no_outputs_file_says_plainly_that_nothing_is_deployed(tmp_path):
    result = run_cli_in_process("smoke", "--outputs", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"smoke: nothing is deployed: there is no {tmp_path / 'missing.json'} (deploy writes it, destroy removes "
        "it); deploy first, or pass HOST=... PORT=... (--host, --port) of a listener"
    ]


def test_outputs_without_host_and_port_is_one_line_per_missing_thing(tmp_path):
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(EndpointError) as raised:
        resolve_endpoint(None, None, tmp_path / "empty.json")
    assert [p.message.split(":")[0] for p in raised.value.problems] == ["no host", "no port"]
    with pytest.raises(EndpointError) as raised:
        resolve_endpoint("127.0.0.1", None, tmp_path / "missing.json")
    assert [p.message.split(":")[0] for p in raised.value.problems] == ["no port"]
    result = run_cli_in_process("smoke", "--outputs", str(tmp_path / "empty.json"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"smoke: no host: pass HOST=... (or --host), or deploy first so {tmp_path / 'empty.json'} has a Domain",
        f"smoke: no port: pass PORT=... (or --port), or deploy first so {tmp_path / 'empty.json'} has a Port",
    ]


def test_exit_status_says_whether_too_many_packets_went_unaccounted():
    # Half the packets are never answered, so the client can only stop on quiet: a generous
    # 3 s after the last reply (each comes at once), so no late reply is missed. The two runs
    # go side by side to wait those seconds once, each with a server of its own (and a process of its own: an
    # in-process run takes this process's stdout).
    with (
        ScriptedServer(every(2, b"1 test-region\n")) as half,
        ScriptedServer(every(2, b"1 test-region\n")) as other_half,
        ThreadPoolExecutor(2) as runs,
    ):
        smoke = ["smoke", "--host", "127.0.0.1", "-n", "20", "--timeout", "3"]
        lossy_run = runs.submit(run_cli, *smoke, "--port", str(half.port))
        # --max-loss is in percent, as max_loss_percent and the canary's --max-loss: 50 lets 50% through.
        tolerant_run = runs.submit(run_cli, *smoke, "--port", str(other_half.port), "--max-loss", "50", "--json")
        lossy, tolerant = lossy_run.result(), tolerant_run.result()
    assert lossy.returncode == 1
    assert "packets unaccounted: 10 (50.00%)" in lossy.stdout
    assert lossy.stderr.splitlines()[-1] == "FAIL: 50.00% unaccounted, above --max-loss 5%"
    assert tolerant.returncode == 0, tolerant.stderr
    report = json.loads(tolerant.stdout)
    assert (report["loss_percent"], report["max_loss_percent"]) == (50, 50)


def test_json_output_for_machines():
    with ScriptedServer(every(10, b"10 us-west-2\n")) as server:
        result = run_cli_in_process("smoke", "--host", "127.0.0.1", "--port", str(server.port), "-n", "30", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["packets_sent"] == 30 and report["packets_counted"] == 30 and report["loss_percent"] == 0
    assert report["max_loss_percent"] == 5  # the default, in percent as everywhere else
    assert "loss" not in report and "max_loss" not in report
    assert report["regions"] == {"us-west-2": {"replies": 3, "packets": 30}}
    assert set(report["latency_ms"]) == {"min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"}


class AnswerAllAtTheEnd(ScriptedServer):
    """Answers every client "1 test-region" once all `total` packets are in: the last packet is
    the client's last send, so the replies meet a client that is done sending and waits on its
    sockets (any it reads before that are accounted the same way)."""

    def __init__(self, total: int) -> None:
        super().__init__(lambda seen: [])
        self.total = total
        self.senders: list[tuple] = []

    def handle(self, address: tuple) -> None:
        self.senders.append(address)
        if len(self.senders) == self.total:
            for sender in self.senders:
                self.sock.sendto(b"1 test-region\n", sender)


def test_more_client_sockets_than_select_can_watch():
    """1,100 sockets put file descriptors above 1023, where select.select gives up."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2500:
        pytest.skip(f"needs 2,500 open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2500), hard))
    try:
        with AnswerAllAtTheEnd(total=1100) as server:
            # Ends when the last reply accounts for the last packet; 30 s only bounds a broken run.
            options = SmokeOptions("127.0.0.1", server.port, packets=1100, clients=1100, rate=5000, quiet_seconds=30)
            report = run_smoke(options)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert report.packets_sent == 1100
    assert report.packets_unaccounted == 0
    assert report.regions == {"test-region": {"replies": 1100, "packets": 1100}}


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        (
            "--rate",
            "nan",
            "argument --rate: expected a number of packets per second above 0 and at most 1,000,000, got 'nan'",
        ),
        ("--timeout", "0", "argument --timeout: expected a number of seconds above 0 and at most 3,600, got '0'"),
        ("--max-loss", "500", "argument --max-loss: expected a percentage from 0 to 100, got '500'"),
    ],
)
def test_bad_numbers_are_refused_in_one_line(option, value, expected):
    result = run_cli_in_process("smoke", "--host", "127.0.0.1", "--port", "9", option, value)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"python -m generator smoke: error: {expected}"
    assert "Traceback" not in result.stderr


# -- sockets: each client is an open file; running out is the tool's own error, never packets lost --

LIMIT = 100  # the open-file limit of the child processes below: 36 sockets after the 64 kept spare


@pytest.mark.parametrize("command", ["smoke", "demo", "tune"])
def test_clients_above_the_open_file_limit_are_refused_before_anything_runs(command, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        sink.setblocking(False)
        where = ["--host", "127.0.0.1", "--port", sink.getsockname()[1]] if command == "smoke" else []
        out = [] if command == "smoke" else ["--out", tmp_path / "out"]
        result = run_cli(command, *where, *out, "--clients", "37", open_files=LIMIT)
        with pytest.raises(BlockingIOError):  # nothing was sent (loopback datagrams are queued by now)
            sink.recv(100)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"python -m generator {command}: error: argument --clients: expected a whole number of sockets from 1 to "
        "36 (each an open file: `ulimit -n` is 100, less 64 kept for other files), got '37'"
    )
    assert not (tmp_path / "out").exists()


def test_clients_within_the_limit_are_taken():
    with ScriptedServer(every(1, b"1 test-region\n")) as server:
        port = str(server.port)
        result = run_cli(
            "smoke", "--host", "127.0.0.1", "--port", port, "-n", "36", "--clients", "36", open_files=LIMIT
        )
    assert result.returncode == 0, result.stderr
    assert "packets counted:     36" in result.stdout


RUN_OUT_OF_FILES = """
import sys
from generator.errors import GeneratorError
from generator.traffic.smoke import SmokeOptions, run_smoke
try:
    run_smoke(SmokeOptions("127.0.0.1", int(sys.argv[1]), packets=500, clients=500))
except GeneratorError as error:
    print(error, file=sys.stderr)
    sys.exit(error.exit_code)
print("sent")
"""


def test_running_out_of_sockets_anyway_is_the_smoke_clients_error_not_loss():
    """Past the command line (the engine called with more clients than files): one line, nothing sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        sink.setblocking(False)
        completed = subprocess.run(
            [sys.executable, "-c", RUN_OUT_OF_FILES, str(sink.getsockname()[1])],
            cwd=CHECKOUT,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=lambda: limit_open_files(LIMIT),
        )
        with pytest.raises(BlockingIOError):
            sink.recv(100)
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr == (
        "smoke: 500 client sockets need as many open files: Too many open files; lower --clients, or raise the "
        "open-file limit (`ulimit -n`, now 100)\n"
    )
