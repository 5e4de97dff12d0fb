"""A stand-in Lambda runtime for one region: the local gateway runs one of these per region.

Run as a script (`python lambda_runtime.py`, environment AWS_REGION=<region>), it reads
the function (its handler module's code, name, memory, timeout) and then invocations from stdin,
and writes results to stdout, each a length-prefixed pickle frame. Per Proxylity batch it builds the
Proxylity event exactly as the gateway delivers it, calls the handler, checks the
result, and turns each reply's Tag back into the address of the client whose packet
carried it; any other event (a schedule's) is handed to the handler as it is.

With `capture_output`, what the handler prints (stdout, stderr, an exception's traceback) is returned with each
result, for the caller to write to CloudWatch Logs as Lambda does; otherwise it goes to this process's stderr.
With PACKET_COUNTER_HOSTS naming a hosts-format file, the names in it resolve to its addresses before the
system resolver is asked (the local cloud's listener names, which no resolver here knows).

A separate process per region because the handler reads os.environ["AWS_REGION"]: each
process has its own, as each region's Lambda does, so no lock or env juggling is needed;
the handler's CPU runs beside the receive loop (not under its GIL); and a handler that
crashes or hangs takes down only this process, which the gateway restarts. Only the
standard library is imported so that it starts in tens of milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import os
import pickle
import signal
import socket
import struct
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, BinaryIO

FRAME_HEADER = struct.Struct("!I")
# A hosts-format file (ADDRESS NAME...) of names to resolve before the system resolver: the local cloud's listeners.
HOSTS_VARIABLE = "PACKET_COUNTER_HOSTS"

# How a datagram's bytes appear as the message's Data, per the destination's Formatter.
FORMATTERS = {
    "base64": lambda data: base64.b64encode(data).decode("ascii"),
    "hex": lambda data: data.hex(),
    "ascii": lambda data: data.decode("ascii", errors="replace"),
    "utf8": lambda data: data.decode("utf-8", errors="replace"),
}


def write_frame(stream: BinaryIO, payload: object) -> None:
    body = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(FRAME_HEADER.pack(len(body)) + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """The next frame's object; EOFError when the other side has closed."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        raise EOFError
    (length,) = FRAME_HEADER.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        raise EOFError
    return pickle.loads(body)


def build_event(
    tag_prefix: str,
    datagrams: list[bytes],
    addresses: list[tuple],
    received: list[float],
    local: dict[str, dict[str, Any]],
    formatter: str,
    ingress: str | None = None,
) -> dict[str, Any]:
    """The Proxylity event: {"Messages": [{Tag, Remote, Local, ReceivedAt, Formatter, Data, IngressRegion}]}.

    Only JSON types (str, int, dict, list), so it is what the handler would get from
    json.loads of the event text; building the object directly saves a JSON round trip
    that would cost more than the handler itself. `local` maps "4"/"6" (the address
    family the packet came in on) to its Local object.
    """
    encode = FORMATTERS[formatter]
    local4, local6 = local["4"], local["6"]
    second_prefixes: dict[int, str] = {}  # ISO-8601 up to the seconds, formatted once per second
    messages = []
    append = messages.append
    for index, data in enumerate(datagrams):
        address = addresses[index]
        when = received[index]
        second = int(when)
        prefix = second_prefixes.get(second)
        if prefix is None:
            prefix = second_prefixes[second] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        append(
            {
                "Tag": tag_prefix + str(index),
                "Remote": {"IpAddress": address[0], "Port": address[1]},
                "Local": dict(local6 if len(address) == 4 else local4),
                "ReceivedAt": f"{prefix}{int((when - second) * 1_000_000):06d}+00:00",
                "Formatter": formatter,
                "Data": encode(data),
                **({"IngressRegion": ingress} if ingress else {}),
            }
        )
    return {"Messages": messages}


def route_replies(result: Any, tag_prefix: str, addresses: list[tuple]) -> tuple[list[tuple[tuple, bytes]], list[str]]:
    """The handler's result -> [(client address, reply bytes)] and one problem per unusable reply."""
    if not isinstance(result, dict) or not isinstance(result.get("Replies", []), list):
        return [], [f"handler returned {type(result).__name__}, expected an object with a Replies list"]
    routed: list[tuple[tuple, bytes]] = []
    problems: list[str] = []
    for reply in result.get("Replies", []):
        tag = reply.get("Tag") if isinstance(reply, dict) else None
        data = reply.get("Data") if isinstance(reply, dict) else None
        index = tag[len(tag_prefix) :] if isinstance(tag, str) and tag.startswith(tag_prefix) else ""
        if not index.isdigit() or int(index) >= len(addresses):
            problems.append(f"reply with unknown Tag {tag!r}")
            continue
        if not isinstance(data, str):
            problems.append(f"reply for Tag {tag!r} has no Data string")
            continue
        try:
            payload = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"reply for Tag {tag!r} has Data that is not base64")
            continue
        routed.append((addresses[int(index)], payload))
    return routed, problems


def load_handler(code: str, name: str = "handler", module: str = "index"):
    """Compile the handler module's code (the template's inline code is index.py) and return its function `name`."""
    namespace: dict[str, Any] = {"__name__": module}
    exec(compile(code, f"{module}.py", "exec"), namespace)
    return namespace[name]


