"""Helpers for the deploy tests: the local cloud fixtures, configs written to tmp_path, the CLI run
in-process, AWS read back, and waiting on events instead of sleeps.

A test module takes the fixtures with `local_cloud, cloud = local_cloud_fixtures()`.
"""

from __future__ import annotations

import _thread
import contextlib
import io
import os
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from generator import cli
from generator.local.cloud import DUMMY_CREDENTIALS, Gate, LocalCloud
from tests.support.cli import CliResult, run_cli_in_process

GLOBAL = "packet-counter-global"
REGIONAL = "packet-counter-region"
REGIONS = ("us-west-2", "us-east-1", "eu-west-1")
FAST = ("--poll", "0.05")
# deploy approves what it grants without asking (stdin is no terminal in a test): `--require-approval never`
APPROVED = ("--require-approval", "never")


def local_cloud_fixtures() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The fixtures (local_cloud, cloud) for a test module: the local cloud of this test process (one for
    every module: tests/conftest.py's worker_local_cloud), and per test that cloud emptied, with AWS pointed
    at it; its gates released and its faults cleared after."""

    @pytest.fixture(scope="module")
    def local_cloud(worker_local_cloud: LocalCloud) -> LocalCloud:
        return worker_local_cloud

    @pytest.fixture
    def cloud(local_cloud: LocalCloud, monkeypatch: Any, tmp_path: Path) -> Iterator[LocalCloud]:
        local_cloud.reset()
        local_cloud.proxylity.delay = 0.0
        local_cloud.proxylity.fail_region = None
        local_cloud.proxylity.unsubscribed_region = None
        point_aws_at(local_cloud, monkeypatch, tmp_path)
        yield local_cloud
        local_cloud.proxylity.gate.release()
        local_cloud.aws.change_sets.release()
        local_cloud.aws.change_set_requests.release()
        local_cloud.proxylity.fail_region = None
        local_cloud.proxylity.unsubscribed_region = None
        local_cloud.aws.refused_region = None

    return local_cloud, cloud


def point_aws_at(cloud: LocalCloud, monkeypatch: Any, tmp_path: Path) -> None:
    """Dummy credentials and the local endpoint; the user's own AWS files and profile are ignored."""
    point_aws_at_endpoint(cloud.endpoint_url, monkeypatch, tmp_path)


def point_aws_at_endpoint(endpoint_url: str, monkeypatch: Any, tmp_path: Path) -> None:
    """Dummy credentials and `endpoint_url`; the user's own AWS files and profile are ignored."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_CLOUDFORMATION", "YES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)


def cloudformation(region: str) -> Any:
    return boto3.client("cloudformation", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def stack(region: str, name: str) -> dict[str, Any] | None:
    """The live stack, or None when there is none."""
    try:
        found = cloudformation(region).describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return None
    return found[0] if found and found[0]["StackStatus"] != "DELETE_COMPLETE" else None


def outputs(found: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}


def parameters(found: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in found.get("Parameters", [])}


def summary_rows(text: str) -> dict[tuple[str, str], str]:
    """(region, stack) -> action, from the summary table the CLI prints last."""
    rows: dict[tuple[str, str], str] = {}
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("region ") and "action" in line]
    for line in lines[starts[-1] + 2 :] if starts else []:
        cells = line.split()
        if len(cells) >= 3 and not line.startswith(("FAILED", "wrote")):
            rows[(cells[0], cells[1])] = cells[2]
    return rows


def deploy_cli(config_path: Path, tmp_path: Path, *extra: str) -> CliResult:
    """`deploy` of config_path with tmp_path/out, polling fast, in this process; what it grants is approved
    (--require-approval never) unless the test passes its own --require-approval."""
    approval = () if "--require-approval" in extra else APPROVED
    return run_cli_in_process(
        "deploy", "--config", str(config_path), "--out", str(tmp_path / "out"), *FAST, *approval, *extra
    )


def wait_for(condition: Callable[[], Any], within: float = 30.0) -> bool:
    """Poll until `condition()` holds (True) or `within` seconds pass (False); a bound, not a speed goal."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


class WatchedStream(io.StringIO):
    """A captured stdout/stderr that another thread can wait on (wait_until), for tests that must act
    once the user has been shown something."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            written = super().write(text)
            self._changed.notify_all()
        return written

    def wait_until(self, condition: Callable[[str], bool], within: float = 60.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition(self.getvalue()), within)


def run_cli_watched(
    monkeypatch: Any, *argv: str, stdout: WatchedStream | None = None
) -> tuple[int, WatchedStream, WatchedStream]:
    """`python -m generator ARGV` in this process with stdout and stderr another thread can watch."""
    out, err = stdout or WatchedStream(), WatchedStream()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        status = cli.main(list(argv))
    return status, out, err


@contextlib.contextmanager
def watching(action: Callable[[WatchedStream], None]) -> Iterator[WatchedStream]:
    """A stdout for run_cli_watched, and `action(stdout)` running beside the command (e.g. to press Ctrl-C
    once the user has been shown something)."""
    out = WatchedStream()
    helper = threading.Thread(target=action, args=(out,), name="test-helper", daemon=True)
    helper.start()
    try:
        yield out
    finally:
        helper.join(timeout=Gate.MAX_HOLD)


def run_cli_pressing_ctrl_c(
    monkeypatch: Any, *argv: str, when: Callable[[WatchedStream], bool]
) -> tuple[int, WatchedStream, WatchedStream]:
    """`python -m generator ARGV` in this process, and Ctrl-C pressed once `when(stdout)` holds (it waits on
    events: a gate holding, a line shown). When `when` gives up (False), no Ctrl-C comes: the command ends as
    it would, and the test's check of exit status 130 says so."""

    def press(out: WatchedStream) -> None:
        if when(out):
            _thread.interrupt_main()

    with watching(press) as out:
        return run_cli_watched(monkeypatch, *argv, stdout=out)


def shows_state(text: str, region: str, stack_name: str, state: str) -> bool:
    """Whether a progress line of `text` shows `stack_name` in `region` in `state`."""
    return re.search(rf"^{re.escape(region)}\s+{re.escape(stack_name)}\s+{re.escape(state)}\s", text, re.M) is not None


@contextlib.contextmanager
def terminal_stdin(monkeypatch: Any, typed: str) -> Iterator[None]:
    """stdin is a real terminal (a pseudo-terminal) into which `typed` has already been typed."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, typed.encode())
        with open(terminal, encoding="utf-8", closefd=False) as stream:
            monkeypatch.setattr("sys.stdin", stream)
            yield
    finally:
        os.close(terminal)
        os.close(controller)


def region_workers_done() -> bool:
    """No region worker thread is left (they stop at their next poll once Ctrl-C has set `stop`)."""
    return not any(thread.name.startswith("region") for thread in threading.enumerate())


# --- endpoints that are not CloudFormation: real HTTP servers on 127.0.0.1 ---------------------------


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    _body: bytes | None = None

    def read_body(self) -> bytes:
        """The request's body (read from the socket once; one handler serves a keep-alive connection's requests)."""
        if self._body is None:
            self._body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self._body

    def answer(self, status: int, body: bytes, content_type: str = "text/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def http_server(handle: Callable[[_QuietHandler], None]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 whose every request is answered by handle(request); yields its URL."""

    class Handler(_QuietHandler):
        def do_POST(self) -> None:
            self._body = None  # a new request on this connection
            handle(self)

        do_GET = do_PUT = do_DELETE = do_HEAD = do_POST  # S3's REST calls (customer-config.json) come this way

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A short poll: shutdown() waits for the loop to look (0.5 s by default, at the end of every test).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()  # serve_forever returns: the thread ends
        server.server_close()
        thread.join(timeout=10)


