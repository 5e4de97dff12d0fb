"""What a deploy would widen, found before it changes anything: IAM permissions granted anew or broadened
(actions, resources, principals), and resources replaced. `cdk deploy` asks before a change that broadens
security; so does this tool's deploy, in both modes (the engines call `widenings` with what is deployed and
what renders now, and ask their `confirm` callback with the Approval when there is any).

Found from the templates themselves (the deployed one: GetTemplate, or a StackSet's stored body; against the
one rendered now), so the question comes before the first change of the run: IAM statements are compared
statement by statement; a resource is replaced when its type changes or a create-only property of its type
changes (the CloudFormation resource schemas' createOnlyProperties, for the types this tool renders). A first
deploy widens exactly where it creates IAM: every role and grant it creates is listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.deploy.reports import Widening

# createOnlyProperties of the CloudFormation resource schemas (aws-cloudformation resource provider schemas, as
# cfn-lint ships them), for the types the templates render: changing one replaces the resource. A test checks
# this table against those schemas.
CREATE_ONLY_PROPERTIES: dict[str, frozenset[str]] = {
    "AWS::Lambda::Function": frozenset({"FunctionName", "PackageType", "TenancyConfig"}),
    "AWS::Logs::LogGroup": frozenset({"LogGroupName"}),
    "AWS::IAM::Role": frozenset({"Path", "RoleName"}),
    "AWS::Events::Rule": frozenset({"Name"}),
    "AWS::CloudWatch::Dashboard": frozenset({"DashboardName"}),
    "AWS::CloudWatch::Alarm": frozenset({"AlarmName"}),
    "AWS::Lambda::Permission": frozenset(
        {
            "FunctionName",
            "FunctionUrlAuthType",
            "InvokedViaFunctionUrl",
            "SourceAccount",
            "SourceArn",
            "Principal",
            "PrincipalOrgID",
            "Action",
            "EventSourceToken",
        }
    ),
    "AWS::Lambda::EventInvokeConfig": frozenset({"FunctionName", "Qualifier"}),
}


@dataclass(frozen=True)
class Grant:
    """One Allow statement, in sets: who (principals, for a trust policy), may do what (actions), on what."""

    actions: frozenset[str]
    resources: frozenset[str]
    principals: frozenset[str]
    conditions: str  # the Condition block as JSON text ("" when none): a grant only with the same conditions

    def beyond(self, other: Grant) -> Grant | None:
        """What this grant allows beyond `other` (None when `other` covers it)."""
        if self.conditions != other.conditions:
            return self
        added = Grant(
            self.actions - other.actions,
            self.resources - other.resources,
            self.principals - other.principals,
            self.conditions,
        )
        return None if not (added.actions or added.resources or added.principals) else added


def _strings(value: Any) -> frozenset[str]:
    """A policy field (one value or a list; strings or intrinsic functions) as a set of texts."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    return frozenset(item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in items)


def _principals(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, dict) and not any(key.startswith("Fn::") or key == "Ref" for key in value):
        return frozenset(f"{kind}:{item}" for kind, inner in value.items() for item in _strings(inner))
    return _strings(value)


def _grants(document: Any) -> list[Grant]:
    """The Allow statements of a policy document (a Deny never widens)."""
    statements = document.get("Statement") if isinstance(document, dict) else None
    statements = statements if isinstance(statements, list) else [statements] if statements else []
    grants = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        grants.append(
            Grant(
                _strings(statement.get("Action") or statement.get("NotAction")),
                _strings(statement.get("Resource") or statement.get("NotResource")),
                _principals(statement.get("Principal")),
                json.dumps(statement["Condition"], sort_keys=True) if "Condition" in statement else "",
            )
        )
    return grants


