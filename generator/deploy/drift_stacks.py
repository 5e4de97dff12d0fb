"""`drift` in change-set mode: CloudFormation's drift detection on the global stack and each region's stack,
in parallel; per stack, the resources whose live properties differ from the template's.

DetectStackDrift starts a detection, DescribeStackDriftDetectionStatus says when it is done, and
DescribeStackResourceDrifts lists each resource's status and property differences (API reference). A stack
that does not exist, or whose detection AWS refuses or fails, is a row saying so; it does not hide the others.
"""

from __future__ import annotations

import threading
from typing import Any

from generator.deploy.clients import AWS_FAULTS, fault_text
from generator.deploy.drift_records import stack_drift
from generator.deploy.engine_base import Run
from generator.deploy.parallel import run_parallel
from generator.deploy.reports import DriftReport, DriftState, StackDrift
from generator.deploy.stack_errors import Stopped
from generator.deploy.stack_states import describe_stack

DETECTING = "DETECTION_IN_PROGRESS"
PAGE_SIZE = 100  # DescribeStackResourceDrifts MaxResults: at most 100


def drift_stacks(run: Run, selected: tuple[str, ...]) -> DriftReport:
    config, clients = run.config, run.clients
    clients.prepare([config.home_region, *selected])
    stop = threading.Event()
    stacks = [(config.home_region, config.global_stack_name)]
    stacks += [(region, config.regional_stack_name) for region in selected]

    def check(region: str, name: str) -> StackDrift:
        try:
            return check_stack(clients.cloudformation(region), region, name, run.poll_interval, stop)
        except AWS_FAULTS as error:
            return StackDrift(region, name, DriftState.NOT_CHECKED, reason=fault_text(error))

    tasks = {f"{name} {region}": (lambda r=region, n=name: check(r, n)) for region, name in stacks}
    found = run_parallel(tasks, run.max_parallel, stop, lambda: [])
    return DriftReport([found[f"{name} {region}"] for region, name in stacks])


def check_stack(client: Any, region: str, name: str, poll_interval: float, stop: threading.Event) -> StackDrift:
    """Detect one stack's drift and read its resources' drifts."""
    stack = describe_stack(client, name)
    if stack is None:
        return StackDrift(region, name, DriftState.NOT_DEPLOYED, reason="no such stack: deploy it first")
    detection_id = client.detect_stack_drift(StackName=stack["StackId"])["StackDriftDetectionId"]
    while True:
        detection = client.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        if detection["DetectionStatus"] != DETECTING:
            break
        if stop.wait(poll_interval):
            raise Stopped
    # DETECTION_FAILED: "results are available for the resources it did check" (API reference); said as such
    reason = ""
    if detection["DetectionStatus"] != "DETECTION_COMPLETE":
        reason = f"{detection['DetectionStatus']}: {detection.get('DetectionStatusReason', 'no reason given')}"
    records = _resource_drifts(client, stack["StackId"])
    return stack_drift(region, name, records, detection.get("Timestamp"), reason=reason)


def _resource_drifts(client: Any, stack_id: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.describe_stack_resource_drifts(
            StackName=stack_id, MaxResults=PAGE_SIZE, **({"NextToken": token} if token else {})
        )
        records += page.get("StackResourceDrifts", [])
        token = page.get("NextToken")
        if not token:
            return records
