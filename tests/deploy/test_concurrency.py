"""Two runs against the same stacks at once: one goes ahead, the other is refused naming what is running.

Two layers: a lock beside outputs.json (one deploy, plan or destroy per out dir on this machine), and, for
runs that do not share an out dir (two machines), the stacks themselves: a stack in progress is busy, a
stack under review with a change set being made is not deleted, and of two change sets made for one stack
at once the older goes ahead. The runs synchronise on the local cloud's gates, never on sleeps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from generator.config import load_config
from generator.deploy.changesets import execute_change_set
from generator.deploy.specs import StackSpec
from generator.deploy.stack_errors import Busy
from generator.errors import AlreadyRunning, ExitCode
from generator.local.cloud import LISTENER_TYPE
from tests.support.checkout import CHECKOUT
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import (
    APPROVED,
    FAST,
    GLOBAL,
    REGIONAL,
    REGIONS,
    cloudformation,
    deploy_cli,
    engine_deploy,
    local_cloud_fixtures,
    outputs,
    parameters,
    stack,
    summary_rows,
    wait_for,
)

local_cloud, cloud = local_cloud_fixtures()


class DeployRun(threading.Thread):
    """deploy() in a thread of its own, as a second terminal would run it: its report, or what it raised."""

    def __init__(self, config_path, out_dir) -> None:
        super().__init__(name=f"test-deploy-{out_dir.name}", daemon=True)
        self.config = load_config(config_path)
        self.out_dir = out_dir
        self.report = None
        self.error = None

    def run(self) -> None:
        try:
            self.report = engine_deploy(self.config, self.out_dir)
        except Exception as error:
            self.error = error

    @property
    def succeeded(self) -> bool:
        return self.report is not None and self.report.ok


def start(*runs: DeployRun) -> None:
    for run in runs:
        run.start()


def finish(*runs: DeployRun) -> None:
    for run in runs:
        run.join()


def the_one_listener(cloud) -> str:
    """The destination of the only listener Proxylity has; every regional stack must be bound to it."""
    (listener,) = cloud.proxylity.listeners.values()
    destination = listener["DestinationNames"][0]
    assert outputs(stack("us-west-2", GLOBAL))["DestinationId"] == destination
    for region in REGIONS:
        regional = stack(region, REGIONAL)
        assert parameters(regional) == {"DestinationId": destination}, region
        assert cloud.proxylity.bindings[(destination, region)] == outputs(regional)["FunctionArn"]
    return destination


def test_two_fresh_deploys_at_once_with_different_out_dirs_leave_one_listener(cloud, tmp_path):
    config_path = write_config(tmp_path)
    first, second = DeployRun(config_path, tmp_path / "first"), DeployRun(config_path, tmp_path / "second")
    cloud.aws.change_set_requests.close(lambda stack_name: stack_name == GLOBAL)  # both are in flight, then go
    start(first, second)
    try:
        # Either both made a change set for the global stack (the older goes ahead), or one saw the
        # other's change set first and stepped back at once.
        assert wait_for(lambda: cloud.aws.change_set_requests.held == 2 or not (first.is_alive() and second.is_alive()))
    finally:
        cloud.aws.change_set_requests.release()
    finish(first, second)

    assert first.error is None and second.error is None
    (winner,) = [run for run in (first, second) if run.succeeded]
    (loser,) = [run for run in (first, second) if not run.succeeded]
    loser_global, *loser_regional = loser.report.results
    assert loser_global.action == "failed" and {result.action for result in loser_regional} == {"skipped"}
    reason = loser_global.reason
    assert (
        f"stack {GLOBAL} in us-west-2 is being " in reason
        and "by another run: change set packet-counter-deploy-" in reason
    )
    assert "nothing was changed here, run again when it has finished" in reason
    assert the_one_listener(cloud) == winner.report.results[0].outputs["DestinationId"]
    assert (
        sum(call.resource_type == LISTENER_TYPE and call.request_type == "Create" for call in cloud.proxylity.calls)
        == 1
    )


def test_of_two_updates_made_at_once_the_older_change_set_goes_ahead(cloud, capsys, tmp_path):
    assert deploy_cli(write_config(tmp_path), tmp_path).returncode == 0
    twenty = write_config(tmp_path, lambda c: c["destination"]["batching"].update(count=20), "twenty.yaml")
    thirty = write_config(tmp_path, lambda c: c["destination"]["batching"].update(count=30), "thirty.yaml")
    cloud.aws.change_set_requests.close(lambda stack_name: stack_name == GLOBAL)
    first = DeployRun(twenty, tmp_path / "first")
    first.start()
    try:
        assert cloud.aws.change_set_requests.wait_held(1)  # the first change set exists
        second = DeployRun(thirty, tmp_path / "second")
        second.start()
        assert cloud.aws.change_set_requests.wait_held(2)  # and now the second, for the same stack
    finally:
        cloud.aws.change_set_requests.release()
    finish(first, second)

    assert first.succeeded, first.report.results if first.report else first.error
    assert first.report.results[0].action == "updated"
    reason = second.report.results[0].reason
    assert second.report.results[0].action == "failed"
    assert f"stack {GLOBAL} in us-west-2 is being deployed by another run: change set packet-counter-deploy-" in reason
    # Withdrawn by us on seeing the older change set, or by CloudFormation when that one was executed first:
    # which of the two depends on how soon the second run looked, the outcome does not.
    assert "ours was made later and is withdrawn" in reason or "CloudFormation deleted it" in reason
    (listener,) = cloud.proxylity.listeners.values()
    assert listener["Properties"]["Destinations"][0]["Batching"]["Count"] == 20
    the_one_listener(cloud)
    changes = cloudformation("us-west-2").list_change_sets(StackName=GLOBAL)["Summaries"]
    assert {change["ExecutionStatus"] for change in changes} == {"EXECUTE_COMPLETE"}  # the loser withdrew its own


def test_a_change_set_cloudformation_withdrew_because_another_ran_first_is_reported_not_executed(cloud, tmp_path):
    """When a change set is executed, CloudFormation deletes the stack's other change sets. A run whose
    change set was deleted so is told which change set ran, and changes nothing."""
    assert deploy_cli(write_config(tmp_path), tmp_path).returncode == 0
    client = cloudformation("us-west-2")
    body = client.get_template(StackName=GLOBAL)["TemplateBody"]
    body = json.dumps(body) if isinstance(body, dict) else body
    assert '"Count": 10' in body  # the batching count both change sets below change
    spec = StackSpec(GLOBAL, "us-west-2", body.replace('"Count": 10', '"Count": 30'))
    ours = client.create_change_set(
        StackName=GLOBAL,
        ChangeSetName="ours",
        ChangeSetType="UPDATE",
        TemplateBody=spec.template_body,
        Capabilities=list(spec.capabilities),
    )
    theirs = client.create_change_set(
        StackName=GLOBAL,
        ChangeSetName="packet-counter-deploy-theirs",
        ChangeSetType="UPDATE",
        TemplateBody=body.replace('"Count": 10', '"Count": 20'),
        Capabilities=list(spec.capabilities),
    )
    client.execute_change_set(ChangeSetName=theirs["Id"])
    assert wait_for(lambda: stack("us-west-2", GLOBAL)["StackStatus"] == "UPDATE_COMPLETE")

    with pytest.raises(Busy) as refused:
        execute_change_set(client, spec, {"ChangeSetId": ours["Id"], "StackId": ours["StackId"]})
    assert str(refused.value).startswith(
        f"stack {GLOBAL} in us-west-2 is being deployed by another run: change set packet-counter-deploy-theirs ("
    )
    assert "CloudFormation deleted it when that one was executed" in str(refused.value)
    (listener,) = cloud.proxylity.listeners.values()
    assert listener["Properties"]["Destinations"][0]["Batching"]["Count"] == 20


def test_two_deploys_at_once_with_the_same_out_dir_one_is_refused_by_the_lock(cloud, tmp_path):
    config_path = write_config(tmp_path)
    first, second = DeployRun(config_path, tmp_path / "out"), DeployRun(config_path, tmp_path / "out")
    cloud.aws.change_set_requests.close(lambda stack_name: stack_name == GLOBAL)
    start(first, second)
    try:
        # One holds the lock and is held at its change set; the other has been refused.
        assert wait_for(
            lambda: cloud.aws.change_set_requests.held == 1 and not (first.is_alive() and second.is_alive())
        )
    finally:
        cloud.aws.change_set_requests.release()
    finish(first, second)

    (winner,) = [run for run in (first, second) if run.succeeded]
    (loser,) = [run for run in (first, second) if run.error is not None]
    assert isinstance(loser.error, AlreadyRunning) and loser.error.exit_code == ExitCode.FAILED
    (problem,) = loser.error.problems
    assert problem.source == str(tmp_path / "out" / ".deploy.lock")
    assert f"another deploy is running with this out dir (pid {os.getpid()}, started " in problem.message
    assert winner.report.results[0].action == "created"
    the_one_listener(cloud)


def test_plan_and_destroy_wait_for_no_one_and_are_refused_while_a_deploy_holds_the_out_dir(
    cloud, capsys, tmp_path, monkeypatch
):
    config_path = write_config(tmp_path)
    deploying = DeployRun(config_path, tmp_path / "out")
    cloud.aws.change_set_requests.close(lambda stack_name: stack_name == GLOBAL)
    deploying.start()
    try:
        assert cloud.aws.change_set_requests.wait_held(1)
        for command in (("plan",), ("destroy", "--yes")):
            status, _, err = run_cli_in_process(*command, "--config", str(config_path), "--out", str(tmp_path / "out"))
            assert status == 1, command
            (line,) = err.splitlines()
            assert line.startswith(f"{tmp_path / 'out' / '.deploy.lock'}: another deploy is running with this out dir")
    finally:
        cloud.aws.change_set_requests.release()
    finish(deploying)

    assert deploying.succeeded
    the_one_listener(cloud)


def test_a_stack_in_progress_is_busy_and_refused_naming_its_status_and_since_when(cloud, capsys, tmp_path):
    config_path = write_config(tmp_path)
    first = DeployRun(config_path, tmp_path / "first")
    cloud.proxylity.gate.close(lambda call: call.resource_type == LISTENER_TYPE)  # the global stack stays in progress
    first.start()
    try:
        assert cloud.proxylity.gate.wait_held(1)
        status, out, err = deploy_cli(config_path, tmp_path / "second")
        destroyed, _, destroy_err = run_cli_in_process(
            "destroy", "--config", str(config_path), "--out", str(tmp_path / "third"), "--yes", *FAST
        )
    finally:
        cloud.proxylity.gate.release()
    finish(first)

    assert status == 1 and destroyed == 1
    assert summary_rows(out) == {("us-west-2", GLOBAL): "failed", **{(r, REGIONAL): "skipped" for r in REGIONS}}
    line, *skipped = err.splitlines()
    assert line.startswith(f"FAILED us-west-2 {GLOBAL}: stack {GLOBAL} in us-west-2 is busy: CREATE_IN_PROGRESS since ")
    assert len(skipped) == len(REGIONS) and all(line.startswith("SKIPPED ") for line in skipped)
    (line,) = destroy_err.splitlines()
    assert line.startswith(f"FAILED us-west-2 {GLOBAL}: stack {GLOBAL} in us-west-2 is busy: CREATE_IN_PROGRESS since ")
    assert first.succeeded
    the_one_listener(cloud)


@pytest.mark.parametrize("second_command", ["deploy", "destroy", "plan"])
def test_a_stack_under_review_with_a_change_set_being_made_is_not_deleted(cloud, capsys, tmp_path, second_command):
    config_path = write_config(tmp_path)
    first = DeployRun(config_path, tmp_path / "first")
    cloud.aws.change_sets.close(lambda stack_name: stack_name == GLOBAL)  # being made until released
    first.start()
    try:
        assert cloud.aws.change_sets.wait_held(1)
        extra = {"deploy": (*FAST, *APPROVED), "destroy": ("--yes", *FAST), "plan": ()}[second_command]
        status, out, err = run_cli_in_process(
            second_command, "--config", str(config_path), "--out", str(tmp_path / "second"), *extra
        )
        assert stack("us-west-2", GLOBAL)["StackStatus"] == "REVIEW_IN_PROGRESS"  # still there
    finally:
        cloud.aws.change_sets.release()
    finish(first)

    assert status == 1
    busy = f"stack {GLOBAL} in us-west-2 is being created by another run: change set packet-counter-deploy-"
    assert busy in out + err and "CREATE_IN_PROGRESS, made " in out + err
    assert first.succeeded, first.report.results
    the_one_listener(cloud)


def test_a_leftover_stack_under_review_is_deleted_and_created_again(cloud, capsys, tmp_path):
    client = cloudformation("us-west-2")
    made = client.create_change_set(
        StackName=GLOBAL, ChangeSetName="abandoned", ChangeSetType="CREATE", TemplateBody='{"Resources": {}}'
    )
    client.delete_change_set(ChangeSetName=made["Id"])  # what a run killed between the two calls leaves

    status, out, err = deploy_cli(write_config(tmp_path), tmp_path)

    assert status == 0, err
    assert summary_rows(out)[("us-west-2", GLOBAL)] == "created"
    the_one_listener(cloud)


def test_two_deploy_commands_at_once_with_the_same_out_dir(cloud, tmp_path):
    """As users run them: two processes; the second is refused by the lock, naming the first."""
    config_path = write_config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    command = [
        sys.executable,
        "-m",
        "generator",
        "deploy",
        "--config",
        str(config_path),
        "--out",
        str(tmp_path / "out"),
    ]
    cloud.aws.change_set_requests.close(lambda stack_name: stack_name == GLOBAL)
    processes = [
        subprocess.Popen(
            [*command, *FAST, *APPROVED],
            cwd=CHECKOUT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        assert wait_for(
            lambda: cloud.aws.change_set_requests.held == 1 and any(p.poll() is not None for p in processes), within=120
        )
    finally:
        cloud.aws.change_set_requests.release()
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]

    assert sorted(status for status, _, _ in results) == [0, 1]
    (winner,) = [p for p, (status, _, _) in zip(processes, results, strict=True) if status == 0]
    (refused,) = [err for status, _, err in results if status == 1]
    assert refused.splitlines() == [
        f"{tmp_path / 'out' / '.deploy.lock'}: another deploy is running with this out dir (pid {winner.pid}, "
        f"started {refused.split('started ')[1].split(')')[0]}); wait for it to finish"
    ]
    the_one_listener(cloud)
