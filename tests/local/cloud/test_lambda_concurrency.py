"""The local cloud holds reservations to Lambda's account concurrency quota, per account and region, as AWS does:
Lambda keeps 100 unreserved (all of a quota below 100), and a reservation that would leave less fails with
Lambda's message, through CloudFormation (the stack rolls back) and through the Lambda API."""

from __future__ import annotations

import io
import os
import re
import signal
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.local.cloud.test_local_cloud_command import BARE_VARIABLES
from tests.support.cli import run_cli
from tests.support.deploy import REGIONAL, deploy_cli, local_cloud_fixtures, stack
from tests.support.local_process import running_generator

local_cloud, cloud = local_cloud_fixtures()


def refused_below(minimum: int) -> str:
    return (
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
        f"below its minimum value of [{minimum}]."
    )


def counter_reserving(reserved: int | None, regions=("us-west-2",)):
    def edit(data):
        data["regions"] = list(regions)
        if reserved is not None:
            data["function"]["reserved_concurrency"] = reserved

    return edit


def tiny_package() -> bytes:
    """A deployment package with one handler file, for functions made through the Lambda API."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def lambda_client(region: str = "us-west-2"):
    return boto3.client("lambda", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


@pytest.mark.parametrize(
    ("quota", "reserved", "minimum"),
    [(10, 1, 10), (50, 1, 50), (1000, 901, 100)],
    ids=["new-account", "small-quota", "default-quota"],
)
def test_a_counter_reservation_that_leaves_too_little_unreserved_rolls_the_stack_back(
    cloud, write_config, tmp_path, quota, reserved, minimum
):
    cloud.aws.lambda_concurrency = quota

    result = deploy_cli(write_config(counter_reserving(reserved)), tmp_path)

    assert result.returncode == 1
    [failure] = result.stderr.splitlines()
    assert "PacketCounterFunction" in failure and refused_below(minimum) in failure
    assert "Resource handler returned message:" in failure  # the form CloudFormation gives Lambda's refusal
    assert stack("us-west-2", REGIONAL)["StackStatus"] == "ROLLBACK_COMPLETE"


@pytest.mark.parametrize(("quota", "reserved"), [(10, 0), (1000, 900)], ids=["stopped", "all-but-100"])
def test_a_reservation_that_leaves_the_minimum_unreserved_deploys(cloud, write_config, tmp_path, quota, reserved):
    cloud.aws.lambda_concurrency = quota

    result = deploy_cli(write_config(counter_reserving(reserved)), tmp_path)

    assert result.returncode == 0, result.stderr
    assert lambda_client().get_function_concurrency(FunctionName="packet-counter")["ReservedConcurrentExecutions"] == (
        reserved
    )


def test_an_update_that_adds_a_reservation_is_refused_and_rolled_back(cloud, write_config, tmp_path):
    cloud.aws.lambda_concurrency = 10
    assert deploy_cli(write_config(counter_reserving(None)), tmp_path).returncode == 0

    result = deploy_cli(write_config(counter_reserving(2), name="reserving.yaml"), tmp_path)

    assert result.returncode == 1
    assert refused_below(10) in result.stderr
    assert stack("us-west-2", REGIONAL)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"


def test_an_update_that_removes_a_reservation_gives_it_back(cloud, write_config, tmp_path):
    assert deploy_cli(write_config(counter_reserving(900)), tmp_path).returncode == 0
    assert deploy_cli(write_config(counter_reserving(None), name="unreserved.yaml"), tmp_path).returncode == 0

    assert "ReservedConcurrentExecutions" not in lambda_client().get_function_concurrency(FunctionName="packet-counter")
    # The 900 are free again: another function may reserve them.
    lambda_client().put_function_concurrency(FunctionName="packet-counter", ReservedConcurrentExecutions=900)


def test_the_lambda_api_counts_every_function_of_the_account_and_region(cloud, write_config, tmp_path):
    # us-west-2's counter reserves 500 through CloudFormation; eu-west-1's reservation is another region's.
    regions = ("us-west-2", "eu-west-1")
    assert deploy_cli(write_config(counter_reserving(500, regions)), tmp_path).returncode == 0
    role = lambda_client().get_function(FunctionName="packet-counter")["Configuration"]["Role"]
    here = lambda_client()
    here.create_function(
        FunctionName="other",
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": tiny_package()},
    )

    with pytest.raises(ClientError) as caught:
        here.put_function_concurrency(FunctionName="other", ReservedConcurrentExecutions=401)

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == refused_below(100)
    allowed = here.put_function_concurrency(FunctionName="other", ReservedConcurrentExecutions=400)
    assert allowed["ReservedConcurrentExecutions"] == 400


def test_the_command_lines_quota_is_enforced(tmp_path):
    """`local-cloud --lambda-concurrency 10` (make local-cloud LOCAL_CLOUD_CONCURRENCY=10): a new account."""
    home = tmp_path / "home"
    home.mkdir()
    bare = {name: os.environ[name] for name in BARE_VARIABLES if name in os.environ}
    local_cloud = ("local-cloud", "--port", "0", "--delay", "0", "--lambda-concurrency", "10")
    with running_generator(
        *local_cloud, ready="Lambda concurrency", env={**bare, "HOME": str(home)}, stop_signal=signal.SIGINT
    ) as cloud:
        banner = cloud.started
        assert "Lambda concurrency 10 per account and region" in banner
        endpoint = re.search(r"http://127\.0\.0\.1:\d+", banner)[0]
        client = boto3.client(
            "lambda", region_name="eu-west-1", endpoint_url=endpoint, aws_access_key_id="t", aws_secret_access_key="t"
        )
        iam = boto3.client(
            "iam", region_name="eu-west-1", endpoint_url=endpoint, aws_access_key_id="t", aws_secret_access_key="t"
        )
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client.create_function(
            FunctionName="f", Runtime="python3.13", Role=role, Handler="index.handler", Code={"ZipFile": tiny_package()}
        )
        with pytest.raises(ClientError) as caught:
            client.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=1)
        assert caught.value.response["Error"]["Message"] == refused_below(10)


@pytest.mark.parametrize("value", ["9", "1e9", "ten", "-10"])
def test_a_quota_no_account_has_is_refused_in_one_line(value):
    result = run_cli("local-cloud", "--lambda-concurrency", value)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        f"argument --lambda-concurrency: expected a whole number of concurrent executions from 10 to 1,000,000, "
        f"got '{value}'"
    )
