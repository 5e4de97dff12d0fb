"""out/tune.json: every setting's figures, the model's inputs and the recommendation, for machines."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from generator.atomic_files import write_atomically
from generator.errors import GeneratorError, Problem
from generator.tune.model import HOURS_PER_MONTH, VCPU_MEMORY_MB
from generator.tune.recommend import SettingResult
from generator.tune.tuning import TuneResult

RESULTS_FILE_NAME = "tune.json"
CHART_FILE_NAME = "tune.png"


def tune_document(result: TuneResult) -> dict[str, Any]:
    plan = result.plan
    options = plan.options
    workload = options.workload
    model = plan.model
    table = options.prices
    config = result.config
    return {
        "started_at": result.started_at,
        "duration_seconds": round(result.seconds, 1),
        "config": config.source,
        "machine": {"cpus": os.cpu_count()},
        "workload": {
            "rate_pps": workload.rate,
            "clients": workload.clients,
            "seconds": workload.seconds,
            "packets_per_setting": workload.packets,
        },
        "target": {"p99_ms": options.p99_target_ms, "loss": 0},
        "round_trip": {
            **asdict(plan.round_trip),
            "note": "replies delayed by rtt_ms, as for a client near the ingress region"
            if plan.round_trip.added
            else "loopback only: no AWS round trip in the latencies",
        },
        "model": {
            "invocations": "ceil(packets / batch size), batch size = min(count, floor(rate x timeout) + 1)",
            "billed_duration": "each invocation's handler run x cpu_scale, rounded up to the next ms (at least 1)",
            "price": {
                **asdict(model.price),
                "table": table.path,
                "source": table.source,
                "as_of": table.as_of,
                "tier": table.tier,
            },
            "memory_mb": model.memory_mb,
            "architecture": config.function.architecture,
            "cpu_scale": round(model.cpu_scale, 4),
            "vcpu_memory_mb": VCPU_MEMORY_MB,
            "hours_per_month": HOURS_PER_MONTH,
            "packets_per_month": model.packets_per_month,
            "size_in_mb": config.destination.batching.size_in_mb,
            "not_included": table.not_included,
        },
        "settings": [_setting(item) for item in result.results],
        "recommendation": None
        if result.recommended is None
        else {
            "count": result.recommended.setting.count,
            "timeout_in_seconds": result.recommended.setting.timeout_in_seconds,
        },
    }


def _setting(result: SettingResult) -> dict[str, Any]:
    measured = result.measurement
    latency = measured.latency_ms
    cost = result.cost
    return {
        "count": result.setting.count,
        "timeout_in_seconds": result.setting.timeout_in_seconds,
        "measured": {
            "packets_sent": measured.packets_sent,
            "packets_counted": measured.packets_counted,
            "packets_unaccounted": measured.packets_unaccounted,
            "loss": measured.loss,
            "replies": measured.replies,
            "malformed_replies": measured.malformed_replies,
            "invocations": measured.invocations,
            "failed_invocations": measured.failed_invocations,
            "mean_batch_size": round(measured.mean_batch_size, 3),
            "latency_ms": asdict(latency) if latency is not None else None,
            "handler_ms": {
                "mean": _rounded(measured.handler_mean_ms),
                "p99": _rounded(measured.handler_p99_ms),
            },
            "send_rate_pps": measured.send_rate_pps,
        },
        "model": {
            "predicted_invocations": result.predicted_invocations,
            "counted_to_predicted": round(measured.invocations / result.predicted_invocations, 4),
            **({key: _rounded(value, 10) for key, value in asdict(cost).items()} if cost is not None else {}),
        },
        "meets_target": result.meets_target,
        "shortfalls": list(result.shortfalls),
        "refused_by_config": result.refused_by_config,
    }


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def write_results(result: TuneResult, out_dir: Path) -> Path:
    """Write out/tune.json whole or not at all; its path."""
    path = Path(out_dir) / RESULTS_FILE_NAME
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(tune_document(result), indent=2) + "\n")
    except OSError as error:
        raise GeneratorError([Problem(str(path), f"cannot write: {error.strerror or error}")]) from None
    return path
