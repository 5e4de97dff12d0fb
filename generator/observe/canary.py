"""The UDP canary run once from this machine: the same code the canary function runs (handler/canary.py, or
the Code.ZipFile of a rendered template's CanaryFunction), its result and its EMF records returned as data.

How the canary accounts for replies (handler/canary.py): every probe goes from a socket of its own, so the
packet counter, which answers once per client per batch, answers each probe alone with "1 <region>". A probe
is answered by the first well-formed reply on its socket from the address it was sent to, before the deadline;
a second reply on that socket is a duplicate, a datagram from another address is foreign, and neither counts.
No reply of another client can arrive on a probe's socket. Loss is the share of the planned probes unanswered.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

from generator.errors import CanaryError, Problem
from generator.resources import canary_handler_file
from generator.traffic.local_names import local_addresses
from generator.traffic.open_files import SPARE_FILES, allow_open_files, is_out_of_files, out_of_files_advice

LOCAL_REGION = "local"  # the Region dimension of a run from this machine


@dataclass(frozen=True)
class CanaryRun:
    """One canary run: what was probed, the canary's own result (Sent, Counted, LossPercent, RoundTripP50/P99,
    ServedBy, Duplicates, Foreign, Malformed, Overcounted, Error when it could not send), and its EMF records."""

    target: str
    result: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def loss_percent(self) -> float:
        return float(self.result["LossPercent"])

    def summary(self) -> str:
        """One line for people: counts, loss, round trip, who served, and anything odd."""
        r = self.result
        text = f"canary: {r['Planned']} probes to {self.target}: {r['Counted']} answered, loss {r['LossPercent']:.2f}%"
        if "RoundTripP50" in r:
            text += f", round trip p50 {r['RoundTripP50']:g} ms p99 {r['RoundTripP99']:g} ms"
        served = ", ".join(f"{region} {count}" for region, count in sorted(r["ServedBy"].items()))
        text += f"; served by {served or 'no region'}"
        odd = [f"{r[key]} {key.lower()}" for key in ("Duplicates", "Foreign", "Malformed", "Overcounted") if r[key]]
        if odd:
            text += f" ({', '.join(odd)}: not counted)"
        if "Error" in r:
            text += f"; {r['Error']}"
        return text


def load_canary(code: str | None = None, source: str | None = None) -> types.ModuleType:
    """The canary module from `code` (default: handler/canary.py), as Lambda loads the inline code; `source`
    names the code in errors (default: the file)."""
    source = source or str(canary_handler_file())
    try:
        text = canary_handler_file().read_text(encoding="utf-8") if code is None else code
        module = types.ModuleType("canary")
        exec(compile(text, source, "exec"), module.__dict__)
    except (OSError, SyntaxError) as error:
        raise CanaryError([Problem(source, f"cannot load the canary code: {error}")]) from None
    if not callable(getattr(module, "probe", None)) or not callable(getattr(module, "emf", None)):
        raise CanaryError([Problem(source, "expected the canary code (functions probe and emf)")])
    return module


def run_canary(
    host: str,
    port: int,
    packets: int,
    wait_seconds: float,
    namespace: str,
    region: str = LOCAL_REGION,
    canary: types.ModuleType | None = None,
    packets_source: str = "-n",
) -> CanaryRun:
    """Probe host:port once with `packets` probes, waiting at most `wait_seconds` for replies after the last.

    A probe needs a socket (an open file): when they cannot all be opened, CanaryError names `packets_source`
    (where the count came from) and nothing is sent; it is never reported as probes lost."""
    canary = canary or load_canary()
    allow_open_files(packets + SPARE_FILES)
    # A running local cloud's listener name is probed at the loopback address it serves; any other name is the
    # canary's own to resolve, as the function resolves it.
    address = next(iter(local_addresses(host)), host)
    try:
        result = canary.probe(address, port, packets, wait_seconds)
    except OSError as error:
        if not is_out_of_files(error):
            raise
        advice = out_of_files_advice(f"lower {packets_source}")
        raise CanaryError.of(
            "canary",
            f"{packets:,} probes need a socket each: {error.strerror or error}; {advice}; nothing was sent",
        ) from None
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return CanaryRun(target, result, canary.emf(result, region, namespace))
