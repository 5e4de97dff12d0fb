"""A StackSet's template takes no macro: each account's Proxylity values (its API key, each region's ServiceToken
and ServiceRole) are read from its own customer-config.json, through the execution role, and reach its instances
as their own parameter overrides; the key stays NoEcho, and plan and status tell a change without showing it."""

from __future__ import annotations

import json

from generator.errors import ExitCode
from generator.local.cloud.stand_in import api_key
from tests.support.cli import run_cli_in_process
from tests.support.deploy import deploy_cli, local_cloud_fixtures
from tests.support.stacksets import (
    ACCOUNTS,
    GLOBAL_SET,
    HOME,
    REGIONAL_SET,
    account_rows,
    admin_client,
    instances,
    stackset_config,
    stacksets_cloud_fixture,
)

local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()
REGIONS = ("us-west-2", "eu-west-1")
A, B = ACCOUNTS


def overrides(stack_set: str, account: str, region: str) -> dict[str, str]:
    found = admin_client().describe_stack_instance(
        StackSetName=stack_set, StackInstanceAccount=account, StackInstanceRegion=region
    )["StackInstance"]
    return {item["ParameterKey"]: item["ParameterValue"] for item in found["ParameterOverrides"]}


def test_each_accounts_listener_is_made_with_its_own_key_and_no_template_takes_a_macro(ss_cloud, capsys, tmp_path):
    status, _, err = deploy_cli(stackset_config(tmp_path, regions=REGIONS), tmp_path)

    assert status == 0, err
    for account in ACCOUNTS:
        (listener,) = ss_cloud.proxylity.customer(account).listeners.values()
        assert listener["Properties"]["ApiKey"] == api_key(account)  # the stand-in refuses any other account's
        assert len(ss_cloud.proxylity.customer(account).bindings) == len(REGIONS)
    for stack_set in (GLOBAL_SET, REGIONAL_SET):
        template = json.loads(admin_client().describe_stack_set(StackSetName=stack_set)["StackSet"]["TemplateBody"])
        assert "Mappings" not in template and "Fn::Transform" not in json.dumps(template)
    given = overrides(REGIONAL_SET, B, "eu-west-1")
    assert given["ProxylityApiKey"] == "****"  # NoEcho: CloudFormation never shows it
    assert given["ProxylityServiceToken"].startswith("arn:aws:lambda:eu-west-1:")
    assert len(given["ProxylityApiKeyFingerprint"]) == 16 and api_key(B) not in json.dumps(given)


def test_a_rotated_key_is_planned_without_showing_it_and_only_that_accounts_instances_are_updated(
    ss_cloud, capsys, tmp_path
):
    config = stackset_config(tmp_path, regions=REGIONS)
    assert deploy_cli(config, tmp_path).returncode == 0
    new_key = ss_cloud.proxylity.rotate_api_key(B)

    planned, plan_out, _ = run_cli_in_process("plan", "--config", str(config), "--out", str(tmp_path / "out"))
    status_code, status_out, _ = run_cli_in_process("status", "--config", str(config))

    assert planned == ExitCode.CHANGES
    change = "its account's Proxylity values change: ProxylityApiKey (not shown)"
    assert f"{REGIONAL_SET} ({B} eu-west-1): update - {change}" in plan_out.splitlines()
    assert f"{GLOBAL_SET} ({B} {HOME}): update - {change}" in plan_out.splitlines()
    assert f"{REGIONAL_SET} ({A} eu-west-1): unchanged" in plan_out.splitlines()
    assert status_code == 0 and "differs from the config: ProxylityApiKey" in status_out
    assert new_key not in plan_out + status_out and api_key(B) not in plan_out + status_out

    status, out, err = deploy_cli(config, tmp_path)

    assert status == 0, err
    rows = account_rows(out)
    assert {rows[(B, region, REGIONAL_SET)] for region in REGIONS} == {rows[(B, HOME, GLOBAL_SET)]} == {"updated"}
    assert {rows[(A, region, REGIONAL_SET)] for region in REGIONS} == {rows[(A, HOME, GLOBAL_SET)]} == {"unchanged"}
    (listener,) = ss_cloud.proxylity.customer(B).listeners.values()
    assert listener["Properties"]["ApiKey"] == new_key
    assert {summary["Status"] for summary in instances(REGIONAL_SET).values()} == {"CURRENT"}


def test_an_account_not_subscribed_in_a_region_fails_there_naming_the_object_and_the_role(ss_cloud, capsys, tmp_path):
    ss_cloud.proxylity.unsubscribed_region = "eu-west-1"

    status, out, err = deploy_cli(stackset_config(tmp_path, regions=REGIONS), tmp_path)

    assert status == 1
    rows = account_rows(out)
    assert {rows[(account, "eu-west-1", REGIONAL_SET)] for account in ACCOUNTS} == {"failed"}
    assert {rows[(account, "us-west-2", REGIONAL_SET)] for account in ACCOUNTS} == {"created"}
    line = next(line for line in err.splitlines() if line.startswith(f"FAILED {A} eu-west-1 {REGIONAL_SET}"))
    assert f"cannot read s3://proxylity-config-eu-west-1/{A}/customer-config.json" in line
    assert "through role AWSCloudFormationStackSetExecutionRole" in line and "s3:GetObject" in line
    assert (A, "eu-west-1") not in instances(REGIONAL_SET)  # nothing was made without its values
