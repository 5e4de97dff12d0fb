"""deploy, plan, status and destroy through StackSets, end to end: the CLI in this process, boto3 through its real
HTTP path to the local cloud (its StackSets model: operations that take time and fail, instances as real
stacks in their own accounts), two accounts and three regions; what a user sees checked, and what AWS holds
read back (other accounts through sts:AssumeRole)."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter

from generator.config import load_config
from generator.errors import ExitCode
from generator.local.cloud import InstanceWork
from tests.support.cli import run_cli_in_process
from tests.support.deploy import (
    APPROVED,
    FAST,
    deploy_cli,
    engine_deploy,
    local_cloud_fixtures,
    run_cli_pressing_ctrl_c,
    terminal_stdin,
    wait_for,
)
from tests.support.stacksets import (
    ACCOUNTS,
    GLOBAL_SET,
    HOME,
    REGIONAL_SET,
    account_rows,
    admin_client,
    instance_stack,
    instances,
    operation_results,
    operations,
    stack_sets,
    stacks_in,
    stackset_config,
    stacksets_cloud_fixture,
)

local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()
REGIONS = ("us-west-2", "us-east-1", "eu-west-1")
A, B = ACCOUNTS


def every_instance(regions=REGIONS, accounts=ACCOUNTS) -> dict[tuple[str, str, str], str]:
    """The summary rows of a fresh deploy: both StackSets and every instance, all `created`."""
    rows = {("StackSet", HOME, GLOBAL_SET): "created", ("StackSet", HOME, REGIONAL_SET): "created"}
    rows.update({(account, HOME, GLOBAL_SET): "created" for account in accounts})
    rows.update({(account, region, REGIONAL_SET): "created" for account in accounts for region in regions})
    return rows


def test_two_accounts_by_three_regions_are_created_with_outputs_for_all_six(ss_cloud, capsys, tmp_path):
    status, out, err = deploy_cli(stackset_config(tmp_path), tmp_path)

    assert status == 0, err
    assert account_rows(out) == every_instance()
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert set(saved["accounts"]) == set(ACCOUNTS)
    assert "Domain" not in saved  # two listeners: none of them is "the" endpoint
    for account in ACCOUNTS:
        entry = saved["accounts"][account]
        listener = ss_cloud.proxylity.customer(account).listeners
        assert len(listener) == 1  # each account its own listener, under its own Proxylity key
        assert entry["Endpoint"] == f"{entry['Domain']}:{entry['Port']}" and entry["Endpoint"] in out
        assert entry["DestinationId"] == "packet-counter"  # the name known in advance
        assert entry["StackId"] == instances(GLOBAL_SET)[(account, HOME)]["StackId"]
        for region in REGIONS:
            arn = entry["regions"][region]["FunctionArn"]
            assert arn == f"arn:aws:lambda:{region}:{account}:function:packet-counter"
            # Packets entering in `region` reach this account's function there: bound to its own destination.
            assert ss_cloud.proxylity.customer(account).bindings[("packet-counter", region)] == arn
            assert instance_stack(REGIONAL_SET, account, region)["StackStatus"] == "CREATE_COMPLETE"
    assert stack_sets() == [GLOBAL_SET, REGIONAL_SET]


def test_the_same_deploy_again_is_unchanged_and_starts_no_operation(ss_cloud, capsys, tmp_path):
    config = stackset_config(tmp_path)
    assert deploy_cli(config, tmp_path).returncode == 0
    before = (len(operations(GLOBAL_SET)), len(operations(REGIONAL_SET)), len(ss_cloud.proxylity.calls))

    status, out, _ = deploy_cli(config, tmp_path)

    assert status == 0
    assert set(account_rows(out).values()) == {"unchanged"}
    assert len(account_rows(out)) == len(every_instance())
    assert (len(operations(GLOBAL_SET)), len(operations(REGIONAL_SET)), len(ss_cloud.proxylity.calls)) == before


def test_plan_shows_which_instances_a_region_added_and_an_account_removed_would_change(ss_cloud, capsys, tmp_path):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0
    changed = stackset_config(tmp_path, regions=(*REGIONS, "ap-southeast-2"), accounts=(A,), name="changed.yaml")
    operations_before = len(operations(REGIONAL_SET))

    status, out, _ = run_cli_in_process("plan", "--config", str(changed), "--out", str(tmp_path / "out"))

    assert status == ExitCode.CHANGES
    lines = out.splitlines()
    assert f"{REGIONAL_SET} ({A} ap-southeast-2): create" in lines
    unasked = "; a deploy deletes it only when confirmed (on a terminal, or YES=1), else keeps it"
    assert f"{GLOBAL_SET} ({B} {HOME}): delete - its account is not in stacksets.accounts{unasked}" in lines
    for region in REGIONS:
        assert f"{REGIONAL_SET} ({A} {region}): unchanged" in lines
        assert f"{REGIONAL_SET} ({B} {region}): delete - its account is not in stacksets.accounts{unasked}" in lines
    assert f"{GLOBAL_SET} (StackSet in {HOME}): unchanged" in lines
    assert lines[-1].startswith("plan: 5 of 11 stacks would change")
    assert len(operations(REGIONAL_SET)) == operations_before  # plan starts nothing


def test_a_plain_deploy_keeps_the_instances_of_a_removed_account_and_says_how_to_remove_them(
    ss_cloud, capsys, tmp_path
):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0
    typo = stackset_config(tmp_path, accounts=(A, "222222222223"), name="typo.yaml")  # one digit off: B "removed"

    status, out, err = deploy_cli(typo, tmp_path)  # no terminal to ask, no YES=1

    assert status == 0, err
    rows = account_rows(out)
    assert rows[(B, HOME, GLOBAL_SET)] == "kept"
    assert {rows[(B, region, REGIONAL_SET)] for region in REGIONS} == {"kept"}
    assert rows[("222222222223", HOME, GLOBAL_SET)] == "created"
    assert set(instances(REGIONAL_SET)) >= {(B, region) for region in REGIONS}
    assert len(ss_cloud.proxylity.customer(B).listeners) == 1  # B's listener is still there
    # status names them as orphans, with how to remove them
    status, out, _ = run_cli_in_process("status", "--config", str(typo))
    assert f"orphan: {GLOBAL_SET} instance in {B} {HOME} is not in {typo}'s stacksets.accounts" in out


def test_on_a_terminal_a_deploy_asks_before_deleting_a_removed_accounts_instances(
    ss_cloud, capsys, tmp_path, monkeypatch
):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0
    fewer = stackset_config(tmp_path, accounts=(A,), name="fewer.yaml")

    with terminal_stdin(monkeypatch, "no\n"):
        status, out, _ = deploy_cli(fewer, tmp_path)
    assert status == 0
    assert f"  {REGIONAL_SET} in {B} us-west-2 (orphan)" in out and "Type 'yes' to delete them" in out
    assert account_rows(out)[(B, HOME, GLOBAL_SET)] == "kept"

    with terminal_stdin(monkeypatch, "yes\n"):
        status, out, _ = deploy_cli(fewer, tmp_path)
    assert status == 0
    assert account_rows(out)[(B, HOME, GLOBAL_SET)] == "deleted"
    assert set(instances(GLOBAL_SET)) == {(A, HOME)}


def test_a_region_added_and_an_account_removed_change_only_those_instances(ss_cloud, capsys, tmp_path):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0
    kept_stacks = {region: instance_stack(REGIONAL_SET, A, region) for region in REGIONS}
    changed = stackset_config(tmp_path, regions=(*REGIONS, "ap-southeast-2"), accounts=(A,), name="changed.yaml")

    status, out, err = deploy_cli(changed, tmp_path, "--yes")  # deleting what the config no longer has: confirmed

    assert status == 0, err
    rows = account_rows(out)
    assert rows.pop((A, "ap-southeast-2", REGIONAL_SET)) == "created"
    assert rows.pop((B, HOME, GLOBAL_SET)) == "deleted"
    for region in REGIONS:
        assert rows.pop((B, region, REGIONAL_SET)) == "deleted"
    assert set(rows.values()) == {"unchanged"}
    assert set(instances(REGIONAL_SET)) == {(A, region) for region in (*REGIONS, "ap-southeast-2")}
    assert set(instances(GLOBAL_SET)) == {(A, HOME)}
    for region in REGIONS:  # account A's stacks were not touched: no update, no new event
        now = instance_stack(REGIONAL_SET, A, region)
        assert now["StackId"] == kept_stacks[region]["StackId"] and "LastUpdatedTime" not in now
        assert stacks_in(B, region) == []
    assert ss_cloud.proxylity.customer(B).listeners == {}
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert list(saved["accounts"]) == [A]
    assert saved["Endpoint"] == saved["accounts"][A]["Endpoint"]  # one account: at the top too, for smoke
    assert set(saved["regions"]) == {*REGIONS, "ap-southeast-2"}


def test_a_batching_change_updates_the_global_stackset_in_every_account_and_no_regional_one(ss_cloud, capsys, tmp_path):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0
    changed = stackset_config(
        tmp_path, name="batching.yaml", edit=lambda c: c["destination"]["batching"].update(count=50)
    )

    status, out, _ = deploy_cli(changed, tmp_path)

    assert status == 0
    rows = account_rows(out)
    assert {key: rows.pop(key) for key in list(rows) if key[2] == GLOBAL_SET} == {
        ("StackSet", HOME, GLOBAL_SET): "updated",
        (A, HOME, GLOBAL_SET): "updated",
        (B, HOME, GLOBAL_SET): "updated",
    }
    assert set(rows.values()) == {"unchanged"}
    for account in ACCOUNTS:
        (listener,) = ss_cloud.proxylity.customer(account).listeners.values()
        assert listener["Properties"]["Destinations"][0]["Batching"]["Count"] == 50


def failing_deploy(ss_cloud, tmp_path, tolerance: int):
    """Regions one after another, eu-west-1 second, where account B's binding fails."""
    ss_cloud.proxylity.fail_in.add((B, "eu-west-1"))
    config = stackset_config(
        tmp_path,
        regions=("us-west-2", "eu-west-1", "us-east-1"),
        region_concurrency="sequential",
        failure_tolerance_percentage=tolerance,
    )
    return config, deploy_cli(config, tmp_path)


