"""What counts as widening (generator/deploy/approval.py), template against template: the rules a user relies
on when the deploy asks, or does not ask, before it changes IAM or replaces a resource."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from generator.config import load_config
from generator.deploy.approval import CREATE_ONLY_PROPERTIES, stack_widenings, template_widenings
from generator.render import render_templates
from tests.support.config_files import write_config

ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ]
        },
        "Policies": [
            {
                "PolicyName": "write-own-logs",
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:PutLogEvents"],
                            "Resource": {"Fn::GetAtt": ["Logs", "Arn"]},
                        }
                    ]
                },
            }
        ],
    },
}


def template(**resources: dict) -> dict:
    return {"Resources": resources}


def changed_role(edit) -> dict:
    role = copy.deepcopy(ROLE)
    edit(role["Properties"])
    return role


def statement(properties: dict) -> dict:
    return properties["Policies"][0]["PolicyDocument"]["Statement"][0]


def test_an_unchanged_template_widens_nothing():
    assert template_widenings(template(Role=ROLE), template(Role=copy.deepcopy(ROLE))) == []


def test_a_first_deploy_lists_every_grant_it_creates():
    found = template_widenings(None, template(Role=ROLE))

    assert [(item[0], item[2]) for item in found] == [("Role", "grants"), ("Role", "grants")]
    assert "trust policy: allows sts:AssumeRole to Service:lambda.amazonaws.com" in [item[3] for item in found]


@pytest.mark.parametrize(
    ("edit", "shown"),
    [
        (lambda p: statement(p)["Action"].append("logs:CreateLogGroup"), "allows logs:CreateLogGroup"),
        (lambda p: statement(p).update(Resource="*"), "on *"),
        (
            lambda p: p["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].update(AWS="111122223333"),
            "to AWS:111122223333",
        ),
        (
            lambda p: p["Policies"].append(
                {
                    "PolicyName": "more",
                    "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
                }
            ),
            "policy more: allows s3:* on *",
        ),
        (lambda p: p.update(ManagedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]), "AdministratorAccess"),
    ],
    ids=["action added", "resource widened", "principal added", "policy added", "managed policy attached"],
)
def test_a_broader_grant_is_a_widening_and_says_what_it_adds(edit, shown):
    found = template_widenings(template(Role=ROLE), template(Role=changed_role(edit)))

    assert len(found) == 1 and found[0][2] == "grants"
    assert shown in found[0][3]


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: statement(p).update(Action=[]),
        lambda p: p["Policies"].clear(),
        lambda p: p["Policies"][0]["PolicyDocument"]["Statement"].append(
            {"Effect": "Deny", "Action": "logs:*", "Resource": "*"}
        ),
    ],
    ids=["action removed", "policy removed", "deny added"],
)
def test_a_narrower_grant_widens_nothing(edit):
    assert template_widenings(template(Role=ROLE), template(Role=changed_role(edit))) == []


def test_a_condition_changed_on_a_statement_is_asked_about():
    edit = lambda p: statement(p).update(Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}})  # noqa: E731
    assert template_widenings(template(Role=changed_role(edit)), template(Role=ROLE))[0][2] == "grants"


def test_a_create_only_property_changed_replaces_the_resource_and_says_which():
    old = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "counter", "MemorySize": 128}}
    new = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "counter-2", "MemorySize": 256}}

    found = template_widenings(template(Function=old), template(Function=new))

    assert [(item[0], item[2]) for item in found] == [("Function", "replaces")]
    assert "FunctionName changes (counter -> counter-2)" in found[0][3]


def test_a_property_changed_in_place_is_not_a_replacement():
    old = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "counter", "MemorySize": 128}}
    new = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "counter", "MemorySize": 256}}
    assert template_widenings(template(Function=old), template(Function=new)) == []


def test_the_same_widening_in_many_regions_is_listed_once_naming_them():
    new = template(Role=changed_role(lambda p: statement(p).update(Resource="*")))
    pairs = [(region, template(Role=ROLE), new) for region in ("us-west-2", "eu-west-1")]

    (widening,) = stack_widenings("stack", pairs)

    assert widening.where == ("us-west-2", "eu-west-1")


def test_the_rendered_default_templates_widen_nothing_against_themselves(tmp_path):
    for rendered in render_templates(load_config(write_config(tmp_path))):
        assert template_widenings(rendered.document, json.loads(rendered.to_json())) == [], rendered.name


def test_the_create_only_table_is_the_cloudformation_resource_schemas(tmp_path):
    """The table matches createOnlyProperties of the resource provider schemas cfn-lint ships, for every type
    the templates render (a type rendered and missing from the table would never be seen replaced)."""
    schemas = resources.files("cfnlint") / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    rendered_types = {
        resource["Type"]
        for rendered in render_templates(load_config(write_config(tmp_path, _everything_on)))
        for resource in rendered.document["Resources"].values()
        if resource["Type"].startswith("AWS::")
    }

    assert rendered_types <= set(CREATE_ONLY_PROPERTIES)
    for kind, names in CREATE_ONLY_PROPERTIES.items():
        schema = json.loads((schemas / "resources" / f"{providers[kind]}.json").read_text())
        documented = {pointer.removeprefix("/properties/").split("/")[0] for pointer in schema["createOnlyProperties"]}
        assert names == documented, kind


def _everything_on(config: dict) -> None:
    config["observability"].update(alarms=True, dashboard=True, delivery_log_retention_days=14)
    config["observability"]["canary"]["enabled"] = True
