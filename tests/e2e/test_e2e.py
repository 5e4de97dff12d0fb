"""`e2e`: deploy, traffic, the failover drill, destroy, against the local cloud of this test process; the table of
steps, out/e2e.json and the JUnit report out/e2e.xml (one test case per step), the exit status; a failed step
still destroys what the run made; Ctrl-C says what is left deployed; a run never destroys stacks it found."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import boto3
import pytest

from generator.e2e import E2EReport, StepResult, StepStatus
from generator.e2e.junit import junit_xml
from generator.errors import ExitCode
from tests.support.cli import run_cli_in_process
from tests.support.deploy import FAST, GLOBAL, REGIONAL, deploy_cli, local_cloud_fixtures, stack

# moto's CloudFormation does not model the canary's EventInvokeConfig: it warns, and the local cloud goes on
pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS\W+Lambda\W+EventInvokeConfig")
local_cloud, cloud = local_cloud_fixtures()
HOME, NEXT_NEAREST = "us-west-2", "us-east-1"
DRILL = [
    "deploy",
    "traffic",
    f"failover: delete {HOME}",
    f"failover: traffic without {HOME}",
    f"failover: deploy {HOME} again",
    f"failover: traffic with {HOME} back",
    "destroy",
]


def e2e(config: Path, tmp_path: Path, *extra: str):
    return run_cli_in_process("e2e", "--config", config, "--out", tmp_path / "out", *FAST, *extra)


def reports(tmp_path: Path) -> tuple[dict, ElementTree.Element]:
    document = json.loads((tmp_path / "out" / "e2e.json").read_text())
    return document, ElementTree.parse(tmp_path / "out" / "e2e.xml").getroot()


def nothing_deployed(regions) -> bool:
    return stack(HOME, GLOBAL) is None and all(stack(region, REGIONAL) is None for region in regions)


def test_the_failover_drill_passes_and_writes_both_reports(cloud, write_config, tmp_path):
    regions = [HOME, NEXT_NEAREST, "eu-west-1"]
    config = write_config(lambda data: data.update(regions=regions))

    ran = e2e(config, tmp_path, "--failover", HOME)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    document, suite = reports(tmp_path)
    assert [step["name"] for step in document["steps"]] == DRILL
    assert {step["status"] for step in document["steps"]} == {"passed"} and document["ok"] is True
    served = {step["name"]: step["data"].get("serving") for step in document["steps"]}
    assert served["traffic"] == [HOME]
    assert served[f"failover: traffic without {HOME}"] == [NEXT_NEAREST]
    assert served[f"failover: traffic with {HOME} back"] == [HOME]
    figures = document["steps"][1]["data"]["endpoints"]["listener"]
    assert figures["sent"] == figures["counted"] == 100 and figures["latency_ms"]["p99_ms"] > 0
    assert suite.tag == "testsuite" and suite.get("tests") == "7" and suite.get("failures") == "0"
    assert [case.get("name") for case in suite.iter("testcase")] == DRILL
    table = ran.stdout[ran.stdout.index("\nstep ") :]
    assert all(f"{name}  " in table for name in DRILL)
    assert "wrote " in ran.stdout and "e2e: passed (7 steps" in ran.stdout
    assert document["left_deployed"] == [] and nothing_deployed(regions)


def test_a_failed_step_skips_the_rest_still_destroys_and_exits_1(cloud, write_config, tmp_path):
    regions = [HOME, "eu-west-1"]
    config = write_config(lambda data: data.update(regions=regions))
    cloud.proxylity.fail_region = "eu-west-1"  # that region's binding fails: the deploy fails there

    ran = e2e(config, tmp_path, "--failover", HOME)

    assert ran.returncode == ExitCode.FAILED
    document, suite = reports(tmp_path)
    statuses = [(step["name"], step["status"]) for step in document["steps"]]
    assert statuses[0] == ("deploy", "failed") and statuses[-1] == ("destroy", "passed")
    assert {status for _name, status in statuses[1:-1]} == {"skipped"}
    assert "eu-west-1" in document["steps"][0]["detail"]
    assert suite.get("failures") == "1" and suite.get("skipped") == "5"
    assert next(suite.iter("testcase")).find("failure") is not None
    assert "e2e: FAILED: 1 of 7 steps failed" in ran.stderr
    assert nothing_deployed(regions)


def test_keep_leaves_everything_deployed_and_says_so(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME]))

    ran = e2e(config, tmp_path, "--keep", "-n", "20")

    assert ran.returncode == 0, ran.stderr
    document, _suite = reports(tmp_path)
    assert document["steps"][-1] == {
        "name": "destroy",
        "status": "skipped",
        "detail": "KEEP=1: everything is left deployed",
        "seconds": 0.0,
        "data": {},
    }
    assert document["left_deployed"] == [f"{GLOBAL} ({HOME})", f"{REGIONAL} ({HOME})"]
    assert f"left deployed: {GLOBAL} ({HOME}), {REGIONAL} ({HOME})" in ran.stdout
    assert stack(HOME, REGIONAL) is not None


def test_a_run_never_destroys_stacks_it_found(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME]))
    assert deploy_cli(config, tmp_path).returncode == 0

    ran = e2e(config, tmp_path)

    assert ran.returncode == ExitCode.USAGE
    assert ran.stderr.startswith(
        f"e2e: deploys and destroys its own stacks, and {GLOBAL} ({HOME}), {REGIONAL} ({HOME})"
    )
    assert not (tmp_path / "out" / "e2e.json").exists() and stack(HOME, REGIONAL) is not None


def test_what_its_own_stacks_grant_is_listed_and_widening_a_deployment_it_found_is_asked(
    cloud, write_config, tmp_path, monkeypatch
):
    config = write_config(lambda data: data.update(regions=[HOME]))

    ran = e2e(config, tmp_path, "--keep", "-n", "10", "--json")  # a fresh run, no terminal: goes ahead

    assert ran.returncode == 0, ran.stderr
    document = json.loads(ran.stdout)  # --json: the report's document alone on stdout
    granted = document["steps"][0]["data"]["granted"]
    assert any(line.startswith(f"{REGIONAL} FunctionRole (AWS::IAM::Role) grants: trust policy") for line in granted)

    # KEEP=1 over that deployment, with the canary turned on (a new role): asked, and without a terminal refused
    canary = write_config(
        lambda data: data.update(regions=[HOME]) or data["observability"]["canary"].update(enabled=True)
    )
    ran = e2e(canary, tmp_path, "--keep", "-n", "10")
    assert ran.returncode == ExitCode.FAILED  # its deploy step failed, refused before it changed anything
    assert json.loads((tmp_path / "out" / "e2e.json").read_text())["left_deployed"] == [
        f"{GLOBAL} ({HOME})",
        f"{REGIONAL} ({HOME})",
    ]
    assert "CanaryRole (AWS::IAM::Role)" in ran.stderr and "make e2e YES=1" in ran.stdout
    functions = boto3.client("lambda", region_name=HOME).list_functions()["Functions"]
    assert [function["FunctionName"] for function in functions] == ["packet-counter"]  # no canary was made
    monkeypatch.setenv("YES", "1")
    ran = e2e(canary, tmp_path, "--keep", "-n", "10")
    assert ran.returncode == 0, ran.stderr


def test_the_drill_over_a_deployment_it_found_makes_its_region_again_unasked_and_says_what_is_left(
    cloud, write_config, tmp_path
):
    regions = [HOME, NEXT_NEAREST]
    config = write_config(lambda data: data.update(regions=regions))
    assert deploy_cli(config, tmp_path).returncode == 0

    ran = e2e(config, tmp_path, "--keep", "--failover", HOME, "-n", "10")  # no terminal, no YES=1

    assert ran.returncode == 0, ran.stdout + ran.stderr  # the region it deleted it makes again: its own
    document, _suite = reports(tmp_path)
    assert document["left_deployed"] == [f"{GLOBAL} ({HOME})", f"{REGIONAL} ({HOME})", f"{REGIONAL} ({NEXT_NEAREST})"]
    assert all(stack(region, REGIONAL) is not None for region in regions)


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (
            (HOME, NEXT_NEAREST),
            "FAILOVER: 'eu-west-1' is not a region this run deploys (us-west-2, us-east-1), nor 'serving'",
        ),
        ((HOME,), "FAILOVER: the drill needs a second region to answer, and this run deploys only us-west-2"),
    ],
)
def test_a_failover_the_run_cannot_drill_is_refused_before_anything_runs(
    cloud, write_config, tmp_path, regions, expected
):
    config = write_config(lambda data: data.update(regions=[HOME, NEXT_NEAREST, "eu-west-1"]))

    ran = e2e(config, tmp_path, "--failover", "eu-west-1" if len(regions) == 2 else HOME, "--regions", *regions)

    assert ran.returncode == ExitCode.USAGE
    assert ran.stderr.splitlines() == [expected]
    assert nothing_deployed([HOME, NEXT_NEAREST]) and not (tmp_path / "out" / "e2e.json").exists()


def test_failover_serving_takes_away_the_region_that_answered(cloud, write_config, tmp_path):
    config = write_config(lambda data: data.update(regions=[HOME, NEXT_NEAREST]))

    ran = e2e(config, tmp_path, "--failover", "serving", "-n", "20")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    document, _suite = reports(tmp_path)
    assert document["failover"] == HOME
    assert [step["name"] for step in document["steps"]][2:4] == [
        f"failover: delete {HOME}",
        f"failover: traffic without {HOME}",
    ]


def test_ctrl_c_stops_the_run_and_names_what_is_left_deployed(cloud, write_config, tmp_path, monkeypatch):
    config = write_config(lambda data: data.update(regions=[HOME]))

    def interrupted(options):
        raise KeyboardInterrupt

    monkeypatch.setattr("generator.e2e.runner.run_smoke", interrupted)

    ran = e2e(config, tmp_path)

    assert ran.returncode == ExitCode.INTERRUPTED
    document, suite = reports(tmp_path)
    assert [(step["name"], step["status"]) for step in document["steps"]] == [
        ("deploy", "passed"),
        ("traffic", "interrupted"),
    ]
    assert suite.get("errors") == "1"
    assert f"left deployed: {GLOBAL} ({HOME}), {REGIONAL} ({HOME})" in ran.stdout
    assert "interrupted" in ran.stderr


def test_the_junit_report_is_well_formed_whatever_a_step_says():
    report = E2EReport("c.yaml", "2026-12-03T10:00:00Z", ("us-west-2",))
    report.steps = [
        StepResult("deploy", StepStatus.PASSED, "ok", 1.5, {"a": 1}),
        StepResult("traffic", StepStatus.FAILED, "bad \x00 <reply> & \x1b[31m", 0.25),
        StepResult("destroy", StepStatus.SKIPPED, "KEEP=1"),
    ]
    suite = ElementTree.fromstring(junit_xml(report).encode())
    cases = list(suite.iter("testcase"))
    assert [case.get("name") for case in cases] == ["deploy", "traffic", "destroy"]
    assert cases[1].find("failure").get("message") == "bad \\x00 <reply> & \\x1b[31m"
    assert cases[2].find("skipped") is not None and json.loads(cases[0].find("system-out").text) == {"a": 1}
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"), suite.get("time")) == (
        "3",
        "1",
        "1",
        "1.750",
    )