def test_a_failing_instance_with_tolerance_0_stops_the_regions_after_it(ss_cloud, capsys, tmp_path):
    _, (status, out, err) = failing_deploy(ss_cloud, tmp_path, tolerance=0)

    assert status == 1
    rows = account_rows(out)
    assert rows[(B, "eu-west-1", REGIONAL_SET)] == "failed"
    assert rows[(A, "eu-west-1", REGIONAL_SET)] == "created"  # in flight beside it: it went on
    assert rows[(A, "us-west-2", REGIONAL_SET)] == rows[(B, "us-west-2", REGIONAL_SET)] == "created"
    # past the tolerance in eu-west-1: CloudFormation does not start the region after it
    assert rows[(A, "us-east-1", REGIONAL_SET)] == rows[(B, "us-east-1", REGIONAL_SET)] == "skipped"
    assert (
        f"StackSet {REGIONAL_SET} in {HOME}: CREATE in eu-west-1: 1 of 2 accounts failed, "
        "past the failure tolerance (0)" in out
    )
    failed = [line for line in err.splitlines() if line.startswith("FAILED")]
    assert failed == [
        f"FAILED {B} eu-west-1 {REGIONAL_SET}: ResourceLogicalId:DestinationArnBinding, "
        "ResourceType:Custom::ProxylityUdpGatewayDestinationArn, ResourceStatusReason:Proxylity stand-in: "
        f"failing every request of account {B} in eu-west-1."
    ]
    assert f"SKIPPED {A} us-east-1 {REGIONAL_SET}: cancelled:" in err
    assert instance_stack(REGIONAL_SET, A, "us-east-1") is None


