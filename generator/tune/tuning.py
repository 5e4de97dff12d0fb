"""The whole tuning: every setting of the grid measured in turn, each priced by the model and judged
against the target, and the recommendation. Progress is reported as events; the result is data."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from generator.config import Config
from generator.local.gateway.routing import LatencyTable, Router
from generator.tune.grid import Grid, Setting, Workload, check_workload
from generator.tune.measure import measure
from generator.tune.model import CostModel, predicted_invocations
from generator.tune.prices import PriceTable
from generator.tune.recommend import SettingResult, priced_alike, recommend


@dataclass(frozen=True)
class TuneOptions:
    grid: Grid
    workload: Workload
    p99_target_ms: float
    ingress: str
    latency_table: LatencyTable
    add_latency: bool
    prices: PriceTable
    # Settings the config would refuse written into it (settings_the_config_refuses): measured, never recommended.
    refused: Mapping[Setting, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundTrip:
    """The AWS round trip the figures include (add_latency) or leave out: ingress -> serving region."""

    ingress: str
    serving_region: str
    rtt_ms: float
    added: bool
    table: str


@dataclass(frozen=True)
class SettingStarted:
    index: int  # 1-based
    total: int
    setting: Setting


@dataclass(frozen=True)
class SettingMeasured:
    index: int
    total: int
    result: SettingResult


TuneEvent = SettingStarted | SettingMeasured


@dataclass(frozen=True)
class TunePlan:
    """What a tuning run will do, checked before anything is measured."""

    options: TuneOptions
    router: Router
    round_trip: RoundTrip
    model: CostModel


@dataclass(frozen=True)
class TuneResult:
    plan: TunePlan
    config: Config
    results: tuple[SettingResult, ...]
    recommended: SettingResult | None
    started_at: str  # ISO-8601, UTC
    seconds: float


def plan_tuning(config: Config, options: TuneOptions) -> TunePlan:
    """Check the workload, the routing and the price before measuring anything (each error is one line)."""
    check_workload(options.workload)
    router = Router(options.ingress, config.regions, options.latency_table)
    serving = router.serving_region()
    assert serving is not None, "no region is marked down, so one serves"
    price = options.prices.price(serving, config.function.architecture)
    round_trip = RoundTrip(
        ingress=options.ingress,
        serving_region=serving,
        rtt_ms=router.rtt_to(serving),
        added=options.add_latency,
        table=options.latency_table.source,
    )
    model = CostModel(price=price, memory_mb=config.function.memory_mb, rate=options.workload.rate)
    return TunePlan(options=options, router=router, round_trip=round_trip, model=model)


def run_tuning(
    config: Config, code: str, plan: TunePlan, on_event: Callable[[TuneEvent], None] | None = None
) -> TuneResult:
    """Measure every setting of the plan's grid with `code` (the function's code), one after another."""
    options = plan.options
    settings = options.grid.settings
    workload = options.workload
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    clock = time.monotonic()
    results: list[SettingResult] = []
    for index, setting in enumerate(settings, start=1):
        if on_event is not None:
            on_event(SettingStarted(index, len(settings), setting))
        measurement = measure(config, code, plan.router, setting, workload, add_latency=options.add_latency)
        result = SettingResult(
            measurement=measurement,
            predicted_invocations=predicted_invocations(
                measurement.packets_sent, workload.rate, setting.count, setting.timeout_in_seconds
            ),
            cost=plan.model.estimate(
                setting.count,
                setting.timeout_in_seconds,
                measurement.handler_seconds,
                measurement.packets_sent,
                measurement.invocations,
            ),
            p99_target_ms=options.p99_target_ms,
            refused_by_config=options.refused.get(setting),
        )
        results.append(result)
        if on_event is not None:
            on_event(SettingMeasured(index, len(settings), result))
    results = priced_alike(results, plan.model)
    return TuneResult(
        plan=plan,
        config=config,
        results=tuple(results),
        recommended=recommend(results),
        started_at=started_at,
        seconds=time.monotonic() - clock,
    )
