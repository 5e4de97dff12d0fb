"""Wall time of a fresh deploy of 1, 5 and 20 regional instances through StackSets, against the existing
parallel change-set deploy of as many regional stacks, under the local cloud's answer delay.

The local cloud runs in its own process (as AWS does) and its Proxylity stand-in waits ANSWER_DELAY before
each answer, so every stack spends real time in progress. Each deploy also makes its global stack (one per
account). "change sets": one account, N regions, --max-parallel 16 (the default). "StackSets 1 account": the
same N regions as instances of one account. "StackSets accounts x regions": N instances spread over several
accounts (1x1, 5x1, 5x4), regions in parallel and every account of a region at once (100%).

What this measures is our side: the operations started, watched and read back, and the instances' own time.
CloudFormation's own StackSet overhead per operation on AWS is not modelled by the local cloud. Prints
figures only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from benchmarks.deploy_bench import (
    ANSWER_DELAY,
    POLL_INTERVAL,
    REGIONS,
    local_cloud_process,
    timed_deploy,
    use_benchmark_credentials,
)
from generator.config import load_config
from generator.deploy import DEFAULT_MAX_PARALLEL
from generator.resources import default_config_file

SPREAD = {1: (1, 1), 5: (5, 1), 20: (5, 4)}  # instances -> (accounts, regions)


def _config(folder: Path, regions: int, accounts: int | None):
    data = yaml.safe_load(default_config_file().read_text(encoding="utf-8"))
    data["regions"] = list(REGIONS[:regions])
    if accounts is not None:
        data["stacksets"] = {"accounts": [f"{index:012d}" for index in range(100000000001, 100000000001 + accounts)]}
    path = folder / f"config-{regions}-{accounts}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def main() -> None:
    use_benchmark_credentials()
    with tempfile.TemporaryDirectory() as name, local_cloud_process() as endpoint:
        folder = Path(name)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        # Warm-up, not counted: the first deploys also pay for loading botocore's service data.
        timed_deploy(endpoint, _config(folder, 1, None), folder / "out")
        timed_deploy(endpoint, _config(folder, 1, 1), folder / "out")
        rows = []
        for count in (1, 5, 20):
            accounts, regions = SPREAD[count]
            rows.append(
                (
                    count,
                    timed_deploy(endpoint, _config(folder, count, None), folder / "out"),
                    timed_deploy(endpoint, _config(folder, count, 1), folder / "out"),
                    timed_deploy(endpoint, _config(folder, regions, accounts), folder / "out"),
                    f"{accounts}x{regions}",
                )
            )
        print(
            f"fresh deploy, Proxylity stand-in answer delay {ANSWER_DELAY:g}s, poll {POLL_INTERVAL:g}s; "
            f"change sets with --max-parallel {DEFAULT_MAX_PARALLEL}; StackSets regions in parallel, 100% of accounts"
        )
        header = ("instances", "change sets", "StackSets 1 account", "StackSets accounts x regions")
        print(f"{header[0]:>9}  {header[1]:>11}  {header[2]:>19}  {header[3]:>28}")
        for count, change_sets, one_account, spread, shape in rows:
            print(f"{count:>9}  {change_sets:>10.2f}s  {one_account:>18.2f}s  {spread:>19.2f}s ({shape:>4})")
