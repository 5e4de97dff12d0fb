"""Replies -> what the smoke client reports: packets accounted for, per region, latency.

A reply "<count> <region>" accounts for the next `count` packets its client sent that no
earlier reply accounted for, in send order. Its latency runs from the send time of the
first of those packets, so a batch that waited for its timeout shows that wait.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ParsedReply:
    count: int
    region: str


def parse_reply(data: bytes) -> ParsedReply | None:
    """`b"<count> <region>\\n"` -> ParsedReply; anything else -> None (malformed)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or not parts[0].isascii():
        return None
    count = int(parts[0])
    if count < 1:
        return None
    return ParsedReply(count, parts[1])


@dataclass
class RegionTally:
    replies: int = 0
    packets: int = 0


@dataclass
class ClientLedger:
    """One client socket: the send times no reply has accounted for yet (oldest first), and how
    many packets replies have accounted for. Memory is bounded by the packets in flight."""

    send_times: deque[float] = field(default_factory=deque)
    accounted: int = 0

    @property
    def sent(self) -> int:
        return self.accounted + len(self.send_times)

    def account(self, count: int, received_at: float) -> tuple[float | None, int]:
        """Latency (s) from the first packet this reply counts, and packets it claims beyond those sent."""
        pending = self.send_times
        if not pending:
            return None, count
        latency = received_at - pending[0]
        covered = min(count, len(pending))
        for _ in range(covered):
            pending.popleft()
        self.accounted += covered
        return latency, count - covered


@dataclass
class SmokeTally:
    """Running totals while replies arrive."""

    clients: list[ClientLedger]
    regions: dict[str, RegionTally] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    malformed: list[bytes] = field(default_factory=list)
    malformed_count: int = 0
    excess: int = 0

    @property
    def sent(self) -> int:
        return sum(client.sent for client in self.clients)

    @property
    def counted(self) -> int:
        return sum(client.accounted for client in self.clients)

    def record(self, client: int, data: bytes, received_at: float) -> None:
        reply = parse_reply(data)
        if reply is None:
            self.malformed_count += 1
            if len(self.malformed) < 5:  # keep a few to show, not all
                self.malformed.append(data[:80])
            return
        tally = self.regions.setdefault(reply.region, RegionTally())
        tally.replies += 1
        tally.packets += reply.count
        latency, excess = self.clients[client].account(reply.count, received_at)
        self.excess += excess
        if latency is not None:
            self.latencies.append(latency)

    def all_accounted(self) -> bool:
        return self.counted >= self.sent


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (not empty)."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class LatencySummary:
    min_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, latencies: list[float]) -> LatencySummary | None:
        if not latencies:
            return None
        ordered = sorted(latencies)
        return cls(*(round(1000 * percentile(ordered, f), 3) for f in (0.0, 0.5, 0.95, 0.99, 1.0)))


@dataclass(frozen=True)
class SmokeReport:
    """The result of one smoke run, ready to print or dump as JSON."""

    target: str
    address: str
    packets_sent: int
    packets_counted: int
    packets_unaccounted: int
    packets_over_counted: int
    replies: int  # well-formed ones; malformed replies are counted apart
    malformed_replies: int
    malformed_examples: tuple[str, ...]
    regions: dict[str, dict[str, int]]
    latency_ms: LatencySummary | None
    send_seconds: float
    send_rate_pps: float

    @property
    def loss_percent(self) -> float:
        """Packets unaccounted for, in percent of those sent (as --max-loss and max_loss_percent are)."""
        return 100 * self.packets_unaccounted / self.packets_sent if self.packets_sent else 0.0

    @classmethod
    def from_tally(cls, tally: SmokeTally, target: str, address: str, send_seconds: float) -> SmokeReport:
        sent = tally.sent
        counted = tally.counted
        return cls(
            target=target,
            address=address,
            packets_sent=sent,
            packets_counted=counted + tally.excess,
            packets_unaccounted=sent - counted,
            packets_over_counted=tally.excess,
            replies=sum(region.replies for region in tally.regions.values()),
            malformed_replies=tally.malformed_count,
            malformed_examples=tuple(repr(example) for example in tally.malformed),
            regions={
                name: {"replies": region.replies, "packets": region.packets}
                for name, region in sorted(tally.regions.items())
            },
            latency_ms=LatencySummary.of(tally.latencies),
            send_seconds=round(send_seconds, 6),
            send_rate_pps=round(sent / send_seconds, 1) if send_seconds > 0 else 0.0,
        )

    def to_text(self) -> str:
        lines = [
            f"target: {self.target} ({self.address})",
            f"packets sent:        {self.packets_sent} in {self.send_seconds:.3f} s ({self.send_rate_pps:,.0f}/s)",
            f"packets counted:     {self.packets_counted} (by {self.replies} {_replies(self.replies)})",
            f"packets unaccounted: {self.packets_unaccounted} ({self.loss_percent:.2f}%)",
        ]
        if self.packets_over_counted:
            lines.append(f"over-counted:        {self.packets_over_counted} (replies claimed more than was sent)")
        if self.malformed_replies:
            shown = ", ".join(self.malformed_examples)
            lines.append(f"malformed replies:   {self.malformed_replies} (e.g. {shown})")
        lines.append("per region:")
        if not self.regions:
            lines.append("  (no replies)")
        for name, tally in self.regions.items():
            lines.append(f"  {name:<16} replies {tally['replies']:>7}   packets {tally['packets']:>9}")
        if self.latency_ms is not None:
            lat = self.latency_ms
            lines.append(
                f"latency ms (from the first packet a reply counts): min {lat.min_ms:.2f}  p50 {lat.p50_ms:.2f}"
                f"  p95 {lat.p95_ms:.2f}  p99 {lat.p99_ms:.2f}  max {lat.max_ms:.2f}"
            )
        return "\n".join(lines)


def _replies(count: int) -> str:
    return "reply" if count == 1 else "replies"
