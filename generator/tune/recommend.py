"""Each setting's verdict against the target, and the recommendation: the cheapest setting whose p99
reply latency meets the target with no packet lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.tune.grid import Setting
from generator.tune.measure import Measurement
from generator.tune.model import CostEstimate


@dataclass(frozen=True)
class SettingResult:
    """One setting: what was measured, what the model predicts, and whether it meets the target."""

    measurement: Measurement
    predicted_invocations: int
    cost: CostEstimate | None  # None when no invocation ran to give a duration
    p99_target_ms: float

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
        return tuple(reasons)

    @property
    def meets_target(self) -> bool:
        return not self.shortfalls


def recommend(results: Sequence[SettingResult]) -> SettingResult | None:
    """The cheapest setting meeting the target; None when no setting meets it.

    Settings that make batches of the same size at the measured rate (count 100 with any timeout at
    2,000 packets/s) make the same invocations of the same work: their estimates differ only by the
    noise in timing the handler. Among those the shortest timeout wins (it bounds the wait when traffic
    slows), then the larger count (bigger batches when traffic grows), then the lower p99.
    """
    eligible = [result for result in results if result.meets_target]
    if not eligible:
        return None
    cheapest = min(eligible, key=lambda result: result.cost.usd_per_million_packets)  # type: ignore[union-attr]
    alike = [result for result in eligible if result.cost.batch_size == cheapest.cost.batch_size]  # type: ignore[union-attr]
    return min(
        alike,
        key=lambda result: (result.setting.timeout_in_seconds, -result.setting.count, result.p99_ms),
    )
