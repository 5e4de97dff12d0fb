"""The local cloud's data plane: every listener the Proxylity stand-in creates is a local gateway on loopback
(127.0.0.1 and ::1, the same port on both), serving what is deployed (deployed_source.py), its functions' logs
written to the local cloud's CloudWatch Logs (lambda_logs.py). The same gateway as `make local`
(generator/local/gateway/): one data plane.

An endpoint is bound before the stand-in returns its Port, and stopped when the listener is deleted, when the
local cloud is reset and when it stops. `on_change` hears the listeners' names whenever they change (the local
cloud lists them in its hosts file).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from generator.errors import GatewayError
from generator.local.cloud.deployed_source import DeployedSource
from generator.local.cloud.lambda_functions import DeployedFunctions
from generator.local.cloud.lambda_logs import write_invocation_logs
from generator.local.cloud.stand_in import ProxylityFailure, ProxylityStandIn
from generator.local.gateway.function_pool import Invocation
from generator.local.gateway.gateway import GatewaySettings, LocalGateway
from generator.local.gateway.routing import LatencyTable


class ListenerEndpoints:
    """A LocalGateway per listener, by listener id."""

    def __init__(
        self,
        stand_in: ProxylityStandIn,
        functions: DeployedFunctions,
        table: LatencyTable,
        ingress: Callable[[], str | None],
        on_change: Callable[[list[str]], None] = lambda names: None,
    ) -> None:
        self._stand_in = stand_in
        self._functions = functions
        self._table = table
        self._ingress = ingress
        self._on_change = on_change
        self._gateways: dict[str, LocalGateway] = {}
        self._lock = threading.Lock()

    def open(self, account_id: str, listener_id: str, region: str) -> int:
        source = DeployedSource(
            self._stand_in, account_id, listener_id, region, self._functions, self._table, self._ingress
        )
        settings = GatewaySettings(source=source, port=0, on_invocation=_log_invocation)
        try:
            gateway = LocalGateway(settings).start()
        except GatewayError as error:
            raise ProxylityFailure(f"Proxylity stand-in: cannot serve the listener: {error}") from None
        with self._lock:
            self._gateways[listener_id] = gateway
            names = self._names()
        self._on_change(names)
        return gateway.port

    def close(self, listener_id: str) -> None:
        with self._lock:
            gateway = self._gateways.pop(listener_id, None)
            names = self._names()
        if gateway is not None:
            gateway.stop()
            self._on_change(names)

    def close_all(self) -> None:
        with self._lock:
            gateways, self._gateways = list(self._gateways.values()), {}
        for gateway in gateways:
            gateway.stop()
        self._on_change([])

    def port_of(self, listener_id: str) -> int | None:
        with self._lock:
            gateway = self._gateways.get(listener_id)
            return gateway.port if gateway else None

    def names(self) -> list[str]:
        with self._lock:
            return self._names()

    def _names(self) -> list[str]:
        return sorted(gateway.source.domain for gateway in self._gateways.values())


def _log_invocation(invocation: Invocation) -> None:
    write_invocation_logs(invocation)
