"""deploy, plan, status and destroy, end to end through boto3's real HTTP path against the local cloud.

The local cloud (generator/local/cloud/) is moto's server plus a labelled stand-in for
Proxylity's control plane; it runs in this process on an ephemeral loopback port.
"""

from __future__ import annotations

import json
import threading

import botocore.credentials
import pytest
from botocore.exceptions import CredentialRetrievalError

from generator.config import load_config
from generator.errors import ExitCode
from generator.local.cloud import DESTINATION_ARN_TYPE, LISTENER_TYPE
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import (
    APPROVED,
    FAST,
    GLOBAL,
    REGIONAL,
    REGIONS,
    deploy_cli,
    engine_deploy,
    local_cloud_fixtures,
    outputs,
    parameters,
    region_workers_done,
    run_cli_pressing_ctrl_c,
    shows_state,
    stack,
    summary_rows,
    terminal_stdin,
    wait_for,
)

# The local cloud's refused region answers InvalidClientTokenId, as AWS does; moto warns it is not modelled.
pytestmark = pytest.mark.filterwarnings(r"ignore:Exception\(RegionNotEnabled\):UserWarning")
local_cloud, cloud = local_cloud_fixtures()


def is_binding(call) -> bool:
    return call.resource_type == DESTINATION_ARN_TYPE


@pytest.fixture
def config_path(tmp_path):
    return write_config(tmp_path)


def test_fresh_deploy_of_three_regions_passes_the_global_outputs_to_each_region(cloud, capsys, config_path, tmp_path):
    status, out, err = deploy_cli(config_path, tmp_path)

    assert status == 0, err
    assert summary_rows(out) == {("us-west-2", GLOBAL): "created", **{(r, REGIONAL): "created" for r in REGIONS}}
    global_outputs = outputs(stack("us-west-2", GLOBAL))
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert saved["Endpoint"] == global_outputs["Endpoint"] == f"{saved['Domain']}:{saved['Port']}"
    assert saved["DestinationId"] == global_outputs["DestinationId"]
    assert saved["Domain"].endswith(".proxylity.com")
    assert saved["Endpoint"] in out  # the summary shows domain:port
    for region in REGIONS:
        regional = stack(region, REGIONAL)
        assert regional["StackStatus"] == "CREATE_COMPLETE"
        assert parameters(regional) == {"DestinationId": saved["DestinationId"]}
        function_arn = outputs(regional)["FunctionArn"]
        assert f":{region}:" in function_arn
        assert saved["regions"][region]["FunctionArn"] == function_arn
        # Proxylity now sends packets entering in `region` to that region's function.
        assert cloud.proxylity.bindings[(saved["DestinationId"], region)] == function_arn


