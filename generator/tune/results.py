"""out/tune.json (every setting's figures, the model's inputs and the recommendation, for machines) and
out/tune.png, written together or neither."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from generator.atomic_files import FileTransaction, check_replaceable, check_writable_folder, folder_made
from generator.errors import TuneError
from generator.tune.chart import chart_png
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
        "environment": config.environment.name if config.environment else None,
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


def check_results_writable(out_dir: Path) -> None:
    """TuneError now, before the minutes of measuring, when tune.json and tune.png could not go to `out_dir`."""
    try:
        check_writable_folder(Path(out_dir), (RESULTS_FILE_NAME, CHART_FILE_NAME))
    except OSError as error:
        raise TuneError.of(
            str(error.filename or out_dir),
            f"cannot write {RESULTS_FILE_NAME} and {CHART_FILE_NAME} here: {error.strerror or error}",
        ) from None


def write_results(result: TuneResult, out_dir: Path) -> tuple[Path, Path]:
    """Write out/tune.json and out/tune.png together or neither (the folder too: made only if they are
    written); their paths. The chart is drawn and the document made before anything is written: TuneError
    when either cannot be, or when the files cannot be written, and then nothing has changed."""
    out_dir = Path(out_dir)
    targets = (out_dir / RESULTS_FILE_NAME, out_dir / CHART_FILE_NAME)
    try:
        document = json.dumps(tune_document(result), indent=2, allow_nan=False) + "\n"
    except ValueError as error:  # a figure that JSON cannot hold (nan, infinity): a bug, said in one line
        raise TuneError.of(str(targets[0]), f"cannot write: {error}; nothing was written") from None
    chart = chart_png(result)
    try:
        with folder_made(out_dir):
            for target in targets:
                check_replaceable(target)
            with FileTransaction(out_dir) as files:
                files.replace(targets[0], document)
                files.replace(targets[1], chart)
    except OSError as error:
        where = error.filename if error.filename in {str(target) for target in targets} else out_dir
        raise TuneError.of(
            str(where),
            f"cannot write {RESULTS_FILE_NAME} and {CHART_FILE_NAME}: {error.strerror or error}; neither was written",
        ) from None
    return targets
