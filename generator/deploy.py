"""`deploy` and `plan`: the global stack in the home region and the regional stacks in parallel.

Data flows one way: config -> rendered templates (always from the whole config, so a partial deploy
never strips another region's permissions) -> StackSpecs -> change sets -> results and outputs.json.

Also here, because deploy, plan and destroy share them: the run lock (one of these at a time per out
dir) and out/outputs.json, which describes what is deployed now.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from generator.aws import AWS_FAULTS, AwsClients, aws_errors
from generator.changesets import (
    StackPlan,
    StackResult,
    deploy_stack,
    describe_stack,
    format_time,
    plan_stack,
    stack_outputs,
)
from generator.config import Config
from generator.errors import DeployError, ExitCode, Problem
from generator.render.files import write_text_atomically
from generator.parallel import Interrupted, run_parallel
from generator.paths import OUTPUTS_FILE_NAME
from generator.progress import Progress, summary_table
from generator.render import RenderedTemplate, render_templates
from generator.stacks import (
    DESTINATION_PARAMETER,
    GLOBAL_OUTPUT_KEYS,
    StackSpec,
    deployed_routing,
    global_stack_spec,
    regional_stack_spec,
    regional_stacks_first,
    select_regions,
)

# CloudFormation throttles per region and each region gets one stack, so many regions may be in
# flight at once; the bound is for the machine running this and for very large region lists.
DEFAULT_MAX_PARALLEL = 16
DEFAULT_POLL_INTERVAL = 3.0
# Polling faster than this is a busy loop against the CloudFormation API (and its throttling).
MIN_POLL_INTERVAL = 0.05
# What plan passes as DestinationId when the global stack does not exist yet.
PENDING_DESTINATION = "pending-global-stack-output"
# Beside outputs.json: held (flock) by the deploy, plan or destroy working with that out dir.
LOCK_FILE_NAME = ".deploy.lock"
HOLDER_WAIT = 1.0


@dataclass
class DeployReport:
    global_result: StackResult
    regional_results: list[StackResult] = field(default_factory=list)
    outputs_path: Path | None = None
    warnings: list[str] = field(default_factory=list)  # one line each: what went wrong beside the stacks

    @property
    def results(self) -> list[StackResult]:
        return [self.global_result, *self.regional_results]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results) and len(self.regional_results) > 0

    @property
    def endpoint(self) -> str:
        return self.global_result.outputs.get("Endpoint", "")


# --- one run at a time ---------------------------------------------------------------------------


class AlreadyRunning(DeployError):
    """Another deploy, plan or destroy holds the lock of this out dir; nothing was changed."""

    exit_code = ExitCode.FAILED


@contextlib.contextmanager
def run_lock(out_dir: Path, command: str) -> Iterator[list[str]]:
    """Hold out_dir's lock for `command`, or raise AlreadyRunning naming the run that holds it.

    fcntl.flock: the kernel releases it when the holder's process dies, so a crash never leaves a stale
    lock. Yields warnings: when the out dir cannot hold a lock file the run goes on without this guard
    (the stacks' own checks still refuse a second concurrent deploy)."""
    path = Path(out_dir) / LOCK_FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = _open_lock_file(path)
    except OSError as error:
        yield [f"{path}: cannot take the lock ({error.strerror or error}); not guarding against a second run here"]
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning([Problem(str(path), f"{_holder(path)}; wait for it to finish")]) from None
        holder = {"pid": os.getpid(), "command": command, "started": format_time(datetime.now(UTC))}
        with contextlib.suppress(OSError):  # a read-only lock file still locks; it just cannot say who holds it
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, (json.dumps(holder) + "\n").encode(), 0)
        try:
            yield []
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, 0)  # no stale "who" for the next reader
    finally:
        os.close(descriptor)  # releases the lock


