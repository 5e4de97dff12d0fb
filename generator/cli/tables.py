"""The deploy engine's results as text tables for people: the deploy and destroy summary, the failures, the
status, what a destroy would delete, and the plan. The same on a terminal and in a pipe, and easy to read back.

Columns follow the data, never the deploy mode: an account column appears when a row has an account (a
StackSet instance), a StackSet's own row says StackSet there.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from generator.cli.fitted_tables import Column, fitted_table, wrapped
from generator.deploy import (
    Action,
    Approval,
    Deletion,
    DestroyPlan,
    DriftReport,
    DriftState,
    Inventory,
    Plan,
    PlannedChange,
    Replacement,
    ResourceDrift,
    StackPlan,
    StackResult,
    StackState,
)
from generator.errors import one_line, shown


def account_cell(account: str) -> str:
    """The account column of a StackSets run: the instance's account, or "StackSet" for the StackSet's own row."""
    return account or "StackSet"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain, aligned columns: the same on a terminal and in a pipe, and easy to read back by a script."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
        for line in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return "\n".join(lines)


def summary_table(
    results: Sequence[StackResult], endpoints: Mapping[str, str] | None = None, width: int | None = None
) -> str:
    """[account,] region, stack, action, duration, endpoint (each account's own listener on its rows; the
    reasons of failures are failure_lines()). With `width` (a terminal's), fitted to it."""
    accounts = any(result.account for result in results)

    def shown_endpoint(result: StackResult) -> str:
        found = (endpoints or {}).get(result.account, "")
        done = result.ok and result.action != Action.DELETED and not result.stack_set
        return found if done and found else "-"

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
    if width is not None:
        fit = {"action": (0, True), "endpoint": (1, True), "duration": (2, False)}
        names = (("account",) if accounts else ()) + headers
        return fitted_table([Column(name, *fit.get(name, (0, False))) for name in names], rows, width)
    return format_table((("account",) if accounts else ()) + headers, rows)


def failure_lines(results: Sequence[StackResult]) -> list[str]:
    """One line per stack short of what was asked: FAILED, SKIPPED or IN PROGRESS, where, and the reason (a
    StackSet instance's account first; a StackSet's own row says StackSet)."""
    return [f"{r.action.upper()} {_where(r)}: {one_line(r.reason)}" for r in results if not r.ok]


def _where(result: StackResult) -> str:
    if result.stack_set:
        return f"StackSet {result.stack} in {result.region}"
    return f"{result.account} {result.region} {result.stack}" if result.account else f"{result.region} {result.stack}"


# --- status --------------------------------------------------------------------------------------------

UNREACHABLE_LISTED = 3  # places that could not be checked, named one per line; more are summed up in one


def format_status(source: str, found: Inventory, width: int | None = None) -> str:
    """One row per stack, StackSet instance and StackSet; the columns that some row fills; then a line per
    orphan and what could not be checked. Plain aligned text, or with `width` (a terminal's) fitted to it:
    the ARN and the note fold, and the columns of least use are left out first."""
    columns: list[tuple[str, Any]] = [
        ("region", lambda s: s.region),
        ("stack", lambda s: s.stack),
        ("status", lambda s: s.status),
        ("last operation", lambda s: s.last_operation),
        ("drift (checked)", _drift_cell),
        ("last update", lambda s: s.last_update),
        ("endpoint / function ARN", lambda s: s.endpoint or s.function_arn),
        ("note", _status_note),
    ]
    if any(state.account or state.stack_set for state in found.stacks):
        columns.insert(0, ("account", lambda s: account_cell(s.account)))
    shown_columns = [(name, cell) for name, cell in columns if name in _ALWAYS or any(cell(s) for s in found.stacks)]
    rows = [[cell(state) or ("" if name == "note" else "-") for name, cell in shown_columns] for state in found.stacks]
    if width is None:
        lines = [format_table([name for name, _ in shown_columns], rows)]
    else:  # on a terminal an empty note column takes no room
        used = [i for i, (name, _) in enumerate(shown_columns) if name != "note" or any(row[i] for row in rows)]
        fitted = [Column(shown_columns[i][0], *_STATUS_FIT.get(shown_columns[i][0], (0, False))) for i in used]
        lines = [fitted_table(fitted, [[row[i] for i in used] for row in rows], width)]
    notes = []
    for state in found.stacks:
        if state.reason and state.last_operation not in ("", "SUCCEEDED"):
            notes.append(f"{state.stack} in {state.account} {state.region}: {one_line(state.reason)}")
    configured_accounts = {state.account for state in found.stacks if not state.orphan}
    for orphan in found.orphans:
        what = (
            f"{orphan.stack} instance in {orphan.account} {orphan.region}"
            if orphan.account
            else (f"{orphan.stack} in {orphan.region}")
        )
        where = "stacksets.accounts" if orphan.account and orphan.account not in configured_accounts else "regions"
        notes.append(f"orphan: {what} is not in {source}'s {where} (`make destroy` without REGIONS removes it)")
    notes += unreachable_lines(found.unreachable)
    return "\n".join(lines + [line for note in notes for line in wrapped(note, width)])


# (rank, wraps) of the status columns on a terminal: the region, stack and status always stay; the note (an
# orphan, what differs from the config) and the endpoint or ARN fold; when even so the table is too wide, drift
# goes first, then the last update's time, the last operation, and the endpoint or ARN (`--json` has it).
_STATUS_FIT = {
    "note": (1, True),
    "endpoint / function ARN": (2, True),
    "last operation": (3, False),
    "last update": (4, False),
    "drift": (5, False),
}


_ALWAYS = ("account", "region", "stack", "status", "note")


def _drift_cell(state: StackState) -> str:
    """The last drift detection's result and when it ran (`make drift`); NOT_CHECKED before the first."""
    if state.last_drift_check:
        return f"{state.drift_status} ({state.last_drift_check})"
    return state.drift_status


def _status_note(state: StackState) -> str:
    if state.orphan:
        return "orphan"
    if state.differences:  # a StackSet's template or roles; an instance's own Proxylity values
        return "differs from the config: " + ", ".join(state.differences)
    return ""


def unreachable_lines(unreachable: Mapping[str, str]) -> list[str]:
    """What could not be checked: each place with AWS's answer, or (opt-in regions, mostly) one summing line."""
    if len(unreachable) <= UNREACHABLE_LISTED:
        return [f"could not check {where}: {one_line(why)}" for where, why in unreachable.items()]
    first = one_line(next(iter(unreachable.values())))
    return [
        f"could not check {len(unreachable)} places (opt-in regions not enabled? no permission?): "
        f"{', '.join(sorted(unreachable))}; first error: {first}"
    ]


# --- destroy ---------------------------------------------------------------------------------------------


def format_destroy_plan(plan: DestroyPlan) -> str:
    """What a destroy deletes, a line each in the order it goes, and what it keeps."""
    lines = []
    for index, deletion in enumerate(plan.deletions):
        where = f"{deletion.account} {deletion.region}" if deletion.account else deletion.region
        what = f"StackSet {deletion.stack}" if deletion.stack_set else deletion.stack
        lines.append(f"  {what} in {where}{_deletion_note(deletion, last=0 < index == len(plan.deletions) - 1)}")
    lines += [f"  (keeping {kept.what}: {kept.why})" for kept in plan.kept]
    return "\n".join(lines)


def _deletion_note(deletion: Deletion, last: bool) -> str:
    if deletion.orphan:
        return " (orphan)"
    if last:
        return " (last)"
    return " (after its instances)" if deletion.stack_set else ""


def format_approval(approval: Approval) -> str:
    """What a deploy widens, per stack and resource, in full (an IAM grant is never cut: it is what is asked):
    `+ what it grants` and `replaced: why` under each resource."""
    lines = []
    heading = None
    for widening in approval.widenings:
        where = ", ".join(widening.where)
        resource = f"  {widening.stack} in {where}: {widening.resource} ({widening.resource_type})"
        if resource != heading:
            lines.append(resource)
            heading = resource
        lines.append(f"      {'+ ' if widening.kind == 'grants' else 'replaced: '}{widening.detail}")
    return "\n".join(lines)


# --- drift ---


def format_drift(report: DriftReport) -> str:
    """Per stack (StackSet instance): in sync, drifted or why it could not be checked; per drifted resource,
    each property expected -> actual; the resources CloudFormation does not check, said so. Ends with a count."""
    lines = []
    for stack in report.stacks:
        where = f"{stack.account} {stack.region}" if stack.account else stack.region
        when = f" (checked {stack.checked_at})" if stack.checked_at else ""
        reason = f" - {one_line(stack.reason)}" if stack.reason else ""
        lines.append(f"{stack.stack} ({where}): {stack.state}{when}{reason}")
        for resource in stack.resources:
            lines.append(f"  {resource.logical_id} ({resource.resource_type}) {_resource_drift_words(resource)}")
            lines += [
                f"      {item.path.lstrip('/') or '(the resource)'}: "
                f"{_drift_value(item.expected)} -> {_drift_value(item.actual)}"
                for item in resource.differences
            ]
    drifted = sum(stack.state is DriftState.DRIFTED for stack in report.stacks)
    lines.append(f"{drifted} of {len(report.stacks)} stacks drifted")
    if drifted:
        lines.append(DRIFT_NOTE)
    return "\n".join(lines)


DRIFT_NOTE = (
    "A deploy of an unchanged template does not undo drift (CloudFormation sees nothing to change): set the value "
    "back by hand, or change it in the config so that deploy updates that resource."
)


def _resource_drift_words(resource: ResourceDrift) -> str:
    if resource.status == "MODIFIED":
        return f"{resource.physical_id}: modified"
    if resource.status == "DELETED":
        return f"{resource.physical_id}: deleted outside CloudFormation"
    if resource.custom:
        return "not checked: CloudFormation does not check custom resources for drift"
    return "not checked: drift detection does not cover this resource"


def _drift_value(value: str) -> str:
    return one_line(value) if value else "(none)"


# --- plan --------------------------------------------------------------------------------------------

VALUE_SHOWN = 100  # characters of a property's old and new value shown in a plan (an IAM change is shown whole)


def format_plan(plan: Plan) -> str:
    """Per stack: what would happen; per resource: the action, replacement and IAM flags; per property:
    old -> new. A change to IAM is shown in full, a policy statement by statement. Ends with a one-line count."""
    lines = []
    for stack_plan in plan.stacks:
        header = f"{stack_plan.stack} ({_plan_where(stack_plan)}): {stack_plan.kind}"
        lines.append(header + (f" - {one_line(stack_plan.reason)}" if stack_plan.reason else ""))
        for change in stack_plan.changes:
            flags = ("  IAM" if change.touches_iam else "") + _replacement_flag(change)
            lines.append(f"  {change.action:<7} {change.logical_id} ({change.resource_type}){flags}")
            for prop in change.properties:
                note = f"  (replaces the resource: {prop.recreation})" if prop.replaces else ""
                differences = property_differences(prop.name, prop.before, prop.after, in_full=change.touches_iam)
                for path, before, after in differences:
                    lines.append(f"          {path}: {before} -> {after}{note}")
    lines.append(plan_summary(plan))
    return "\n".join(lines)


def _replacement_flag(change: PlannedChange) -> str:
    if not change.replaces:
        return ""
    return "  REPLACEMENT" if change.replacement == Replacement.TRUE else f"  replacement {change.replacement}"


def _plan_where(stack_plan: StackPlan) -> str:
    if stack_plan.stack_set:
        return f"StackSet in {stack_plan.region}"
    return f"{stack_plan.account} {stack_plan.region}" if stack_plan.account else stack_plan.region


MAX_DIFFERENCES_SHOWN = 12  # per property; the rest is counted (an IAM change is shown whole)


def property_differences(
    name: str, before: str | None, after: str | None, in_full: bool = False
) -> list[tuple[str, str, str]]:
    """(where, old, new) for each value that differs inside a property, e.g.
    ("Destinations[0].Batching.Count", "10", "50"); the whole values when they are not JSON. `in_full` (an IAM
    change): no value is cut, every difference is listed, and a policy added or removed is shown statement by
    statement, each statement whole."""
    try:
        old, new = _json_or_missing(before), _json_or_missing(after)
    except ValueError:
        return [(name, _value(before, in_full), _value(after, in_full))]
    found: list[tuple[str, str, str]] = []
    _Walk(found, in_full).walk(name, old, new)
    if len(found) > MAX_DIFFERENCES_SHOWN and not in_full:
        more = len(found) - MAX_DIFFERENCES_SHOWN
        found = [*found[:MAX_DIFFERENCES_SHOWN], (name, f"... and {more} more difference(s)", "")]
    return found


_MISSING = object()
_STATEMENT = re.compile(r"(?:^|\.)Statement(?:\[\d+\])?$")  # a policy statement, or the one a policy holds alone


def _json_or_missing(text: str | None) -> Any:
    return _MISSING if text is None else json.loads(text)


class _Walk:
    """The differences between two JSON values, one (path, old, new) each."""

    def __init__(self, found: list[tuple[str, str, str]], in_full: bool) -> None:
        self.found, self.in_full = found, in_full

    def walk(self, path: str, old: Any, new: Any) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                self.walk(f"{path}.{key}", old.get(key, _MISSING), new.get(key, _MISSING))
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for index, (item_old, item_new) in enumerate(zip(old, new, strict=True)):
                self.walk(f"{path}[{index}]", item_old, item_new)
        elif isinstance(old, list) and isinstance(new, list):  # items came or went: name those, not the whole list
            for index, item in enumerate(old):
                if item not in new:
                    self.walk(f"{path}[{index}]", item, _MISSING)
            for index, item in enumerate(new):
                if item not in old:
                    self.walk(f"{path}[{index}]", _MISSING, item)
        elif self.in_full and (old is _MISSING) != (new is _MISSING):
            self.added_or_removed(path, old, new)
        elif old != new:
            self.found.append((path, self.shown(old), self.shown(new)))

    def added_or_removed(self, path: str, old: Any, new: Any) -> None:
        """A value of an IAM change that one side lacks: a mapping or list down to its statements, each whole."""
        present = new if old is _MISSING else old
        if isinstance(present, dict) and _STATEMENT.search(path):
            parts = []  # a statement: one line, whole
        elif isinstance(present, dict):
            parts = [(f"{path}.{key}", present[key]) for key in sorted(present)]
        elif isinstance(present, list):
            parts = [(f"{path}[{index}]", item) for index, item in enumerate(present)]
        else:
            parts = []
        if not parts:
            if old != new:
                self.found.append((path, self.shown(old), self.shown(new)))
            return
        for inner, item in parts:
            self.walk(inner, _MISSING, item) if old is _MISSING else self.walk(inner, item, _MISSING)

    def shown(self, value: Any) -> str:
        return "(none)" if value is _MISSING else _value(json.dumps(value, sort_keys=True), self.in_full)


def _value(text: str | None, in_full: bool = False) -> str:
    if text is None:
        return "(none)"
    if in_full:
        return one_line(text, limit=sys.maxsize)
    return shown(one_line(text), limit=VALUE_SHOWN, quote=False)


def plan_summary(plan: Plan) -> str:
    changing = [p for p in plan.stacks if p.kind.changes_something]
    changes = [change for p in plan.stacks for change in p.changes]
    iam = sum(change.touches_iam for change in changes)
    replaced = sum(change.replaces for change in changes)
    failed = len(plan.failed)
    if not changing and not failed:
        return "plan: no changes"
    return (
        f"plan: {len(changing)} of {len(plan.stacks)} stacks would change ({len(changes)} resource changes, "
        f"{iam} touching IAM, {replaced} replacing a resource)" + (f"; {failed} could not be planned" if failed else "")
    )
