"""The deploy room's one front door: `engine_for(config, options)` gives the engine of the config's deploy mode
(change sets, one stack per region; or CloudFormation StackSets, with a `stacksets:` section), and both
engines answer the same six questions with the same report types (reports.py):

    engine = engine_for(config, EngineOptions(out_dir=Path("out"), on_event=show))
    engine.plan(regions)        -> Plan            what a deploy would change; nothing is executed
    engine.deploy(regions, confirm) -> DeployReport  and out/outputs.json; asks `confirm(approval)` before
                                                   it widens IAM or replaces a resource (no: changes nothing,
                                                   cancelled), `confirm(plan)` before it deletes what the
                                                   config no longer has (no: keeps it)
    engine.drift(regions)       -> DriftReport     CloudFormation's drift detection: what was changed out of
                                                   band, resource by resource, property by property
    engine.inventory()          -> Inventory       what is deployed where, orphans included
    engine.destroy_plan(regions) -> DestroyPlan    what a destroy would delete
    engine.destroy(regions, confirm) -> DestroyReport   asks `confirm(plan)` between plan and deletion

`regions` narrows to some of the config's regions (None: all). Deploy, plan and destroy hold the out folder's
run lock for their whole run (destroy through its question). The engine never prints: progress goes to
`options.on_event` as typed events (events.py); Ctrl-C raises Interrupted naming what is in flight.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from generator.config import Config
from generator.deploy.engine_base import Confirm, EngineOptions, confirm_nothing
from generator.deploy.reports import DeployReport, DestroyPlan, DestroyReport, DriftReport, Inventory, Plan
from generator.deploy.stack_engine import StackEngine
from generator.deploy.stacksets.stackset_engine import StackSetEngine


class DeployEngine(Protocol):
    config: Config

    def plan(self, regions: Iterable[str] | None = None) -> Plan: ...

    def deploy(self, regions: Iterable[str] | None = None, confirm: Confirm = confirm_nothing) -> DeployReport: ...

    def drift(self, regions: Iterable[str] | None = None) -> DriftReport: ...

    def inventory(self) -> Inventory: ...

    def destroy_plan(self, regions: Iterable[str] | None = None) -> DestroyPlan: ...

    def destroy(self, regions: Iterable[str] | None = None, confirm: Confirm = confirm_nothing) -> DestroyReport: ...


def engine_for(config: Config, options: EngineOptions) -> DeployEngine:
    """The engine of the config's deploy mode: StackSets with a `stacksets:` section, else change sets."""
    return StackSetEngine(config, options) if config.stacksets else StackEngine(config, options)