def _open_lock_file(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:
        return os.open(path, os.O_RDONLY)  # flock works on a read-only descriptor too


def _holder(path: Path) -> str:
    """Who holds the lock, from what it wrote there. It writes right after locking: a run that started at
    the same moment may read before that, so it looks again for up to HOLDER_WAIT seconds."""
    deadline = time.monotonic() + HOLDER_WAIT
    while True:
        try:
            holder = json.loads(path.read_text(encoding="utf-8"))
            return (
                f"another {holder['command']} is running with this out dir "
                f"(pid {holder['pid']}, started {holder['started']})"
            )
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() >= deadline:
                return "another deploy, plan or destroy is running with this out dir (it has not said which)"
            time.sleep(0.02)


# --- out/outputs.json ------------------------------------------------------------------------------


def outputs_path(out_dir: Path) -> Path:
    return Path(out_dir) / OUTPUTS_FILE_NAME


def read_outputs_record(path: Path) -> tuple[dict[str, Any], str | None]:
    """What an earlier deploy recorded at `path` ({} when nothing), and why it was ignored when it was.

    outputs.json is our own cache: whatever is wrong with it is a warning, never a failed deploy."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as error:
        return {}, f"cannot read it ({getattr(error, 'strerror', None) or error})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return {}, f"not valid JSON (line {error.lineno}: {error.msg})"
    if not isinstance(data, dict):
        return {}, f"expected a JSON object, got {type(data).__name__}"
    regions = data.get("regions", {})
    if not isinstance(regions, dict) or not all(isinstance(entry, dict) for entry in regions.values()):
        return {}, "expected `regions` to be an object of region -> {stack, action, FunctionArn}"
    return data, None


def write_outputs(config: Config, report: DeployReport, out_dir: Path) -> tuple[Path | None, list[str]]:
    """out/outputs.json from this deploy, written atomically: the global outputs and StackId, and each region's
    function. Earlier entries of other regions are kept only when they belong to this same global stack
    (same StackId), never carried into a new one. Returns the path (None when it could not be written) and
    one-line warnings."""
    outputs = report.global_result.outputs
    document: dict[str, Any] = {
        "stack": config.global_stack_name,
        "region": config.home_region,
        "StackId": report.global_result.stack_id,
        **{key: outputs.get(key) for key in GLOBAL_OUTPUT_KEYS},
        "Port": int(outputs["Port"]) if str(outputs.get("Port", "")).isdigit() else outputs.get("Port"),
        "regions": {},
    }
    path = outputs_path(out_dir)
    warnings: list[str] = []
    previous, problem = read_outputs_record(path)
    if problem:
        warnings.append(f"{path}: ignored what an earlier deploy recorded there ({problem}); rewriting it")
    if document["StackId"] and previous.get("StackId") == document["StackId"]:
        # A partial deploy (REGIONS=...) keeps what an earlier deploy of this global stack recorded.
        document["regions"] = dict(previous["regions"])
    for result in report.regional_results:
        function_arn = result.outputs.get("FunctionArn")
        earlier = document["regions"].get(result.region, {})
        if not result.ok and not function_arn:
            # A region that failed this run still has the function an earlier deploy recorded.
            function_arn = earlier.get("FunctionArn")
        document["regions"][result.region] = {
            "stack": result.stack,
            "action": result.action,
            "FunctionArn": function_arn,
        }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(document, indent=2) + "\n")
    except OSError as error:
        warnings.append(f"{path}: cannot write the outputs ({error.strerror or error}); the summary above stands")
        return None, warnings
    return path, warnings


def forget_outputs(config: Config, out_dir: Path, deleted: list[StackResult]) -> tuple[list[str], list[str]]:
    """After destroy: outputs.json drops the regions whose stacks are gone, and goes entirely with the
    global stack (it would send the smoke client to a listener that no longer exists). A file that records
    another config's stack is left alone. Returns (what was done, warnings), one line each."""
    path = outputs_path(out_dir)
    if not path.exists():
        return [], []
    previous, problem = read_outputs_record(path)
    ours = previous.get("stack") == config.global_stack_name and previous.get("region") == config.home_region
    global_gone = any(r.stack == config.global_stack_name and r.region == config.home_region for r in deleted)
    try:
        if global_gone and (ours or problem):
            path.unlink()
            return [f"removed {path}: its listener was deleted"], []
        if problem:
            return [], [f"{path}: left as it was ({problem}); it may name deleted stacks"]
        gone = {r.region for r in deleted if r.stack == config.regional_stack_name} & set(previous.get("regions", {}))
        if not ours or not gone:
            return [], []
        previous["regions"] = {region: entry for region, entry in previous["regions"].items() if region not in gone}
        write_text_atomically(path, json.dumps(previous, indent=2) + "\n")
        return [f"updated {path}: {', '.join(sorted(gone))} no longer listed"], []
    except OSError as error:
        return [], [f"{path}: cannot update it ({error.strerror or error}); it may still name deleted stacks"]


# --- deploy --------------------------------------------------------------------------------------


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
    """Deploy the global stack and the selected regions' stacks; a failed region does not stop the others.

    The order (global first, or regional first while switching bind -> map) is regional_stacks_first()'s."""
    selected = select_regions(config, regions)
    templates = render_templates(config)
    clients = clients or AwsClients()
    clients.prepare([config.home_region, *config.regions])
    with run_lock(out_dir, "deploy") as lock_warnings:
        stop = threading.Event()
        deployed = _deployed_routing(clients, config, max_parallel, stop)
        regional_first = regional_stacks_first(config, deployed, selected)
        progress = Progress(stream, live=live)
        try:
            report = _deploy_in_order(
                config, templates, selected, regional_first, clients, progress, max_parallel, poll_interval, stop
            )
        except KeyboardInterrupt:  # while the global stack was in progress (run_parallel handles the rest)
            stop.set()
            raise Interrupted(progress.in_flight()) from None
        finally:
            progress.close()
        report.warnings[:0] = lock_warnings
        if report.global_result.ok:
            report.outputs_path, warnings = write_outputs(config, report, out_dir)
            report.warnings += warnings
        return report


def _deployed_routing(
    clients: AwsClients, config: Config, max_parallel: int, stop: threading.Event
) -> dict[str, str | None]:
    """Each configured region's deployed routing (None: no stack there, or it could not be read; its worker
    reports why when it runs)."""

    def look(region: str) -> str | None:
        try:
            return deployed_routing(describe_stack(clients.cloudformation(region), config.regional_stack_name))
        except AWS_FAULTS:
            return None

    tasks = {region: (lambda r=region: look(r)) for region in config.regions}
    return run_parallel(tasks, max_parallel, stop, lambda: [])


def _deploy_in_order(
    config: Config,
    templates: list[RenderedTemplate],
    selected: tuple[str, ...],
    regional_first: bool,
    clients: AwsClients,
    progress: Progress,
    max_parallel: int,
    poll_interval: float,
    stop: threading.Event,
) -> DeployReport:
    global_spec = global_stack_spec(config, templates)
    progress.add(global_spec.region, global_spec.name)
    for region in selected:
        progress.add(region, config.regional_stack_name)

    def regional(global_outputs: dict[str, str]) -> list[StackResult]:
        specs = {region: regional_stack_spec(config, templates, region, global_outputs) for region in selected}
        tasks = {
            region: (lambda spec=spec: _deploy_one(clients, spec, progress, poll_interval, stop))
            for region, spec in specs.items()
        }
        results = run_parallel(tasks, max_parallel, stop, progress.in_flight)
        return [results[region] for region in selected]

    if not regional_first:
        global_result = _deploy_one(clients, global_spec, progress, poll_interval, stop)
        if not global_result.ok:
            return DeployReport(global_result)
        return DeployReport(global_result, regional(global_result.outputs))
    regional_results = regional({})  # map routing: the regional stacks take nothing from the global one
    failed = [result.region for result in regional_results if not result.ok]
    if failed:
        global_result = _skipped(
            global_spec,
            f"not updated: switching to map routing waits until every region has dropped its binding "
            f"({', '.join(failed)} failed); run deploy again",
        )
        progress.update(global_spec.region, global_spec.name, global_result.action)
    else:
        global_result = _deploy_one(clients, global_spec, progress, poll_interval, stop)
    return DeployReport(global_result, regional_results)


def _skipped(spec: StackSpec, reason: str) -> StackResult:
    now = time.monotonic()
    return StackResult(spec.region, spec.name, "skipped", reason=reason, started=now, finished=now)


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


def deploy_summary(report: DeployReport) -> str:
    return summary_table(report.results, report.endpoint)


# --- plan ----------------------------------------------------------------------------------------


def plan(
    config: Config,
    regions: Iterable[str] | None = None,
    *,
    out_dir: Path,
    clients: AwsClients | None = None,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    poll_interval: float = 1.0,
) -> list[StackPlan]:
    """Per stack, what a deploy would add, modify (replacement flagged) or remove. Changes nothing."""
    selected = select_regions(config, regions)
    templates = render_templates(config)
    clients = clients or AwsClients()
    clients.prepare([config.home_region, *selected])
    with run_lock(out_dir, "plan"):
        global_spec = global_stack_spec(config, templates)
        home = clients.cloudformation(config.home_region)
        stop = threading.Event()
        global_plan = plan_stack(home, global_spec, poll_interval, stop)
        with aws_errors(global_spec.label):
            outputs = stack_outputs(describe_stack(home, global_spec.name))
        # Before the global stack exists its DestinationId is not known; plan shows the regional change anyway.
        outputs.setdefault(DESTINATION_PARAMETER, PENDING_DESTINATION)
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
