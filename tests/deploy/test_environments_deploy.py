"""Environments against the local cloud: `ENV=staging make deploy` and `ENV=prod make deploy` make separate
stacks and separate out/ records, a bad value in an overlay stops the deploy naming the overlay's line, and
status, plan, deploy and destroy say which environment they describe."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import ExitCode
from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli_in_process, snapshot
from tests.support.config_files import write_config
from tests.support.deploy import APPROVED, FAST, local_cloud_fixtures, stack

local_cloud, cloud = local_cloud_fixtures()
REGIONS = ["us-west-2", "eu-west-1"]
NO_INSTALL = [f"BIN={Path(sys.executable).parent}", "RUNTIME=", "LOCAL=", "TUNE=", "DEV="]


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A project folder as a team has it: config/config.yaml and two environments; the commands run in it."""
    environments = tmp_path / "config" / "environments"
    environments.mkdir(parents=True)
    write_config(tmp_path / "config", _two_regions)
    (environments / "staging.yaml").write_text("# staging: the base as it is\n{}\n")
    (environments / "prod.yaml").write_text("# prod\nfunction:\n  memory_mb: 512\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _two_regions(config: dict) -> None:
    config["regions"] = REGIONS


def make(project: Path, *words: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """make WORDS with the checkout's Makefile, run in `project` (so out/ is the project's), this virtualenv."""
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(CHECKOUT / "Makefile"), *NO_INSTALL, *words],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=50,
        env=env,
    )


def make_environment(**values: str) -> dict[str, str]:
    """This environment (AWS pointed at the local cloud) without the variables the Makefile reads, plus `values`."""
    makefile = (CHECKOUT / "Makefile").read_text(encoding="utf-8")
    read = set(re.search(r"^USER_VARIABLES := (.*?)\n[^\t]", makefile, re.M | re.S)[1].replace("\\", "").split())
    clean = {key: value for key, value in os.environ.items() if key not in read and not key.startswith("ARG_")}
    return {**clean, **values}


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_env_staging_and_env_prod_make_deploy_separate_stacks_and_separate_records(cloud, project):
    # YES=1: a first deploy creates IAM roles, which a deploy without a terminal does only when confirmed
    staging = make(project, "deploy", env=make_environment(ENV="staging", YES="1"))
    prod = make(project, "deploy", env=make_environment(ENV="prod", YES="1"))

    assert staging.returncode == 0, staging.stderr
    assert prod.returncode == 0, prod.stderr
    assert "environment staging: config/config.yaml with config/environments/staging.yaml" in staging.stdout
    assert "environment prod: config/config.yaml with config/environments/prod.yaml" in prod.stdout
    for region in REGIONS:
        for name in ("staging", "prod"):
            assert stack(region, f"packet-counter-{name}-region")["StackStatus"] == "CREATE_COMPLETE"
        assert stack(region, "packet-counter-region") is None  # the base config's stacks were never touched
    assert stack("us-west-2", "packet-counter-prod-global")["StackStatus"] == "CREATE_COMPLETE"
    records = {name: json.loads((project / "out" / name / "outputs.json").read_text()) for name in ("staging", "prod")}
    assert records["staging"]["StackId"] != records["prod"]["StackId"]
    assert "packet-counter-staging-global" in records["staging"]["StackId"]
    assert records["prod"]["regions"]["eu-west-1"]["FunctionArn"].endswith(":function:packet-counter-prod")
    assert not (project / "out" / "outputs.json").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_a_bad_value_in_the_prod_overlay_stops_make_deploy_naming_the_overlays_file_and_line(cloud, project):
    (project / "config" / "environments" / "prod.yaml").write_text("# prod\nfunction:\n  memory_mb: 64\n")
    before = snapshot(project)

    result = make(project, "deploy", env=make_environment(ENV="prod"))

    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "config/environments/prod.yaml:3: function.memory_mb: 64 is less than the minimum of 128"
    )
    assert "Traceback" not in result.stderr
    assert stack("us-west-2", "packet-counter-prod-global") is None
    assert snapshot(project) == before


def cli(*words: str):
    return run_cli_in_process(words[0], "--config", "config/config.yaml", *words[1:])


def test_status_plan_and_destroy_say_which_environment_and_touch_only_its_stacks(cloud, project):
    for name in ("staging", "prod"):
        assert cli("deploy", "--env", name, *FAST, *APPROVED).returncode == 0

    status, out, err = cli("status", "--env", "prod")
    assert status == 0, err
    assert out.splitlines()[0] == "environment prod: config/config.yaml with config/environments/prod.yaml"
    assert "packet-counter-prod-region" in out and "packet-counter-staging" not in out

    status, out, err = cli("plan", "--env", "staging", *FAST)
    assert status == ExitCode.OK, err
    assert out.splitlines()[0] == "environment staging: config/config.yaml with config/environments/staging.yaml"
    assert out.rstrip().endswith("plan: no changes")

    status, out, err = cli("status")  # the base config: named as such, and its environments listed
    assert out.splitlines()[0] == (
        "base config config/config.yaml, no environment (--env NAME, make ENV=NAME: one of prod, staging)"
    )

    status, out, err = cli("status", "--env", "prod", "--json")
    document = json.loads(out)
    assert document["environment"] == "prod"
    stacks = {entry["stack"] for entry in document["stacks"]}
    assert stacks == {"packet-counter-prod-global", "packet-counter-prod-region"}

    status, out, err = cli("destroy", "--env", "staging", "--yes", *FAST)
    assert status == 0, err
    assert out.splitlines()[0] == "environment staging: config/config.yaml with config/environments/staging.yaml"
    for region in REGIONS:
        assert stack(region, "packet-counter-staging-region") is None
        assert stack(region, "packet-counter-prod-region")["StackStatus"] == "CREATE_COMPLETE"
    assert not (project / "default-out" / "staging" / "outputs.json").exists()
    assert (project / "default-out" / "prod" / "outputs.json").exists()