def test_the_same_deploy_again_is_unchanged_everywhere(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    calls_before = len(cloud.proxylity.calls)

    status, out, _ = deploy_cli(config_path, tmp_path)

    assert status == 0
    assert set(summary_rows(out).values()) == {"unchanged"}
    assert len(summary_rows(out)) == 4
    assert len(cloud.proxylity.calls) == calls_before  # nothing was sent to Proxylity


def test_a_batching_change_updates_only_the_global_stack(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    changed = write_config(tmp_path, lambda c: c["destination"]["batching"].update(count=50), "batching.yaml")

    status, out, _ = deploy_cli(changed, tmp_path)

    assert status == 0
    rows = summary_rows(out)
    assert rows.pop(("us-west-2", GLOBAL)) == "updated"
    assert set(rows.values()) == {"unchanged"}
    (listener,) = cloud.proxylity.listeners.values()
    assert listener["Properties"]["Destinations"][0]["Batching"]["Count"] == 50


def test_a_region_added_to_the_config_creates_only_that_regional_stack(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    more = write_config(tmp_path, lambda c: c["regions"].append("ap-southeast-2"), "more.yaml")

    status, out, _ = deploy_cli(more, tmp_path)

    assert status == 0
    rows = summary_rows(out)
    assert rows.pop(("ap-southeast-2", REGIONAL)) == "created"
    assert set(rows.values()) == {"unchanged"}  # bind mode: the global stack does not change
    assert stack("ap-southeast-2", REGIONAL)["StackStatus"] == "CREATE_COMPLETE"


def test_regions_outside_the_config_are_refused_and_nothing_is_deployed(cloud, capsys, config_path, tmp_path):
    status, _, err = deploy_cli(config_path, tmp_path, "--regions", "us-west-2", "sa-east-1")

    assert status == 2
    assert "'sa-east-1'" in err and "not in the config's regions" in err and str(config_path) in err
    assert "Traceback" not in err
    assert stack("us-west-2", GLOBAL) is None
    assert stack("us-west-2", REGIONAL) is None
    assert cloud.proxylity.calls == []


def test_regions_narrows_the_regional_stacks_touched(cloud, capsys, config_path, tmp_path):
    status, out, _ = deploy_cli(config_path, tmp_path, "--regions", "eu-west-1")

    assert status == 0
    assert summary_rows(out) == {("us-west-2", GLOBAL): "created", ("eu-west-1", REGIONAL): "created"}
    assert stack("us-east-1", REGIONAL) is None


def test_a_failing_region_is_reported_and_the_others_are_deployed(cloud, capsys, config_path, tmp_path):
    cloud.proxylity.fail_region = "eu-west-1"

    status, out, err = deploy_cli(config_path, tmp_path)

    assert status == 1
    rows = summary_rows(out)
    assert rows[("eu-west-1", REGIONAL)] == "failed"
    assert rows[("us-west-2", REGIONAL)] == rows[("us-east-1", REGIONAL)] == "created"
    (failure,) = err.splitlines()  # what went wrong: one line on stderr
    assert "DestinationArnBinding" in failure and DESTINATION_ARN_TYPE in failure
    assert "failing every request in eu-west-1" in failure  # the status reason CloudFormation gave
    assert stack("eu-west-1", REGIONAL)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack("us-east-1", REGIONAL)["StackStatus"] == "CREATE_COMPLETE"


def test_a_stack_left_in_rollback_complete_is_deleted_and_created_again(cloud, capsys, config_path, tmp_path):
    cloud.proxylity.fail_region = "eu-west-1"
    assert deploy_cli(config_path, tmp_path).returncode == 1
    cloud.proxylity.fail_region = None

    status, out, _ = deploy_cli(config_path, tmp_path)

    assert status == 0
    assert "eu-west-1 is in ROLLBACK_COMPLETE" in out  # the user is told
    rows = summary_rows(out)
    assert rows[("eu-west-1", REGIONAL)] == "created"
    assert rows[("us-east-1", REGIONAL)] == "unchanged"
    assert stack("eu-west-1", REGIONAL)["StackStatus"] == "CREATE_COMPLETE"


def test_regional_deploys_overlap_in_time(cloud, tmp_path):
    cloud.proxylity.gate.close(is_binding)  # every regional stack waits at its binding until released
    config = load_config(write_config(tmp_path))
    finished = {}
    run = threading.Thread(target=lambda: finished.update(report=engine_deploy(config, tmp_path / "out")))
    run.start()
    try:
        # All three bindings are held at once: the regional stacks are in flight together.
        assert cloud.proxylity.gate.wait_held(3)
    finally:
        cloud.proxylity.gate.release()
        run.join()

    report = finished["report"]
    assert report.ok
    global_result, *regional = report.results
    assert global_result.stack == GLOBAL and len(regional) == 3
    # Every regional stack started before any of them finished: they were in flight together.
    assert max(result.started for result in regional) < min(result.finished for result in regional)
    bindings = [call for call in cloud.proxylity.calls if is_binding(call)]
    assert max(call.started for call in bindings) < min(call.finished for call in bindings)
    # ... and all of them after the global stack (they need its DestinationId).
    assert global_result.finished <= min(result.started for result in regional)


def test_plan_shows_the_changes_and_changes_nothing(cloud, capsys, config_path, tmp_path):
    status, out, _ = run_cli_in_process("plan", "--config", str(config_path))
    assert status == ExitCode.CHANGES  # 3: something would change, as terraform plan -detailed-exitcode says
    assert f"{GLOBAL} (us-west-2): create" in out and f"{REGIONAL} (eu-west-1): create" in out
    assert "Add     UdpListener" in out
    assert stack("us-west-2", GLOBAL) is None and stack("eu-west-1", REGIONAL) is None

    assert deploy_cli(config_path, tmp_path).returncode == 0
    changed = write_config(tmp_path, lambda c: c["destination"]["batching"].update(count=77), "plan.yaml")
    status, out, _ = run_cli_in_process("plan", "--config", str(changed))

    assert status == ExitCode.CHANGES
    assert f"{GLOBAL} (us-west-2): update" in out
    assert "Destinations[0].Batching.Count: 10 -> 77" in out  # the property, not only the resource
    assert f"Modify  UdpListener ({LISTENER_TYPE})" in out
    assert f"{REGIONAL} (us-east-1): unchanged" in out
    (listener,) = cloud.proxylity.listeners.values()
    assert listener["Properties"]["Destinations"][0]["Batching"]["Count"] == 10  # not executed


def test_status_lists_each_region_and_orphans_from_an_older_config(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    fewer = write_config(tmp_path, lambda c: c["regions"].remove("eu-west-1"), "fewer.yaml")

    status, out, _ = run_cli_in_process("status", "--config", str(fewer))

    assert status == 0
    lines = {tuple(line.split()[:2]): line for line in out.splitlines() if line.split()[:1]}
    assert "CREATE_COMPLETE" in lines[("us-east-1", REGIONAL)]
    assert "arn:aws:lambda:us-east-1:" in lines[("us-east-1", REGIONAL)]
    assert lines[("eu-west-1", REGIONAL)].rstrip().endswith("orphan")
    assert "orphan: packet-counter-region in eu-west-1" in out


def test_destroy_asks_first_then_deletes_regional_stacks_before_the_global_one(
    cloud, capsys, config_path, tmp_path, monkeypatch
):
    assert deploy_cli(config_path, tmp_path).returncode == 0

    with terminal_stdin(monkeypatch, "no\n"):
        status, out, _ = run_cli_in_process("destroy", "--config", str(config_path), *FAST)
    assert status == 1 and "Type 'yes' to delete them" in out and "nothing was deleted" in out
    assert stack("us-west-2", GLOBAL) is not None and stack("eu-west-1", REGIONAL) is not None

    monkeypatch.setenv("YES", "1")
    status, out, _ = run_cli_in_process("destroy", "--config", str(config_path), *FAST)

    assert status == 0
    assert set(summary_rows(out).values()) == {"deleted"}
    assert all(stack(region, REGIONAL) is None for region in REGIONS)
    assert stack("us-west-2", GLOBAL) is None
    deletes = [call for call in cloud.proxylity.calls if call.request_type == "Delete"]
    listener_delete = next(call for call in deletes if call.resource_type == LISTENER_TYPE)
    binding_deletes = [call for call in deletes if is_binding(call)]
    assert len(binding_deletes) == 3
    assert max(call.finished for call in binding_deletes) <= listener_delete.started
    assert cloud.proxylity.bindings == {} and cloud.proxylity.listeners == {}


def test_destroy_of_some_regions_keeps_the_global_stack(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0

    status, out, _ = run_cli_in_process(
        "destroy", "--config", str(config_path), "--regions", "us-east-1", "--yes", *FAST
    )

    assert status == 0
    assert "keeping packet-counter-global" in out
    assert stack("us-east-1", REGIONAL) is None
    assert stack("us-west-2", GLOBAL) is not None and stack("eu-west-1", REGIONAL) is not None


def test_destroy_without_regions_removes_orphans_too(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    fewer = write_config(tmp_path, lambda c: c["regions"].remove("eu-west-1"), "fewer.yaml")

    status, out, _ = run_cli_in_process("destroy", "--config", str(fewer), "--yes", *FAST)

    assert status == 0
    assert "packet-counter-region in eu-west-1 (orphan)" in out
    assert stack("eu-west-1", REGIONAL) is None and stack("us-west-2", GLOBAL) is None


def test_map_routing_lists_every_function_in_the_global_stack(cloud, capsys, tmp_path):
    mapped = write_config(tmp_path, lambda c: c.update(routing="map"), "map.yaml")

    status, _, err = deploy_cli(mapped, tmp_path)

    assert status == 0, err
    assert parameters(stack("eu-west-1", REGIONAL)) == {}
    destination = outputs(stack("us-west-2", GLOBAL))["DestinationId"]
    assert cloud.proxylity.bindings[(destination, "eu-west-1")].endswith(
        ":eu-west-1:123456789012:function:packet-counter"
    )


def test_ctrl_c_stops_waiting_and_names_the_stacks_still_in_progress(cloud, config_path, tmp_path, monkeypatch):
    cloud.proxylity.gate.close(is_binding)  # the regional stacks stay in progress until released

    def every_region_shows_in_progress(out) -> bool:
        return cloud.proxylity.gate.wait_held(3) and out.wait_until(
            lambda text: all(shows_state(text, region, REGIONAL, "CREATE_IN_PROGRESS") for region in REGIONS)
        )

    argv = ("deploy", "--config", str(config_path), "--out", str(tmp_path / "out"), *FAST, *APPROVED)
    try:
        status, _, err = run_cli_pressing_ctrl_c(monkeypatch, *argv, when=every_region_shows_in_progress)
    finally:
        cloud.proxylity.gate.release()

    assert status == 130
    assert "interrupted: stopped waiting" in err.getvalue()
    for region in REGIONS:
        assert f"packet-counter-region in {region} (CREATE_IN_PROGRESS)" in err.getvalue()
    # CloudFormation carries on once released: the next test starts from a quiet cloud.
    assert wait_for(lambda: all(stack(region, REGIONAL)["StackStatus"] == "CREATE_COMPLETE" for region in REGIONS))
    assert wait_for(region_workers_done)


def test_missing_credentials_are_one_clear_line_not_a_traceback(cloud, capsys, config_path, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup from a test

    status, out, err = deploy_cli(config_path, tmp_path)

    assert status == 1
    assert "Traceback" not in out + err
    # the global stack's failure, and every region it kept from being reached, each on a line of its own
    assert err.splitlines() == [
        "FAILED us-west-2 packet-counter-global: Unable to locate credentials",
        *(
            f"SKIPPED {region} {REGIONAL}: not reached: it needs the global stack {GLOBAL} in us-west-2, which failed"
            for region in REGIONS
        ),
    ]


def test_ctrl_c_while_change_sets_are_being_made_executes_none_of_them(cloud, config_path, tmp_path, monkeypatch):
    cloud.aws.change_sets.close(lambda stack_name: stack_name == REGIONAL)  # made, never ready until released

    argv = ("deploy", "--config", str(config_path), "--out", str(tmp_path / "out"), *FAST, *APPROVED)
    try:
        status, _, err = run_cli_pressing_ctrl_c(
            monkeypatch, *argv, when=lambda out: cloud.aws.change_sets.wait_held(3)
        )
        assert status == 130
        assert "interrupted: stopped waiting" in err.getvalue()
    finally:
        cloud.aws.change_sets.release()  # the change sets become ready: a worker that ignored Ctrl-C would execute
    assert wait_for(region_workers_done)
    for region in REGIONS:
        assert stack(region, REGIONAL)["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert not any(is_binding(call) for call in cloud.proxylity.calls)


def test_plan_whose_create_change_set_fails_leaves_no_empty_stack(cloud, capsys, config_path):
    cloud.proxylity.unsubscribed_region = "eu-west-1"  # no Proxylity config there: the include fails

    status, out, _ = run_cli_in_process("plan", "--config", str(config_path))

    assert status == 1
    assert f"{REGIONAL} (eu-west-1): failed - change set refused: Transform AWS::Include failed" in out
    assert f"{REGIONAL} (us-east-1): create" in out
    assert wait_for(lambda: stack("eu-west-1", REGIONAL) is None), stack("eu-west-1", REGIONAL)


def test_an_aws_error_reading_the_home_region_is_one_line_naming_the_stack(cloud, capsys, config_path):
    cloud.aws.refused_region = "us-west-2"  # as AWS answers in an opt-in region the account has not enabled

    for command in ("status", "plan"):
        status, out, err = run_cli_in_process(command, "--config", str(config_path))

        assert status == 1, command
        assert "Traceback" not in out + err
        (line,) = err.strip().splitlines()
        assert line.startswith(f"stack {GLOBAL} in us-west-2: ") and "InvalidClientTokenId" in line


def test_a_credential_provider_failure_is_one_line_not_a_traceback(cloud, capsys, config_path, tmp_path, monkeypatch):
    def expired(self):
        raise CredentialRetrievalError(provider="sso", error_msg="the SSO session has expired")

    with monkeypatch.context() as credentials:  # a stand-in at the credential boundary only
        credentials.setattr(botocore.credentials.EnvProvider, "load", expired)
        status, out, err = deploy_cli(config_path, tmp_path)

    assert status == 1
    assert "Traceback" not in out + err
    assert f"{config_path}: Error when retrieving credentials from sso: the SSO session has expired" in err
    assert stack("us-west-2", GLOBAL) is None


def test_destroy_keeps_the_global_stack_while_a_configured_region_cannot_be_checked(
    cloud, capsys, config_path, tmp_path
):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    cloud.aws.refused_region = "eu-west-1"

    status, out, err = run_cli_in_process("destroy", "--config", str(config_path), "--yes", *FAST)

    assert status == 1  # not everything asked for was deleted
    assert f"keeping {GLOBAL}: could not check eu-west-1: " in out and "InvalidClientTokenId" in out
    assert summary_rows(out) == {
        ("us-west-2", REGIONAL): "deleted",
        ("us-east-1", REGIONAL): "deleted",
        ("eu-west-1", REGIONAL): "failed",
    }
    assert f"FAILED eu-west-1 {REGIONAL}: could not check: " in err
    cloud.aws.refused_region = None
    assert stack("us-west-2", GLOBAL)["StackStatus"] == "CREATE_COMPLETE"  # eu-west-1 still needs it
    assert stack("eu-west-1", REGIONAL)["StackStatus"] == "CREATE_COMPLETE"


def test_a_region_failing_later_keeps_its_earlier_function_in_outputs_json(cloud, capsys, config_path, tmp_path):
    assert deploy_cli(config_path, tmp_path).returncode == 0
    saved = tmp_path / "out" / "outputs.json"
    earlier = json.loads(saved.read_text())["regions"]["eu-west-1"]["FunctionArn"]
    assert ":eu-west-1:" in earlier
    cloud.aws.refused_region = "eu-west-1"

    status, out, _ = deploy_cli(config_path, tmp_path)

    assert status == 1 and summary_rows(out)[("eu-west-1", REGIONAL)] == "failed"
    regions = json.loads(saved.read_text())["regions"]
    assert regions["eu-west-1"] == {"stack": REGIONAL, "action": "failed", "FunctionArn": earlier}
    assert regions["us-east-1"]["action"] == "unchanged" and regions["us-east-1"]["FunctionArn"]
