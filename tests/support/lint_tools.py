"""Run the real linters (cfn-lint, checkov) on rendered templates, as `make lint` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

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


def checkov(folder: Path) -> tuple[list[str], list[dict]]:
    """checkov's failed checks as lines, and its skipped checks (each should carry a comment)."""
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
        failed += [
            f"{c['file_path']}: {c['check_id']} {c['resource']}: {c['check_name']}"
            for c in report["results"]["failed_checks"]
        ]
        skipped += report["results"]["skipped_checks"]
    return failed, skipped
