"""The deploy engine's results as JSON documents for scripts (--json): one document on stdout per command,
the same shape in both deploy modes (a StackSet instance's row has its account, a StackSet's own row
`"stack_set": true`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from generator.deploy import (
    DeployReport,
    DestroyPlan,
    DestroyReport,
    DriftReport,
    Inventory,
    Plan,
    PropertyChange,
    StackResult,
)
from generator.errors import GeneratorError, Problem


def print_json(document: dict[str, Any]) -> None:
    """The one document a --json command prints on stdout (its notes and progress go to stderr)."""
    print(json.dumps(document, indent=2, default=str), flush=True)


def print_json_line(document: dict[str, Any]) -> None:
    """One document on one line, for a stream that has no end (logs --follow --json: JSON Lines)."""
    print(json.dumps(document, separators=(",", ":"), default=str), flush=True)


def problem_as_json(problem: Problem) -> dict[str, Any]:
    """A problem as a script reads it: the file (or flag), line, key path and message apart."""
    return {
        "source": problem.source,
        "line": problem.line,
        "key_path": problem.key_path or None,
        "message": problem.message,
    }


def error_as_json(error: GeneratorError) -> dict[str, Any]:
    """What a --json command prints when it is refused or fails before its own document (the lines are on
    stderr as well): {"ok": false, "exit_code": 2, "problems": [...]}."""
    return {"ok": False, "exit_code": int(error.exit_code), "problems": [problem_as_json(p) for p in error.problems]}


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


def deploy_report_as_json(report: DeployReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "cancelled": report.cancelled,
        "widens": [asdict(widening) for widening in report.approval.widenings],
        "endpoint": report.endpoint,
        "endpoints": report.endpoints,
        "stacks": [result_as_json(result) for result in report.results],
        "outputs_file": str(report.outputs_path) if report.outputs_path else None,
        "warnings": report.warnings,
    }


def destroy_report_as_json(report: DestroyReport, plan: DestroyPlan | None = None) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "cancelled": report.cancelled,
        "planned": [asdict(deletion) for deletion in plan.deletions] if plan else [],
        "kept": [asdict(kept) for kept in plan.kept] if plan else [],
        "stacks": [result_as_json(result) for result in report.results],
        "notes": report.notes,
        "warnings": report.warnings,
    }


def plan_as_json(plan: Plan) -> dict[str, Any]:
    return {
        "changes": plan.changes_something,
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
                        "replaces": change.replaces,
                        "iam": change.touches_iam,
                        "properties": [_property_as_json(prop) for prop in change.properties],
                    }
                    for change in p.changes
                ],
            }
            for p in plan.stacks
        ],
    }


def _property_as_json(prop: PropertyChange) -> dict[str, Any]:
    """before and after as JSON values (a number, a mapping), not JSON text inside a string; a value
    CloudFormation gives as plain text stays text; absent (added, removed) is null."""
    return {"name": prop.name, "change": prop.change, "before": _value(prop.before), "after": _value(prop.after)}


def _value(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def drift_as_json(report: DriftReport) -> dict[str, Any]:
    return {
        "drifted": report.drifted,
        "failed": report.failed,
        "stacks": [
            {
                **asdict(stack),
                "resources": [
                    {**asdict(resource), "drifted": resource.drifted, "custom": resource.custom}
                    for resource in stack.resources
                ],
            }
            for stack in report.stacks
        ],
    }


def inventory_as_json(found: Inventory) -> dict[str, Any]:
    return {
        "stacks": [
            {
                "region": s.region,
                "stack": s.stack,
                "status": s.status,
                **({"account": s.account} if s.account else {}),
                **({"stack_set": True, "differences": list(s.differences)} if s.stack_set else {}),
                "last_update": s.last_update,
                "endpoint": s.endpoint,
                "function_arn": s.function_arn,
                "orphan": s.orphan,
                "stack_id": s.stack_id,
                "last_operation": s.last_operation,
                "reason": s.reason,
                "drift_status": s.drift_status,
                "last_drift_check": s.last_drift_check,
            }
            for s in found.stacks
        ],
        "unreachable": found.unreachable,
    }
