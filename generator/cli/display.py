"""How the deploy engine's events and results are shown: the live per-stack display, the summary tables,
the plan, the status, and the same as JSON for scripts.

On a terminal the live display is a rich Live table that fits the terminal's width and redraws in place;
anywhere else (a pipe, a log, CI) each change is one plain line, so logs stay readable.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.table import Table

from generator.deploy import (
    DeployReport,
    DestroyPlan,
    Event,
    Inventory,
    Notice,
    StackPlan,
    StackProgress,
    StackQueued,
    StackResult,
    Waiting,
)
from generator.deploy.stacksets import StackSetDeployReport, StackSetDestroyPlan, StackSetInventory
from generator.errors import one_line, shown

REFRESHES_PER_SECOND = 4  # the live table's clock ticks this often


@dataclass
class _Row:
    region: str
    stack: str
    account: str = ""  # a StackSet instance's account
    state: str = "waiting"
    event: str = ""
    started: float | None = None
    finished: float | None = None

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started


class ProgressDisplay:
    """The on_event callback of deploy, plan and destroy: `with ProgressDisplay() as show: deploy(...,
    on_event=show)`. Thread-safe (events come from the region workers)."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None, console: Console | None = None) -> None:
        self._stream = stream  # None: sys.stdout as it is when a line is written
        self._console = console  # the live display's; None: one on the stream, as wide as the terminal
        self.live = self._out().isatty() if live is None else live
        self._rows: dict[tuple[str, str, str], _Row] = {}  # (account, region, stack)
        self._lock = threading.Lock()
        self._live: Live | None = None

    def _out(self) -> TextIO:
        return self._stream or sys.stdout

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            console = self._console or Console(file=self._out())
            self._live = Live(self, console=console, refresh_per_second=REFRESHES_PER_SECOND, transient=False)
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()  # the final table stays on screen
            self._live = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, StackQueued):
            with self._lock:
                key = (event.account, event.region, event.stack)
                self._rows.setdefault(key, _Row(event.region, event.stack, event.account))
        elif isinstance(event, StackProgress):
            self._progress(event)
        elif isinstance(event, Notice):
            self._say(event.text, self._out())
        elif isinstance(event, Waiting):
            self._say(event.text, sys.stderr)

    def _progress(self, event: StackProgress) -> None:
        with self._lock:
            key = (event.account, event.region, event.stack)
            row = self._rows.setdefault(key, _Row(event.region, event.stack, event.account))
            accounts = self._accounts()
            now = time.monotonic()
            if row.started is None:
                row.started = now
            changed = event.state != row.state or (event.event is not None and event.event != row.event)
            row.state = event.state
            if event.event is not None:
                row.event = event.event
            if event.final:
                row.finished = now
            line = plain_progress_line(row, now, accounts) if changed and not self.live else None
        if line is not None:
            self._say(line, self._out())

    def _accounts(self) -> bool:
        """Whether the rows have an account column: StackSet instances, each in its own account."""
        return any(row.account for row in self._rows.values())

    def _say(self, text: str, stream: TextIO) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            stream.write(text + "\n")
            stream.flush()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The live table, built afresh at each refresh (so the clock ticks) for the terminal's width: the first
        four columns (five with accounts) as wide as their widest cell, the latest event in what is left, cut
        with an ellipsis."""
        now = time.monotonic()
        with self._lock:
            accounts = self._accounts()  # StackSets: an account column first
            rows = [
                (
                    *((account_cell(r.account),) if accounts else ()),
                    r.region,
                    r.stack,
                    r.state,
                    f"{r.elapsed(now):.1f}s",
                )
                + (r.event,)
                for r in self._rows.values()
            ]
        names = (*(("account",) if accounts else ()), "region", "stack", "state", "time")
        widths = [max([len(name), *(len(row[index]) for row in rows)]) for index, name in enumerate(names)]
        left = options.max_width - sum(widths) - 2 * len(widths)  # two spaces between columns
        table = Table(box=None, pad_edge=False, expand=False, show_edge=False)
        for name, width in zip(names, widths, strict=True):
            table.add_column(name, no_wrap=True, width=width, justify="right" if name == "time" else "left")
        table.add_column("latest event", overflow="ellipsis", no_wrap=True, width=max(left, 1))
        for row in rows:
            table.add_row(*row)
        yield table


def plain_progress_line(row: _Row, now: float, accounts: bool = False) -> str:
    event = f"  {one_line(row.event)}" if row.event else ""
    account = f"{account_cell(row.account):<12} " if accounts else ""
    return f"{account}{row.region:<15} {row.stack:<28} {row.state:<26} {row.elapsed(now):6.1f}s{event}"


def account_cell(account: str) -> str:
    """The account column of a StackSets run: the instance's account, or "StackSet" for the StackSet's own row."""
    return account or "StackSet"


# --- tables ----------------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain, aligned columns: the same on a terminal and in a pipe, and easy to read back by a script."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
        for line in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return "\n".join(lines)


def summary_table(results: Sequence[StackResult], endpoint: str, endpoints: Mapping[str, str] | None = None) -> str:
    """region, stack, action, duration, endpoint (the reasons of failures are failure_lines()). With StackSets
    an account column first, and each account's own endpoint (`endpoints`) on its rows."""
    accounts = any(result.account for result in results)

    def shown_endpoint(result: StackResult) -> str:
        found = (endpoints or {}).get(result.account, "") if accounts else endpoint
        return found if result.ok and result.action != "deleted" and found and not result.stack_set else "-"

    rows = [
        (
            *((account_cell(result.account),) if accounts else ()),
            result.region,
            result.stack,
            result.action + (f" ({result.note})" if result.note else ""),
            f"{result.duration:.1f}s",
            shown_endpoint(result),
        )
        for result in results
    ]
    headers = ("region", "stack", "action", "duration", "endpoint")
    return format_table((("account",) if accounts else ()) + headers, rows)