def resource_grants(resource: Mapping[str, Any]) -> dict[str, list[Grant]]:
    """{where in the resource: its grants} of an IAM-bearing resource: a role's trust policy and each inline
    policy (by name), a policy's document, its managed policies, a Lambda permission."""
    kind = resource.get("Type", "")
    properties = resource.get("Properties") or {}
    found: dict[str, list[Grant]] = {}
    if kind == "AWS::IAM::Role":
        found["trust policy"] = _grants(properties.get("AssumeRolePolicyDocument"))
        for policy in properties.get("Policies") or []:
            if isinstance(policy, dict):
                name = policy.get("PolicyName")
                found[f"policy {name if isinstance(name, str) else json.dumps(name)}"] = _grants(
                    policy.get("PolicyDocument")
                )
        if properties.get("ManagedPolicyArns"):
            arns = _strings(properties["ManagedPolicyArns"])
            found["managed policies"] = [Grant(frozenset({"(managed policy)"}), arns, frozenset(), "")]
    elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
        found["policy"] = _grants(properties.get("PolicyDocument"))
    elif kind == "AWS::Lambda::Permission":
        scope = {key: properties[key] for key in ("SourceArn", "SourceAccount") if key in properties}
        found["permission"] = [
            Grant(
                _strings(properties.get("Action")),
                _strings(properties.get("FunctionName")),
                _strings(properties.get("Principal")),
                json.dumps(scope, sort_keys=True) if scope else "",
            )
        ]
    return found


def _describe(grant: Grant, part: str) -> str:
    words = f"{part}: allows {', '.join(sorted(grant.actions)) or '(no new actions)'}"
    if grant.resources:
        words += f" on {', '.join(sorted(grant.resources))}"
    if grant.principals:
        words += f" to {', '.join(sorted(grant.principals))}"
    if grant.conditions:
        words += f" when {grant.conditions}"
    return words


def template_widenings(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(logical id, type, kind, detail) of everything `new` widens over `old` (None: nothing deployed yet)."""
    old_resources = (old or {}).get("Resources") or {}
    found: list[tuple[str, str, str, str]] = []
    for logical_id, resource in (new.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type", "?")
        before = old_resources.get(logical_id) if isinstance(old_resources.get(logical_id), dict) else None
        if before is not None:
            found += [(logical_id, kind, "replaces", why) for why in _replacement(before, resource)]
        old_grants = resource_grants(before) if before is not None and before.get("Type") == kind else {}
        for part, grants in resource_grants(resource).items():
            previous = old_grants.get(part, [])
            for grant in grants:
                added = _beyond_all(grant, previous)
                if added is not None:
                    found.append((logical_id, kind, "grants", _describe(added, part)))
    return found


def _beyond_all(grant: Grant, previous: list[Grant]) -> Grant | None:
    """What `grant` adds to the closest of `previous` (all of it when there is none)."""
    best: Grant | None = grant
    for other in previous:
        added = grant.beyond(other)
        if added is None:
            return None
        if best is None or _size(added) < _size(best):
            best = added
    return best


def _size(grant: Grant) -> int:
    return len(grant.actions) + len(grant.resources) + len(grant.principals)


def _replacement(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    if before.get("Type") != after.get("Type"):
        return [f"its type changes from {before.get('Type')} to {after.get('Type')}"]
    old, new = before.get("Properties") or {}, after.get("Properties") or {}
    return [
        f"{name} changes ({_short(old.get(name))} -> {_short(new.get(name))}), which {after.get('Type')} cannot "
        "change in place"
        for name in sorted(CREATE_ONLY_PROPERTIES.get(str(after.get("Type")), frozenset()))
        if old.get(name) != new.get(name)
    ]


def _short(value: Any) -> str:
    text = "(none)" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def stack_widenings(
    stack: str, pairs: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any]]]
) -> list[Widening]:
    """The widenings of one stack (StackSet) across the places it is deployed: `pairs` is (where, deployed
    template or None, template rendered now); places with the same widening are listed together."""
    grouped: dict[tuple[str, str, str, str], list[str]] = {}
    for where, old, new in pairs:
        for item in template_widenings(old, new):
            grouped.setdefault(item, []).append(where)
    return [Widening(stack, tuple(places), *item) for item, places in grouped.items()]