def fixed_answer(status: int, body: bytes, content_type: str = "text/xml") -> Callable[[_QuietHandler], None]:
    """A handler for http_server: the same answer to every request."""

    def handle(request: _QuietHandler) -> None:
        request.read_body()
        request.answer(status, body, content_type)

    return handle


def region_of(request: _QuietHandler) -> str:
    """The region a SigV4-signed request was signed for (its credential scope)."""
    match = re.search(r"Credential=[^/]+/\d+/([a-z0-9-]+)/", request.headers.get("Authorization", ""))
    return match.group(1) if match else ""


def proxy_to(endpoint_url: str, fault: Callable[[_QuietHandler], bool], answer: Callable[[_QuietHandler], None]):
    """A handler for http_server: requests for which fault(request) holds get answer(request); the rest go to
    `endpoint_url` and come back as it answered."""

    def handle(request: _QuietHandler) -> None:
        body = request.read_body()
        if fault(request):
            answer(request)
            return
        hop_by_hop = {"host", "content-length", "expect", "connection", "transfer-encoding"}
        headers = {name: value for name, value in request.headers.items() if name.lower() not in hop_by_hop}
        forwarded = urllib.request.Request(
            endpoint_url + request.path, data=body or None, headers=headers, method=request.command
        )
        try:
            with urllib.request.urlopen(forwarded, timeout=30) as response:
                status, reply, kind = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, reply, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        request.answer(status, reply, kind or "text/xml")

    return handle


def form_field(request: _QuietHandler, name: str) -> str:
    """A field of a CloudFormation (query protocol) request's form body: "Action", "StackSetName", ..."""
    fields = urllib.parse.parse_qs(request.read_body().decode("utf-8", "replace"))
    return fields.get(name, [""])[0]


def forward(endpoint_url: str) -> Callable[[_QuietHandler], None]:
    """A handler for http_server (or a part of one): the request goes to `endpoint_url`, its answer comes back."""
    return proxy_to(endpoint_url, lambda request: False, lambda request: None)


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers; counts the connections."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="test-silent", daemon=True)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # closed
            while True:
                connection, _ = self._socket.accept()
                self.connections.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (a close alone does not)
        self._socket.close()
        self._thread.join(timeout=10)
        for connection in self.connections:
            connection.close()


def approve_widening_only(question: Any) -> bool:
    """The answer of `deploy --require-approval never` without YES: what widens goes ahead, nothing is deleted."""
    from generator.deploy import Approval

    return isinstance(question, Approval)


def engine_deploy(config: Any, out_dir: Path, confirm: Any = approve_widening_only, **options: Any) -> Any:
    """A deploy through the engine's front door, as the CLI makes it (polling fast): its DeployReport."""
    from generator.deploy import EngineOptions, engine_for

    engine = engine_for(config, EngineOptions(out_dir=out_dir, poll_interval=0.05, **options))
    return engine.deploy(confirm=confirm)
