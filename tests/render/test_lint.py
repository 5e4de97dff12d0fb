"""cfn-lint and checkov are clean (or each finding suppressed with a reason) on every rendered variant.

Every template here is linted once: the variants, the observability combinations and a broken template are
rendered into one tree, checkov runs once over it and cfn-lint once per region list, and each test reads the
findings of its own folder (the linters take seconds to start, most of this module's time)."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.config import load_config
from generator.config.regions import known_regions
from generator.render import render_templates
from generator.render.files import write_templates
from tests.support.config_files import TOPIC, default_config_data, dump_yaml, maximal
from tests.support.lint_tools import cfn_lint, cfn_lint_text, checkov_checks, checkov_line

# The linters' start-up and checkov's run over some fifty templates take a minute on a loaded machine.
pytestmark = pytest.mark.timeout(240)

SIZES = {"one": ["eu-west-1"], "default": ["us-west-2", "us-east-1", "eu-west-1"], "all": None}


def render_variants(configs: Path, root: Path) -> dict[str, tuple[Path, list[str]]]:
    """{variant name: (out folder, regions)} for both routings x 1, 3 and every region, plus maximal ones."""
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
                config_path = configs / f"{name}.yaml"
                config_path.write_text(dump_yaml(data))
                out = root / name
                write_templates(render_templates(load_config(config_path)), out)
                rendered[name] = (out, data["regions"])
    return rendered


BROKEN = {
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


@dataclass(frozen=True)
class Findings:
    """What the linters said about the templates of one folder of the linted tree."""

    cfn_lint: list[str]
    checkov_failed: list[str]
    checkov_skipped: list[dict]


@dataclass(frozen=True)
class LintedTree:
    root: Path
    variants: dict[str, tuple[Path, list[str]]]
    observability_combinations: int
    cfn_lint: list[str]
    checkov_failed: list[dict]
    checkov_skipped: list[dict]

    def under(self, folder: Path) -> Findings:
        def inside(path: str) -> bool:
            return Path(path).resolve().is_relative_to(folder.resolve())

        return Findings(
            [line for line in self.cfn_lint if inside(line.split(":", 1)[0])],
            [checkov_line(c) for c in self.checkov_failed if inside(c["file_abs_path"])],
            [c for c in self.checkov_skipped if inside(c["file_abs_path"])],
        )


@pytest.fixture(scope="module")
def linted(tmp_path_factory) -> LintedTree:
    configs, root = tmp_path_factory.mktemp("configs"), tmp_path_factory.mktemp("linted")
    variants = render_variants(configs, root / "variants")
    observability_out = root / "observability"
    combinations = render_observability_combinations(configs, observability_out)
    broken = root / "broken"
    broken.mkdir()
    (broken / "broken.template.json").write_text(json.dumps(BROKEN))
    by_regions: dict[tuple[str, ...], list[Path]] = {}
    for out, regions in variants.values():
        by_regions.setdefault(tuple(regions), []).extend(sorted(out.glob("*.json")))
    by_regions.setdefault(tuple(SIZES["default"]), []).extend(sorted(observability_out.glob("*.json")))
    by_regions.setdefault(("us-east-1",), []).append(broken / "broken.template.json")
    # The linters run side by side: each is mostly one process's start-up and reading of its rules.
    with ThreadPoolExecutor(len(by_regions) + 1) as runs:
        checkov_run = runs.submit(checkov_checks, root)
        cfn_lint_runs = [runs.submit(cfn_lint, files, regions) for regions, files in by_regions.items()]
        findings = [line for run in cfn_lint_runs for line in run.result()]
        failed, skipped = checkov_run.result()
    return LintedTree(root, variants, combinations, findings, failed, skipped)


def test_cfn_lint_finds_nothing_in_any_variant(linted):
    assert len(linted.variants) == 8
    assert linted.under(linted.root / "variants").cfn_lint == []


def test_checkov_finds_nothing_unsuppressed_and_every_suppression_says_why(linted):
    findings = linted.under(linted.root / "variants")
    assert findings.checkov_failed == []
    assert findings.checkov_skipped, "expected the documented suppressions to be seen by checkov"
    for check in findings.checkov_skipped:
        assert len(check["check_result"].get("suppress_comment") or "") > 20, check["check_id"]
    # Reserved concurrency set: its suppression disappears, the check passes on its own.
    maximal_skips = {c["check_id"] for c in findings.checkov_skipped if "maximal" in c["file_abs_path"]}
    assert "CKV_AWS_115" not in maximal_skips
    # Every variant's both templates were read by checkov (none skipped as unparsable or unseen).
    seen = {Path(c["file_abs_path"]).parent.name for c in linted.checkov_skipped}
    assert set(linted.variants) <= seen


def test_the_linters_do_report_a_broken_template(linted):
    """Guard against a silent harness: in the same runs, a wildcard admin role and a bad type must be found."""
    findings = linted.under(linted.root / "broken")
    assert any("E3006" in line for line in findings.cfn_lint)
    assert any("CKV_AWS_" in line for line in findings.checkov_failed)


def test_cfn_lint_in_this_process_reports_a_broken_template_too():
    """The same guard for the in-process cfn-lint of the property tests (tests/render/test_properties.py)."""
    assert any("E3006" in finding for finding in cfn_lint_text(json.dumps(BROKEN), ["us-east-1"]))


# -- observability: every combination of its options, in both routings -------------------------------------

ALARMS = {"off": {"alarms": False}, "on": {"alarms": True}, "topic": {"alarms": True, "alarms_topic_arn": TOPIC}}


def render_observability_combinations(configs: Path, out: Path) -> int:
    """Every combination of canary, alarms (none, without and with a topic), dashboard and delivery log, in both
    routings, rendered; each distinct template written once (a template depends on only some of the options)."""
    out.mkdir(parents=True)
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
        config_path = configs / f"{name}.yaml"
        config_path.write_text(dump_yaml(data))
        for template in render_templates(load_config(config_path)):
            distinct.setdefault(template.to_json(), f"{name}.{template.name}")
    for text, name in distinct.items():
        (out / f"{name}.json").write_text(text)
    return len(combinations)


def test_every_observability_combination_is_lint_clean(linted):
    assert linted.observability_combinations == 48
    out = linted.root / "observability"
    assert len(list(out.glob("*.json"))) >= 20  # the distinct globals and regionals among them
    findings = linted.under(out)
    assert findings.cfn_lint == []
    assert findings.checkov_failed == []
    for check in findings.checkov_skipped:
        assert len(check["check_result"].get("suppress_comment") or "") > 20, check["check_id"]
    assert {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"} <= {
        c["check_id"] for c in findings.checkov_skipped if "Canary" in c["resource"]
    }
