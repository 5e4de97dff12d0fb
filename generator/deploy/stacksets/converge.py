"""Making a StackSet what its spec says, and removing instances, through watched operations; every instance an
outcome row (StackResult with its account), never an exception for what AWS does.

What each instance's status means is instance_states.classify_instance's; which instances go together in
one call is specs.target_groups'. Operations of one StackSet run one after another (ManagedExecution is on,
so one another run started meanwhile is queued, not refused).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from generator.config import Config
from generator.deploy.clients import AWS_FAULTS, ENDPOINT_FAULTS, fault_text
from generator.deploy.events import EventRelay
from generator.deploy.reports import Action, StackResult
from generator.deploy.stacksets.instance_states import InstanceCondition, StackSetState, describe_instance
from generator.deploy.stacksets.operations import (
    InstanceOutcome,
    OperationOutcome,
    new_operation_id,
    operation_taken,
    start_operation,
    watch_operation,
)
from generator.deploy.stacksets.specs import Instance, StackSetSpec, operation_preferences, target_groups
from generator.deploy.statuses import OperationResultStatus, OperationStatus

ACTIONS = {
    "create_stack_instances": "CREATE",
    "update_stack_set": "UPDATE",
    "update_stack_instances": "UPDATE",
    "delete_stack_instances": "DELETE",
}
NOT_STARTED = "NOT_STARTED"  # the status of an instance whose operation CloudFormation refused to start
OUT_OF_SIGHT = "OUT_OF_SIGHT"  # ... of one CloudFormation took, whose end this run did not see


class StackSetRun:
    """The operations one deploy or destroy runs on the administrator account's StackSets."""

    def __init__(
        self, config: Config, client: Any, relay: EventRelay, poll_interval: float, stop: threading.Event
    ) -> None:
        self.config = config
        self.client = client
        self.relay = relay
        self.poll_interval = poll_interval
        self.stop = stop

    # --- rows ----------------------------------------------------------------------------------------

    def queue(self, spec: StackSetSpec, instances: Iterable[Instance]) -> None:
        """Show the StackSet and these instances of it before anything starts."""
        self.relay.queued(spec.region, spec.name)
        for account, region in instances:
            self.relay.queued(region, spec.name, account)

    def row(
        self, spec: StackSetSpec, instance: Instance, action: Action, reason: str = "", status: str = ""
    ) -> StackResult:
        """A row decided without an operation (unchanged, skipped), shown as final at once."""
        account, region = instance
        return self.relay.decided(region, spec.name, action, reason, account=account, status=status)

    def set_row(self, spec: StackSetSpec) -> StackResult:
        return StackResult(spec.region, spec.name, Action.UNCHANGED, started=time.monotonic(), stack_set=True)

    def finish_set_row(self, result: StackResult) -> StackResult:
        result.finished = time.monotonic()
        self.relay.for_stack(result.region, result.stack)(result.action, result.reason or None)
        return result

    # --- operations ------------------------------------------------------------------------------------

    def operate(
        self,
        spec: StackSetSpec,
        call: str,
        instances: list[Instance],
        done: Action,
        created: frozenset[Instance] = frozenset(),
        **arguments: Any,
    ) -> dict[Instance, StackResult]:
        """One operation on `instances`, watched to its end: each instance `done` (`created` for those of
        `created`: instances an earlier operation never made a stack for), failed (with CloudFormation's
        reason), or skipped (cancelled, or not reached)."""
        action = ACTIONS[call]
        started = time.monotonic()
        regions = list(dict.fromkeys(region for _, region in instances))
        for account, region in instances:
            self.relay.for_stack(region, spec.name, account)(f"{action}_PENDING")
        set_progress = self.relay.for_stack(spec.region, spec.name)
        operation_id = new_operation_id()
        arguments = {
            "StackSetName": spec.name,
            "OperationPreferences": operation_preferences(self.config, regions),
            **arguments,
        }
        set_progress(f"STARTING_{action}")
        try:
            start_operation(self.client, call, operation_id, **arguments)
        except (ClientError, *ENDPOINT_FAULTS) as error:
            # Only a call CloudFormation answered with an error, or one it has no trace of, was refused.
            taken = False if isinstance(error, ClientError) else operation_taken(self.client, spec.name, operation_id)
            if taken is False:
                refused = InstanceOutcome(NOT_STARTED, f"{action} operation refused: {fault_text(error)}")
                return {key: self._instance_result(spec, key, refused, done, started) for key in instances}
            how = "was started" if taken else "was asked for and may have started"
            return self._out_of_sight(spec, instances, action, operation_id, error, done, started, how)
        try:
            outcome = watch_operation(
                self.client,
                spec.name,
                OperationOutcome(operation_id, action),
                lambda key, status, reason: self.relay.for_stack(key[1], spec.name, key[0])(
                    f"{action}_{status}", reason or None
                ),
                lambda status, reason: set_progress(f"{action}_{status}", reason or None),
                self.poll_interval,
                self.stop,
            )
        except AWS_FAULTS as error:
            return self._out_of_sight(spec, instances, action, operation_id, error, done, started)
        if outcome.status != OperationStatus.SUCCEEDED or outcome.failed:
            self.relay.notice(outcome.summary(spec.label))
        results = {}
        for key in dict.fromkeys([*instances, *outcome.instances]):
            got = outcome.instances.get(key) or InstanceOutcome(
                OperationResultStatus.PENDING, f"not reached: the operation ended {outcome.status}"
            )
            results[key] = self._instance_result(spec, key, got, Action.CREATED if key in created else done, started)
        return results

    def _instance_result(
        self, spec: StackSetSpec, key: Instance, got: InstanceOutcome, done: Action, started: float
    ) -> StackResult:
        account, region = key
        if got.status == OperationResultStatus.SUCCEEDED:
            action, reason = done, ""
        elif got.status in (OperationResultStatus.FAILED, NOT_STARTED):
            action, reason = Action.FAILED, got.reason or "failed with no reason given"
        elif got.status == OUT_OF_SIGHT:
            action, reason = Action.IN_PROGRESS, got.reason
        elif got.status == OperationResultStatus.CANCELLED:
            action = Action.SKIPPED
            reason = f"cancelled: {got.reason or 'the operation went past its failure tolerance'}"
        else:
            action, reason = Action.SKIPPED, got.reason or f"not reached ({got.status})"
        result = StackResult(
            region,
            spec.name,
            action,
            status=got.status,
            reason=reason,
            started=got.started or started,
            finished=got.finished or time.monotonic(),
            account=account,
        )
        self.relay.for_stack(region, spec.name, account)(action, reason or None)
        return result

    def _out_of_sight(
        self,
        spec: StackSetSpec,
        instances: list[Instance],
        action: str,
        operation_id: str,
        error: BaseException,
        done: Action,
        started: float,
        how: str = "was started",
    ) -> dict[Instance, StackResult]:
        """Rows of an operation CloudFormation took (or may have) and this run lost sight of: in progress, never
        "refused"."""
        reason = (
            f"{action} operation {operation_id} of {spec.label} {how}, then {fault_text(error)}; "
            "CloudFormation carries on without us; `make status` shows how it ends"
        )
        lost = InstanceOutcome(OUT_OF_SIGHT, reason)
        self.relay.for_stack(spec.region, spec.name)(Action.IN_PROGRESS, reason)
        return {key: self._instance_result(spec, key, lost, done, started) for key in instances}

    def delete_instances(self, spec: StackSetSpec, instances: list[Instance]) -> dict[Instance, StackResult]:
        """Delete these instances and their stacks; grouped into as few operations as name exactly them."""
        results: dict[Instance, StackResult] = {}
        for accounts, regions in target_groups(instances):
            group = [key for key in instances if key[0] in accounts and key[1] in regions]
            results.update(
                self.operate(
                    spec,
                    "delete_stack_instances",
                    group,
                    Action.DELETED,
                    Accounts=accounts,
                    Regions=regions,
                    RetainStacks=False,
                )
            )
        return results

    # --- a StackSet made what its spec says ----------------------------------------------------------

    def remove(
        self,
        spec: StackSetSpec,
        state: StackSetState,
        keep: Callable[[Instance], str] = lambda key: "",
        delete: bool = True,
    ) -> dict[Instance, StackResult]:
        """Delete the instances of accounts and regions the config no longer has; `keep(instance)` names why one
        must stay for now (a row SKIPPED with that reason), or is "" to delete it. Without `delete` (nobody
        said yes) each is a KEPT row: an orphan for `make destroy`."""
        wanted = set(spec.instances)
        extra = [key for key in state.instances if key not in wanted]
        if not delete:
            why = "not in the config; kept, as nobody confirmed its deletion: `make destroy` or `make deploy YES=1`"
            return {key: self.row(spec, key, Action.KEPT, why) for key in extra}
        results = {key: self.row(spec, key, Action.SKIPPED, why) for key in extra if (why := keep(key))}
        results.update(self.delete_instances(spec, [key for key in extra if key not in results]))
        return results

    def converge(
        self, spec: StackSetSpec, state: StackSetState, blocked: Callable[[str], str] = lambda account: ""
    ) -> tuple[StackResult, dict[Instance, StackResult]]:
        """Create the StackSet or update it when its template, parameters, tags or roles differ (every instance
        then), retry instances an earlier operation left OUTDATED, create the missing ones. An account for which
        `blocked(account)` gives a reason is left alone (its rows SKIPPED with it). Unchanged: no operation."""
        set_result = self.set_row(spec)
        wanted = spec.instances
        try:
            differences = self._ensure_set(spec, state, set_result)
        except (ClientError, *ENDPOINT_FAULTS) as error:
            set_result.action, set_result.reason = Action.FAILED, fault_text(error)
            self.finish_set_row(set_result)
            why = f"not deployed: {spec.label} could not be created or updated"
            return set_result, {key: self.row(spec, key, Action.SKIPPED, why) for key in wanted}
        results: dict[Instance, StackResult] = {}
        for key in wanted:
            why = blocked(key[0])
            if why:
                results[key] = self.row(spec, key, Action.SKIPPED, why)
            elif state.condition(key) is InstanceCondition.NEEDS_ATTENTION:
                summary = state.instances[key]
                results[key] = self.row(
                    spec,
                    key,
                    Action.FAILED,
                    f"{describe_instance(summary)}: delete it with RetainStacks in the console, then deploy again",
                    summary.get("Status", ""),
                )
        ready = [key for key in wanted if key not in results]
        existing = [key for key in ready if key in state.instances]
        outdated = [key for key in existing if state.condition(key) is InstanceCondition.OUTDATED]
        to_update = existing if differences else outdated
        if to_update or (differences and not state.instances):
            # an instance whose create failed or was cancelled has no stack yet: the update creates it
            stackless = frozenset(key for key in to_update if not state.instances[key].get("StackId"))
            every = set(to_update) == set(state.instances)
            updated = self._update(spec, to_update, every, stackless, template_changes=bool(differences))
            results.update(updated)
            refused = next((r for r in updated.values() if r.status == NOT_STARTED), None)
            unseen = next((r for r in updated.values() if r.status == OUT_OF_SIGHT), None)
            if refused is not None:  # the StackSet kept its template
                set_result.action, set_result.reason = Action.FAILED, refused.reason
            elif unseen is not None:  # CloudFormation took the update; this run did not see it end
                set_result.action, set_result.reason = Action.IN_PROGRESS, unseen.reason
            elif differences and state.exists:
                set_result.action = Action.UPDATED
        elif differences:  # every instance there is blocked: the StackSet keeps its template until they are not
            set_result.action = Action.SKIPPED
            set_result.reason = f"{', '.join(differences)} not updated: no instance of it can be deployed now"
        for key in existing:
            if key not in results:
                summary = state.instances[key]
                results[key] = self.row(spec, key, Action.UNCHANGED, status=summary.get("Status", ""))
        missing = [key for key in ready if key not in state.instances]
        for accounts, regions in target_groups(missing):
            group = [key for key in missing if key[0] in accounts and key[1] in regions]
            results.update(
                self.operate(spec, "create_stack_instances", group, Action.CREATED, Accounts=accounts, Regions=regions)
            )
        self.finish_set_row(set_result)
        return set_result, {key: results[key] for key in [*wanted, *results] if key in results}

    def _ensure_set(self, spec: StackSetSpec, state: StackSetState, set_result: StackResult) -> list[str]:
        """Create the StackSet when there is none; else what differs from the spec (see StackSetSpec.differences)."""
        if state.exists:
            return spec.differences(state.description or {})
        self.relay.for_stack(spec.region, spec.name)("CREATING_STACK_SET")
        self.client.create_stack_set(
            StackSetName=spec.name,
            PermissionModel="SELF_MANAGED",
            ManagedExecution={"Active": True},
            **self._set_arguments(spec),
        )
        set_result.action = Action.CREATED
        return []

    def _set_arguments(self, spec: StackSetSpec) -> dict[str, Any]:
        return {
            "Description": spec.description,
            "TemplateBody": spec.template_body,
            "Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in spec.parameters.items()],
            "Capabilities": list(spec.capabilities),
            "Tags": [{"Key": key, "Value": value} for key, value in spec.tags.items()],
            "ExecutionRoleName": spec.execution_role_name,
            **({"AdministrationRoleARN": spec.administration_role_arn} if spec.administration_role_arn else {}),
        }

    def _update(
        self,
        spec: StackSetSpec,
        instances: list[Instance],
        every: bool,
        stackless: frozenset[Instance],
        template_changes: bool,
    ) -> dict[Instance, StackResult]:
        """Update `instances`. When the template or parameters change: UpdateStackSet with them, for every
        instance (`every`) or exactly these. Else (retrying instances an earlier operation left OUTDATED):
        UpdateStackInstances, because an UpdateStackSet carrying a template marks every other instance OUTDATED
        too (API reference, UpdateStackSet), and a retry that way would never settle. One call per group of
        accounts with the same regions."""
        if template_changes:
            call = "update_stack_set"
            arguments: dict[str, Any] = {**self._set_arguments(spec), "ManagedExecution": {"Active": True}}
            if every:
                return self.operate(spec, call, instances, Action.UPDATED, stackless, **arguments)
        else:
            call, arguments = "update_stack_instances", {}
        results: dict[Instance, StackResult] = {}
        for accounts, regions in target_groups(instances):
            group = [key for key in instances if key[0] in accounts and key[1] in regions]
            results.update(
                self.operate(
                    spec, call, group, Action.UPDATED, stackless, Accounts=accounts, Regions=regions, **arguments
                )
            )
        return results
