"""`deploy` and `plan`: the global stack in the home region, then the regional stacks in parallel.

Data flows one way: config -> rendered templates (always from the whole config, so a partial deploy
never strips another region's permissions) -> StackSpecs -> change sets -> results and outputs.json.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from generator.aws import AwsClients, aws_errors
from generator.changesets import StackPlan, StackResult, deploy_stack, describe_stack, plan_stack, stack_outputs
from generator.config import Config
from generator.errors import DeployError, Problem
from generator.parallel import Interrupted, run_parallel
from generator.paths import OUTPUTS_FILE_NAME
from generator.progress import Progress, summary_table
from generator.render import render_templates
from generator.render.files import write_text_atomically
from generator.stacks import GLOBAL_OUTPUT_KEYS, global_stack_spec, regional_stack_spec, select_regions

# CloudFormation throttles per region and each region gets one stack, so many regions may be in
# flight at once; the bound is for the machine running this and for very large region lists.
DEFAULT_MAX_PARALLEL = 16
DEFAULT_POLL_INTERVAL = 3.0
# What plan passes as DestinationId when the global stack does not exist yet.
PENDING_DESTINATION = "pending-global-stack-output"


@dataclass
class DeployReport:
    global_result: StackResult
    regional_results: list[StackResult] = field(default_factory=list)
    outputs_path: Path | None = None

    @property
    def results(self) -> list[StackResult]:
        return [self.global_result, *self.regional_results]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results) and len(self.regional_results) > 0

    @property
    def endpoint(self) -> str:
        return self.global_result.outputs.get("Endpoint", "")


def deploy(
    config: Config,
    regions: Iterable[str] | None = None,
    *,
    out_dir: Path,
    clients: AwsClients | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    stream: TextIO | None = None,
    live: bool | None = None,
) -> DeployReport:
    """Deploy the global stack, then the selected regions' stacks; a failed region does not stop the others."""
    selected = select_regions(config, regions)
    templates = render_templates(config)
    clients = clients or AwsClients()
    clients.prepare([config.home_region, *selected])
    stop = threading.Event()
    progress = Progress(stream, live=live)
    try:
        global_spec = global_stack_spec(config, templates)
        global_result = _deploy_one(clients, global_spec, progress, poll_interval, stop)
        report = DeployReport(global_result)
        if not global_result.ok:
            return report
        specs = {region: regional_stack_spec(config, templates, region, global_result.outputs) for region in selected}
        for spec in specs.values():
            progress.add(spec.region, spec.name)
        tasks = {
            region: (lambda spec=spec: _deploy_one(clients, spec, progress, poll_interval, stop))
            for region, spec in specs.items()
        }
        results = run_parallel(tasks, max_parallel, stop, progress.in_flight)
        report.regional_results = [results[region] for region in selected]
        report.outputs_path = write_outputs(config, report, out_dir)
        return report
    except KeyboardInterrupt:  # while the global stack was in progress (run_parallel handles the rest)
        stop.set()
        raise Interrupted(progress.in_flight()) from None
    finally:
        progress.close()


def _deploy_one(clients, spec, progress: Progress, poll_interval: float, stop: threading.Event) -> StackResult:
    progress.add(spec.region, spec.name)
    return deploy_stack(
        clients.cloudformation(spec.region),
        spec,
        on_progress=lambda state, event: progress.update(spec.region, spec.name, state, event),
        on_note=progress.note,
        poll_interval=poll_interval,
        stop=stop,
    )


def write_outputs(config: Config, report: DeployReport, out_dir: Path) -> Path:
    """out/outputs.json: the global outputs and each deployed region's function, written atomically."""
    outputs = report.global_result.outputs
    document = {
        "stack": config.global_stack_name,
        "region": config.home_region,
        **{key: outputs.get(key) for key in GLOBAL_OUTPUT_KEYS},
        "Port": int(outputs["Port"]) if str(outputs.get("Port", "")).isdigit() else outputs.get("Port"),
        "regions": {},
    }
    path = Path(out_dir) / OUTPUTS_FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        # A partial deploy (REGIONS=...) keeps what an earlier deploy recorded for the other regions.
        if previous.get("stack") == document["stack"] and isinstance(previous.get("regions"), dict):
            document["regions"] = dict(previous["regions"])
        for result in report.regional_results:
            earlier = document["regions"].get(result.region)
            function_arn = result.outputs.get("FunctionArn")
            if not result.ok and not function_arn and isinstance(earlier, dict):
                # A region that failed this run still has the function an earlier deploy recorded.
                function_arn = earlier.get("FunctionArn")
            document["regions"][result.region] = {
                "stack": result.stack,
                "action": result.action,
                "FunctionArn": function_arn,
            }
        write_text_atomically(path, json.dumps(document, indent=2) + "\n")
    except (OSError, json.JSONDecodeError) as error:
        raise DeployError([Problem(str(path), f"cannot write the outputs: {error}")]) from None
    return path


def deploy_summary(report: DeployReport) -> str:
    return summary_table(report.results, report.endpoint)


def plan(
    config: Config,
    regions: Iterable[str] | None = None,
    *,
    clients: AwsClients | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    poll_interval: float = 1.0,
) -> list[StackPlan]:
    """Per stack, what a deploy would add, modify (replacement flagged) or remove. Changes nothing."""
    selected = select_regions(config, regions)
    templates = render_templates(config)
    clients = clients or AwsClients()
    clients.prepare([config.home_region, *selected])
    global_spec = global_stack_spec(config, templates)
    home = clients.cloudformation(config.home_region)
    stop = threading.Event()
    global_plan = plan_stack(home, global_spec, poll_interval, stop)
    with aws_errors(global_spec.label):
        outputs = stack_outputs(describe_stack(home, global_spec.name))
    # Before the global stack exists its DestinationId is not known; plan shows the regional change anyway.
    outputs.setdefault("DestinationId", PENDING_DESTINATION)
    specs = {region: regional_stack_spec(config, templates, region, outputs) for region in selected}
    tasks = {
        region: (lambda spec=spec: plan_stack(clients.cloudformation(spec.region), spec, poll_interval, stop))
        for region, spec in specs.items()
    }
    results = run_parallel(tasks, max_parallel, stop, lambda: [])
    return [global_plan, *(results[region] for region in selected)]


def format_plan(plans: list[StackPlan]) -> str:
    lines = []
    for stack_plan in plans:
        header = f"{stack_plan.stack} ({stack_plan.region}): {stack_plan.kind}"
        lines.append(header + (f" - {stack_plan.reason}" if stack_plan.reason else ""))
        for change in stack_plan.changes:
            replacement = ""
            if change.action == "Modify" and change.replacement:
                replacement = "  REPLACEMENT" if change.replacement == "True" else f"  replacement {change.replacement}"
            lines.append(f"  {change.action:<7} {change.logical_id} ({change.resource_type}){replacement}")
    return "\n".join(lines)
