"""cfn-lint and checkov are clean (or each finding suppressed with a reason) on every rendered variant."""

from __future__ import annotations

import itertools
import json

import pytest

from generator.config import load_config
from generator.config.regions import known_regions
from generator.render import render_templates
from generator.render.files import write_templates
from tests.support.config_files import TOPIC, default_config_data, maximal
from tests.support.lint_tools import cfn_lint, checkov

SIZES = {"one": ["eu-west-1"], "default": ["us-west-2", "us-east-1", "eu-west-1"], "all": None}


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """{variant name: (out folder, regions)} for both routings x 1, 3 and every region, plus maximal ones."""

    import yaml

    root = tmp_path_factory.mktemp("variants")
    rendered = {}
    for routing in ("bind", "map"):
        for size, regions in SIZES.items():
            for extra in ("plain", "maximal"):
                if extra == "maximal" and size != "default":
                    continue
                data = default_config_data()
                data.update(routing=routing, regions=list(regions or known_regions()))
                if extra == "maximal":
                    maximal(data)
                name = f"{routing}-{size}-{extra}"
                config_path = root / f"{name}.yaml"
                config_path.write_text(yaml.safe_dump(data))
                out = root / "out" / name
                write_templates(render_templates(load_config(config_path)), out)
                rendered[name] = (out, data["regions"])
    return root / "out", rendered


def test_cfn_lint_finds_nothing_in_any_variant(variants):
    _, rendered = variants
    findings = []
    for name, (out, regions) in rendered.items():
        findings += [f"{name}: {line}" for line in cfn_lint(sorted(out.glob("*.json")), regions)]
    assert findings == []


def test_checkov_finds_nothing_unsuppressed_and_every_suppression_says_why(variants):
    out_root, rendered = variants
    failed, skipped = checkov(out_root)
    assert failed == []
    assert skipped, "expected the documented suppressions to be seen by checkov"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment") or "") > 20, check["check_id"]
    # Reserved concurrency set: its suppression disappears, the check passes on its own.
    maximal_skips = {c["check_id"] for c in skipped if "maximal" in c["file_abs_path"]}
    assert "CKV_AWS_115" not in maximal_skips
    assert len(rendered) == 8


def test_the_linters_do_report_a_broken_template(tmp_path):
    """Guard against a silent harness: a wildcard admin role and a bad type must be found."""
    broken = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Admin": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
                    },
                    "Policies": [
                        {
                            "PolicyName": "all",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                            },
                        }
                    ],
                },
            },
            "Typo": {"Type": "AWS::Lambda::Functoin", "Properties": {}},
        },
    }
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    assert any("E3006" in line for line in cfn_lint([path], ["us-east-1"]))
    failed, _ = checkov(tmp_path)
    assert any("CKV_AWS_" in line for line in failed)


# -- observability: every combination of its options, in both routings -------------------------------------

ALARMS = {"off": {"alarms": False}, "on": {"alarms": True}, "topic": {"alarms": True, "alarms_topic_arn": TOPIC}}


@pytest.fixture(scope="module")
def observability_variants(tmp_path_factory):
    """Every combination of canary, alarms (none, without and with a topic), dashboard and delivery log, in both
    routings, rendered; each distinct template written once (a template depends on only some of the options)."""
    import yaml

    root = tmp_path_factory.mktemp("observability")
    out = root / "out"
    out.mkdir()
    distinct: dict[str, str] = {}
    combinations = list(itertools.product(("bind", "map"), (False, True), ALARMS, (False, True), (None, 14)))
    for routing, canary, alarms, dashboard, delivery in combinations:
        data = default_config_data()
        data["routing"] = routing
        data["observability"] = {
            "canary": {"enabled": canary},
            **ALARMS[alarms],
            "dashboard": dashboard,
            "delivery_log_retention_days": delivery,
        }
        name = f"{routing}-canary_{canary}-alarms_{alarms}-dashboard_{dashboard}-delivery_{delivery}"
        config_path = root / f"{name}.yaml"
        config_path.write_text(yaml.safe_dump(data))
        for template in render_templates(load_config(config_path)):
            distinct.setdefault(template.to_json(), f"{name}.{template.name}")
    for text, name in distinct.items():
        (out / f"{name}.json").write_text(text)
    return out, len(combinations)


def test_every_observability_combination_is_lint_clean(observability_variants):
    out, combinations = observability_variants
    assert combinations == 48
    files = sorted(out.glob("*.json"))
    assert len(files) >= 20  # the distinct globals and regionals among them
    assert cfn_lint(files, SIZES["default"]) == []
    failed, skipped = checkov(out)
    assert failed == []
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment") or "") > 20, check["check_id"]
    assert {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"} <= {
        c["check_id"] for c in skipped if "Canary" in c["resource"]
    }