def failure_lines(results: Sequence[StackResult]) -> list[str]:
    """One line per stack short of what was asked: FAILED (or SKIPPED), region, stack and the reason (a
    StackSet instance's account first; a StackSet's own row says StackSet)."""
    return [f"{r.action.upper()} {_where(r)}: {one_line(r.reason)}" for r in results if not r.ok]


def _where(result: StackResult) -> str:
    if result.stack_set:
        return f"StackSet {result.stack} in {result.region}"
    return f"{result.account} {result.region} {result.stack}" if result.account else f"{result.region} {result.stack}"


def format_status(source: str, found: Inventory) -> str:
    rows = [
        (s.region, s.stack, s.status, s.last_update or "-", s.function_arn or "-", "orphan" if s.orphan else "")
        for s in [found.global_stack, *found.regional]
    ]
    lines = [format_table(("region", "stack", "status", "last update", "function ARN", "note"), rows)]
    for orphan in found.orphans:
        lines.append(
            f"orphan: {orphan.stack} in {orphan.region} is not in {source}'s regions "
            "(`make destroy` without REGIONS removes it)"
        )
    if found.unreachable:
        # On AWS these are mostly opt-in regions the account has not enabled: one line, not thirty.
        regions = ", ".join(sorted(found.unreachable))
        first_error = next(iter(found.unreachable.values()))
        lines.append(
            f"could not check {len(found.unreachable)} region(s) for orphans (opt-in regions not enabled?): "
            f"{regions}; first error: {first_error}"
        )
    return "\n".join(lines)


def format_destroy_plan(plan: DestroyPlan) -> str:
    lines = [f"  {s.stack} in {s.region}{' (orphan)' if s.orphan else ''}" for s in plan.regional]
    if plan.delete_global:
        lines.append(f"  {plan.global_stack.stack} in {plan.global_stack.region} (last)")
    elif plan.global_stack.status != "absent":
        if plan.kept:
            kept = ", ".join(s.region for s in plan.kept)
            lines.append(f"  (keeping {plan.global_stack.stack}: regional stacks remain in {kept})")
        for region, error in plan.unchecked.items():
            lines.append(f"  (keeping {plan.global_stack.stack}: could not check {region}: {error})")
    return "\n".join(lines)


# --- plan --------------------------------------------------------------------------------------------

VALUE_SHOWN = 100  # characters of a property's old and new value shown in a plan


def format_plan(plans: Sequence[StackPlan]) -> str:
    """Per stack: what would happen; per resource: the action, replacement and IAM flags; per property:
    old -> new. Ends with a one-line count."""
    lines = []
    for stack_plan in plans:
        header = f"{stack_plan.stack} ({_plan_where(stack_plan)}): {stack_plan.kind}"
        lines.append(header + (f" - {one_line(stack_plan.reason)}" if stack_plan.reason else ""))
        for change in stack_plan.changes:
            flags = ("  IAM" if change.touches_iam else "") + ("  REPLACEMENT" if change.replacement == "True" else "")
            if change.replacement == "Conditional":
                flags += "  replacement Conditional"
            lines.append(f"  {change.action:<7} {change.logical_id} ({change.resource_type}){flags}")
            for prop in change.properties:
                recreation = prop.recreation in ("Always", "Conditionally")
                note = f"  (replaces the resource: {prop.recreation})" if recreation else ""
                for path, before, after in property_differences(prop.name, prop.before, prop.after):
                    lines.append(f"          {path}: {before} -> {after}{note}")
    lines.append(plan_summary(plans))
    return "\n".join(lines)


