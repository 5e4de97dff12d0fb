"""Approval before a deploy widens anything, as `cdk deploy` asks: IAM granted anew or wider, a resource replaced.
Through the CLI against the local cloud, both deploy modes: asked on a terminal, refused without one unless
YES=1, never asked when nothing widens."""

from __future__ import annotations

import json

import boto3
import pytest

from generator.errors import ExitCode
from tests.support.cli import run_cli_in_process
from tests.support.config_files import write_config
from tests.support.deploy import FAST, GLOBAL, REGIONAL, deploy_cli, local_cloud_fixtures, stack, terminal_stdin
from tests.support.stacksets import (
    ACCOUNTS,
    GLOBAL_SET,
    HOME,
    REGIONAL_SET,
    instances,
    stackset_config,
    stacksets_cloud_fixture,
)

# moto's CloudFormation does not model the canary's EventInvokeConfig: it warns, and the local cloud goes on
pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS\W+Lambda\W+EventInvokeConfig")
local_cloud, cloud = local_cloud_fixtures()
ss_cloud = stacksets_cloud_fixture()

ASKING = ("--require-approval", "broadening")  # the default, said so that deploy_cli does not approve
REFUSED = "stdin is not a terminal, so there is no one to ask: confirm with YES=1"


def deploy_asking(config_path, tmp_path, stdin: str | None = ""):
    """deploy as a user runs it (no --require-approval never); stdin "" is no terminal, None keeps the test's."""
    return run_cli_in_process(
        "deploy", "--config", str(config_path), "--out", str(tmp_path / "out"), *FAST, *ASKING, stdin=stdin
    )


def with_canary(config: dict) -> None:
    config["observability"]["canary"]["enabled"] = True


def functions(region: str) -> set[str]:
    client = boto3.client("lambda", region_name=region)
    return {function["FunctionName"] for function in client.list_functions()["Functions"]}


def test_a_first_deploy_without_a_terminal_is_refused_naming_the_iam_it_creates(cloud, tmp_path):
    status, _, err = deploy_asking(write_config(tmp_path), tmp_path)

    assert status == ExitCode.USAGE
    assert REFUSED in err and "nothing was changed" in err
    assert f"{REGIONAL} in us-west-2, us-east-1, eu-west-1: FunctionRole (AWS::IAM::Role)" in err
    assert "+ trust policy: allows sts:AssumeRole to Service:lambda.amazonaws.com" in err
    assert f"{GLOBAL} in us-west-2: DestinationRole (AWS::IAM::Role)" in err
    assert stack("us-west-2", GLOBAL) is None and stack("us-east-1", REGIONAL) is None
    assert not (tmp_path / "out" / "outputs.json").exists()


def test_yes_deploys_and_still_shows_what_it_grants(cloud, tmp_path, monkeypatch):
    monkeypatch.setenv("YES", "1")

    status, out, err = deploy_asking(write_config(tmp_path), tmp_path)

    assert status == ExitCode.OK, err
    assert "This deploy widens:" in out and "FunctionRole (AWS::IAM::Role)" in out
    assert stack("eu-west-1", REGIONAL)["StackStatus"] == "CREATE_COMPLETE"


def test_an_unchanged_deploy_asks_nothing(cloud, tmp_path):
    config_path = write_config(tmp_path)
    assert deploy_cli(config_path, tmp_path).returncode == 0  # approved: the first deploy creates the roles

    status, out, err = deploy_asking(config_path, tmp_path)

    assert status == ExitCode.OK, err
    assert "widens" not in out + err


def test_a_change_that_adds_a_role_is_asked_about_on_a_terminal_and_refused_without_one(cloud, tmp_path, monkeypatch):
    assert deploy_cli(write_config(tmp_path), tmp_path).returncode == 0
    canary = write_config(tmp_path, with_canary, name="canary.yaml")
    before = functions("us-east-1")

    status, _, err = deploy_asking(canary, tmp_path)  # no terminal, no YES=1
    assert status == ExitCode.USAGE and REFUSED in err
    assert "CanaryRole (AWS::IAM::Role)" in err
    assert "FunctionRole" not in err  # what is deployed already is not asked about again
    assert functions("us-east-1") == before

    with terminal_stdin(monkeypatch, "no\n"):
        status, out, _ = deploy_asking(canary, tmp_path, stdin=None)
    assert status == ExitCode.FAILED
    assert "CanaryRole (AWS::IAM::Role)" in out and "Type 'yes' to deploy" in out
    assert out.rstrip().endswith("cancelled: nothing was changed")
    assert functions("us-east-1") == before

    with terminal_stdin(monkeypatch, "yes\n"):
        status, out, err = deploy_asking(canary, tmp_path, stdin=None)
    assert status == ExitCode.OK, err
    assert functions("us-east-1") > before


def test_the_json_report_lists_what_was_approved(cloud, tmp_path, monkeypatch):
    monkeypatch.setenv("YES", "1")
    status, out, err = run_cli_in_process(
        "deploy", "--config", str(write_config(tmp_path)), "--out", str(tmp_path / "out"), *FAST, "--json", stdin=""
    )

    assert status == ExitCode.OK, err
    report = json.loads(out)
    assert report["cancelled"] is False
    assert {(item["stack"], item["resource"]) for item in report["widens"]} >= {
        (GLOBAL, "DestinationRole"),
        (REGIONAL, "FunctionRole"),
    }
    assert "This deploy widens:" in err  # the question's text is not in the JSON document


@pytest.mark.parametrize("answer", ["refused", "approved"])
def test_stacksets_an_added_account_is_asked_about_for_the_roles_it_gets(ss_cloud, tmp_path, monkeypatch, answer):
    first = stackset_config(tmp_path, accounts=ACCOUNTS[:1])
    assert deploy_cli(first, tmp_path).returncode == 0
    more = stackset_config(tmp_path, name="more.yaml")
    if answer == "approved":
        monkeypatch.setenv("YES", "1")

    status, out, err = deploy_asking(more, tmp_path)

    added = ACCOUNTS[1]
    assert f"{REGIONAL_SET} in {added} us-west-2, {added} us-east-1, {added} eu-west-1: FunctionRole" in out + err
    # the account deployed before gains nothing: no heading of the question names it
    assert not [
        line for line in (out + err).splitlines() if line.startswith("  packet-counter") and ACCOUNTS[0] in line
    ]
    if answer == "refused":
        assert status == ExitCode.USAGE and REFUSED in err
        assert {account for account, _ in instances(GLOBAL_SET)} == {ACCOUNTS[0]}
    else:
        assert status == ExitCode.OK, err
        assert (added, HOME) in instances(GLOBAL_SET)