class LambdaContext:
    """The context object Lambda passes beside the event, with the fields handlers use most."""

    def __init__(self, function: dict[str, Any], request_id: str | None = None) -> None:
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = function["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            function.get("arn") or f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"
        )
        self.memory_limit_in_mb = str(function["memory_mb"])
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = function.get("log_stream") or "local"
        self._deadline = time.monotonic() + function["timeout_seconds"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def call_handler(handler, event: Any, function: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    """One Lambda invoke: the handler's result as it crosses Lambda's JSON boundary (or "error"), "seconds" (how
    long the handler ran, the duration Lambda bills), "max_memory_mb" and, with capture_output, "output" (what it
    printed, and an exception's traceback, as Lambda logs them)."""
    captured = io.StringIO() if function.get("capture_output") else None
    outcome: dict[str, Any] = {"result": None, "error": None}
    with contextlib.ExitStack() as capturing:
        if captured is not None:
            capturing.enter_context(contextlib.redirect_stdout(captured))
            capturing.enter_context(contextlib.redirect_stderr(captured))
        started = time.perf_counter()
        try:
            result = handler(event, LambdaContext(function, request_id))
        except Exception as error:
            outcome["error"] = f"{type(error).__name__}: {error}"
            if captured is not None:
                captured.write(f"[ERROR] {outcome['error']}\n{traceback.format_exc()}")
        outcome["seconds"] = time.perf_counter() - started  # the handler's own run, as Lambda bills it
    if outcome["error"] is None:
        try:
            outcome["result"] = json.loads(json.dumps(result))  # what survives Lambda's JSON boundary on the way out
        except Exception as error:
            outcome["error"] = f"{type(error).__name__}: {error}"
    outcome["max_memory_mb"] = _max_memory_mb()
    if captured is not None:
        outcome["output"] = captured.getvalue()
    return outcome


def invoke(handler, batch: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """One batch through the handler, as a Lambda invoke: JSON in, JSON out, the replies routed back to their
    clients' addresses."""
    tag_prefix = batch["tag_prefix"]
    event = build_event(
        tag_prefix,
        batch["datagrams"],
        batch["addresses"],
        batch["received"],
        batch["local"],
        batch["formatter"],
        batch.get("ingress"),
    )
    outcome = call_handler(handler, event, function, batch.get("request_id"))
    replies, problems = [], []
    if outcome["error"] is None:
        replies, problems = route_replies(outcome["result"], tag_prefix, batch["addresses"])
    del outcome["result"]
    return {**outcome, "replies": replies, "problems": problems}


def invoke_event(handler, invocation: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """Any other event (a schedule's) through the handler, as a Lambda invoke."""
    outcome = call_handler(handler, invocation["event"], function, invocation.get("request_id"))
    return {**outcome, "replies": [], "problems": []}


def _max_memory_mb() -> int:
    """The most memory this process has held, in MB (Lambda's "Max Memory Used"): Linux's VmHWM, which starts
    again at exec (getrusage's maxrss keeps the forking parent's), else getrusage's."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(1, int(line.split()[1]) // 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource  # not on every platform; imported here so that the runtime starts without it
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(1, peak // (1024 * 1024) if sys.platform == "darwin" else peak // 1024)  # bytes on macOS, KiB else


def use_local_names(path: str) -> None:
    """Resolve the names in the hosts-format file at `path` (read at each lookup: listeners come and go) to its
    addresses, before the system resolver; every other name as before."""
    system_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        addresses = _hosts_file_addresses(path, host) if isinstance(host, str) else []
        if not addresses:
            return system_getaddrinfo(host, port, family, type, proto, flags)
        found = []
        for address in addresses:
            with contextlib.suppress(socket.gaierror):  # e.g. ::1 asked for AF_INET only
                found += system_getaddrinfo(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return found

    socket.getaddrinfo = getaddrinfo


def _hosts_file_addresses(path: str, name: str) -> list[str]:
    """The addresses a hosts-format file gives `name` ("ADDRESS NAME [ALIAS...]" lines, # comments), in order."""
    try:
        with open(path, encoding="utf-8") as hosts:
            lines = hosts.read().splitlines()
    except OSError:
        return []
    wanted = name.lower().rstrip(".")
    found = []
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and wanted in (word.lower() for word in words[1:]):
            found.append(words[0])
    return found


def main() -> None:
    # Ctrl-C is the gateway's to handle: it stops this process by closing stdin once the
    # open batch is through. Started in its own process group, it should not see the
    # terminal's SIGINT at all; ignoring it too covers a kill aimed at the group by hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; whatever the handler prints goes to stderr (its "logs").
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    protocol_in = sys.stdin.buffer
    if os.environ.get(HOSTS_VARIABLE):
        use_local_names(os.environ[HOSTS_VARIABLE])
    try:
        # {"code", "handler", "module", "function_name", "memory_mb", "timeout_seconds", "capture_output", "arn"}
        function = read_frame(protocol_in)
        handler = load_handler(function["code"], function.get("handler", "handler"), function.get("module", "index"))
        write_frame(protocol_out, {"ready": True})
    except EOFError:
        return
    except Exception as error:
        write_frame(protocol_out, {"ready": False, "error": f"{type(error).__name__}: {error}"})
        return
    while True:
        try:
            invocation = read_frame(protocol_in)
        except EOFError:
            return
        run = invoke_event if "event" in invocation else invoke
        write_frame(protocol_out, run(handler, invocation, function))


if __name__ == "__main__":
    main()
