"""The cost model: how many invocations a steady packet rate makes at a batching setting, and what
they would cost on AWS Lambda.

Invocations. Proxylity (and the local gateway) sends a batch when it holds `count` packets or
`timeout` seconds after its first packet, whichever comes first. Packets arriving steadily at `rate`
per second reach a batch while it is open: the first, then one every 1/rate s up to and including
the timeout (the gateway reads what has arrived before it looks at its timer), so a batch holds
min(count, floor(rate x timeout) + 1) packets and N packets make ceil(N / batch size) invocations.
The model leaves out size_in_mb (the smoke client's packets are about 12 bytes, so no size cut is
ever reached) and a gateway that falls behind.

Cost. Per invocation, Lambda charges one request and the handler's run rounded up to the next
millisecond, times the memory in GB. The handler's run is measured here, on one core of this machine;
Lambda gives a function memory_mb / 1,769 of a vCPU (1,769 MB is one vCPU, by AWS's documentation),
so below 1,769 MB a CPU-bound handler is modelled as running 1,769 / memory_mb times longer. The
month is AWS's 730 hours. Proxylity's own charges are not public and not included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from generator.tune.prices import Price

VCPU_MEMORY_MB = 1769  # Lambda memory that comes with one full vCPU
HOURS_PER_MONTH = 730  # AWS's pricing month
MILLION = 1_000_000


def predicted_batch_size(rate: float, count: int, timeout: float) -> int:
    """Packets per batch for a steady `rate` (packets/s): min(count, floor(rate x timeout) + 1)."""
    # Rounded first so that 100 x 0.29, which floats hold as 28.999999999999996, stays 29.
    return min(count, math.floor(round(rate * timeout, 9)) + 1)


def predicted_invocations(packets: int, rate: float, count: int, timeout: float) -> int:
    """Invocations `packets` sent steadily at `rate` make: ceil(packets / batch size)."""
    return math.ceil(packets / predicted_batch_size(rate, count, timeout))


def cpu_scale(memory_mb: int) -> float:
    """How many times longer a CPU-bound handler runs on Lambda at `memory_mb` than on one full core."""
    return max(1.0, VCPU_MEMORY_MB / memory_mb)


def billed_milliseconds(handler_seconds: float, scale: float) -> int:
    """Lambda's billed duration of one run: the (scaled) run rounded up to the next millisecond, at least 1."""
    return max(1, math.ceil(round(handler_seconds * 1000 * scale, 9)))


@dataclass(frozen=True)
class CostEstimate:
    """What one batching setting would cost at AWS Lambda's prices (USD), from the model."""

    batch_size: int  # predicted packets per invocation
    invocations_per_million_packets: float
    billed_ms_per_invocation: float  # mean over the measured runs, each scaled and rounded up
    request_usd_per_million_packets: float
    duration_usd_per_million_packets: float
    usd_per_million_packets: float
    usd_per_month: float  # at the workload's rate, all month
    # The same prices applied to the invocations counted in the run rather than predicted:
    counted_usd_per_million_packets: float


@dataclass(frozen=True)
class CostModel:
    """The inputs of the estimate besides the measurement."""

    price: Price
    memory_mb: int
    rate: float  # packets/s, for the month's figure

    @property
    def cpu_scale(self) -> float:
        return cpu_scale(self.memory_mb)

    @property
    def packets_per_month(self) -> float:
        return self.rate * HOURS_PER_MONTH * 3600

    def per_invocation_usd(self, billed_ms: float) -> float:
        return self.price.request_usd_per_million / MILLION + billed_ms / 1000 * self.memory_mb / 1024 * (
            self.price.gb_second_usd
        )

    def estimate(
        self, count: int, timeout: float, handler_seconds: Sequence[float], packets: int, invocations: int
    ) -> CostEstimate | None:
        """The estimate for a setting, from the runs measured there; None when no run was measured."""
        if not handler_seconds:
            return None
        scale = self.cpu_scale
        billed = sum(billed_milliseconds(seconds, scale) for seconds in handler_seconds) / len(handler_seconds)
        batch = predicted_batch_size(self.rate, count, timeout)
        per_million = MILLION / batch
        requests = per_million * self.price.request_usd_per_million / MILLION
        duration = per_million * billed / 1000 * self.memory_mb / 1024 * self.price.gb_second_usd
        total = requests + duration
        counted = invocations / packets * MILLION * self.per_invocation_usd(billed) if packets else 0.0
        return CostEstimate(
            batch_size=batch,
            invocations_per_million_packets=per_million,
            billed_ms_per_invocation=billed,
            request_usd_per_million_packets=requests,
            duration_usd_per_million_packets=duration,
            usd_per_million_packets=total,
            usd_per_month=total * self.packets_per_month / MILLION,
            counted_usd_per_million_packets=counted,
        )
