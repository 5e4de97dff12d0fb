"""Where a local gateway takes what it serves: the destination's batching and formatter, the route of the next
batch (the serving region and the function there) and the functions to start before serving. The gateway asks
at every batch, so a source may change while it runs: `make local` serves a fixed config (StaticSource, with
regions marked down or up through its Router), the local cloud serves what is deployed
(generator/local/cloud/deployed_source.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from generator.config import Batching
from generator.local.gateway.function_process import FunctionSpec
from generator.local.gateway.routing import Router


@dataclass(frozen=True)
class Delivery:
    """Where one batch goes: the function that serves it and the round trip from the ingress region to it."""

    function: FunctionSpec
    rtt_ms: float = 0.0

    @property
    def region(self) -> str:
        return self.function.region


@dataclass(frozen=True)
class Destination:
    """What a batch is cut and delivered by: the destination's Batching and Formatter as they are now."""

    batching: Batching
    formatter: str


class GatewaySource(Protocol):
    """What a gateway serves; asked from the gateway's threads while it runs (implementations are thread-safe)."""

    domain: str  # the Local.Domain of every message

    def destination(self) -> Destination: ...

    def ingress(self) -> str: ...

    def route(self) -> Delivery | None:
        """Where the next batch goes; None when no function can take it (every region down, nothing bound)."""

    def functions_to_start(self) -> tuple[FunctionSpec, ...]:
        """Functions started, and their code checked, before the gateway serves (a load error stops it)."""


class StaticSource:
    """A config's gateway: the same function code in every configured region, one batching, and the Router's
    choice of region (which `local-control down|up` changes)."""

    domain = "localhost"

    def __init__(
        self,
        router: Router,
        regions: tuple[str, ...],
        code: str,
        batching: Batching,
        formatter: str,
        function_name: str,
        memory_mb: int,
        timeout_seconds: float,
    ) -> None:
        self.router = router
        self.regions = regions
        # Batches cross to the runtime process as pickles of plain types: no enum of ours (it loads none).
        self._destination = Destination(batching, str(formatter))
        self._functions = {
            region: FunctionSpec(region, function_name, code, memory_mb, timeout_seconds) for region in regions
        }

    def destination(self) -> Destination:
        return self._destination

    def ingress(self) -> str:
        return self.router.ingress

    def route(self) -> Delivery | None:
        region = self.router.serving_region()
        if region is None:
            return None
        return Delivery(self._functions[region], self.router.rtt_to(region))

    def functions_to_start(self) -> tuple[FunctionSpec, ...]:
        return tuple(self._functions.values())
