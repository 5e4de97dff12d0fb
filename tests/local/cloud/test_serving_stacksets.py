"""StackSets: each account's listener is an endpoint of its own, and answers with its own account's functions;
a destroy stops every account's endpoint."""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile

import boto3

from tests.support.cli import run_cli_in_process
from tests.support.deploy import deploy_cli, local_cloud_fixtures
from tests.support.stacksets import ACCOUNTS, EXECUTION_ROLE, HOME, stackset_config, stacksets_cloud_fixture
from tests.support.udp import exchange

local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()
A, B = ACCOUNTS


def lambda_in(account: str, region: str):
    """Lambda in another account, through its execution role (moto maps the credentials to it)."""
    sts = boto3.client("sts", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    role = f"arn:aws:iam::{account}:role/{EXECUTION_ROLE}"
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    return boto3.client(
        "lambda",
        region_name=region,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_each_accounts_listener_answers_with_its_own_accounts_function(ss_cloud, tmp_path):
    config = stackset_config(tmp_path, regions=(HOME,))
    assert deploy_cli(config, tmp_path).returncode == 0
    accounts = json.loads((tmp_path / "out" / "outputs.json").read_text())["accounts"]
    ports = {account: accounts[account]["Port"] for account in ACCOUNTS}
    assert len(set(ports.values())) == 2  # two endpoints
    answer = base64.b64encode(f"1 account-{B}".encode()).decode()
    code = "def handler(event, context):\n"
    code += f"    return {{'Replies': [{{'Tag': event['Messages'][0]['Tag'], 'Data': '{answer}'}}]}}\n"
    lambda_in(B, HOME).update_function_code(FunctionName="packet-counter", ZipFile=_zip(code))

    assert exchange(ports[A], [b"x"] * 10) == [f"10 {HOME}\n".encode()]
    assert exchange(ports[B], [b"x"] * 10, expect_replies=1) == [f"1 account-{B}".encode()]

    destroyed = run_cli_in_process("destroy", "--config", config, "--out", tmp_path / "out", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    assert ss_cloud.endpoints.names() == []  # every account's endpoint stopped


def _zip(code: str) -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("index.py", code)
    return package.getvalue()
