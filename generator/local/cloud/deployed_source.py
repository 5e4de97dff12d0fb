"""What one listener of the local cloud serves, read from the deployed state at every batch: the GatewaySource of
its endpoint (generator/local/gateway/sources.py).

- The destination's Batching and Formatter as the listener's properties are now (an update of the global stack
  changes them without a restart). The stand-in serves a listener's first destination, the one our templates
  make.
- The route: that destination's ARNs by ingress region key, as the listener's DestinationArn map and the
  DestinationArn bindings left them; tried in Proxylity's order (routing.route_order): the ingress region's own,
  else `*`, else the nearest region. A key whose function does not exist in the local cloud's Lambda (its
  regional stack deleted while a map still names it) is a region in failure, and skipped.
- The function: as the local cloud's Lambda holds it, in its own account and region (lambda_functions.py).
- The ingress region: the local cloud's (`local-cloud --ingress`, which can change while it runs), else the
  region the listener was created in (its home region).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generator.config import Batching
from generator.local.cloud.lambda_functions import DeployedFunctions
from generator.local.cloud.stand_in import ProxylityStandIn
from generator.local.gateway.function_process import FunctionSpec
from generator.local.gateway.routing import LatencyTable, route_order
from generator.local.gateway.sources import Delivery, Destination

PROXYLITY_DOMAIN = ".proxylity.com"  # the templates' Domain output: ${Listener.Domain}.proxylity.com
DEFAULT_FORMATTER = "base64"  # Proxylity's default Formatter
# A destination without Batching (our templates always write it): each packet a batch of its own.
UNBATCHED = Destination(Batching(count=1, timeout_in_seconds=0.01, size_in_mb=None), DEFAULT_FORMATTER)


class DeployedSource:
    """The GatewaySource of one listener of one account, as the stand-in and the local cloud's Lambda hold it."""

    def __init__(
        self,
        stand_in: ProxylityStandIn,
        account: str,
        listener_id: str,
        home_region: str,
        functions: DeployedFunctions,
        table: LatencyTable,
        ingress: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.domain = f"{listener_id}{PROXYLITY_DOMAIN}"
        self._stand_in = stand_in
        self._account = account
        self._listener_id = listener_id
        self._home_region = home_region
        self._functions = functions
        self._table = table
        self._ingress = ingress
        # The properties last read and what they say (the stand-in keeps each version of them as a new object).
        self._destination: tuple[dict[str, Any] | None, Destination] = (None, UNBATCHED)

    def ingress(self) -> str:
        return self._ingress() or self._home_region

    def destination(self) -> Destination:
        routes = self._stand_in.routes_of(self._account, self._listener_id)
        if routes is None:
            return UNBATCHED
        seen, destination = self._destination
        if seen is not routes.properties:
            destination = destination_of(routes.properties)
            self._destination = (routes.properties, destination)
        return destination

    def route(self) -> Delivery | None:
        routes = self._stand_in.routes_of(self._account, self._listener_id)
        if routes is None:
            return None  # the listener is gone
        ingress = self.ingress()
        for key in route_order(ingress, routes.arns, self._table):
            function = self._functions.spec(routes.arns[key])
            if function is not None:
                return Delivery(function, self._rtt(ingress, function))
        return None

    def functions_to_start(self) -> tuple[FunctionSpec, ...]:
        return ()  # each starts on its first batch, as a Lambda cold start

    def _rtt(self, ingress: str, function: FunctionSpec) -> float:
        return self._table.rtt(ingress, function.region) if self._table.knows(ingress, function.region) else 0.0


def destination_of(properties: dict[str, Any]) -> Destination:
    """The first destination's Batching and Formatter. Values are taken as CloudFormation hands a custom resource
    its properties, numbers or their text."""
    destinations = properties.get("Destinations") or [{}]
    first = destinations[0] if isinstance(destinations[0], dict) else {}
    batching = first.get("Batching")
    if not isinstance(batching, dict):
        return Destination(UNBATCHED.batching, str(first.get("Formatter") or DEFAULT_FORMATTER))
    try:
        size = batching.get("SizeInMb")
        parsed = Batching(
            count=max(1, int(float(batching.get("Count", 1)))),
            timeout_in_seconds=max(0.0, float(batching.get("TimeoutInSeconds", 0.01))),
            size_in_mb=float(size) if size not in (None, "") else None,
        )
    except (TypeError, ValueError):
        parsed = UNBATCHED.batching
    return Destination(parsed, str(first.get("Formatter") or DEFAULT_FORMATTER))
