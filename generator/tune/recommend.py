"""Each setting's verdict against the target, and the recommendation: the cheapest setting whose p99
reply latency meets the target with no packet lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from generator.tune.grid import Setting
from generator.tune.measure import Measurement
from generator.tune.model import CostEstimate, CostModel, predicted_batch_size


@dataclass(frozen=True)
class SettingResult:
    """One setting: what was measured, what the model predicts, and whether it meets the target."""

    measurement: Measurement
    predicted_invocations: int
    cost: CostEstimate | None  # None when no invocation ran to give a duration
    p99_target_ms: float
    refused_by_config: str | None = None  # why the config would refuse this setting written into it

    @property
    def setting(self) -> Setting:
        return self.measurement.setting

    @property
    def p99_ms(self) -> float | None:
        latency = self.measurement.latency_ms
        return latency.p99_ms if latency is not None else None

    @property
    def shortfalls(self) -> tuple[str, ...]:
        """Why this setting does not meet the target: empty when it does."""
        reasons = []
        if not self.measurement.lossless:
            reasons.append("loss")
        if self.p99_ms is None or self.p99_ms > self.p99_target_ms:
            reasons.append("p99 over target")
        if self.cost is None:
            reasons.append("no cost")
        if self.refused_by_config is not None:
            reasons.append("refused by the config")
        return tuple(reasons)

    @property
    def meets_target(self) -> bool:
        return not self.shortfalls


def priced_alike(results: Sequence[SettingResult], model: CostModel) -> list[SettingResult]:
    """`results` with settings that make batches of the same size at the model's rate priced as one.

    Such settings (count 100 with any timeout at 2,000 packets/s) run the same invocations of the same
    work; their handler runs differ only by the noise in timing them here. Pooling those runs gives them
    one billed duration, so their costs are equal and "the cheapest" is not decided by that noise.
    """
    pooled: dict[float, list[float]] = {}
    for result in results:
        pooled.setdefault(_batch_size(result, model), []).extend(result.measurement.handler_seconds)
    priced = []
    for result in results:
        setting, measured = result.setting, result.measurement
        cost = model.estimate(
            setting.count,
            setting.timeout_in_seconds,
            pooled[_batch_size(result, model)],
            measured.packets_sent,
            measured.invocations,
        )
        priced.append(replace(result, cost=cost))
    return priced


def recommend(results: Sequence[SettingResult]) -> SettingResult | None:
    """The cheapest setting meeting the target; None when no setting meets it.

    Of settings equally cheap (priced_alike gives settings making batches of one size one cost) the
    shortest timeout wins (it bounds the wait when traffic slows), then the larger count (bigger batches
    when traffic grows), then the lower p99.
    """
    eligible = [result for result in results if result.meets_target]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda result: (
            result.cost.usd_per_million_packets,  # type: ignore[union-attr]
            result.setting.timeout_in_seconds,
            -result.setting.count,
            result.p99_ms,
        ),
    )


def _batch_size(result: SettingResult, model: CostModel) -> float:
    return predicted_batch_size(model.rate, result.setting.count, result.setting.timeout_in_seconds)
