"""out/e2e.json and out/e2e.xml (JUnit), written together or neither (one file transaction)."""

from __future__ import annotations

import json
from pathlib import Path

from generator.atomic_files import FileTransaction, check_replaceable, folder_made
from generator.e2e.junit import junit_xml
from generator.e2e.report import E2EReport
from generator.errors import E2EError, ExitCode


class ReportsNotWritten(E2EError):
    """The run happened, its reports could not be written."""

    exit_code = ExitCode.FAILED


JSON_REPORT_NAME = "e2e.json"
JUNIT_REPORT_NAME = "e2e.xml"


def write_reports(report: E2EReport, out_dir: Path) -> tuple[Path, Path]:
    """Both reports in `out_dir`; E2EError (exit 1: the run happened) naming the folder when they cannot be
    written, and then neither is."""
    targets = (Path(out_dir) / JSON_REPORT_NAME, Path(out_dir) / JUNIT_REPORT_NAME)
    try:
        with folder_made(Path(out_dir)):
            for target in targets:
                check_replaceable(target)
            with FileTransaction(Path(out_dir)) as files:
                files.replace(targets[0], json.dumps(report.as_json(), indent=2) + "\n")
                files.replace(targets[1], junit_xml(report))
    except OSError as error:
        raise ReportsNotWritten.of(
            str(error.filename or out_dir),
            f"cannot write {JSON_REPORT_NAME} and {JUNIT_REPORT_NAME}: {error.strerror or error}; neither was written",
        ) from None
    return targets
