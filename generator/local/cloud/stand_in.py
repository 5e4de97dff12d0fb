"""STAND-IN for Proxylity's control plane (a third-party service that cannot run here): it answers Create,
Update and Delete of the two Proxylity custom resource types with the attributes the real service returns,
and keeps the destination bindings. With a data plane (ListenerEndpoints, which LocalCloud gives it) every
listener it creates is served: a real UDP endpoint on loopback, bound before its Port is returned, stopped when
the listener is deleted. Also the Gate, which holds chosen requests until a test releases them.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

LISTENER_TYPE = "Custom::ProxylityUdpGatewayListener"
DESTINATION_ARN_TYPE = "Custom::ProxylityUdpGatewayDestinationArn"
PROXYLITY_ACCOUNT = "111122223333"  # the stand-in's own "account", as real ServiceTokens name Proxylity's
STAND_IN_API_KEY = "local-cloud-api-key"
# The account moto gives any credentials that are not an assumed role's (moto.core.DEFAULT_ACCOUNT_ID).
DEFAULT_ACCOUNT = "123456789012"
_INCLUDE_BUCKET = re.compile(r"^s3://proxylity-config-(?P<region>[a-z0-9-]+)/(?P<account>[^/]+)/customer-config\.json$")


class Gate:
    """Holds the callers it matches until released, so tests synchronise on events, never on sleeps.

    Open by default. `close(match)` makes every later caller for which match(key) is true wait in
    pass_through(); `wait_held(n)` returns once n of them wait together (proof they are in flight at the
    same time); `release()` lets them all go. A caller waits at most MAX_HOLD seconds, so a test that
    forgets to release slows down instead of hanging."""

    MAX_HOLD = 60.0

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._match: Callable[[Any], bool] | None = None
        self._held = 0
        self._releases = 0

    def close(self, match: Callable[[Any], bool] = lambda key: True) -> None:
        with self._condition:
            self._match = match

    def release(self) -> None:
        with self._condition:
            self._match = None
            self._releases += 1
            self._condition.notify_all()

    def holds(self, key: Any) -> bool:
        with self._condition:
            return self._match is not None and self._match(key)

    @property
    def held(self) -> int:
        with self._condition:
            return self._held

    def wait_held(self, count: int, timeout: float = MAX_HOLD) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self._held >= count, timeout)

    def pass_through(self, key: Any) -> None:
        with self._condition:
            if self._match is None or not self._match(key):
                return
            releases = self._releases
            self._held += 1
            self._condition.notify_all()
            try:
                self._condition.wait_for(lambda: self._releases > releases, self.MAX_HOLD)
            finally:
                self._held -= 1


class DataPlane(Protocol):
    """Serves the listeners the stand-in creates (generator.local.cloud.listener_endpoints.ListenerEndpoints)."""

    def open(self, account_id: str, listener_id: str, region: str) -> int:
        """Serve the listener; the UDP port it is served on. ProxylityFailure when it cannot be."""

    def close(self, listener_id: str) -> None: ...

    def close_all(self) -> None: ...


@dataclass(frozen=True)
class ListenerRoutes:
    """What a listener's data plane needs to route a batch, read together: the listener's properties as deployed,
    its (first) destination's name, and that destination's ARNs by ingress region key."""

    region: str  # where the listener was created (the home region)
    properties: dict[str, Any]
    destination: str
    arns: dict[str, str]


class ProxylityFailure(Exception):
    """The stand-in refused a request; the message is the status reason CloudFormation shows."""


@dataclass
class StandInCall:
    """One request the stand-in answered, for tests that check order and overlap."""

    request_type: str
    resource_type: str
    region: str
    started: float
    finished: float = 0.0
    failed: bool = False
    account: str = DEFAULT_ACCOUNT


@dataclass
class Customer:
    """What Proxylity keeps for one customer (one AWS account, known by its API key): its listeners and routing.
    Destination names are the customer's own, so two accounts may both name a destination `packet-counter`."""

    listeners: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The routing: (destination name, ingress region key) -> function ARN, written by maps and bindings.
    bindings: dict[tuple[str, str], str] = field(default_factory=dict)
    # What each listener's DestinationArn map last wrote there (listener id -> its entries).
    map_entries: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)


