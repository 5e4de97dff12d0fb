"""out/outputs.json describes what is deployed now, and a deploy never fails for it.

It is the deploy's own cache (the smoke client reads Domain, Port, Endpoint and DestinationId from it):
whatever is wrong with it is one warning line, and the exit status reflects the stacks only.
"""

from __future__ import annotations

import json

import pytest

from generator.errors import EndpointError
from generator.traffic.endpoint import resolve_endpoint
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import (
    FAST,
    GLOBAL,
    REGIONAL,
    REGIONS,
    cloudformation,
    deploy_cli,
    local_cloud_fixtures,
    outputs,
    stack,
    summary_rows,
    wait_for,
)

local_cloud, cloud = local_cloud_fixtures()

DAMAGED = {
    "truncated": '{"stack": "packet-counter-global", "regions": {"us-west-2": {',
    "a-list": "[]",
    "regions-a-list": '{"stack": "packet-counter-global", "region": "us-west-2", "regions": []}',
    "region-entry-a-string": '{"stack": "packet-counter-global", "region": "us-west-2", "regions": {"eu-west-1": "x"}}',
    "not-utf8": b"\xff\xfe{}",
}


@pytest.fixture
def config_path(tmp_path):
    return write_config(tmp_path)


def saved(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / "outputs.json").read_text())


def destroy_cli(capsys, config_path, tmp_path, *extra):
    return run_cli_in_process(
        "destroy", "--config", str(config_path), "--out", str(tmp_path / "out"), "--yes", *FAST, *extra
    )


@pytest.mark.parametrize("content", DAMAGED)
def test_a_damaged_outputs_file_is_ignored_in_one_line_and_rewritten(cloud, capsys, config_path, tmp_path, content):
    path = tmp_path / "out" / "outputs.json"
    path.parent.mkdir()
    damaged = DAMAGED[content]
    path.write_bytes(damaged if isinstance(damaged, bytes) else damaged.encode())

    status, out, err = deploy_cli(config_path, tmp_path)

    assert status == 0, err
    assert summary_rows(out)[("us-west-2", GLOBAL)] == "created"  # the summary is there
    (line,) = err.splitlines()
    assert line.startswith(f"warning: {path}: ignored what an earlier deploy recorded there (")
    assert line.endswith("); rewriting it")
    assert saved(tmp_path)["Endpoint"] == outputs(stack("us-west-2", GLOBAL))["Endpoint"]
    assert set(saved(tmp_path)["regions"]) == set(REGIONS)


def test_an_outputs_file_that_cannot_be_written_is_a_warning_after_the_summary(cloud, capsys, config_path, tmp_path):
    (tmp_path / "out" / "outputs.json").mkdir(parents=True)  # a folder where the file should go: no write can work

    status, out, err = deploy_cli(config_path, tmp_path)

    assert status == 0  # every stack was deployed
    assert set(summary_rows(out).values()) == {"created"}
    assert "wrote " not in out
    warnings = err.splitlines()
    assert any(
        line.startswith(f"warning: {tmp_path / 'out' / 'outputs.json'}: cannot write the outputs") for line in warnings
    )


@pytest.mark.parametrize("command", ["deploy", "plan", "destroy"])
def test_an_out_dir_that_cannot_hold_the_run_lock_is_refused_before_anything_runs(
    cloud, capsys, config_path, tmp_path, command
):
    (tmp_path / "out").write_text("a file where the out dir should be", encoding="utf-8")

    extra = ("--yes",) if command == "destroy" else ()
    status, _, err = run_cli_in_process(command, "--config", str(config_path), "--out", str(tmp_path / "out"), *extra)

    assert status == 2, err
    assert err.splitlines() == [
        f"{tmp_path / 'out'}: cannot hold the lock that keeps two runs of this out folder apart (a file stands "
        "where the folder should be); give --out (OUT=) a folder you can write; nothing was changed"
    ]
    assert stack("us-west-2", GLOBAL) is None  # nothing ran without the lock
    assert (tmp_path / "out").read_text(encoding="utf-8") == "a file where the out dir should be"


def test_destroy_removes_the_outputs_of_what_it_deleted(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0

    status, out, _ = destroy_cli(capsys, config_path, tmp_path, "--regions", "us-east-1")

    assert status == 0
    assert set(saved(tmp_path)["regions"]) == {"us-west-2", "eu-west-1"}
    assert saved(tmp_path)["Endpoint"]  # the listener is still there

    status, out, _ = destroy_cli(capsys, config_path, tmp_path)

    assert status == 0
    assert not (tmp_path / "out" / "outputs.json").exists()  # the smoke client is not sent to a deleted listener
    assert f"removed {tmp_path / 'out' / 'outputs.json'}" in out
    with pytest.raises(EndpointError, match="nothing is deployed"):
        resolve_endpoint(None, None, tmp_path / "out" / "outputs.json")


def test_regions_of_an_earlier_global_stack_are_not_carried_into_a_new_one(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    old_global = stack("us-west-2", GLOBAL)["StackId"]
    # Everything is deleted behind this out dir's back (in the console, from another machine) ...
    for region in REGIONS:
        cloudformation(region).delete_stack(StackName=REGIONAL)
    assert wait_for(lambda: all(stack(region, REGIONAL) is None for region in REGIONS))
    cloudformation("us-west-2").delete_stack(StackName=GLOBAL)
    assert wait_for(lambda: stack("us-west-2", GLOBAL) is None)
    # ... and deployed again, only partly.
    status, _, err = deploy_cli(config_path, tmp_path, "--regions", "us-east-1")

    assert status == 0, err
    record = saved(tmp_path)
    assert set(record["regions"]) == {"us-east-1"}  # not the long-destroyed us-west-2 and eu-west-1
    assert record["regions"]["us-east-1"]["FunctionArn"] == outputs(stack("us-east-1", REGIONAL))["FunctionArn"]
    assert record["StackId"] == stack("us-west-2", GLOBAL)["StackId"] != old_global


def test_a_partial_deploy_keeps_the_other_regions_of_the_same_global_stack(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0

    status, _, _ = deploy_cli(config_path, tmp_path, "--regions", "us-east-1")

    assert status == 0
    record = saved(tmp_path)
    assert set(record["regions"]) == set(REGIONS)
    assert record["regions"]["us-east-1"]["action"] == "unchanged"
    assert isinstance(record["Port"], int) and record["Domain"] and record["DestinationId"]
