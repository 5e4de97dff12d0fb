"""Helpers for the StackSets tests: configs with a stacksets: section, the StackSets and their instances read
back through boto3 (other accounts through sts:AssumeRole, as the tool itself reads them), the summary table
with its account column, and a fixture that clears the local cloud's StackSet faults after each test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from generator.local.cloud import LocalCloud
from tests.support.config_files import write_config

ACCOUNTS = ("111111111111", "222222222222")
HOME = "us-west-2"
GLOBAL_SET = "packet-counter-global"
REGIONAL_SET = "packet-counter-region"
EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"


def stacksets_cloud_fixture() -> Callable[..., Any]:
    """The `ss_cloud` fixture of a test module: the module's `cloud`, its StackSet faults cleared afterwards."""

    @pytest.fixture
    def ss_cloud(cloud: LocalCloud) -> Iterator[LocalCloud]:
        yield cloud
        cloud.stacksets.instances.release()
        cloud.stacksets.accounts_without_execution_role.clear()
        cloud.stacksets.reserialise_templates = False
        cloud.proxylity.fail_in.clear()

    return ss_cloud


def stackset_config(
    folder: Path,
    regions: tuple[str, ...] | list[str] = ("us-west-2", "us-east-1", "eu-west-1"),
    accounts: tuple[str, ...] | list[str] = ACCOUNTS,
    name: str = "config.yaml",
    edit: Callable[[dict[str, Any]], None] | None = None,
    **settings: Any,
) -> Path:
    """The default config with these regions and a stacksets: section for these accounts (and `settings`)."""

    def change(data: dict[str, Any]) -> None:
        data["regions"] = list(regions)
        data["stacksets"] = {"accounts": list(accounts), **settings}
        if edit is not None:
            edit(data)

    return write_config(folder, change, name=name)


def admin_client(region: str = HOME) -> Any:
    return boto3.client("cloudformation", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def stack_sets() -> list[str]:
    return [s["StackSetName"] for s in admin_client().list_stack_sets()["Summaries"] if s["Status"] == "ACTIVE"]


def instances(stack_set: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(account, region) -> the instance summary; {} when the StackSet does not exist."""
    try:
        pages = admin_client().get_paginator("list_stack_instances").paginate(StackSetName=stack_set)
        return {(s["Account"], s["Region"]): s for page in pages for s in page["Summaries"]}
    except ClientError:
        return {}


def operations(stack_set: str) -> list[dict[str, Any]]:
    """The StackSet's operations, newest first."""
    return admin_client().list_stack_set_operations(StackSetName=stack_set)["Summaries"]


def operation_results(stack_set: str, operation_id: str) -> dict[tuple[str, str], str]:
    summaries = admin_client().list_stack_set_operation_results(StackSetName=stack_set, OperationId=operation_id)
    return {(s["Account"], s["Region"]): s["Status"] for s in summaries["Summaries"]}


def client_in(account: str, region: str, service: str = "cloudformation") -> Any:
    """A client of `service` (CloudFormation) in another account, through its execution role (moto maps the
    credentials to it)."""
    sts = boto3.client("sts", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    role = f"arn:aws:iam::{account}:role/{EXECUTION_ROLE}"
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def instance_stack(stack_set: str, account: str, region: str) -> dict[str, Any] | None:
    """The live stack of an instance, read in its own account; None when there is none."""
    stack_id = instances(stack_set).get((account, region), {}).get("StackId")
    if not stack_id:
        return None
    try:
        found = client_in(account, region).describe_stacks(StackName=stack_id)["Stacks"]
    except ClientError:
        return None
    return found[0] if found and found[0]["StackStatus"] != "DELETE_COMPLETE" else None


def stacks_in(account: str, region: str) -> list[dict[str, Any]]:
    """Every live stack of an account in a region."""
    return [s for s in client_in(account, region).describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"]


def account_rows(text: str) -> dict[tuple[str, str, str], str]:
    """(account, region, stack) -> action, from the summary table with an account column ("StackSet" for a
    StackSet's own row)."""
    rows: dict[tuple[str, str, str], str] = {}
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if re.match(r"^account\s+region\s+stack\s+action", line)]
    for line in lines[starts[-1] + 2 :] if starts else []:
        cells = line.split()
        if len(cells) >= 4 and not line.startswith(("wrote", "removed", "updated")):
            rows[(cells[0], cells[1], cells[2])] = cells[3]
        elif not line.strip():
            break
    return rows
