"""A stand-in Lambda runtime for one region: the local gateway runs one of these per region.

Run as a script (`python lambda_runtime.py`, environment AWS_REGION=<region>), it reads
the function (the regional template's Code.ZipFile, name, memory, timeout) and then batches from stdin,
and writes results to stdout, each a length-prefixed pickle frame. Per batch it builds the
Proxylity event exactly as the gateway delivers it, calls the handler, checks the
result, and turns each reply's Tag back into the address of the client whose packet
carried it.

A separate process per region because the handler reads os.environ["AWS_REGION"]: each
process has its own, as each region's Lambda does, so no lock or env juggling is needed;
the handler's CPU runs beside the receive loop (not under its GIL); and a handler that
crashes or hangs takes down only this process, which the gateway restarts. Only the
standard library is imported so that it starts in tens of milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import pickle
import signal
import struct
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, BinaryIO

FRAME_HEADER = struct.Struct("!I")

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
) -> dict[str, Any]:
    """The Proxylity event: {"Messages": [{Tag, Remote, Local, ReceivedAt, Formatter, Data}]}.

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


def load_handler(code: str):
    """Compile the template's inline code as index.py and return its `handler`."""
    namespace: dict[str, Any] = {"__name__": "index"}
    exec(compile(code, "index.py", "exec"), namespace)
    return namespace["handler"]


class LambdaContext:
    """The context object Lambda passes beside the event, with the fields handlers use most."""

    def __init__(self, function: dict[str, Any]) -> None:
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = function["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"
        self.memory_limit_in_mb = str(function["memory_mb"])
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function["timeout_seconds"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(handler, batch: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """One batch through the handler, as a Lambda invoke: JSON in, JSON out. "seconds" is how long the
    handler ran (from its call to its return), the duration Lambda bills."""
    tag_prefix = batch["tag_prefix"]
    event = build_event(
        tag_prefix, batch["datagrams"], batch["addresses"], batch["received"], batch["local"], batch["formatter"]
    )
    context = LambdaContext(function)
    started = time.perf_counter()
    try:
        result = handler(event, context)
    except Exception as error:
        seconds = time.perf_counter() - started
        return {"replies": [], "problems": [], "error": f"{type(error).__name__}: {error}", "seconds": seconds}
    seconds = time.perf_counter() - started  # the handler's own run, as Lambda bills it
    try:
        result = json.loads(json.dumps(result))  # what survives Lambda's JSON boundary on the way out
    except Exception as error:
        return {"replies": [], "problems": [], "error": f"{type(error).__name__}: {error}", "seconds": seconds}
    replies, problems = route_replies(result, tag_prefix, batch["addresses"])
    return {"replies": replies, "problems": problems, "error": None, "seconds": seconds}


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
    try:
        function = read_frame(protocol_in)  # {"code", "function_name", "memory_mb", "timeout_seconds"}
        handler = load_handler(function["code"])
        write_frame(protocol_out, {"ready": True})
    except EOFError:
        return
    except Exception as error:
        write_frame(protocol_out, {"ready": False, "error": f"{type(error).__name__}: {error}"})
        return
    while True:
        try:
            batch = read_frame(protocol_in)
        except EOFError:
            return
        write_frame(protocol_out, invoke(handler, batch, function))


if __name__ == "__main__":
    main()
