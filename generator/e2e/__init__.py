"""e2e/: the whole cycle in one command, as taskcat runs it for CloudFormation projects: deploy, send packets and
check every one is answered, the failover drill, destroy; the run as data (report), as JUnit XML (junit) and
as files (report_files). It drives the deploy engine's front door (generator.deploy.engine_for), the smoke
client (generator.traffic.smoke) and out/outputs.json; it never prints (generator/cli/e2e_commands.py does)."""

from generator.e2e.report import E2EReport, StepResult, StepStatus
from generator.e2e.report_files import JSON_REPORT_NAME, JUNIT_REPORT_NAME, write_reports
from generator.e2e.runner import SERVING, E2EInterrupted, E2EOptions, StepFinished, StepStarted, run_e2e

__all__ = [
    "JSON_REPORT_NAME",
    "JUNIT_REPORT_NAME",
    "SERVING",
    "E2EInterrupted",
    "E2EOptions",
    "E2EReport",
    "StepFinished",
    "StepResult",
    "StepStarted",
    "StepStatus",
    "run_e2e",
    "write_reports",
]