def test_a_failing_instance_within_tolerance_50_lets_every_other_instance_deploy(ss_cloud, capsys, tmp_path):
    _, (status, out, err) = failing_deploy(ss_cloud, tmp_path, tolerance=50)

    assert status == 1  # an instance is not as asked
    rows = account_rows(out)
    assert rows.pop((B, "eu-west-1", REGIONAL_SET)) == "failed"
    assert set(rows.values()) == {"created"}
    assert (
        f"StackSet {REGIONAL_SET} in {HOME}: CREATE in eu-west-1: 1 of 2 accounts failed, "
        "within the failure tolerance (1)" in out
    )
    assert [line for line in err.splitlines() if line.startswith(("FAILED", "SKIPPED"))] == [
        line for line in err.splitlines() if line.startswith(f"FAILED {B} eu-west-1 {REGIONAL_SET}:")
    ]


def test_the_next_deploy_retries_failed_and_cancelled_instances_only(ss_cloud, capsys, tmp_path):
    config, (status, _, _) = failing_deploy(ss_cloud, tmp_path, tolerance=0)
    assert status == 1
    ss_cloud.proxylity.fail_in.clear()

    status, out, err = deploy_cli(config, tmp_path)

    assert status == 0, err
    rows = account_rows(out)
    retried = {
        key: rows.pop(key)
        for key in [(B, "eu-west-1", REGIONAL_SET), *((a, "us-east-1", REGIONAL_SET) for a in ACCOUNTS)]
    }
    assert retried == {
        (B, "eu-west-1", REGIONAL_SET): "updated",  # its stack had rolled back: deleted and made again
        (A, "us-east-1", REGIONAL_SET): "created",  # cancelled before CloudFormation made a stack
        (B, "us-east-1", REGIONAL_SET): "created",
    }
    assert set(rows.values()) == {"unchanged"}
    # The retry updated those instances alone: no other instance was marked OUTDATED on the way (as an
    # UpdateStackSet carrying the template would), so every instance is CURRENT and the next deploy settles.
    assert {summary["Status"] for summary in instances(REGIONAL_SET).values()} == {"CURRENT"}
    operations_before = len(operations(REGIONAL_SET))
    status, out, _ = deploy_cli(config, tmp_path)
    assert status == 0 and set(account_rows(out).values()) == {"unchanged"}
    assert len(operations(REGIONAL_SET)) == operations_before