def api_key(account_id: str) -> str:
    """The stand-in's Proxylity API key of an account: each account has its own, as with Proxylity."""
    return STAND_IN_API_KEY if account_id == DEFAULT_ACCOUNT else f"{STAND_IN_API_KEY}-{account_id}"


@dataclass
class ProxylityStandIn:
    """STAND-IN for Proxylity's control plane (a third-party service that cannot run here)."""

    delay: float = 0.0
    fail_region: str | None = None
    unsubscribed_region: str | None = None  # no customer-config.json in this region's bucket
    # (account, region) pairs in which every request fails, as fail_region does for a whole region.
    fail_in: set[tuple[str, str]] = field(default_factory=set)
    customers: dict[str, Customer] = field(default_factory=dict)  # account id -> its Proxylity state
    # account id -> a key Proxylity issued it in place of its first one (rotate_api_key)
    rotated_keys: dict[str, str] = field(default_factory=dict)
    calls: list[StandInCall] = field(default_factory=list)
    # Holds the requests (StandInCall) a test chooses until it releases them.
    gate: Gate = field(default_factory=Gate)
    # Serves every listener (None: listeners are records only, with a made-up port).
    data_plane: DataPlane | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def customer(self, account_id: str = DEFAULT_ACCOUNT) -> Customer:
        return self.customers.setdefault(account_id, Customer())

    # The default account's state, which is all a single-account deploy has.
    @property
    def listeners(self) -> dict[str, dict[str, Any]]:
        return self.customer().listeners

    @property
    def bindings(self) -> dict[tuple[str, str], str]:
        return self.customer().bindings

    @property
    def map_entries(self) -> dict[str, dict[tuple[str, str], str]]:
        return self.customer().map_entries

    def reset(self) -> None:
        self.gate.release()
        with self._lock:
            self.customers.clear()
            self.calls.clear()
            self.fail_in.clear()
            self.rotated_keys.clear()
        if self.data_plane is not None:
            self.data_plane.close_all()

    def routes_of(self, account_id: str, listener_id: str) -> ListenerRoutes | None:
        """The listener's routing as it is now; None once it is deleted."""
        with self._lock:
            customer = self.customers.get(account_id)
            listener = customer.listeners.get(listener_id) if customer else None
            if listener is None:
                return None
            names = listener["DestinationNames"]
            destination = names[0] if names else ""
            arns = {key: arn for (name, key), arn in customer.bindings.items() if name == destination}  # type: ignore[union-attr]
            return ListenerRoutes(listener["Region"], listener["Properties"], destination, arns)

    def api_key_of(self, account_id: str) -> str:
        """The API key Proxylity holds for an account now (its customer-config.json says the same)."""
        return self.rotated_keys.get(account_id) or api_key(account_id)

    def rotate_api_key(self, account_id: str) -> str:
        """Issue the account a new API key, as a customer may ask Proxylity to: the old one is refused from now."""
        self.rotated_keys[account_id] = f"{api_key(account_id)}-rotated-{uuid.uuid4().hex[:8]}"
        return self.rotated_keys[account_id]

    def include_document(self, account_id: str, region: str) -> dict[str, Any]:
        """What s3://proxylity-config-<region>/<account>/customer-config.json holds for a customer."""
        return {
            region: {
                "ServiceToken": f"arn:aws:lambda:{region}:{PROXYLITY_ACCOUNT}:function:proxylity-udp-gateway",
                "ServiceRole": f"arn:aws:iam::{PROXYLITY_ACCOUNT}:role/proxylity-udp-gateway-{region}",
            },
            "Account": {"ApiKey": self.api_key_of(account_id)},
        }

    def handle(
        self,
        request_type: str,
        resource_type: str,
        region: str,
        properties: dict[str, Any],
        physical_id: str | None,
        account_id: str = DEFAULT_ACCOUNT,
    ) -> tuple[str, dict[str, Any]]:
        """Answer one custom resource request of the stack's account: (physical id, attributes) or
        ProxylityFailure. The request must carry that account's own API key."""
        call = StandInCall(request_type, resource_type, region, started=time.monotonic(), account=account_id)
        with self._lock:
            self.calls.append(call)
        self.gate.pass_through(call)
        time.sleep(self.delay)
        try:
            if region == self.fail_region and request_type != "Delete":
                raise ProxylityFailure(f"Proxylity stand-in: failing every request in {region} (--fail-region)")
            if (account_id, region) in self.fail_in and request_type != "Delete":
                raise ProxylityFailure(f"Proxylity stand-in: failing every request of account {account_id} in {region}")
            if properties.get("ApiKey") != self.api_key_of(account_id) and request_type != "Delete":
                raise ProxylityFailure(
                    f"Invalid ApiKey for account {account_id} (was that account's ProxylityConfig include resolved?)"
                )
            with self._lock:
                customer = self.customer(account_id)
                if resource_type != LISTENER_TYPE:
                    return self._binding(customer, request_type, properties, physical_id)
                answer = self._listener(customer, request_type, properties, physical_id, account_id, region)
            if request_type == "Delete" and self.data_plane is not None:
                # Outside the lock: a stopping endpoint flushes its open batch, whose route reads this state.
                self.data_plane.close(physical_id or "")
            return answer
        except ProxylityFailure:
            call.failed = True
            raise
        finally:
            call.finished = time.monotonic()

    def _listener(
        self,
        customer: Customer,
        request_type: str,
        properties: dict[str, Any],
        physical_id: str | None,
        account_id: str,
        region: str,
    ):
        if request_type == "Delete":
            listener = customer.listeners.pop(physical_id or "", None)
            customer.map_entries.pop(physical_id or "", None)
            if listener:
                names = set(listener["DestinationNames"])
                for key in [key for key in customer.bindings if key[0] in names]:
                    del customer.bindings[key]
            return physical_id or "", {}
        existing = customer.listeners.get(physical_id or "") if request_type == "Update" else None
        listener_id = existing["Id"] if existing else f"lst{uuid.uuid4().hex[:12]}"
        destinations = properties.get("Destinations") or []
        names = [d.get("Name") or f"{listener_id}-destination-{index}" for index, d in enumerate(destinations)]
        if existing:
            port = existing["Port"]  # an update changes what is served, never where
        elif self.data_plane is not None:
            port = self.data_plane.open(account_id, listener_id, region)  # bound before the Port is returned
        else:
            port = 2000 + int(hashlib.sha256(listener_id.encode()).hexdigest(), 16) % 60000
        attributes = {"Id": listener_id, "Domain": listener_id, "Port": port, "DestinationNames": names}
        region = existing["Region"] if existing else region
        customer.listeners[listener_id] = {**attributes, "Properties": properties, "Region": region}
        mapped = {
            (name, ingress): arn
            for destination, name in zip(destinations, names, strict=True)
            for ingress, arn in _arn_map(destination.get("DestinationArn")).items()
        }
        for key in customer.map_entries.get(listener_id, {}).keys() - mapped.keys():
            customer.bindings.pop(key, None)  # the map no longer has it
        customer.bindings.update(mapped)
        customer.map_entries[listener_id] = mapped
        return listener_id, attributes

    def _binding(self, customer: Customer, request_type: str, properties: dict[str, Any], physical_id: str | None):
        if request_type == "Delete":
            destination, _, ingress = (physical_id or "").partition("|")
            customer.bindings.pop((destination, ingress), None)
            return physical_id or "", {}
        destination, ingress = properties.get("Destination"), properties.get("IngressRegionKey")
        known = {name for listener in customer.listeners.values() for name in listener["DestinationNames"]}
        if destination not in known:
            raise ProxylityFailure(f"Destination {destination!r} does not exist")
        if request_type == "Update" and physical_id:
            old_destination, _, old_ingress = physical_id.partition("|")
            customer.bindings.pop((old_destination, old_ingress), None)
        customer.bindings[(destination, ingress)] = properties.get("Arn")
        return f"{destination}|{ingress}", {}


def _arn_map(value: Any) -> dict[str, str]:
    """A destination's DestinationArn as ingress region key -> ARN: a map as it is, one ARN for every ingress
    region (`*`: Proxylity uses that resource whatever the ingress region), nothing for `{}` or none."""
    if isinstance(value, str) and value:
        return {"*": value}
    return dict(value) if isinstance(value, dict) else {}
