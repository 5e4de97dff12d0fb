"""A deploy with the canary on hands the global Endpoint to every regional stack, as it hands DestinationId, and
the canary function there probes exactly that endpoint (against the local cloud)."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from generator.errors import ExitCode
from tests.support.cli import run_cli_in_process
from tests.support.deploy import GLOBAL, REGIONAL, REGIONS, deploy_cli, local_cloud_fixtures, outputs, parameters, stack

# moto has no CloudFormation model of these two and skips them, saying so; real CloudFormation creates them.
pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS\W+(Lambda\W+EventInvokeConfig|CloudWatch\W+Alarm)")
local_cloud, cloud = local_cloud_fixtures()


def canary_on(routing: str):
    def edit(data):
        data["routing"] = routing
        data["observability"] = {"canary": {"enabled": True}, "alarms": True, "dashboard": True}

    return edit


@pytest.mark.parametrize("routing", ["bind", "map"])
def test_every_region_gets_the_global_endpoint_and_its_canary_probes_it(cloud, write_config, tmp_path, routing):
    result = deploy_cli(write_config(canary_on(routing)), tmp_path)

    assert result.returncode == 0, result.stderr
    endpoint = outputs(stack("us-west-2", GLOBAL))["Endpoint"]
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert saved["Endpoint"] == endpoint
    for region in REGIONS:
        expected = {"Endpoint": endpoint} | ({"DestinationId": saved["DestinationId"]} if routing == "bind" else {})
        assert parameters(stack(region, REGIONAL)) == expected
        lam = boto3.client("lambda", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        variables = lam.get_function_configuration(FunctionName="packet-counter-canary")["Environment"]["Variables"]
        assert variables["ENDPOINT"] == endpoint


def test_plan_shows_the_canary_joining_deployed_regions_and_plans_regions_before_anything_is_deployed(
    cloud, write_config, tmp_path
):
    assert deploy_cli(write_config(), tmp_path).returncode == 0  # deployed without the canary

    planned = run_cli_in_process(
        "plan", "--config", write_config(canary_on("bind"), name="on.yaml"), "--out", tmp_path / "out"
    )

    assert planned.returncode == ExitCode.CHANGES, planned.stderr
    for region in REGIONS:
        assert f"{REGIONAL} ({region}): update" in planned.stdout
    assert "  Add     CanaryFunction (AWS::Lambda::Function)" in planned.stdout
    cloud.reset()
    fresh = run_cli_in_process(
        "plan", "--config", write_config(canary_on("map"), name="map.yaml"), "--out", tmp_path / "out"
    )
    assert fresh.returncode == ExitCode.CHANGES, fresh.stderr  # the global Endpoint is not known yet: planned anyway


def test_every_region_keeps_its_own_delivery_errors_and_the_global_stack_none(cloud, write_config, tmp_path):
    def delivery_log(data):
        data["observability"] = {"delivery_log_retention_days": 30}

    result = deploy_cli(write_config(delivery_log), tmp_path)

    assert result.returncode == 0, result.stderr
    group = "/proxylity/udp-listeners/packet-counter"
    for region in REGIONS:  # us-west-2, the home region, among them: once, from its regional stack
        logs = boto3.client("logs", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert [(g["logGroupName"], g["retentionInDays"]) for g in found] == [(group, 30)], region
        cfn = boto3.client("cloudformation", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        regional = cfn.describe_stack_resource(StackName=REGIONAL, LogicalResourceId="DeliveryLogGroup")
        assert regional["StackResourceDetail"]["PhysicalResourceId"] == group
    home = boto3.client("cloudformation", region_name="us-west-2", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    global_types = [r["ResourceType"] for r in home.describe_stack_resources(StackName=GLOBAL)["StackResources"]]
    assert "AWS::Logs::LogGroup" not in global_types
    assert outputs(stack("us-west-2", GLOBAL))["DeliveryLogGroup"] == group


REFUSED_ON_A_NEW_ACCOUNT = (
    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
    "its minimum value of [10]."
)


def test_on_a_new_account_a_canary_reservation_fails_every_region_and_without_one_it_deploys(
    cloud, write_config, tmp_path
):
    cloud.aws.lambda_concurrency = 10  # a new account's quota: Lambda keeps all 10 unreserved

    def canary(**settings):
        def edit(data):
            data["observability"] = {"canary": {"enabled": True, **settings}}

        return edit

    reserved = deploy_cli(write_config(canary(reserved_concurrency=1), name="reserved.yaml"), tmp_path)

    assert reserved.returncode == 1
    failures = reserved.stderr.splitlines()
    assert len(failures) == len(REGIONS)
    for region in REGIONS:
        [line] = [line for line in failures if region in line]
        assert "CanaryFunction" in line and REFUSED_ON_A_NEW_ACCOUNT in line, line
        assert stack(region, REGIONAL)["StackStatus"] == "ROLLBACK_COMPLETE"  # rolled back, as on AWS

    unset = deploy_cli(write_config(canary(), name="unset.yaml"), tmp_path)

    assert unset.returncode == 0, unset.stderr
    for region in REGIONS:
        assert stack(region, REGIONAL)["StackStatus"] == "CREATE_COMPLETE"
        lam = boto3.client("lambda", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="packet-counter-canary")
