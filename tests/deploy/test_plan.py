"""`plan` as a user reads it: every property that would change (old -> new), IAM changes and replacements
flagged, exit 0 when nothing would change and 3 when something would, and the same as JSON for scripts."""

from __future__ import annotations

import json

from generator.cli.tables import format_plan
from generator.deploy import Plan, PlanKind, PlannedChange, PropertyChange, StackPlan
from generator.errors import ExitCode
from generator.local.cloud import LISTENER_TYPE
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import GLOBAL, REGIONAL, deploy_cli, local_cloud_fixtures, stack

local_cloud, cloud = local_cloud_fixtures()


def plan(config_path, tmp_path, *extra: str):
    return run_cli_in_process("plan", "--config", str(config_path), "--out", str(tmp_path / "out"), *extra)


def test_nothing_to_change_exits_0_and_says_so(cloud, tmp_path):
    config_path = write_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0

    status, out, err = plan(config_path, tmp_path)

    assert status == ExitCode.OK, err
    assert out.rstrip().endswith("plan: no changes")


def test_each_changed_property_is_shown_with_its_old_and_new_value_and_iam_changes_are_flagged(cloud, tmp_path):
    assert deploy_cli(write_config(tmp_path), tmp_path).returncode == 0

    def edit(config):
        config["destination"]["batching"]["count"] = 50
        config["destination"]["metrics_enabled"] = False  # the role Proxylity assumes loses PutMetricData

    status, out, err = plan(write_config(tmp_path, edit, "changed.yaml"), tmp_path)

    assert status == ExitCode.CHANGES, err
    lines = out.splitlines()
    assert f"  Modify  UdpListener ({LISTENER_TYPE})" in lines
    assert "          Destinations[0].Batching.Count: 10 -> 50" in lines
    assert "          Destinations[0].MetricsEnabled: true -> false" in lines
    assert "  Modify  DestinationRole (AWS::IAM::Role)  IAM" in lines
    removed = next(line for line in lines if line.startswith("          Policies["))
    assert "cloudwatch:PutMetricData" in removed and removed.endswith("-> (none)")
    assert lines[-1] == "plan: 1 of 4 stacks would change (2 resource changes, 1 touching IAM, 0 replacing a resource)"
    assert f"{REGIONAL} (us-east-1): unchanged" in lines
    assert stack("us-west-2", GLOBAL)["StackStatus"] == "CREATE_COMPLETE"  # nothing was executed


def test_json_for_scripts_has_the_same_facts(cloud, tmp_path):
    assert deploy_cli(write_config(tmp_path), tmp_path).returncode == 0
    changed = write_config(tmp_path, lambda c: c["destination"]["batching"].update(count=20), "changed.yaml")

    status, out, err = plan(changed, tmp_path, "--json")

    assert status == ExitCode.CHANGES, err
    document = json.loads(out)  # stdout is the JSON document alone
    assert document["changes"] is True
    by_stack = {(entry["stack"], entry["region"]): entry for entry in document["stacks"]}
    listener_change = by_stack[(GLOBAL, "us-west-2")]["changes"][0]
    assert listener_change["logical_id"] == "UdpListener" and listener_change["iam"] is False
    (destinations,) = listener_change["properties"]
    # values as JSON values, not JSON text inside strings
    assert destinations["before"][0]["Batching"]["Count"] == 10
    assert destinations["after"][0]["Batching"]["Count"] == 20
    assert by_stack[(REGIONAL, "eu-west-1")]["kind"] == "unchanged"


def test_a_replacement_and_a_create_only_property_are_flagged():
    # CloudFormation says which changes replace a resource; the local cloud cannot (it has no resource schemas),
    # so the plan a real account would return is built here and drawn as the command line draws it.
    renamed = PlannedChange(
        "Modify",
        "PacketCounterFunction",
        "AWS::Lambda::Function",
        replacement="True",
        properties=(PropertyChange("FunctionName", "Modify", '"packet-counter"', '"pc"', recreation="Always"),),
    )
    text = format_plan(Plan([StackPlan("eu-west-1", REGIONAL, PlanKind.UPDATE, [renamed])]))
    assert "  Modify  PacketCounterFunction (AWS::Lambda::Function)  REPLACEMENT" in text
    assert '          FunctionName: "packet-counter" -> "pc"  (replaces the resource: Always)' in text
    assert text.endswith("(1 resource changes, 0 touching IAM, 1 replacing a resource)")


def test_an_iam_policy_change_is_shown_in_full_statement_by_statement_and_other_long_values_are_cut():
    # A statement longer than any width a value is otherwise cut at, added to a policy; a second policy removed.
    long_resource = "arn:aws:logs:*:123456789012:log-group:/proxylity/udp-listeners/" + "x" * 150 + ":*"
    kept = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:*:1:function:pc"}
    added = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": long_resource}
    metrics = {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}

    def policy(name, *statements):
        return {"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}

    before = [policy("invoke", kept), policy("metrics", metrics)]
    after = [policy("invoke", kept, added)]
    role = PlannedChange(
        "Modify",
        "DestinationRole",
        "AWS::IAM::Role",
        properties=(PropertyChange("Policies", "Modify", json.dumps(before), json.dumps(after)),),
    )
    description = PlannedChange(
        "Modify",
        "UdpListener",
        LISTENER_TYPE,
        properties=(PropertyChange("Description", "Modify", json.dumps("a" * 300), json.dumps("b")),),
    )

    lines = format_plan(Plan([StackPlan("us-west-2", GLOBAL, PlanKind.UPDATE, [role, description])])).splitlines()

    assert "  Modify  DestinationRole (AWS::IAM::Role)  IAM" in lines
    statement = "          Policies[{}].PolicyDocument.Statement[{}]: {} -> {}"
    assert statement.format(0, 1, "(none)", json.dumps(added, sort_keys=True)) in lines  # whole, though long
    assert statement.format(1, 0, json.dumps(metrics, sort_keys=True), "(none)") in lines
    assert '          Policies[1].PolicyName: "metrics" -> (none)' in lines
    cut = next(line for line in lines if line.startswith("          Description: "))
    assert "... (302 characters)" in cut and len(cut) < 200
