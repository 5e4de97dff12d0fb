"""The local cloud's StackSets refuse what CloudFormation refuses, so a deploy rehearsed offline does not
pass where AWS would stop it: boto3 through its real HTTP path, no engine of ours in between."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from generator.config import load_config
from generator.render import render_templates
from tests.support.config_files import write_config
from tests.support.deploy import local_cloud_fixtures, wait_for
from tests.support.stacksets import admin_client, stacksets_cloud_fixture

local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()


@pytest.fixture
def global_template(tmp_path) -> str:
    """A template with the AWS::Include macro: the change-set mode's (the StackSets templates take none)."""
    return render_templates(load_config(write_config(tmp_path)))[0].to_json()


def refusal(**arguments) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        admin_client().create_stack_set(StackSetName="refused", **arguments)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_template_with_the_include_needs_capability_auto_expand(ss_cloud, global_template):
    assert refusal(TemplateBody=global_template, Capabilities=["CAPABILITY_IAM"]) == (
        "InsufficientCapabilitiesException",
        "Requires capabilities : [CAPABILITY_AUTO_EXPAND]",
    )


def test_a_service_managed_stackset_refuses_the_include_transform(ss_cloud, global_template):
    assert refusal(
        TemplateBody=global_template,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
    ) == ("ValidationError", "Transform is not supported in SERVICE_MANAGED permission model")


def test_a_stackset_with_instances_cannot_be_deleted(ss_cloud, global_template):
    client = admin_client()
    capabilities = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    client.create_stack_set(StackSetName="kept", TemplateBody=global_template, Capabilities=capabilities)
    operation = client.create_stack_instances(StackSetName="kept", Accounts=["111111111111"], Regions=["us-west-2"])

    def status() -> str:
        found = client.describe_stack_set_operation(StackSetName="kept", OperationId=operation["OperationId"])
        return found["StackSetOperation"]["Status"]

    assert wait_for(lambda: status() == "SUCCEEDED")
    with pytest.raises(ClientError) as caught:
        client.delete_stack_set(StackSetName="kept")

    assert caught.value.response["Error"]["Code"] == "StackSetNotEmptyException"