def test_a_stored_template_that_differs_only_in_formatting_is_unchanged(ss_cloud, capsys, tmp_path):
    ss_cloud.stacksets.reserialise_templates = True  # the bodies come back re-serialised, as a service may store them
    config = stackset_config(tmp_path)
    assert deploy_cli(config, tmp_path).returncode == 0
    assert admin_client().describe_stack_set(StackSetName=GLOBAL_SET)["StackSet"]["TemplateBody"].startswith('{\n "')
    operations_before = len(operations(GLOBAL_SET)), len(operations(REGIONAL_SET))

    status, out, _ = deploy_cli(config, tmp_path)
    planned, plan_out, _ = run_cli_in_process("plan", "--config", str(config), "--out", str(tmp_path / "out"))

    assert status == 0 and set(account_rows(out).values()) == {"unchanged"}
    assert (len(operations(GLOBAL_SET)), len(operations(REGIONAL_SET))) == operations_before
    assert planned == ExitCode.OK and plan_out.rstrip().endswith("plan: no changes")


def test_an_account_without_the_execution_role_fails_and_its_regional_instances_wait(ss_cloud, capsys, tmp_path):
    ss_cloud.stacksets.accounts_without_execution_role.add(B)

    status, out, err = deploy_cli(stackset_config(tmp_path), tmp_path)

    assert status == 1
    rows = account_rows(out)
    assert rows[(B, HOME, GLOBAL_SET)] == "failed"
    assert {rows[(B, region, REGIONAL_SET)] for region in REGIONS} == {"skipped"}
    assert {rows[(A, region, REGIONAL_SET)] for region in REGIONS} == {"created"}
    assert (
        f"FAILED {B} {HOME} {GLOBAL_SET}: Account {B} should have 'AWSCloudFormationStackSetExecutionRole' role "
        "with trust relationship to Role 'AWSCloudFormationStackSetAdministrationRole'."
    ) in err.splitlines()
    assert f"SKIPPED {B} eu-west-1 {REGIONAL_SET}: not deployed: account {B}'s global instance is not deployed" in err
    assert set(instances(REGIONAL_SET)) == {(A, region) for region in REGIONS}
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert list(saved["accounts"]) == [A]


def test_instances_of_one_region_run_at_once_within_max_concurrent_percentage(ss_cloud, tmp_path):
    config = load_config(
        stackset_config(tmp_path, accounts=(A, B, "333333333333", "444444444444"), max_concurrent_percentage=50)
    )
    ss_cloud.stacksets.instances.close(lambda work: work.stack_set == REGIONAL_SET)
    done = {}
    run = threading.Thread(target=lambda: done.update(report=engine_deploy(config, tmp_path / "out")))
    run.start()
    try:
        # 4 accounts at 50%: 2 at a time in each region, the 3 regions at once (parallel). Each instance has its
        # own account's values, so each is an operation of its own, and the deploy keeps to the preferences.
        assert ss_cloud.stacksets.instances.wait_held(6)
        started = operations(REGIONAL_SET)
        per_region = Counter(
            region for operation in started for (_, region) in operation_results(REGIONAL_SET, operation["OperationId"])
        )
        assert per_region == dict.fromkeys(REGIONS, 2)
    finally:
        ss_cloud.stacksets.instances.release()
        run.join()
    assert done["report"].ok
    assert len(operations(REGIONAL_SET)) == 4 * len(REGIONS)


