"""What both deploy engines share: the options every command hands them, and the steps of a destroy (what
would go, the question, the deletions, all under the run lock). Each mode's engine fills in its own parts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.config import Config
from generator.deploy.clients import AwsClients
from generator.deploy.events import EventRelay, OnEvent
from generator.deploy.lock import run_lock
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL
from generator.deploy.reports import Approval, DestroyPlan, DestroyReport
from generator.deploy.specs import select_regions

# The questions an engine asks before it acts: what a destroy (or a deploy, of what the config no longer has)
# would delete, and what a deploy would widen (IAM granted anew or wider, resources replaced).
Question = DestroyPlan | Approval
Confirm = Callable[[Question], bool]  # True goes ahead


def confirm_nothing(question: Question) -> bool:
    """The default answer to every question: no (a caller that wants deletions or wider grants says so)."""
    return False


@dataclass(frozen=True)
class EngineOptions:
    """How an engine works, the same for every command."""

    out_dir: Path  # where out/outputs.json and the run lock are
    clients: AwsClients | None = None  # None: the AWS conventions (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL)
    max_parallel: int = DEFAULT_MAX_PARALLEL  # stacks (regions) in flight at once
    poll_interval: float | None = None  # seconds between progress polls; None: each operation's default
    on_event: OnEvent | None = None  # hears progress (events.py); None: nobody


@dataclass(frozen=True)
class Run:
    """What one engine call hands its deploy mode's functions."""

    config: Config
    clients: AwsClients
    relay: EventRelay
    out_dir: Path
    max_parallel: int
    poll_interval: float
    # Asked before a deploy widens anything (no: nothing changes), and before it deletes what the config no
    # longer has (StackSet instances of a removed account or region; no: they are kept).
    confirm: Confirm = confirm_nothing


class EngineBase:
    """The parts of an engine that do not depend on the deploy mode."""

    def __init__(self, config: Config, options: EngineOptions) -> None:
        self.config = config
        self.options = options
        self.relay = EventRelay(options.on_event)
        self.clients = options.clients or AwsClients()
        self.clients.set_on_wait(self.relay.waiting)

    def run(self, default_poll_interval: float, confirm: Confirm = confirm_nothing) -> Run:
        """This engine's config, clients and options for one call (polling at the command's default unless the
        options say otherwise)."""
        poll = self.options.poll_interval
        return Run(
            self.config,
            self.clients,
            self.relay,
            self.options.out_dir,
            self.options.max_parallel,
            default_poll_interval if poll is None else poll,
            confirm,
        )

    def destroy_plan(self, regions: Iterable[str] | None = None) -> DestroyPlan:
        return self._destruction(self._narrowed(regions)).view()

    def destroy(self, regions: Iterable[str] | None = None, confirm: Confirm = confirm_nothing) -> DestroyReport:
        selected = self._narrowed(regions)
        # The lock is held from the look at what exists, through the question, to the last deletion.
        with run_lock(self.options.out_dir, "destroy"):
            plan = self._destruction(selected)
            if plan.empty:
                return DestroyReport([])
            if not confirm(plan.view()):
                return DestroyReport([], cancelled=True)
            return self._delete(plan)

    def _narrowed(self, regions: Iterable[str] | None) -> tuple[str, ...] | None:
        return select_regions(self.config, regions) if regions is not None else None

    # --- each mode's own -----------------------------------------------------------------------------------

    def _destruction(self, selected: tuple[str, ...] | None) -> Any:
        """What a destroy of `selected` (None: everything) deletes: an object with `empty` and `view()`."""
        raise NotImplementedError

    def _delete(self, plan: Any) -> DestroyReport:
        """Delete what `plan` (from _destruction) names."""
        raise NotImplementedError
