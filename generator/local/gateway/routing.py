"""Which configured region serves packets entering at an ingress region.

Proxylity's rule, from its public examples: packets enter at the ingress region nearest the
sender; they go to the destination ARN of that same region when there is one (and it is up),
else to the ARN of the key `*` (the fallback for ingress regions without their own), else to the
region nearest by inter-region latency; a region in failure is skipped. route_order is that rule,
for `make local` (the configured regions) and the local cloud (the bindings that exist) alike.
Distances come from a table shipped as data
(region_latency.json beside this module, estimates; its "source" says how they were made).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import Problem, RoutingError
from generator.json_tables import read_json_table
from generator.resources import latency_table_file

DEFAULT_LATENCY_TABLE = latency_table_file()


@dataclass(frozen=True)
class LatencyTable:
    """Round-trip milliseconds between regions; symmetric, 0 to itself."""

    source: str
    rtt_ms: dict[str, dict[str, float]]

    def rtt(self, a: str, b: str) -> float:
        if a == b:
            return 0.0
        return self.rtt_ms[a][b] if b in self.rtt_ms.get(a, {}) else self.rtt_ms[b][a]

    def knows(self, a: str, b: str) -> bool:
        return a == b or b in self.rtt_ms.get(a, {}) or a in self.rtt_ms.get(b, {})

    def has(self, region: str) -> bool:
        """Whether the table has any round trip from `region`."""
        return region in self.rtt_ms or any(region in row for row in self.rtt_ms.values())


def load_latency_table(path: Path = DEFAULT_LATENCY_TABLE) -> LatencyTable:
    """Read {"rtt_ms": {region: {region: ms}}}; one problem per bad entry."""
    source = str(path)
    data = read_json_table(path, RoutingError, "latency table")
    table = data.get("rtt_ms") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise RoutingError([Problem(source, 'expected {"rtt_ms": {region: {region: milliseconds}}}')])
    problems = []
    rtt: dict[str, dict[str, float]] = {}
    for a, row in table.items():
        if not isinstance(row, dict):
            problems.append(Problem(source, "expected an object of region: milliseconds", key_path=f"rtt_ms.{a}"))
            continue
        rtt[a] = {}
        for b, ms in row.items():
            if isinstance(ms, bool) or not isinstance(ms, int | float) or ms < 0:
                problems.append(Problem(source, f"expected milliseconds >= 0, got {ms!r}", key_path=f"rtt_ms.{a}.{b}"))
            else:
                rtt[a][b] = float(ms)
    if problems:
        raise RoutingError(problems)
    return LatencyTable(source=source, rtt_ms=rtt)


ANY_INGRESS = "*"  # the IngressRegionKey (and DestinationArn map key) of ingress regions without their own


def route_order(ingress: str, keys: Iterable[str], table: LatencyTable) -> list[str]:
    """The ingress region keys in the order packets entering at `ingress` try them: its own, then `*`, then the
    other regions nearest first (ties in the order given; regions the table cannot place last)."""
    keys = list(dict.fromkeys(keys))
    regions = [key for key in keys if key not in (ingress, ANY_INGRESS)]
    placed = sorted((key for key in regions if table.knows(ingress, key)), key=lambda key: table.rtt(ingress, key))
    unplaced = [key for key in regions if not table.knows(ingress, key)]
    return [key for key in (ingress, ANY_INGRESS) if key in keys] + placed + unplaced


class Router:
    """The serving region for one ingress region, given which configured regions are up.

    Thread-safe: the control listener marks regions down or up while packets flow.
    """

    def __init__(self, ingress: str, regions: tuple[str, ...], table: LatencyTable, down: tuple[str, ...] = ()):
        if not table.has(ingress):
            raise RoutingError([Problem("local gateway", f"ingress {ingress} is not a region in {table.source}")])
        problems = [
            Problem(table.source, f"no latency from {ingress} to {region}; pass a --latency-table that has it")
            for region in regions
            if not table.knows(ingress, region)
        ]
        problems += [
            Problem("local gateway", f"cannot mark {region} down: it is not a configured region ({', '.join(regions)})")
            for region in down
            if region not in regions
        ]
        if problems:
            raise RoutingError(problems)
        self.ingress = ingress
        self.regions = regions
        self.table = table
        # Nearest first; the ingress region itself (0 ms) leads when configured. Ties keep config order.
        self.preference = tuple(route_order(ingress, regions, table))
        self._down = set(down)
        self._lock = threading.Lock()

    def serving_region(self) -> str | None:
        """The nearest configured region that is up; None when every one is down."""
        with self._lock:
            return next((region for region in self.preference if region not in self._down), None)

    def rtt_to(self, region: str) -> float:
        return self.table.rtt(self.ingress, region)

    def set_down(self, region: str, down: bool) -> None:
        if region not in self.regions:
            raise RoutingError(
                [Problem("local gateway", f"{region} is not a configured region ({', '.join(self.regions)})")]
            )
        with self._lock:
            if down:
                self._down.add(region)
            else:
                self._down.discard(region)

    def down_regions(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(region for region in self.preference if region in self._down)
