"""Wall time of a fresh deploy of 1, 3 and 10 regions against the local cloud, parallel vs. sequential.

The local cloud's Proxylity stand-in waits a fixed time before each answer, so every stack spends
real time in progress, as on AWS. "sequential" is the seed's shape: one region after another
(--max-parallel 1). Goal: 10 regions in at most 1.3x the time of 1 region. Prints figures only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from generator.config import load_config
from generator.deploy import DEFAULT_MAX_PARALLEL, deploy
from generator.paths import DEFAULT_CONFIG, PROJECT_ROOT

ANSWER_DELAY = 1.0
POLL_INTERVAL = 0.1
REGIONS = (
    "us-west-2",
    "us-east-1",
    "eu-west-1",
    "us-east-2",
    "us-west-1",
    "eu-central-1",
    "eu-west-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
)


def _config(folder: Path, count: int):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["regions"] = list(REGIONS[:count])
    path = folder / f"config-{count}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


@contextmanager
def local_cloud_process():
    """The local cloud in its own process, as AWS is: its CPU work does not share our GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "generator", "local-cloud", "--port", str(port), "--delay", str(ANSWER_DELAY)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reset_local_cloud(endpoint)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the local cloud did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def reset_local_cloud(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass


def timed_from_scratch(endpoint: str, run_deploy: Callable[[], Any]) -> float:
    """Seconds `run_deploy()` takes on an emptied local cloud; a failed deploy stops the benchmark."""
    reset_local_cloud(endpoint)
    started = time.perf_counter()
    report = run_deploy()
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"benchmark deploy failed: {[r.reason for r in report.results if not r.ok]}")
    return elapsed


def use_benchmark_credentials() -> None:
    """Never real AWS: dummy credentials (and the local endpoint, set by the caller), for this process only."""
    os.environ.update(AWS_ACCESS_KEY_ID="benchmark", AWS_SECRET_ACCESS_KEY="benchmark")
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL_CLOUDFORMATION", None)


def _fresh_deploy(endpoint: str, config, out_dir: Path, max_parallel: int) -> float:
    return timed_from_scratch(
        endpoint, lambda: deploy(config, out_dir=out_dir, max_parallel=max_parallel, poll_interval=POLL_INTERVAL)
    )


def main() -> None:
    use_benchmark_credentials()
    with tempfile.TemporaryDirectory() as folder, local_cloud_process() as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        rows = []
        # Warm-up, not counted: the first deploy also pays for loading botocore's service data.
        _fresh_deploy(endpoint, _config(Path(folder), 1), Path(folder) / "out", max_parallel=1)
        for count in (1, 3, 10):
            config = _config(Path(folder), count)
            parallel = _fresh_deploy(endpoint, config, Path(folder) / "out", max_parallel=DEFAULT_MAX_PARALLEL)
            sequential = _fresh_deploy(endpoint, config, Path(folder) / "out", max_parallel=1)
            rows.append((count, parallel, sequential))
        base = rows[0][1]
        print(
            f"fresh deploy, Proxylity stand-in answer delay {ANSWER_DELAY:g}s, poll {POLL_INTERVAL:g}s, "
            f"--max-parallel {DEFAULT_MAX_PARALLEL} (sequential: 1)"
        )
        print(f"{'regions':>7}  {'parallel':>9}  {'vs 1 region':>11}  {'sequential':>10}")
        for count, parallel, sequential in rows:
            print(f"{count:>7}  {parallel:>8.2f}s  {parallel / base:>10.2f}x  {sequential:>9.2f}s")
        print(f"goal: 10 regions within 1.3x of 1 region -> {rows[-1][1] / base:.2f}x")
