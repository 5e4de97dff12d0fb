"""One end-to-end run, as taskcat runs CloudFormation projects, for this stack: deploy, send packets and check
that every one is counted and answered, optionally the failover drill, then destroy unless KEEP=1.

    deploy                          every selected region (engine_for(config).deploy)
    traffic                         packets to every listener in out/outputs.json (the smoke client)
    failover: delete REGION         that regional stack (engine.destroy([REGION]))
    failover: traffic without REGION    every packet answered, none by REGION
    failover: deploy REGION again   engine.deploy([REGION])
    failover: traffic with REGION back  every packet answered, by the regions that answered `traffic`
    destroy                         what the run deployed (skipped with KEEP=1)

FAILOVER=serving deletes the region that answered `traffic` (against AWS the ingress region is where Proxylity
routes the sender, so that is the one to take away). A failed step skips the steps after it, except destroy. The
run returns data and reports progress as events (StepStarted, StepFinished, and the deploy engine's own while a
deploy or destroy runs); Ctrl-C ends it with E2EInterrupted, carrying the report so far and what it leaves
deployed. It deploys and destroys its own stacks: when the config's stacks exist already it refuses to start,
unless KEEP=1 (then nothing is destroyed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator.config import Config
from generator.deploy import (
    ABSENT,
    Approval,
    Confirm,
    DeployEngine,
    EngineOptions,
    Event,
    Interrupted,
    Question,
    aws_errors,
    engine_for,
)
from generator.deploy.engine_base import confirm_nothing
from generator.deploy.outputs import outputs_path, read_outputs_record
from generator.deploy.specs import select_regions
from generator.e2e.report import E2EReport, StepResult, StepStatus
from generator.errors import E2EError, GeneratorError
from generator.traffic.report import SmokeReport
from generator.traffic.smoke import SmokeOptions, run_smoke

SERVING = "serving"  # FAILOVER=serving: the region that answered the first traffic step
QUIET_AFTER_BATCH_SECONDS = 2.0  # the wait for late replies after the batch timeout, as `demo` waits


@dataclass(frozen=True)
class StepStarted:
    name: str


@dataclass(frozen=True)
class StepFinished:
    result: StepResult


OnE2EEvent = Callable[[StepStarted | StepFinished | Event], None]


@dataclass(frozen=True)
class E2EOptions:
    engine: EngineOptions  # the deploy engine's (out folder, AWS clients, polling); its on_event is replaced
    regions: tuple[str, ...] | None = None  # None: every configured region
    failover: str | None = None  # a region to take away and bring back, SERVING, or None: no drill
    keep: bool = False  # leave everything deployed at the end
    # Asked before a deploy widens stacks the run found deployed (KEEP=1 over a deployment); what the run's own
    # new stacks grant goes ahead (it creates and destroys them) and is listed in its deploy step.
    confirm: Confirm = confirm_nothing
    packets: int = 100
    max_loss_percent: float = 0.0  # "every one is counted": none may be missing
    quiet_seconds: float | None = None  # None: the batch timeout + QUIET_AFTER_BATCH_SECONDS


class E2EInterrupted(Exception):
    """Ctrl-C: the report so far (its current step interrupted) and what is left deployed."""

    def __init__(self, report: E2EReport) -> None:
        super().__init__("interrupted")
        self.report = report


def selected_regions(config: Config, options: E2EOptions) -> tuple[str, ...]:
    """The regions the run deploys, its FAILOVER region checked against them: E2EError before anything runs."""
    regions = select_regions(config, options.regions) if options.regions is not None else config.regions
    failover = options.failover
    if failover is not None and failover != SERVING and failover not in regions:
        raise E2EError.of(
            "FAILOVER", f"{failover!r} is not a region this run deploys ({', '.join(regions)}), nor {SERVING!r}"
        )
    if failover is not None and len(regions) < 2:
        raise E2EError.of(
            "FAILOVER", f"the drill needs a second region to answer, and this run deploys only {regions[0]}"
        )
    return regions


def run_e2e(config: Config, options: E2EOptions, on_event: OnE2EEvent | None = None) -> E2EReport:
    """The whole run (module docstring); E2EError (nothing changed) when it cannot start, E2EInterrupted on
    Ctrl-C."""
    return _Run(config, options, on_event or (lambda event: None)).run()


class _Run:
    def __init__(self, config: Config, options: E2EOptions, on_event: OnE2EEvent) -> None:
        self.config = config
        self.options = options
        self.on_event = on_event
        self.regions = selected_regions(config, options)
        self.engine: DeployEngine = engine_for(config, replace(options.engine, on_event=on_event))
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.report = E2EReport(str(config.source), started, self.regions, options.failover)
        self.deployed: set[str] = set()  # the regions whose stacks this run asked for and did not delete
        self.global_deployed = False
        self.failed = False
        self.first_traffic: dict[str, Any] = {}
        self.found_deployed = False  # stacks of the config existed before the run (KEEP=1 allows it)
        self.granted: list[str] = []  # what the run's own stacks grant, approved because the run made them
        self.remade: set[tuple[str, str]] = set()  # (stack, region) this run deleted: making it again is its own

    def run(self) -> E2EReport:
        self._refuse_existing_stacks()
        self._step("deploy", self._deploy_all)
        self._step("traffic", lambda: self._traffic())
        if self.options.failover is not None:
            region = self._failover_region()
            self._step(f"failover: delete {region}", lambda: self._delete([region]))
            self._step(f"failover: traffic without {region}", lambda: self._traffic(without=region))
            self._step(f"failover: deploy {region} again", lambda: self._deploy([region]))
            self._step(f"failover: traffic with {region} back", lambda: self._traffic(as_before=True))
        if self.options.keep:
            self._record(StepResult("destroy", StepStatus.SKIPPED, "KEEP=1: everything is left deployed"))
        else:
            self._step("destroy", self._destroy, always=True)
        self.report.left_deployed = self._left_deployed()
        return self.report

    # -- the steps ---------------------------------------------------------------------------------------

    def _refuse_existing_stacks(self) -> None:
        """Refuse to start over stacks that exist, unless KEEP=1; either way, remember whether there were any
        (what a deploy widens on them is asked about, never approved by the run)."""
        try:
            found = self.engine.inventory()
        except Interrupted as error:
            raise E2EInterrupted(self.report) from error
        existing = [f"{state.stack} ({state.region})" for state in found.stacks if state.status != ABSENT]
        self.found_deployed = bool(existing)
        for state in found.stacks:  # with KEEP=1 what it found is what it leaves, unless a step changes that
            if state.status != ABSENT and state.stack == self.config.regional_stack_name and not state.orphan:
                self.deployed.add(state.region)
            elif state.status != ABSENT and state.stack == self.config.global_stack_name:
                self.global_deployed = True
        if existing and not self.options.keep:
            raise E2EError.of(
                "e2e",
                f"deploys and destroys its own stacks, and {', '.join(existing)} exist already: destroy them first "
                "(make destroy YES=1), or run with KEEP=1 to leave everything deployed at the end; nothing was changed",
            )

    def _deploy_all(self) -> tuple[StepStatus, str, dict[str, Any]]:
        return self._deploy(list(self.regions))

    def _deploy(self, regions: list[str]) -> tuple[StepStatus, str, dict[str, Any]]:
        before = (set(self.deployed), self.global_deployed)
        # Counted as deployed from the moment it is asked for (Ctrl-C mid-deploy: they may be), unless the deploy
        # was refused or cancelled before it changed anything.
        self.global_deployed = True
        self.deployed |= set(regions)
        self.granted = []
        try:
            report = self.engine.deploy(regions, confirm=self._answer)
        except GeneratorError:
            self.deployed, self.global_deployed = before
            raise
        if report.cancelled:
            self.deployed, self.global_deployed = before
        rows = {_row_name(result): str(result.action) for result in report.results}
        data = {"stacks": rows, "endpoints": dict(report.endpoints), "granted": self.granted}
        if not report.ok:
            return StepStatus.FAILED, "; ".join(_failures(report.results)) or "nothing was deployed", data
        endpoint = report.endpoint or ", ".join(f"{account} {e}" for account, e in report.endpoints.items())
        done = _stacks(len(report.results))
        return StepStatus.PASSED, f"{done} deployed ({_actions(report.results)}); endpoint {endpoint}", data

    def _answer(self, question: Question) -> bool:
        """The engine's questions: what its own new stacks grant goes ahead (listed in the step), and so does a
        stack it deleted itself made again (the drill); anything else (widening a deployment the run found,
        deleting what the config no longer has) is asked of the caller."""
        if isinstance(question, Approval) and (not self.found_deployed or self._own_stacks(question)):
            self.granted += [
                f"{w.stack} {w.resource} ({w.resource_type}) {w.kind}: {w.detail}" for w in question.widenings
            ]
            return True
        return self.options.confirm(question)

    def _own_stacks(self, approval: Approval) -> bool:
        """Whether every widening is in a stack this run deleted and now makes again (the drill's region)."""
        return all((w.stack, where) in self.remade for w in approval.widenings for where in w.where)

    def _failover_region(self) -> str:
        """FAILOVER's region; for SERVING the region that answered most of the traffic step (when it ran)."""
        if self.options.failover != SERVING:
            return self.options.failover  # type: ignore[return-value]
        served = self.first_traffic.get("serving", [])
        if served:
            counts = self.first_traffic["counts"]
            self.report.failover = max(served, key=lambda region: counts.get(region, 0))
        return self.report.failover  # type: ignore[return-value]

    def _destroy(self) -> tuple[StepStatus, str, dict[str, Any]]:
        return self._delete(list(self.regions) if self.options.regions is not None else None)

    def _delete(self, regions: list[str] | None) -> tuple[StepStatus, str, dict[str, Any]]:
        report = self.engine.destroy(regions, confirm=lambda plan: True)
        rows = {_row_name(result): str(result.action) for result in report.results}
        for result in report.results:
            if result.ok and result.stack == self.config.regional_stack_name:
                self.deployed.discard(result.region)
                self.remade.add((result.stack, result.region))
            elif result.ok and result.stack == self.config.global_stack_name:
                self.global_deployed = False
        if not report.ok:
            return StepStatus.FAILED, "; ".join(_failures(report.results)) or "cancelled", {"stacks": rows}
        return StepStatus.PASSED, f"{_stacks(len(report.results))} deleted", {"stacks": rows}

    def _traffic(self, without: str | None = None, as_before: bool = False) -> tuple[StepStatus, str, dict[str, Any]]:
        """Packets to every listener; every one counted and answered (within max_loss_percent), by a region other
        than `without`, and with `as_before` by the regions that answered the first traffic step."""
        endpoints = listener_endpoints(outputs_path(self.options.engine.out_dir))
        if not endpoints:
            return StepStatus.FAILED, f"no listener in {outputs_path(self.options.engine.out_dir)}", {}
        quiet = self.options.quiet_seconds
        if quiet is None:
            quiet = self.config.destination.batching.timeout_in_seconds + QUIET_AFTER_BATCH_SECONDS
        problems: list[str] = []
        figures: dict[str, Any] = {}
        serving: set[str] = set()
        for label, (host, port) in endpoints.items():
            try:
                smoke = run_smoke(SmokeOptions(host, port, self.options.packets, quiet_seconds=quiet))
            except GeneratorError as error:
                problems.append(f"{label}: {error.problems[0].message}")
                continue
            figures[label] = _smoke_figures(smoke)
            serving |= set(smoke.regions)
            problems += [f"{label}: {problem}" for problem in self._judge(smoke, without)]
        counts: dict[str, int] = {}
        for figure in figures.values():
            for region, packets in figure["regions"].items():
                counts[region] = counts.get(region, 0) + packets
        data = {"endpoints": figures, "serving": sorted(serving), "counts": counts}
        if not self.first_traffic:
            self.first_traffic = data
        elif as_before and serving != set(self.first_traffic["serving"]):
            expected = ", ".join(self.first_traffic["serving"]) or "none"
            problems.append(f"answered by {', '.join(sorted(serving)) or 'no region'}, not {expected} as before")
        if problems:
            return StepStatus.FAILED, "; ".join(problems), data
        return StepStatus.PASSED, "; ".join(_traffic_line(label, f) for label, f in figures.items()), data

    def _judge(self, smoke: SmokeReport, without: str | None) -> list[str]:
        problems = []
        if smoke.loss_percent > self.options.max_loss_percent:
            problems.append(
                f"{smoke.packets_counted} of {smoke.packets_sent} packets counted "
                f"({smoke.loss_percent:.2f}% unaccounted, above {self.options.max_loss_percent:g}%)"
            )
        if smoke.malformed_replies:
            problems.append(f"{smoke.malformed_replies} malformed replies")
        if without is not None and without in smoke.regions:
            problems.append(f"{smoke.regions[without]['packets']} packets answered by {without}, which was deleted")
        return problems

    # -- running and recording ---------------------------------------------------------------------------

    def _step(self, name: str, work: Callable[[], tuple[StepStatus, str, dict[str, Any]]], always: bool = False):
        if self.failed and not always:
            self._record(StepResult(name, StepStatus.SKIPPED, "a step before it failed"))
            return
        self.on_event(StepStarted(name))
        started = time.monotonic()
        try:
            with aws_errors(str(self.config.source)):
                status, detail, data = work()
        except (Interrupted, KeyboardInterrupt) as error:
            in_flight = list(getattr(error, "in_flight", []) or [])
            detail = "Ctrl-C" + (f"; in progress: {', '.join(in_flight)}" if in_flight else "")
            self._record(StepResult(name, StepStatus.INTERRUPTED, detail, round(time.monotonic() - started, 3)))
            self.report.interrupted = True
            self.report.left_deployed = self._left_deployed(in_flight)
            raise E2EInterrupted(self.report) from None
        except GeneratorError as error:  # AWS unreachable, a lock held: the step failed, the run goes on
            status, detail, data = StepStatus.FAILED, "; ".join(str(problem) for problem in error.problems), {}
        self._record(StepResult(name, status, detail, round(time.monotonic() - started, 3), data))
        if status is StepStatus.FAILED:
            self.failed = True

    def _record(self, result: StepResult) -> None:
        self.report.steps.append(result)
        self.on_event(StepFinished(result))

    def _left_deployed(self, in_flight: list[str] | None = None) -> list[str]:
        """The stacks this run deployed and did not delete (and what was in progress when it stopped)."""
        left = [f"{self.config.regional_stack_name} ({region})" for region in self.regions if region in self.deployed]
        if self.global_deployed:
            left.insert(0, f"{self.config.global_stack_name} ({self.config.home_region})")
        return left + [name for name in in_flight or [] if name not in left]


def listener_endpoints(path: Path) -> dict[str, tuple[str, int]]:
    """Every listener out/outputs.json names, by label ("" for the one of a single account, else the account):
    its Domain and Port."""
    record, _problem = read_outputs_record(path)
    accounts = record.get("accounts") if isinstance(record.get("accounts"), dict) else None
    entries = accounts if accounts and len(accounts) > 1 else {"": record}
    endpoints = {}
    for label, entry in entries.items():
        domain, port = (entry or {}).get("Domain"), str((entry or {}).get("Port") or "")
        if isinstance(domain, str) and domain and port.isdigit():
            endpoints[label or "listener"] = (domain, int(port))
    return endpoints


def _smoke_figures(smoke: SmokeReport) -> dict[str, Any]:
    latency = smoke.latency_ms
    return {
        "target": smoke.target,
        "address": smoke.address,
        "sent": smoke.packets_sent,
        "counted": smoke.packets_counted,
        "unaccounted": smoke.packets_unaccounted,
        "replies": smoke.replies,
        "regions": {region: tally["packets"] for region, tally in smoke.regions.items()},
        "latency_ms": None if latency is None else vars(latency),
    }


def _traffic_line(label: str, figures: dict[str, Any]) -> str:
    served = ", ".join(f"{region} {packets}" for region, packets in sorted(figures["regions"].items())) or "none"
    latency = figures["latency_ms"]
    timing = f"; latency p50 {latency['p50_ms']:g} ms p99 {latency['p99_ms']:g} ms" if latency else ""
    prefix = "" if label == "listener" else f"{label}: "
    return f"{prefix}{figures['counted']}/{figures['sent']} packets counted; served by {served}{timing}"


def _row_name(result: Any) -> str:
    account = f"{result.account} " if result.account else ""
    return f"{result.stack} ({account}{result.region})"


def _actions(results: list[Any]) -> str:
    """ "1 created, 3 unchanged": what happened to the stacks, by action."""
    counted: dict[str, int] = {}
    for result in results:
        counted[str(result.action)] = counted.get(str(result.action), 0) + 1
    return ", ".join(f"{count} {action}" for action, count in counted.items())


def _stacks(count: int) -> str:
    return f"{count} stack" if count == 1 else f"{count} stacks"


def _failures(results: list[Any]) -> list[str]:
    """One line per stack that did not end as asked: which, and CloudFormation's reason."""
    return [f"{_row_name(result)}: {result.reason or result.action}" for result in results if not result.ok]
