"""Handler time per batch: ours vs dataclass-per-message Python handlers vs the same in Node.js.

Goal: at least 5x faster than the (typed) dataclass handler and within 2x of Node.js.
Events are parsed from JSON, as the Lambda runtime hands them over, so no string is shared.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import random
import shutil
import subprocess
import tempfile
import timeit
from pathlib import Path

from benchmarks.baselines import dataclass_handler
from generator.resources import packet_counter_handler_file

NODE_HANDLER = Path(__file__).parent / "baselines" / "handler.js"
CASES = [(1_000, 100), (10_000, 1_000)]


def make_event(messages: int, clients: int, seed: int = 1) -> dict:
    """A batch as the Lambda runtime hands it over: parsed from JSON, so no string is shared."""
    rng = random.Random(seed)
    addresses = [(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", 40000 + i % 13) for i in range(clients)]
    data = base64.b64encode(b"packet_1").decode()
    event = {
        "Messages": [
            {
                "Tag": f"tag-{index}",
                "Remote": dict(zip(("IpAddress", "Port"), rng.choice(addresses), strict=True)),
                "Local": {"Domain": "ingress-1.proxylity.com", "Port": 2000},
                "ReceivedAt": "2026-11-27T10:00:00.000Z",
                "Formatter": "base64",
                "Data": data,
            }
            for index in range(messages)
        ]
    }
    return json.loads(json.dumps(event))


def our_handler():
    spec = importlib.util.spec_from_file_location("packet_counter_bench", packet_counter_handler_file())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def python_microseconds(handler, event: dict) -> float:
    timer = timeit.Timer(lambda: handler(event))
    loops, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=loops)) / loops * 1e6


def node_microseconds(event: dict, node: str) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as stream:
        json.dump(event, stream)
    try:
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [node, str(NODE_HANDLER), stream.name, "300"], capture_output=True, text=True, check=True, timeout=120
            )
            runs.append(json.loads(out.stdout)["microseconds_per_batch"])
        return min(runs)
    finally:
        os.unlink(stream.name)


def main() -> None:
    os.environ.setdefault("AWS_REGION", "us-west-2")
    ours = our_handler()
    node = shutil.which("node")
    print("handler time per batch in µs (best of 5 runs; lower is better)")
    header = ("batch", "ours", "dataclass", "dc-strings", "node", "dc/ours", "dc-str/ours", "ours/node")
    print("{:>26} {:>8} {:>10} {:>10} {:>8} {:>8} {:>11} {:>9}".format(*header))
    for messages, clients in CASES:
        event = make_event(messages, clients)
        assert len(ours(event)["Replies"]) == len(dataclass_handler.handler(event)["Replies"]) == clients
        mine = python_microseconds(ours, event)
        typed = python_microseconds(dataclass_handler.handler, event)
        strings = python_microseconds(dataclass_handler.handler_strings_only, event)
        node_time = node_microseconds(event, node) if node else float("nan")
        label = f"{messages:,} msgs / {clients:,} clients"
        print(
            f"{label:>26} {mine:>8.0f} {typed:>10.0f} {strings:>10.0f} {node_time:>8.0f} "
            f"{typed / mine:>7.1f}x {strings / mine:>10.1f}x {mine / node_time:>8.2f}x"
        )
    print("dataclass: typed dataclass per message (datetime, bytes); dc-strings: fields kept as strings")
    print("goal: dc/ours >= 5x; ours/node <= 2x")
    if not node:
        print("node not found: Node.js comparison skipped")
