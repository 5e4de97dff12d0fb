"""UDP figures: sustained packets/s through the local gateway with zero loss (batching Count 1000),
the smoke client's highest send rate, and reply latency at a light load.

The gateway runs in this process (its receive thread, invoker threads and one function
process per region), the smoke client in a separate process, as a user runs them. A rate
counts as sustained when every packet is accounted for by the replies and the p99 reply
latency stays under SUSTAINED_P99_MS: with a 64 MiB socket buffer a gateway that falls
behind can still lose nothing for a few seconds, but its latency grows with the backlog.
Loopback only.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from generator.config import Batching, load_config
from generator.local.gateway.gateway import GatewaySettings, LocalGateway
from generator.local.gateway.routing import Router, load_latency_table
from generator.render import render_function_code
from generator.resources import default_config_file

CHECKOUT = Path(__file__).resolve().parents[1]  # `python -m generator` runs from here

SECONDS_PER_STEP = 4
RATES = (20_000, 40_000, 50_000, 60_000, 70_000, 80_000, 100_000, 120_000)
SUSTAINED_P99_MS = 500.0
HEADER = f"  {'offered/s':>10} {'sent/s':>10} {'sent':>8} {'unacct':>7} {'replies':>7} {'p50 ms':>8} {'p99 ms':>8}"


def smoke(port: int, packets: int, rate: float | None, quiet: float = 2.0, host: str = "127.0.0.1") -> dict:
    """The smoke client in its own process; its --json report."""
    command = [sys.executable, "-m", "generator", "smoke", "--host", host, "--port", str(port), "-n", str(packets)]
    command += ["--timeout", str(quiet), "--json", "--max-loss", "100"]  # percent: every loss is reported, none fails
    if rate is not None:
        command += ["--rate", str(rate)]
    completed = subprocess.run(command, cwd=CHECKOUT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(completed.stdout)


def gateway(code: str, count: int, timeout: float, concurrency: int = 1) -> LocalGateway:
    config = load_config(default_config_file())
    router = Router(config.home_region, config.regions, load_latency_table())
    settings = GatewaySettings.from_config(
        config, code, router, batching=Batching(count, timeout, None), port=0, concurrency=concurrency
    )
    return LocalGateway(settings)


def sustained_rate(code: str, concurrency: int) -> list[tuple[int, dict]]:
    """Step the offered rate up until a step loses packets or falls behind."""
    steps = []
    for rate in RATES:
        with gateway(code, count=1000, timeout=0.5, concurrency=concurrency) as local:
            report = smoke(local.port, rate * SECONDS_PER_STEP, rate)
        steps.append((rate, report))
        if report["packets_unaccounted"] or report["latency_ms"]["p99_ms"] > SUSTAINED_P99_MS:
            break
    return steps


def client_send_rate() -> dict:
    """The smoke client flat out at a socket that never reads (the kernel drops what overflows)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        return smoke(sink.getsockname()[1], 300_000, None, quiet=0.1)


def light_load_latency(code: str) -> dict:
    with gateway(code, count=1, timeout=0.5) as local:
        return smoke(local.port, 2_000, 1_000)


def main() -> None:
    with tempfile.TemporaryDirectory() as out_dir:
        code, _ = render_function_code(load_config(default_config_file()), Path(out_dir))
    for concurrency in (1, 2):
        print(
            f"sustained rate through the local gateway (Count 1000, {SECONDS_PER_STEP} s per step, "
            f"{concurrency} function process{'es' if concurrency > 1 else ''} per region):"
        )
        print(HEADER)
        best = 0
        for rate, report in sustained_rate(code, concurrency):
            latency = report["latency_ms"] or {"p50_ms": float("nan"), "p99_ms": float("nan")}
            ok = not report["packets_unaccounted"] and latency["p99_ms"] <= SUSTAINED_P99_MS
            best = round(report["send_rate_pps"]) if ok else best
            print(
                f"  {rate:>10,} {report['send_rate_pps']:>10,.0f} {report['packets_sent']:>8,} "
                f"{report['packets_unaccounted']:>7,} {report['replies']:>7,} {latency['p50_ms']:>8.1f} "
                f"{latency['p99_ms']:>8.1f}{'' if ok else '  <- loss or backlog'}"
            )
        print(f"  highest sustained zero-loss rate (as sent): {best:,} packets/s (goal 50,000)")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of the gateway process (receiver, invokers; not the function processes): {peak_mib:.0f} MiB")
    sender = client_send_rate()
    print(f"smoke client's highest send rate: {sender['send_rate_pps']:,.0f} packets/s (300,000 packets, one socket)")
    light = light_load_latency(code)["latency_ms"]
    print(
        "reply latency at 1,000 packets/s, Count 1: "
        f"min {light['min_ms']:.2f}  p50 {light['p50_ms']:.2f}  p95 {light['p95_ms']:.2f}  "
        f"p99 {light['p99_ms']:.2f}  max {light['max_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
