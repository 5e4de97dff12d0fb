"""An operation CloudFormation accepted is never reported as refused or failed because this run lost sight of
it: a lost answer that botocore retries is the same request (its ClientRequestToken), a watch that loses
contact looks once more (a stack that went on to finish is reported as it ended), and what stays out of sight
is "in progress", naming the operation and `make status`."""

from __future__ import annotations

import threading
import time

import boto3

from tests.support.config_files import write_config
from tests.support.deploy import (
    GLOBAL,
    REGIONAL,
    deploy_cli,
    form_field,
    forward,
    http_server,
    local_cloud_fixtures,
    region_of,
    summary_rows,
    wait_for,
)

local_cloud, cloud = local_cloud_fixtures()

EXPIRED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
    b"<Message>The security token included in the request is expired</Message></Error>"
    b"<RequestId>1</RequestId></ErrorResponse>"
)


def live_status(cloud, region: str) -> str:
    """The regional stack's status, asked of the local cloud itself (not through the proxy)."""
    client = boto3.client("cloudformation", region_name=region, endpoint_url=cloud.endpoint_url)
    return client.describe_stacks(StackName=REGIONAL)["Stacks"][0]["StackStatus"]


class Faults:
    """Which requests of one region the proxy treats otherwise, decided once the change set is executed."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.executed = threading.Event()
        self.lost_answers = 0

    def executing(self, request) -> bool:
        return region_of(request) == self.region and form_field(request, "Action") == "ExecuteChangeSet"

    def after_execution(self, request) -> bool:
        return region_of(request) == self.region and self.executed.is_set()


def forward_then_lose_the_answer(endpoint_url: str, faults: Faults):
    """Forward the request (CloudFormation takes it), then close the connection instead of answering."""
    send_on = forward(endpoint_url)

    def handle(request) -> None:
        class Dropped:
            def __getattr__(self, name):
                return getattr(request, name)

            def answer(self, *args, **kwargs) -> None:
                request.close_connection = True  # the answer never leaves

        send_on(Dropped())
        faults.lost_answers += 1
        faults.executed.set()

    return handle


def test_an_execution_whose_answer_was_lost_is_retried_as_the_same_request_and_deploys(
    cloud, capsys, tmp_path, monkeypatch
):
    faults = Faults("eu-west-1")
    lose_first = forward_then_lose_the_answer(cloud.endpoint_url, faults)
    normal = forward(cloud.endpoint_url)

    def handle(request) -> None:
        if faults.executing(request) and not faults.lost_answers:
            lose_first(request)
        else:
            normal(request)

    with http_server(handle) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        status, out, err = deploy_cli(write_config(tmp_path), tmp_path)

    assert faults.lost_answers == 1  # CloudFormation took the first call; its answer never came
    assert status == 0, err
    assert summary_rows(out)[("eu-west-1", REGIONAL)] == "created"  # not "busy: another run", not "refused"
    assert live_status(cloud, "eu-west-1") == "CREATE_COMPLETE"


def test_contact_lost_while_the_stack_changes_is_in_progress_naming_the_change_set_and_status(
    cloud, capsys, tmp_path, monkeypatch
):
    faults = Faults("eu-west-1")
    cloud.proxylity.gate.close(lambda call: call.region == "eu-west-1")  # its stack stays in progress

    def handle(request) -> None:
        if faults.after_execution(request):
            request.read_body()
            request.answer(403, EXPIRED)  # the credentials ran out mid-deploy
            return
        if faults.executing(request):
            faults.executed.set()
        forward(cloud.endpoint_url)(request)

    try:
        with http_server(handle) as url:
            monkeypatch.setenv("AWS_ENDPOINT_URL", url)
            status, out, err = deploy_cli(write_config(tmp_path), tmp_path)
        assert live_status(cloud, "eu-west-1") == "CREATE_IN_PROGRESS"  # CloudFormation carries on
    finally:
        cloud.proxylity.gate.release()

    assert status == 1
    rows = summary_rows(out)
    assert rows[("us-west-2", GLOBAL)] == rows[("us-east-1", REGIONAL)] == "created"
    assert rows[("eu-west-1", REGIONAL)] == "in"  # "in progress", the first word of the cell
    (line,) = err.splitlines()
    assert line.startswith(f"IN PROGRESS eu-west-1 {REGIONAL}: lost contact while executing change set packet-counter-")
    assert f"of stack {REGIONAL} in eu-west-1" in line and "ExpiredToken" in line
    assert line.endswith("CloudFormation carries on without us; `make status` shows how it ends")
    assert wait_for(lambda: live_status(cloud, "eu-west-1") == "CREATE_COMPLETE")


def test_a_stack_that_went_on_to_finish_while_out_of_sight_is_reported_as_it_ended(
    cloud, capsys, tmp_path, monkeypatch
):
    faults = Faults("eu-west-1")
    refused_once = threading.Event()

    def handle(request) -> None:
        if faults.after_execution(request) and not refused_once.is_set():
            request.read_body()
            # one poll gets no usable answer, and by the time the run looks again the stack has finished
            deadline = time.monotonic() + 30
            while live_status(cloud, "eu-west-1") != "CREATE_COMPLETE" and time.monotonic() < deadline:
                time.sleep(0.02)
            refused_once.set()
            request.answer(403, EXPIRED)
            return
        if faults.executing(request):
            faults.executed.set()
        forward(cloud.endpoint_url)(request)

    with http_server(handle) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        status, out, err = deploy_cli(write_config(tmp_path), tmp_path)

    assert refused_once.is_set()
    assert status == 0, err
    assert summary_rows(out)[("eu-west-1", REGIONAL)] == "created"
