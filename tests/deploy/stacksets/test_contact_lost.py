"""A StackSet operation CloudFormation started is never reported as refused because this run lost sight of it:
its instances are "in progress", naming the operation and `make status`, and CloudFormation finishes it."""

from __future__ import annotations

import threading

from tests.support.cli import run_cli_in_process
from tests.support.deploy import deploy_cli, form_field, forward, http_server, local_cloud_fixtures, wait_for
from tests.support.stacksets import (
    ACCOUNTS,
    GLOBAL_SET,
    HOME,
    REGIONAL_SET,
    account_rows,
    instances,
    stackset_config,
    stacksets_cloud_fixture,
)

local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()
REGIONS = ("us-west-2", "eu-west-1")
EXPIRED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
    b"<Message>The security token included in the request is expired</Message></Error>"
    b"<RequestId>1</RequestId></ErrorResponse>"
)


def test_an_operation_watched_out_of_sight_is_in_progress_for_each_instance_not_refused(
    ss_cloud, capsys, tmp_path, monkeypatch
):
    started = threading.Event()
    send_on = forward(ss_cloud.endpoint_url)

    def handle(request) -> None:
        regional = form_field(request, "StackSetName") == REGIONAL_SET
        if regional and form_field(request, "Action") == "CreateStackInstances":
            started.set()
        elif regional and started.is_set() and form_field(request, "Action") == "DescribeStackSetOperation":
            request.answer(403, EXPIRED)  # the credentials ran out while CloudFormation works
            return
        send_on(request)

    config = stackset_config(tmp_path, regions=REGIONS)
    with http_server(handle) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        status, out, err = deploy_cli(config, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", ss_cloud.endpoint_url)

    assert started.is_set()
    assert status == 1
    rows = account_rows(out)
    assert {rows[(account, HOME, GLOBAL_SET)] for account in ACCOUNTS} == {"created"}
    assert {rows[(account, region, REGIONAL_SET)] for account in ACCOUNTS for region in REGIONS} == {"in"}
    lines = err.splitlines()
    assert len(lines) == len(ACCOUNTS) * len(REGIONS)
    for line in lines:
        assert line.startswith("IN PROGRESS ") and f" {REGIONAL_SET}: CREATE operation " in line
        assert f"of StackSet {REGIONAL_SET} in {HOME} was started, then " in line and "ExpiredToken" in line
        assert line.endswith("CloudFormation carries on without us; `make status` shows how it ends")
        assert "refused" not in line
    # CloudFormation finishes what it started, and `status` says so.
    assert wait_for(lambda: {i["Status"] for i in instances(REGIONAL_SET).values()} == {"CURRENT"})
    status, out, _ = run_cli_in_process("status", "--config", str(config), "--json")
    assert status == 0