def test_a_second_run_while_an_operation_is_held_is_queued_behind_it(ss_cloud, tmp_path):
    config = load_config(stackset_config(tmp_path))
    assert engine_deploy(config, tmp_path / "out").ok
    ss_cloud.stacksets.instances.close(lambda work: work == InstanceWork(GLOBAL_SET, A, HOME, "UPDATE"))
    changed = load_config(
        stackset_config(tmp_path, name="c.yaml", edit=lambda c: c["destination"]["batching"].update(count=20))
    )
    done = {}
    run = threading.Thread(target=lambda: done.update(report=engine_deploy(changed, tmp_path / "one")))
    run.start()
    try:
        assert ss_cloud.stacksets.instances.wait_held(1)
        # a change of the global StackSet by someone else meanwhile: CloudFormation queues it (ManagedExecution)
        admin_client().update_stack_set(
            StackSetName=GLOBAL_SET, UsePreviousTemplate=True, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        )
        assert operations(GLOBAL_SET)[0]["Status"] == "QUEUED"
    finally:
        ss_cloud.stacksets.instances.release()
        run.join()
    assert done["report"].ok


def test_map_routing_lists_each_accounts_own_functions_in_its_listener(ss_cloud, capsys, tmp_path):
    status, _, err = deploy_cli(stackset_config(tmp_path, edit=lambda c: c.update(routing="map")), tmp_path)

    assert status == 0, err
    # no DestinationId to pass: each account's listener lists its own functions
    assert admin_client().describe_stack_set(StackSetName=REGIONAL_SET)["StackSet"].get("Parameters", []) == []
    for account in ACCOUNTS:
        expected = {
            ("packet-counter", region): f"arn:aws:lambda:{region}:{account}:function:packet-counter"
            for region in REGIONS
        }
        assert ss_cloud.proxylity.customer(account).bindings == expected


def test_status_lists_every_instance_and_the_orphans_of_a_removed_account(ss_cloud, capsys, tmp_path):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0
    fewer = stackset_config(tmp_path, accounts=(A,), name="fewer.yaml")

    status, out, _ = run_cli_in_process("status", "--config", str(fewer))
    status_json, document, _ = run_cli_in_process("status", "--config", str(fewer), "--json")

    assert status == status_json == 0
    assert f"orphan: {GLOBAL_SET} instance in {B} {HOME} is not in {fewer}'s stacksets.accounts" in out
    found = json.loads(document)  # the same shape as without stacksets: a row per stack, each instance's account
    rows = {(i["account"], i["region"], i["stack"]): i for i in found["stacks"] if not i.get("stack_set")}
    assert len(rows) == 8
    for region in REGIONS:
        assert rows[(A, region, REGIONAL_SET)]["function_arn"].endswith(f":{region}:{A}:function:packet-counter")
        assert rows[(B, region, REGIONAL_SET)]["orphan"] is True
        assert rows[(A, region, REGIONAL_SET)]["status"] == "CURRENT"
        assert rows[(A, region, REGIONAL_SET)]["drift_status"] == "NOT_CHECKED"
    assert rows[(A, HOME, GLOBAL_SET)]["endpoint"]
    stack_sets = [s for s in found["stacks"] if s.get("stack_set")]
    assert {s["stack"] for s in stack_sets} == {GLOBAL_SET, REGIONAL_SET}
    assert {s["status"] for s in stack_sets} == {"ACTIVE"}


