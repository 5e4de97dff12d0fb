"""The stacksets: section: validated like every other key, one line per problem naming file, line and key
path; service-managed refused with its reason; a config without it is what it always was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.config import PermissionModel, RegionConcurrency, load_config
from generator.errors import ConfigError
from generator.render import render_templates
from tests.support.cli import run_cli_in_process, snapshot
from tests.support.config_files import config_problems as problems_of


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("regions: [us-west-2, eu-west-1]\n" + text)
    return path


def test_without_stacksets_the_config_has_none_and_the_destination_keeps_no_name(tmp_path):
    config = load_config(write(tmp_path, ""))

    assert config.stacksets is None
    assert config.destination_name is None  # Proxylity names it, as before


def test_a_minimal_section_gets_every_default_from_the_schema(tmp_path):
    config = load_config(write(tmp_path, "stacksets:\n  accounts: ['111111111111', '222222222222']\n"))

    settings = config.stacksets
    assert settings.permission_model is PermissionModel.SELF_MANAGED
    assert settings.accounts == ("111111111111", "222222222222")
    assert settings.administration_role_arn is None
    assert settings.execution_role_name == "AWSCloudFormationStackSetExecutionRole"
    assert settings.region_concurrency is RegionConcurrency.PARALLEL
    assert (settings.max_concurrent_percentage, settings.failure_tolerance_percentage) == (100, 0)


def test_the_issue_example_with_a_null_administration_role_is_valid(tmp_path):
    config = load_config(
        write(
            tmp_path,
            "stacksets:\n"
            "  permission_model: self-managed\n"
            "  accounts: ['111111111111', '222222222222']\n"
            "  administration_role_arn: null\n"
            "  execution_role_name: AWSCloudFormationStackSetExecutionRole\n"
            "  region_concurrency: sequential\n"
            "  max_concurrent_percentage: 50\n"
            "  failure_tolerance_percentage: 50\n",
        )
    )

    assert config.stacksets.region_concurrency is RegionConcurrency.SEQUENTIAL
    assert config.stacksets.administration_role_arn is None


def test_with_stacksets_the_destination_is_named_after_the_prefix_in_the_rendered_template(tmp_path):
    config = load_config(write(tmp_path, "name_prefix: pc\nstacksets:\n  accounts: ['111111111111']\n"))

    global_template = json.loads(render_templates(config)[0].to_json())

    listener = global_template["Resources"]["UdpListener"]["Properties"]
    assert listener["Destinations"][0]["Name"] == "pc" == config.destination_name


def test_a_destination_name_the_user_gave_wins(tmp_path):
    config = load_config(write(tmp_path, "destination: {name: counters}\nstacksets:\n  accounts: ['111111111111']\n"))

    assert config.destination_name == "counters"


def test_every_stacksets_problem_is_one_line_with_file_line_and_key_path(tmp_path):
    path = write(
        tmp_path,
        "stacksets:\n"
        "  accounts: [111111111111, '2222', '333333333333', '333333333333']\n"
        "  organizational_units: [ou-abcd-11111111]\n"
        "  administration_role_arn: AWSCloudFormationStackSetAdministrationRole\n"
        "  execution_role_name: 'has space'\n"
        "  region_concurrency: all-at-once\n"
        "  max_concurrent_percentage: 0\n"
        "  failure_tolerance_percentage: 101\n"
        "  auto_deploy: true\n",
    )

    assert problems_of(path) == [
        "cfg.yaml:3: stacksets.accounts: lists '333333333333' twice (items 2 and 3)",
        "cfg.yaml:3: stacksets.accounts[0]: expected a 12-digit AWS account id in quotes, e.g. '111111111111'"
        " (YAML reads unquoted digits as a number)",
        "cfg.yaml:3: stacksets.accounts[1]: expected a 12-digit AWS account id in quotes, e.g. '111111111111'"
        " (YAML reads unquoted digits as a number)",
        "cfg.yaml:4: stacksets.organizational_units: organizational_units are service-managed targets;"
        " self-managed StackSets target accounts",
        "cfg.yaml:5: stacksets.administration_role_arn: 'AWSCloudFormationStackSetAdministrationRole' is not an"
        " ARN; expected arn:PARTITION:iam::ACCOUNT:role/NAME (or role/PATH/NAME), e.g."
        " arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole",
        "cfg.yaml:6: stacksets.execution_role_name: expected an IAM role name of 1 to 64 letters, digits or"
        " + = , . @ _ -; got 'has space'",
        'cfg.yaml:7: stacksets.region_concurrency: expected one of "parallel", "sequential"; got "all-at-once"',
        "cfg.yaml:8: stacksets.max_concurrent_percentage: 0 is less than the minimum of 1",
        "cfg.yaml:9: stacksets.failure_tolerance_percentage: 101 is greater than the maximum of 100",
        "cfg.yaml:10: stacksets.auto_deploy: unknown key; did you mean 'auto_deployment'? expected one of:"
        " accounts, administration_role_arn, auto_deployment, execution_role_name, failure_tolerance_percentage,"
        " max_concurrent_percentage, organizational_units, permission_model, region_concurrency",
    ]


def test_self_managed_needs_accounts(tmp_path):
    path = write(tmp_path, "stacksets:\n  region_concurrency: parallel\n")

    assert problems_of(path) == [
        "cfg.yaml:2: stacksets.accounts: self-managed StackSets need accounts: the 12-digit ids of the target"
        " accounts, in quotes"
    ]


def test_auto_deployment_belongs_to_service_managed(tmp_path):
    path = write(tmp_path, "stacksets:\n  accounts: ['111111111111']\n  auto_deployment: true\n")

    assert problems_of(path) == [
        "cfg.yaml:4: stacksets.auto_deployment: auto_deployment is for service-managed StackSets only; remove it"
    ]


def test_service_managed_is_refused_with_the_reason_and_its_targets_are_still_checked(tmp_path):
    path = write(
        tmp_path,
        "stacksets:\n  permission_model: service-managed\n  organizational_units: [ou-abcd-1111111, r-abcd]\n",
    )

    refusal, target = problems_of(path)

    assert refusal.startswith("cfg.yaml:3: stacksets.permission_model: service-managed is refused:")
    # the reason: the include, the custom execution role template, auto-deployment and the per-account key
    for words in ("AWS::Include", "custom execution role template", "auto-deployment", "use self-managed"):
        assert words in refusal
    assert target == (
        "cfg.yaml:4: stacksets.organizational_units[0]: expected an organizational unit id such as"
        " ou-abcd-11111111, or a root id such as r-abcd; got 'ou-abcd-1111111'"
    )


def test_a_refused_config_leaves_out_untouched_and_exits_2(tmp_path):
    path = write(tmp_path, "stacksets:\n  permission_model: service-managed\n  organizational_units: [r-abcd]\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "global.template.json").write_text("{}\n")
    before = snapshot(out)

    result = run_cli_in_process("render", "--config", str(path), "--out", str(out))

    assert result.returncode == 2
    assert "stacksets.permission_model: service-managed is refused" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(out) == before


def test_the_canary_is_refused_with_stacksets_saying_why(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "regions: [us-west-2]\n"
        "stacksets: {accounts: ['111111111111', '222222222222']}\n"
        "observability:\n"
        "  canary: {enabled: true}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, source="cfg.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        "cfg.yaml:4: observability.canary.enabled: the canary needs its own account's listener endpoint, which a "
        "StackSet cannot give each account's instances; with stacksets, set canary.enabled: false (alarms, "
        "dashboard and delivery log still work)"
    ]
