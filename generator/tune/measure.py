"""One measurement: the local gateway at one batching setting, driven by the smoke client.

Nothing of config.yaml changes: the gateway gets the setting as its Batching. The figures come from
the two ends as a user would read them: the smoke client's report (packets, replies, reply latency,
loss) and the gateway's own stats (invocations, packets per invocation), with the handler's run
per invocation from the gateway's invocation events.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from generator.config import Batching, Config
from generator.local.gateway.gateway import GatewaySettings, Invocation, LocalGateway
from generator.local.gateway.routing import Router
from generator.traffic.report import LatencySummary, percentile
from generator.traffic.smoke import SmokeOptions, run_smoke
from generator.tune.grid import Setting, Workload

QUIET_SECONDS = 2.0  # after the batch timeout (and round trip): how long the client waits for a late reply


@dataclass(frozen=True)
class Measurement:
    """What one setting did: the smoke client's view and the gateway's."""

    setting: Setting
    packets_sent: int
    packets_counted: int
    packets_unaccounted: int
    replies: int
    malformed_replies: int
    invocations: int  # batches the gateway handed to a function (its stats)
    failed_invocations: int  # batches lost to a handler that raised, timed out or crashed
    packets_batched: int  # datagrams the gateway put in batches
    latency_ms: LatencySummary | None
    handler_seconds: tuple[float, ...]  # the handler's run, per invocation that returned
    send_rate_pps: float

    @property
    def loss(self) -> float:
        return self.packets_unaccounted / self.packets_sent if self.packets_sent else 0.0

    @property
    def lossless(self) -> bool:
        return self.packets_unaccounted == 0 and self.failed_invocations == 0 and self.packets_sent > 0

    @property
    def mean_batch_size(self) -> float:
        return self.packets_batched / self.invocations if self.invocations else 0.0

    @property
    def handler_mean_ms(self) -> float | None:
        runs = self.handler_seconds
        return 1000 * math.fsum(runs) / len(runs) if runs else None

    @property
    def handler_p99_ms(self) -> float | None:
        return 1000 * percentile(sorted(self.handler_seconds), 0.99) if self.handler_seconds else None


def measure(
    config: Config,
    code: str,
    router: Router,
    setting: Setting,
    workload: Workload,
    add_latency: bool = False,
) -> Measurement:
    """Start a local gateway at `setting`, send the workload through it, stop it; what was seen."""
    handler_seconds: list[float] = []
    failed = 0
    lock = threading.Lock()

    def on_invocation(invocation: Invocation) -> None:
        nonlocal failed
        with lock:
            if invocation.handler_seconds is None:
                failed += 1
            else:
                handler_seconds.append(invocation.handler_seconds)

    batching = Batching(setting.count, setting.timeout_in_seconds, config.destination.batching.size_in_mb)
    settings = GatewaySettings.from_config(
        config, code, router, batching=batching, port=0, add_latency=add_latency, on_invocation=on_invocation
    )
    round_trip = router.rtt_to(router.serving_region() or router.ingress) / 1000 if add_latency else 0.0
    with LocalGateway(settings) as gateway:
        report = run_smoke(
            SmokeOptions(
                host="127.0.0.1",
                port=gateway.port,
                packets=workload.packets,
                rate=workload.rate,
                clients=workload.clients,
                quiet_seconds=setting.timeout_in_seconds + round_trip + QUIET_SECONDS,
            )
        )
    # The gateway has stopped: every batch it cut has run and been reported.
    stats = gateway.stats
    return Measurement(
        setting=setting,
        packets_sent=report.packets_sent,
        packets_counted=report.packets_sent - report.packets_unaccounted,
        packets_unaccounted=report.packets_unaccounted,
        replies=report.replies,
        malformed_replies=report.malformed_replies,
        invocations=sum(stats.batches.values()),
        failed_invocations=failed + stats.handler_errors,
        packets_batched=stats.datagrams,
        latency_ms=report.latency_ms,
        handler_seconds=tuple(handler_seconds),
        send_rate_pps=report.send_rate_pps,
    )
