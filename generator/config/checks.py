"""The checks a schema cannot express: real region names, networks that parse (and the same network
written twice in two spellings), domains and WireGuard keys listed twice, WireGuard peers sharing
addresses, ARNs part by part, and tag keys AWS reserves."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

from generator.config.arns import arn_problems
from generator.config.regions import known_regions
from generator.config.schema import load_schema
from generator.config.yaml_source import KeyPath, YamlDocument, format_key_path
from generator.errors import Problem, closest_match, shown

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def semantic_problems(document: YamlDocument) -> list[Problem]:
    """Checks beyond the schema; tolerant of data the schema already rejected."""
    checks = _SemanticChecks(document)
    data = document.data
    regions = data.get("regions")
    if isinstance(regions, list):
        checks.regions(regions)
    if isinstance(data.get("home_region"), str):
        checks.region(data["home_region"], ("home_region",))
    listener = _mapping(data.get("listener"))
    checks.networks(listener.get("client_networks"), ("listener", "client_networks"))
    checks.repeats(
        listener.get("client_domains"),
        ("listener", "client_domains"),
        "the same domain (domain names ignore case)",
        canonical=str.lower,
    )
    peers = _mapping(listener.get("wireguard")).get("peers")
    if isinstance(peers, list):
        keys = [_mapping(peer).get("public_key") for peer in peers]
        checks.repeats(keys, ("listener", "wireguard", "peers"), "the same public key", field="public_key")
        addresses = {}
        for index, peer in enumerate(peers):
            path = ("listener", "wireguard", "peers", index, "allowed_ips")
            addresses[index] = checks.networks(_mapping(peer).get("allowed_ips"), path)
        checks.shared_addresses(("listener", "wireguard", "peers"), addresses)
    tags = data.get("tags")
    if isinstance(tags, dict):
        for key in tags:
            if isinstance(key, str) and key.lower().startswith("aws:"):
                checks.report(("tags", key), "tag keys starting with 'aws:' are reserved by AWS")
    _observability_problems(checks, data)
    home_region = _setting(data, ("home_region",))
    for path, value, kind in _arns(load_schema(), data, ()):
        for message in arn_problems(value, kind, home_region if isinstance(home_region, str) else None):
            checks.report(path, message)
    return checks.problems


def _arns(schema: dict[str, Any], value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str, str]]:
    """(key path, ARN, kind) of every ARN the data holds where the schema takes one (`x-arn`), at any depth."""
    if isinstance(schema.get("x-arn"), str) and isinstance(value, str):
        yield path, value, schema["x-arn"]
    if isinstance(value, dict):
        for name, subschema in schema.get("properties", {}).items():
            if name in value:
                yield from _arns(subschema, value[name], path + (name,))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _arns(schema["items"], item, path + (index,))


def _observability_problems(checks: _SemanticChecks, data: dict[str, Any]) -> None:
    """What the observability section cannot do with the rest of the config, each said where it is set."""
    alarms = _setting(data, ("observability", "alarms"))
    topic = _setting(data, ("observability", "alarms_topic_arn"))
    if isinstance(topic, str) and alarms is False:
        checks.report(
            ("observability", "alarms_topic_arn"),
            "is set, but observability.alarms is false, so no alarm would notify it; set alarms: true, or remove it",
        )
    if _setting(data, ("observability", "canary", "enabled")) is not True:
        return
    if isinstance(data.get("stacksets"), dict):
        # The canary takes its account's listener endpoint as a parameter of the regional stack; a StackSet gives
        # every instance the same parameters, and the endpoint differs from account to account.
        checks.report(
            ("observability", "canary", "enabled"),
            "the canary needs its own account's listener endpoint, which a StackSet cannot give each account's "
            "instances; with stacksets, set canary.enabled: false (alarms, dashboard and delivery log still work)",
        )
    protocols = _setting(data, ("listener", "protocols"))
    if isinstance(protocols, list) and "udp" not in protocols and "wg" in protocols:
        checks.report(
            ("observability", "canary", "enabled"),
            "the canary sends plain UDP, but listener.protocols does not list udp; add udp, or disable the canary",
        )
    count = _setting(data, ("destination", "batching", "count"))
    timeout = _setting(data, ("destination", "batching", "timeout_in_seconds"))
    packets = _setting(data, ("observability", "canary", "packets"))
    p99 = _setting(data, ("observability", "canary", "max_p99_ms"))
    numbers = (count, timeout, packets, p99)
    if alarms is not True or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        return
    if packets % count and p99 <= timeout * 1000:
        # A batch the canary's probes do not fill goes to the function only when its timeout ends: on a service
        # with no other traffic, the probes in it come back after at least timeout_in_seconds, every run.
        multiple = count * max(1, round(packets / count))
        checks.report(
            ("observability", "canary", "max_p99_ms"),
            f"{shown(p99)} ms is not above destination.batching.timeout_in_seconds ({timeout * 1000:g} ms), and "
            f"{packets} canary packets leave a batch of {packets % count} (count is {count}) waiting for that "
            f"timeout whenever no other traffic fills it: the round-trip alarm would fire on a quiet service; "
            f"send a multiple of count (e.g. packets: {multiple}) or raise max_p99_ms above {timeout * 1000:g}",
        )


def _setting(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at `path` as the config will have it: written in the file, else the schema's default (None
    when neither, or when a mapping on the way is not one: the schema reports that)."""
    value: Any = data
    schema: dict[str, Any] = load_schema()
    for key in path:
        schema = schema.get("properties", {}).get(key, {})
        if not isinstance(value, dict):
            return None
        value = value[key] if key in value else schema.get("default")
    return value


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _SemanticChecks:
    """The checks a schema cannot express, each reporting one Problem per finding."""

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def report(self, path: KeyPath, message: str) -> None:
        source, line = self.document.where(path)
        self.problems.append(Problem(source, message, format_key_path(path), line))

    def where(self, path: KeyPath) -> str:
        return f"{format_key_path(path)}, line {self.document.line_of(path)}"

    def regions(self, regions: list[Any]) -> None:
        first_index: dict[str, int] = {}
        for index, region in enumerate(regions):
            if not isinstance(region, str):
                continue
            if region in first_index:
                first_line = self.document.line_of(("regions", first_index[region]))
                self.report(("regions", index), f"{region} is listed twice (first at line {first_line})")
            else:
                first_index[region] = index
                self.region(region, ("regions", index))

    def region(self, region: str, path: KeyPath) -> None:
        regions = known_regions()
        if region in regions:
            return
        close = closest_match(region, regions)
        hint = f"did you mean {close}?" if close else f"expected one of {', '.join(regions)}"
        self.report(path, f"{shown(region)} is not an AWS region; {hint}")

    def networks(self, items: Any, path: KeyPath) -> dict[int, Network]:
        """Each item a network in CIDR form; one network written twice (in any spelling) is refused. Returns
        {index: network} of the items that are networks, each network once (at its first index)."""
        if not isinstance(items, list):
            return {}
        seen: dict[Network, int] = {}
        for index, text in enumerate(items):
            network = self.network(text, path + (index,)) if isinstance(text, str) else None
            if network is None:
                continue
            first = seen.setdefault(network, index)
            if first != index and items[first] != text:  # the schema reports the same spelling twice
                first_at = self.where(path + (first,))
                self.report(path + (index,), f"{text} is the network {network} again (first at {first_at})")
        return {index: network for network, index in seen.items()}

    def shared_addresses(self, peers_path: KeyPath, addresses: dict[int, dict[int, Network]]) -> None:
        """Two peers whose allowed_ips overlap (the same network, or one inside the other) are refused: WireGuard
        routes each address to one peer only (cryptokey routing), so one of them would silently lose it. A peer's
        own networks may overlap. Each network is reported once, with the nearest network of another peer
        that holds it (or that it holds), at whichever of the two comes later in the file.

        A sweep in address order, not a comparison of every pair: a config of many peers stays fast."""
        entries = sorted(
            (network.version, int(network.network_address), network.prefixlen, peer, index, network)
            for peer, networks in addresses.items()
            for index, network in networks.items()
        )
        enclosing: list[tuple[int, int, Network]] = []  # (peer, index, network): each inside the one before
        for version, _, _, peer, index, network in entries:
            while enclosing and not (
                enclosing[-1][2].version == version and network.subnet_of(enclosing[-1][2])  # type: ignore[arg-type]
            ):
                enclosing.pop()
            # A peer's own networks nest at most 129 deep (one per prefix length): this search stays short.
            other = next((entry for entry in reversed(enclosing) if entry[0] != peer), None)
            if other is not None:
                self._shared(peers_path, (peer, index, network), other)
            enclosing.append((peer, index, network))

    def _shared(self, peers_path: KeyPath, one: tuple[int, int, Network], other: tuple[int, int, Network]) -> None:
        later, earlier = sorted((one, other), key=lambda entry: entry[:2], reverse=True)
        later_path = peers_path + (later[0], "allowed_ips", later[1])
        earlier_path = peers_path + (earlier[0], "allowed_ips", earlier[1])
        later_text = self._written(later_path, later[2])
        earlier_text = self._written(earlier_path, earlier[2])
        where = self.where(earlier_path)
        if later[2] == earlier[2]:
            shared = f"is the same network as {earlier_text} of peers[{earlier[0]}] ({where}):"
        else:
            smaller = later[2] if later[2].prefixlen > earlier[2].prefixlen else earlier[2]
            shared = f"overlaps {earlier_text} of peers[{earlier[0]}] ({where}): both hold {smaller}, and"
        self.report(
            later_path,
            f"{later_text} of peers[{later[0]}] {shared} WireGuard routes each address to one peer only; "
            "give each peer addresses of its own",
        )

    def _written(self, path: KeyPath, network: Network) -> str:
        """A network as the file writes it."""
        value: Any = self.document.data
        for key in path:
            value = value[key]
        return value if isinstance(value, str) else str(network)

    def network(self, text: str, path: KeyPath) -> Network | None:
        if "/" not in text:
            self.report(
                path, f"{shown(text)} is not a CIDR; expected an address with a prefix length, e.g. 203.0.113.0/24"
            )
            return None
        address, _, prefix = text.partition("/")
        if "%" in address:
            # fe80::%eth0 names an interface of one machine: it means nothing to a service on the internet.
            bare = f"{address.partition('%')[0]}/{prefix}"
            self.report(
                path, f"{shown(text)} names a network interface zone, which means nothing off one host; write {bare}"
            )
            return None
        try:
            return ipaddress.ip_network(text, strict=True)
        except ValueError as error:
            self.report(path, f"{shown(text)} is not a valid network: {error}")
            return None

    def repeats(
        self,
        items: Any,
        path: KeyPath,
        what: str,
        canonical: Callable[[str], str] = str,
        field: str | None = None,
    ) -> None:
        """An item that is `what` as an earlier one (`field` of each item, when given). Without a field, the
        schema's uniqueItems already reports the same spelling twice: only other spellings are reported."""
        if not isinstance(items, list):
            return
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, str):
                continue
            first = seen.setdefault(canonical(item), index)
            if first == index or (field is None and items[first] == item):
                continue
            suffix = (field,) if field else ()
            self.report(path + (index, *suffix), f"{shown(item)} is {what} as {self.where(path + (first, *suffix))}")
