"""Helpers for the tuning tests: a tuning run on a small grid, in this process, with the real local
gateway and smoke client on loopback; and synthetic results for the pure parts (recommendation, chart)."""

from __future__ import annotations

from pathlib import Path

from generator.config import Config, load_config
from generator.local.gateway.routing import load_latency_table
from generator.traffic.report import LatencySummary
from generator.tune import (
    CostModel,
    Grid,
    Measurement,
    Setting,
    SettingResult,
    TuneOptions,
    TuneResult,
    Workload,
    load_price_table,
    plan_tuning,
    predicted_invocations,
    run_tuning,
)
from tests.support.checkout import DEFAULT_CONFIG
from tests.support.udp import rendered_handler_code


def small_tuning(
    out_dir: Path,
    counts: tuple[int, ...],
    timeouts: tuple[float, ...],
    rate: float,
    seconds: float,
    clients: int = 1,
    p99_ms: float = 250.0,
    ingress: str | None = None,
    add_latency: bool = False,
    config: Config | None = None,
) -> TuneResult:
    """run_tuning on a small grid against the default config's function code (rendered into out_dir)."""
    config = config or load_config(DEFAULT_CONFIG)
    options = TuneOptions(
        grid=Grid(counts, timeouts),
        workload=Workload(rate=rate, clients=clients, seconds=seconds),
        p99_target_ms=p99_ms,
        ingress=ingress or config.home_region,
        latency_table=load_latency_table(),
        add_latency=add_latency,
        prices=load_price_table(),
    )
    return run_tuning(config, rendered_handler_code(out_dir), plan_tuning(config, options))


def synthetic_result(
    count: int,
    timeout: float,
    p99_ms: float,
    lost: int = 0,
    rate: float = 2000.0,
    packets: int = 10_000,
    handler_ms: float | tuple[float, ...] = 0.1,
    target_ms: float = 250.0,
) -> SettingResult:
    """A setting's result as a tuning run would make it, with chosen latency and loss (no UDP); the handler's
    runs take `handler_ms` each, or the values of a tuple in turn."""
    setting = Setting(count, timeout)
    invocations = predicted_invocations(packets, rate, count, timeout)
    runs = handler_ms if isinstance(handler_ms, tuple) else (handler_ms,)
    measurement = Measurement(
        setting=setting,
        packets_sent=packets,
        packets_counted=packets - lost,
        packets_unaccounted=lost,
        replies=invocations,
        malformed_replies=0,
        invocations=invocations,
        failed_invocations=0,
        packets_batched=packets,
        latency_ms=LatencySummary(p99_ms / 4, p99_ms / 2, p99_ms * 0.9, p99_ms, p99_ms * 1.1),
        handler_seconds=tuple(runs[index % len(runs)] / 1000 for index in range(invocations)),
        send_rate_pps=rate,
    )
    model = model_at(rate)
    return SettingResult(
        measurement=measurement,
        predicted_invocations=invocations,
        cost=model.estimate(count, timeout, measurement.handler_seconds, packets, invocations),
        p99_target_ms=target_ms,
    )


def model_at(rate: float) -> CostModel:
    """The cost model of the default config (us-west-2, x86_64, 128 MB) at `rate` packets/s."""
    return CostModel(price=load_price_table().price("us-west-2", "x86_64"), memory_mb=128, rate=rate)


MODEL = model_at(2000.0)
