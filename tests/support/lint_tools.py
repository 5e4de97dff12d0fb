"""Run the real linters (cfn-lint, checkov) on rendered templates, as `make lint` does; and cfn-lint in this
process, for tests that lint many generated templates one by one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
# checkov: no network (guideline download, version check) on a closed machine.
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}


def cfn_lint(files: Iterable[Path], regions: Iterable[str]) -> list[str]:
    """cfn-lint's findings, one line each (empty when clean)."""
    command = [str(BIN / "cfn-lint"), "--format", "parseable", "--regions", *regions, "--", *map(str, files)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    findings = completed.stdout.splitlines()
    assert completed.returncode == 0 or findings, completed.stderr  # a crash is not "clean"
    return findings


def cfn_lint_text(text: str, regions: Iterable[str]) -> list[str]:
    """cfn-lint's findings on one template's text, in this process: what its command line runs for each file
    (Runner.validate_template), with the rules loaded once rather than for every template (~0.5 s each)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    template, errors = decode_str(text)
    if errors:
        return [str(error) for error in errors]
    return [
        str(match) for match in run_template_by_data(template, ConfigMixIn(regions=list(regions)), _cfn_lint_rules())
    ]


@cache
def _cfn_lint_rules() -> Any:
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn()).rules


def checkov(folder: Path) -> tuple[list[str], list[dict]]:
    """checkov's failed checks as lines, and its skipped checks (each should carry a comment)."""
    failed, skipped = checkov_checks(folder)
    return [checkov_line(check) for check in failed], skipped


def checkov_line(check: dict) -> str:
    return f"{check['file_path']}: {check['check_id']} {check['resource']}: {check['check_name']}"


def checkov_checks(folder: Path) -> tuple[list[dict], list[dict]]:
    """checkov's failed and skipped checks on every template under `folder`, as checkov reports them (each
    with its file_abs_path)."""
    command = [
        str(BIN / "checkov"),
        "--framework",
        "cloudformation",
        "--skip-download",
        "-o",
        "json",
        "-d",
        str(folder),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, **CHECKOV_ENV})
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed, skipped = [], []
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0, report["summary"]
        failed += report["results"]["failed_checks"]
        skipped += report["results"]["skipped_checks"]
    return failed, skipped