def _plan_where(stack_plan: StackPlan) -> str:
    if stack_plan.stack_set:
        return f"StackSet in {stack_plan.region}"
    return f"{stack_plan.account} {stack_plan.region}" if stack_plan.account else stack_plan.region


MAX_DIFFERENCES_SHOWN = 12  # per property; the rest is counted


def property_differences(name: str, before: str | None, after: str | None) -> list[tuple[str, str, str]]:
    """(where, old, new) for each value that differs inside a property, e.g.
    ("Destinations[0].Batching.Count", "10", "50"); the whole values when they are not JSON."""
    try:
        old, new = _json_or_missing(before), _json_or_missing(after)
    except ValueError:
        return [(name, _value(before), _value(after))]
    found: list[tuple[str, str, str]] = []
    _walk(name, old, new, found)
    if len(found) > MAX_DIFFERENCES_SHOWN:
        more = len(found) - MAX_DIFFERENCES_SHOWN
        found = [*found[:MAX_DIFFERENCES_SHOWN], (name, f"... and {more} more difference(s)", "")]
    return found


_MISSING = object()


def _json_or_missing(text: str | None) -> Any:
    return _MISSING if text is None else json.loads(text)


def _walk(path: str, old: Any, new: Any, found: list[tuple[str, str, str]]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _walk(f"{path}.{key}", old.get(key, _MISSING), new.get(key, _MISSING), found)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (item_old, item_new) in enumerate(zip(old, new, strict=True)):
            _walk(f"{path}[{index}]", item_old, item_new, found)
    elif isinstance(old, list) and isinstance(new, list):  # items came or went: name those, not the whole list
        found.extend(
            (f"{path}[{index}]", _shown_json(item), "(none)") for index, item in enumerate(old) if item not in new
        )
        found.extend(
            (f"{path}[{index}]", "(none)", _shown_json(item)) for index, item in enumerate(new) if item not in old
        )
    elif old != new:
        found.append((path, _shown_json(old), _shown_json(new)))


def _shown_json(value: Any) -> str:
    return "(none)" if value is _MISSING else _value(json.dumps(value, sort_keys=True))


def _value(text: str | None) -> str:
    return "(none)" if text is None else shown(one_line(text), limit=VALUE_SHOWN, quote=False)


def plan_summary(plans: Sequence[StackPlan]) -> str:
    changing = [p for p in plans if p.kind.changes_something]
    changes = [change for p in plans for change in p.changes]
    iam = sum(change.touches_iam for change in changes)
    replaced = sum(change.replaces for change in changes)
    failed = sum(p.kind == "failed" for p in plans)
    if not changing and not failed:
        return "plan: no changes"
    return (
        f"plan: {len(changing)} of {len(plans)} stacks would change ({len(changes)} resource changes, "
        f"{iam} touching IAM, {replaced} replacing a resource)" + (f"; {failed} could not be planned" if failed else "")
    )


# --- JSON, for scripts (--json) ------------------------------------------------------------------------


def result_as_json(result: StackResult) -> dict[str, Any]:
    return {
        "region": result.region,
        "stack": result.stack,
        "action": str(result.action),
        "status": result.status,
        "reason": result.reason,
        "note": result.note,
        "seconds": round(result.duration, 3),
        "stack_id": result.stack_id,
        "outputs": result.outputs,
        **({"account": result.account} if result.account else {}),
        **({"stack_set": True} if result.stack_set else {}),
    }


def deploy_report_as_json(report: DeployReport | StackSetDeployReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "endpoint": report.endpoint,
        "stacks": [result_as_json(result) for result in report.results],
        "outputs_file": str(report.outputs_path) if report.outputs_path else None,
        "warnings": report.warnings,
        **({"endpoints": report.endpoints} if getattr(report, "endpoints", None) else {}),
    }


def plans_as_json(plans: Sequence[StackPlan]) -> dict[str, Any]:
    return {
        "changes": any(p.kind.changes_something for p in plans),
        "stacks": [
            {
                "region": p.region,
                "stack": p.stack,
                **({"account": p.account} if p.account else {}),
                **({"stack_set": True} if p.stack_set else {}),
                "kind": str(p.kind),
                "reason": p.reason,
                "changes": [
                    {
                        "action": change.action,
                        "logical_id": change.logical_id,
                        "resource_type": change.resource_type,
                        "replacement": change.replacement,
                        "iam": change.touches_iam,
                        "properties": [
                            {"name": prop.name, "change": prop.change, "before": prop.before, "after": prop.after}
                            for prop in change.properties
                        ],
                    }
                    for change in p.changes
                ],
            }
            for p in plans
        ],
    }


def inventory_as_json(found: Inventory) -> dict[str, Any]:
    def state(s: Any) -> dict[str, Any]:
        return {
            "region": s.region,
            "stack": s.stack,
            "status": s.status,
            "last_update": s.last_update,
            "function_arn": s.function_arn,
            "orphan": s.orphan,
        }

    return {
        "global": state(found.global_stack),
        "regional": [state(s) for s in found.regional],
        "unreachable": found.unreachable,
    }


# --- StackSets -----------------------------------------------------------------------------------------


def format_stackset_status(source: str, found: StackSetInventory) -> str:
    """Each StackSet (and whether it holds what the config renders), then every instance: account, region,
    status, the last operation's outcome, drift, and its endpoint or function ARN; orphans named."""
    lines = [
        format_table(
            ("StackSet", "region", "status", "as the config renders it"),
            [(s.name, s.region, s.status, s.in_step or "-") for s in found.stack_sets],
        ),
        "",
    ]
    rows = [
        (
            s.account,
            s.region,
            s.stack_set,
            s.status,
            s.detailed_status or "-",
            s.drift_status or "-",
            s.endpoint or s.function_arn or "-",
            "orphan" if s.orphan else "",
        )
        for s in found.instances
    ]
    headers = ("account", "region", "stack set", "status", "last operation", "drift", "endpoint / function ARN", "note")
    lines.append(format_table(headers, rows))
    for state in found.instances:
        if state.reason and state.detailed_status != "SUCCEEDED":
            lines.append(f"{state.stack_set} in {state.account} {state.region}: {one_line(state.reason)}")
    for orphan in found.orphans:
        where = (
            "stacksets.accounts"
            if orphan.account not in {s.account for s in found.instances if not s.orphan}
            else "regions"
        )
        lines.append(
            f"orphan: {orphan.stack_set} instance in {orphan.account} {orphan.region} is not in {source}'s {where} "
            "(`make deploy` or `make destroy` removes it)"
        )
    for where, why in found.unreadable.items():
        lines.append(f"could not read {where}: {one_line(why)}")
    return "\n".join(lines)


def stackset_inventory_as_json(found: StackSetInventory) -> dict[str, Any]:
    return {
        "stack_sets": [
            {"name": s.name, "region": s.region, "status": s.status, "in_step": s.in_step} for s in found.stack_sets
        ],
        "instances": [
            {
                "account": s.account,
                "region": s.region,
                "stack_set": s.stack_set,
                "status": s.status,
                "detailed_status": s.detailed_status,
                "reason": s.reason,
                "drift_status": s.drift_status,
                "last_drift_check": s.last_drift_check,
                "stack_id": s.stack_id,
                "endpoint": s.endpoint,
                "function_arn": s.function_arn,
                "orphan": s.orphan,
            }
            for s in found.instances
        ],
        "unreadable": found.unreadable,
    }


def format_stackset_destroy_plan(plan: StackSetDestroyPlan) -> str:
    orphans = set(plan.orphans)
    lines = [
        f"  {plan.regional_set} in {account} {region}{' (orphan)' if (account, region) in orphans else ''}"
        for account, region in plan.regional
    ]
    if plan.delete_regional_set:
        lines.append(f"  StackSet {plan.regional_set} in {plan.region} (after its instances)")
    lines += [f"  {plan.global_set} in {account} {region}" for account, region in plan.global_instances]
    if plan.delete_global_set:
        lines.append(f"  StackSet {plan.global_set} in {plan.region} (last)")
    if plan.kept:
        kept = ", ".join(f"{account} {region}" for account, region in plan.kept)
        lines.append(f"  (keeping both StackSets: regional instances remain in {kept})")
    return "\n".join(lines)
