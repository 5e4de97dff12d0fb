"""Wall time of a fresh deploy of 1, 10 and 30 regions against the local cloud, with the default parallelism,
and of 10 regions one after another.

The local cloud (in a process of its own, as AWS is) has its Proxylity stand-in wait a fixed time before each
answer, so every stack spends real time in progress, as on AWS. "sequential" is the seed's shape: one region
after another (--max-parallel 1). Goal: 30 regions within 1.3x the time of 1 region (each region is its own
CloudFormation endpoint, so the default parallelism must not cut them into waves). Prints figures only.
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
from generator.config.regions import known_regions
from generator.deploy import DEFAULT_MAX_PARALLEL, Approval, EngineOptions, engine_for
from generator.resources import default_config_file

CHECKOUT = Path(__file__).resolve().parents[1]  # `python -m generator` runs from here

ANSWER_DELAY = 1.0
POLL_INTERVAL = 0.5
HOME = "us-west-2"
# The home region first, then the others botocore knows, in name order: 30 of its 34.
REGIONS = (HOME, *(region for region in known_regions() if region != HOME))
COUNTS = (1, 10, 30)


def _config(folder: Path, count: int):
    data = yaml.safe_load(default_config_file().read_text(encoding="utf-8"))
    data["regions"] = list(REGIONS[:count])
    path = folder / f"config-{count}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


@contextmanager
def local_cloud_process(delay: float = ANSWER_DELAY):
    """The local cloud in its own process, as AWS is: its CPU work does not share our GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "generator", "local-cloud", "--port", str(port), "--delay", str(delay)]
    process = subprocess.Popen(command, cwd=CHECKOUT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def timed_deploy(endpoint: str, config, out_dir: Path, max_parallel: int = DEFAULT_MAX_PARALLEL) -> float:
    """Seconds of a fresh deploy of `config` through the engine's front door, either deploy mode."""
    options = EngineOptions(out_dir=out_dir, max_parallel=max_parallel, poll_interval=POLL_INTERVAL)
    # a fresh deploy creates IAM roles: approved, as `deploy --require-approval never` does
    return timed_from_scratch(endpoint, lambda: engine_for(config, options).deploy(confirm=_approve_widening))


def _approve_widening(question: object) -> bool:
    return isinstance(question, Approval)


# The stand-in's answer delays measured: 1 s, and the local cloud's default (make local-cloud LOCAL_CLOUD_DELAY=2).
DELAYS = (ANSWER_DELAY, 2.0)


def main() -> None:
    use_benchmark_credentials()
    for delay in DELAYS:
        with tempfile.TemporaryDirectory() as folder, local_cloud_process(delay) as endpoint:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            out = Path(folder) / "out"
            # Warm-up, not counted: the first deploy also pays for loading botocore's service data.
            timed_deploy(endpoint, _config(Path(folder), 1), out)
            parallel = {count: timed_deploy(endpoint, _config(Path(folder), count), out) for count in COUNTS}
            sequential = timed_deploy(endpoint, _config(Path(folder), 10), out, max_parallel=1)
        base = parallel[1]
        print(
            f"fresh deploy, Proxylity stand-in answer delay {delay:g}s, poll {POLL_INTERVAL:g}s, "
            f"--max-parallel {DEFAULT_MAX_PARALLEL} (default)"
        )
        print(f"{'regions':>7}  {'parallel':>9}  {'vs 1 region':>11}")
        for count, seconds in parallel.items():
            print(f"{count:>7}  {seconds:>8.2f}s  {seconds / base:>10.2f}x")
        print(f"10 regions one after another (--max-parallel 1): {sequential:.2f}s")
        print(f"goal: 30 regions within 1.3x of 1 region -> {parallel[30] / base:.2f}x\n")
