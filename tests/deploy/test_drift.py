"""`drift`: what was changed outside CloudFormation, found by CloudFormation's drift detection (the local
cloud's model of it, generator/local/cloud/drift.py), through the CLI as a user runs it, both deploy modes."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from generator.errors import ExitCode
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import FAST, GLOBAL, REGIONAL, REGIONS, deploy_cli, local_cloud_fixtures, summary_rows
from tests.support.stacksets import ACCOUNTS, REGIONAL_SET, client_in, stackset_config, stacksets_cloud_fixture

local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()

FUNCTION = "packet-counter"
MODIFIED = "PacketCounterFunction (AWS::Lambda::Function) packet-counter: modified"


def drift(config_path, *extra: str):
    return run_cli_in_process("drift", "--config", str(config_path), *FAST, *extra)


def stack_section(text: str, stack: str, where: str) -> str:
    """The lines of one stack's part of the drift report."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{stack} ({where}): "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return "\n".join(lines[start:end])


@pytest.fixture
def deployed(cloud, tmp_path):
    config_path = write_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0
    return config_path


def test_in_sync_after_a_deploy_and_custom_resources_are_said_not_checked(deployed):
    status, out, err = drift(deployed)

    assert status == ExitCode.OK, err
    assert f"{GLOBAL} (us-west-2): in sync (checked " in out
    for region in REGIONS:
        assert f"{REGIONAL} ({region}): in sync" in out
    assert "UdpListener (Custom::ProxylityUdpGatewayListener) not checked: CloudFormation does not check custom" in out
    assert out.rstrip().endswith(f"0 of {1 + len(REGIONS)} stacks drifted")


def test_a_function_memory_changed_out_of_band_is_drift_until_it_is_set_back(deployed, tmp_path):
    lambda_east = boto3.client("lambda", region_name="us-east-1")
    lambda_east.update_function_configuration(FunctionName=FUNCTION, MemorySize=256)

    status, out, _ = drift(deployed)

    assert status == ExitCode.CHANGES
    east = stack_section(out, REGIONAL, "us-east-1")
    assert east.startswith(f"{REGIONAL} (us-east-1): drifted")
    assert MODIFIED in east and "      MemorySize: 128 -> 256" in east
    assert stack_section(out, REGIONAL, "eu-west-1").startswith(f"{REGIONAL} (eu-west-1): in sync")
    assert "does not undo drift" in out
    # status shows the last result and when it ran
    _, status_out, _ = run_cli_in_process("status", "--config", str(deployed))
    assert any(line.startswith("us-east-1") and "DRIFTED (" in line for line in status_out.splitlines())

    # as on AWS, a deploy of the unchanged template sees nothing to change, so the drift stays
    status, out, _ = deploy_cli(deployed, tmp_path)
    assert status == 0 and summary_rows(out)[("us-east-1", REGIONAL)] == "unchanged"
    assert drift(deployed).returncode == ExitCode.CHANGES

    lambda_east.update_function_configuration(FunctionName=FUNCTION, MemorySize=128)
    status, out, _ = drift(deployed)
    assert status == ExitCode.OK, out


def test_iam_retention_and_deleted_resources_are_reported_with_their_properties(deployed):
    iam = boto3.client("iam", region_name="us-west-2")
    role = next(r["RoleName"] for r in iam.list_roles()["Roles"] if "FunctionRole" in r["RoleName"])
    wider = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="added-by-hand", PolicyDocument=json.dumps(wider))
    logs = boto3.client("logs", region_name="eu-west-1")
    group = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{FUNCTION}")["logGroups"][0]["logGroupName"]
    logs.put_retention_policy(logGroupName=group, retentionInDays=3)
    boto3.client("logs", region_name="us-west-2").delete_log_group(logGroupName=group)

    status, out, err = drift(deployed, "--json")

    assert status == ExitCode.CHANGES
    report = json.loads(out)  # the document alone on stdout; the note for a person on stderr
    assert "does not undo drift" in err
    resources = {
        (stack["region"], resource["logical_id"]): resource
        for stack in report["stacks"]
        for resource in stack["resources"]
    }
    # IAM is global: the role of every region is one role per region's stack; the one changed drifted
    role_drift = next(r for (region, lid), r in resources.items() if lid == "FunctionRole" and r["drifted"])
    assert any(d["path"].startswith("/Policies/") and d["kind"] == "ADD" for d in role_drift["differences"])
    retention = resources[("eu-west-1", "FunctionLogGroup")]
    assert retention["status"] == "MODIFIED"
    assert {"path": "/RetentionInDays", "expected": "14", "actual": "3", "kind": "NOT_EQUAL"} in retention[
        "differences"
    ]
    assert resources[("us-west-2", "FunctionLogGroup")]["status"] == "DELETED"
    assert resources[("us-west-2", "DestinationArnBinding")] == {
        **resources[("us-west-2", "DestinationArnBinding")],
        "status": "NOT_CHECKED",
        "custom": True,
        "drifted": False,
    }
    assert report["drifted"] is True and report["failed"] is False


def test_nothing_deployed_is_said_and_exits_1(cloud, tmp_path):
    status, out, _ = drift(write_config(tmp_path))

    assert status == ExitCode.FAILED
    assert f"{GLOBAL} (us-west-2): not deployed - no such stack: deploy it first" in out


def test_regions_narrows_the_check(deployed):
    status, out, _ = drift(deployed, "--regions", "eu-west-1")

    assert status == ExitCode.OK
    assert f"{REGIONAL} (eu-west-1)" in out and f"{REGIONAL} (us-east-1)" not in out


def test_the_local_cloud_refuses_drift_detection_where_cloudformation_does(cloud):
    client = boto3.client("cloudformation", region_name="us-west-2")
    client.create_change_set(
        StackName="under-review", ChangeSetName="never-run", ChangeSetType="CREATE", TemplateBody='{"Resources": {}}'
    )

    with pytest.raises(ClientError, match="REVIEW_IN_PROGRESS"):
        client.detect_stack_drift(StackName="under-review")
    with pytest.raises(ClientError, match="MaxResults"):
        client.describe_stack_resource_drifts(StackName="under-review", MaxResults=101)


def test_stacksets_a_function_changed_in_one_account_is_that_instance_drifted(ss_cloud, tmp_path):
    config_path = stackset_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0
    changed, region = ACCOUNTS[1], "eu-west-1"
    client_in(changed, region, "lambda").update_function_configuration(FunctionName=FUNCTION, Timeout=30)

    status, out, err = drift(config_path)

    assert status == ExitCode.CHANGES, out + err
    section = stack_section(out, REGIONAL_SET, f"{changed} {region}")
    assert section.startswith(f"{REGIONAL_SET} ({changed} {region}): drifted")
    assert "Timeout: 10 -> 30" in section
    assert stack_section(out, REGIONAL_SET, f"{ACCOUNTS[0]} {region}").startswith(
        f"{REGIONAL_SET} ({ACCOUNTS[0]} {region}): in sync"
    )
    _, status_out, _ = run_cli_in_process("status", "--config", str(config_path))
    assert any(changed in line and region in line and "DRIFTED (" in line for line in status_out.splitlines())