def test_destroy_asks_then_deletes_instances_and_stacksets_regional_first_and_leaves_none(ss_cloud, capsys, tmp_path):
    config = stackset_config(tmp_path)
    assert deploy_cli(config, tmp_path).returncode == 0

    status, out, err = run_cli_in_process(
        "destroy", "--config", str(config), "--out", str(tmp_path / "out"), "--yes", *FAST
    )

    assert status == 0, err
    after = out.split("This deletes:\n", 1)[1].splitlines()
    listing = after[: next(index for index, line in enumerate(after) if not line.startswith("  "))]
    assert listing[-1] == f"  StackSet {GLOBAL_SET} in {HOME} (last)"
    assert listing.index(f"  StackSet {REGIONAL_SET} in {HOME} (after its instances)") < listing.index(
        f"  {GLOBAL_SET} in {A} {HOME}"
    )
    assert set(account_rows(out).values()) == {"deleted"}
    assert stack_sets() == []
    for account in ACCOUNTS:
        for region in REGIONS:
            assert stacks_in(account, region) == []
        assert ss_cloud.proxylity.customer(account).listeners == {}
    assert not (tmp_path / "out" / "outputs.json").exists()


def test_regions_is_refused_for_a_stackset_deploy_and_nothing_is_deployed(ss_cloud, capsys, tmp_path):
    status, _, err = deploy_cli(stackset_config(tmp_path), tmp_path, "--regions", "us-west-2")

    assert status == 2
    (line,) = err.splitlines()
    assert line.startswith("--regions: ") and "StackSets" in line and "nothing was changed" in line
    assert stack_sets() == []


def test_smoke_with_several_accounts_names_them_instead_of_guessing(ss_cloud, capsys, tmp_path):
    assert deploy_cli(stackset_config(tmp_path), tmp_path).returncode == 0

    status, _, err = run_cli_in_process("smoke", "--outputs", str(tmp_path / "out" / "outputs.json"), "-n", "1")

    assert status == 2
    (line,) = err.splitlines()
    assert "holds 2 accounts' listeners (StackSets); pass HOST and PORT of one" in line
    assert all(account in line for account in ACCOUNTS)


def test_destroy_of_some_regions_deletes_their_instances_and_keeps_both_stacksets(ss_cloud, capsys, tmp_path):
    config = stackset_config(tmp_path)
    assert deploy_cli(config, tmp_path).returncode == 0

    status, out, err = run_cli_in_process(
        "destroy", "--config", str(config), "--out", str(tmp_path / "out"), "--regions", "eu-west-1", "--yes", *FAST
    )

    assert status == 0, err
    assert account_rows(out) == {(account, "eu-west-1", REGIONAL_SET): "deleted" for account in ACCOUNTS}
    assert stack_sets() == [GLOBAL_SET, REGIONAL_SET]
    assert set(instances(REGIONAL_SET)) == {(a, r) for a in ACCOUNTS for r in ("us-west-2", "us-east-1")}
    saved = json.loads((tmp_path / "out" / "outputs.json").read_text())
    assert {account: set(entry["regions"]) for account, entry in saved["accounts"].items()} == {
        account: {"us-west-2", "us-east-1"} for account in ACCOUNTS
    }


def test_ctrl_c_stops_waiting_and_names_the_instances_still_in_progress(ss_cloud, tmp_path, monkeypatch):
    config = stackset_config(tmp_path)
    ss_cloud.stacksets.instances.close(lambda work: work.stack_set == REGIONAL_SET)

    def running(text: str, account: str, region: str) -> bool:
        return re.search(rf"^{account}\s+{region}\s+{REGIONAL_SET}\s+CREATE_RUNNING\s", text, re.M) is not None

    def every_instance_shows_running(out) -> bool:
        return ss_cloud.stacksets.instances.wait_held(6) and out.wait_until(
            lambda text: all(running(text, a, r) for a in ACCOUNTS for r in REGIONS)
        )

    argv = ("deploy", "--config", str(config), "--out", str(tmp_path / "out"), *FAST, *APPROVED)
    try:
        status, _, err = run_cli_pressing_ctrl_c(monkeypatch, *argv, when=every_instance_shows_running)
    finally:
        ss_cloud.stacksets.instances.release()

    assert status == 130
    assert "interrupted: stopped waiting. CloudFormation carries on with:" in err.getvalue()
    for account in ACCOUNTS:
        for region in REGIONS:
            assert f"{REGIONAL_SET} in {region} of account {account} (CREATE_RUNNING)" in err.getvalue()
    # CloudFormation carries on once released: the next test starts from a quiet cloud.
    assert wait_for(lambda: operations(REGIONAL_SET)[0]["Status"] == "SUCCEEDED")
