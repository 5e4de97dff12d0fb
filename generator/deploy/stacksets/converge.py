"""Making a StackSet what its spec says, and removing instances, through watched operations; every instance an
outcome row (StackResult with its account), never an exception for what AWS does.

What each instance's status means is instance_states.classify_instance's; which instances go together in
one call is `call_groups`' (the same parameter overrides, accounts with the same regions). The operations of one
step (every create, say) are all started, then watched together: ManagedExecution is on, so CloudFormation runs
non-conflicting operations at once and queues conflicting ones (another run's too) instead of refusing them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from generator.config import Config, RegionConcurrency
from generator.deploy.clients import AWS_FAULTS, ENDPOINT_FAULTS, fault_text
from generator.deploy.events import EventRelay
from generator.deploy.parallel import DEFAULT_MAX_PARALLEL, run_parallel
from generator.deploy.reports import Action, StackResult
from generator.deploy.stacksets.customer_config import override_differences
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


Overrides = Mapping[str, str]  # an instance's own parameter values


def call_groups(instances: Iterable[Instance], overrides: Mapping[Instance, Overrides]) -> list[CallGroup]:
    """`instances` as the calls that name exactly them: one per set of identical parameter overrides (an
    account's key, a region's token: each call gives all its instances the same ones), and within it one per
    product of accounts x regions (specs.target_groups)."""
    by_values: dict[tuple[tuple[str, str], ...], list[Instance]] = {}
    for key in instances:
        by_values.setdefault(tuple(sorted((overrides.get(key) or {}).items())), []).append(key)
    groups = []
    for values, keys in by_values.items():
        for accounts, regions in target_groups(keys):
            members = [key for key in keys if key[0] in accounts and key[1] in regions]
            groups.append(CallGroup(accounts, regions, members, dict(values)))
    return groups


@dataclass(frozen=True)
class CallGroup:
    accounts: list[str]
    regions: list[str]
    instances: list[Instance]
    overrides: dict[str, str]

    def arguments(self) -> dict[str, Any]:
        parameters = [{"ParameterKey": key, "ParameterValue": value} for key, value in self.overrides.items()]
        return {
            "Accounts": self.accounts,
            "Regions": self.regions,
            **({"ParameterOverrides": parameters} if parameters else {}),
        }


@dataclass
class _Started:
    """An operation CloudFormation took: watched to its end by `finish`."""

    spec: StackSetSpec
    action: str
    operation_id: str
    instances: list[Instance]
    done: Action
    created: frozenset[Instance]
    started: float
    notify: bool = True  # say how it ended when not as asked (operate_scheduled says it per region instead)


class StackSetRun:
    """The operations one deploy or destroy runs on the administrator account's StackSets."""

    def __init__(
        self,
        config: Config,
        client: Any,
        relay: EventRelay,
        poll_interval: float,
        stop: threading.Event,
        max_parallel: int = DEFAULT_MAX_PARALLEL,
    ) -> None:
        self.config = config
        self.client = client
        self.relay = relay
        self.poll_interval = poll_interval
        self.stop = stop
        self.max_parallel = max_parallel  # operations watched at once

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
        return self.operate_all(spec, call, [(instances, arguments)], done, created)

    def operate_all(
        self,
        spec: StackSetSpec,
        call: str,
        calls: list[tuple[list[Instance], dict[str, Any]]],
        done: Action,
        created: frozenset[Instance] = frozenset(),
        notify: bool = True,
    ) -> dict[Instance, StackResult]:
        """One operation per (instances, arguments) of `calls`: all started, then watched together."""
        results: dict[Instance, StackResult] = {}
        started: list[_Started] = []
        for instances, arguments in calls:
            outcome = self._start(spec, call, instances, done, created, arguments)
            if isinstance(outcome, _Started):
                outcome.notify = notify
                started.append(outcome)
            else:
                results.update(outcome)
        tasks = {operation.operation_id: (lambda o=operation: self._finish(o)) for operation in started}
        for rows in run_parallel(tasks, self.max_parallel, self.stop, self.relay.in_flight).values():
            results.update(rows)
        return results

    def operate_scheduled(
        self,
        spec: StackSetSpec,
        call: str,
        groups: list[CallGroup],
        done: Action,
        created: frozenset[Instance] = frozenset(),
    ) -> dict[Instance, StackResult]:
        """Operations whose instances each need values of their own (an account's key, a region's token) cannot
        share one StackSet operation, so CloudFormation cannot apply the operation preferences across them. They
        run here as one operation would run them: region by region in the config's order (every region at once
        with region_concurrency parallel), at most max_concurrent_percentage of a region's accounts at once, and
        once more of a region's accounts failed than failure_tolerance_percentage allows, the rest of that region
        (and with sequential, every later region) is cancelled."""
        settings = self.config.stacksets
        assert settings is not None
        by_region: dict[str, list[CallGroup]] = {}
        for group in groups:
            for region in group.regions:
                members = [key for key in group.instances if key[1] == region]
                by_region.setdefault(region, []).append(CallGroup(group.accounts, [region], members, group.overrides))
        order = [region for region in self.config.regions if region in by_region]
        order += [region for region in by_region if region not in order]
        results: dict[Instance, StackResult] = {}
        lock = threading.Lock()

        def cancel(region: str, why: str) -> None:
            cancelled = InstanceOutcome(OperationResultStatus.CANCELLED, why)
            for group in by_region[region]:
                rows = {
                    key: self._instance_result(spec, key, cancelled, done, time.monotonic()) for key in group.instances
                }
                with lock:
                    results.update(rows)

        def run_region(region: str) -> bool:
            """Run the region's operations; True when more of its accounts failed than the tolerance allows."""
            accounts = len({key[0] for group in by_region[region] for key in group.instances})
            tolerance = math.floor(accounts * settings.failure_tolerance_percentage / 100)
            at_once = max(1, math.floor(accounts * settings.max_concurrent_percentage / 100))
            failed: set[str] = set()

            def one(group: CallGroup) -> None:
                with lock:
                    past_tolerance = len(failed) > tolerance
                if past_tolerance or self.stop.is_set():
                    reason = f"more than {tolerance} of {accounts} accounts failed in {region} (failure tolerance)"
                    cancelled = InstanceOutcome(OperationResultStatus.CANCELLED, reason)
                    rows = {
                        key: self._instance_result(spec, key, cancelled, done, time.monotonic())
                        for key in group.instances
                    }
                else:
                    calls = [(group.instances, group.arguments())]
                    rows = self.operate_all(spec, call, calls, done, created, notify=False)
                with lock:
                    results.update(rows)
                    failed.update(key[0] for key, row in rows.items() if row.action is Action.FAILED)

            with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="region-accounts") as pool:
                list(pool.map(one, by_region[region]))
            if failed:
                how = "past" if len(failed) > tolerance else "within"
                self.relay.notice(
                    f"{spec.label}: {ACTIONS[call]} in {region}: {len(failed)} of {accounts} accounts failed, "
                    f"{how} the failure tolerance ({tolerance})"
                )
            return len(failed) > tolerance

        if settings.region_concurrency is RegionConcurrency.SEQUENTIAL:
            stopped_at = ""
            for region in order:
                if stopped_at:
                    cancel(
                        region,
                        f"not started: {stopped_at} went past its failure tolerance (regions run one after another)",
                    )
                elif run_region(region):
                    stopped_at = region
        else:
            tasks = {region: (lambda r=region: run_region(r)) for region in order}
            run_parallel(tasks, len(tasks), self.stop, self.relay.in_flight)
        return results

    def _start(
        self,
        spec: StackSetSpec,
        call: str,
        instances: list[Instance],
        done: Action,
        created: frozenset[Instance],
        arguments: dict[str, Any],
    ) -> _Started | dict[Instance, StackResult]:
        """Start one operation; the rows at once when CloudFormation refused it or took it out of sight."""
        action = ACTIONS[call]
        started = time.monotonic()
        regions = list(dict.fromkeys(region for _, region in instances))
        for account, region in instances:
            self.relay.for_stack(region, spec.name, account)(f"{action}_PENDING")
        operation_id = new_operation_id()
        arguments = {
            "StackSetName": spec.name,
            "OperationPreferences": operation_preferences(self.config, regions),
            **arguments,
        }
        self.relay.for_stack(spec.region, spec.name)(f"STARTING_{action}")
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
        return _Started(spec, action, operation_id, instances, done, created, started)

    def _finish(self, operation: _Started) -> dict[Instance, StackResult]:
        """Watch a started operation to its end; each instance's row."""
        spec, action = operation.spec, operation.action
        set_progress = self.relay.for_stack(spec.region, spec.name)
        try:
            outcome = watch_operation(
                self.client,
                spec.name,
                OperationOutcome(operation.operation_id, action),
                lambda key, status, reason: self.relay.for_stack(key[1], spec.name, key[0])(
                    f"{action}_{status}", reason or None
                ),
                lambda status, reason: set_progress(f"{action}_{status}", reason or None),
                self.poll_interval,
                self.stop,
            )
        except AWS_FAULTS as error:
            return self._out_of_sight(
                spec, operation.instances, action, operation.operation_id, error, operation.done, operation.started
            )
        if operation.notify and (outcome.status != OperationStatus.SUCCEEDED or outcome.failed):
            self.relay.notice(outcome.summary(spec.label))
        results = {}
        for key in dict.fromkeys([*operation.instances, *outcome.instances]):
            got = outcome.instances.get(key) or InstanceOutcome(
                OperationResultStatus.PENDING, f"not reached: the operation ended {outcome.status}"
            )
            done = Action.CREATED if key in operation.created else operation.done
            results[key] = self._instance_result(spec, key, got, done, operation.started)
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
        calls = [
            (group.instances, {**group.arguments(), "RetainStacks": False}) for group in call_groups(instances, {})
        ]
        return self.operate_all(spec, "delete_stack_instances", calls, Action.DELETED)

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
        self,
        spec: StackSetSpec,
        state: StackSetState,
        blocked: Callable[[str], str] = lambda account: "",
        unavailable: Mapping[Instance, str] | None = None,
    ) -> tuple[StackResult, dict[Instance, StackResult]]:
        """Create the StackSet or update it when its template, parameters, tags or roles differ (every instance
        then), update instances an earlier operation left OUTDATED or whose own overrides differ, create the
        missing ones. An account for which `blocked(account)` gives a reason is left alone (its rows SKIPPED with
        it); an instance `unavailable` names (its account's values could not be read) is a FAILED row, with why.
        Unchanged: no operation."""
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
            elif unavailable and key in unavailable:
                results[key] = self.row(spec, key, Action.FAILED, f"not deployed: {unavailable[key]}")
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
        if differences:
            updated = self._update_stack_set(spec, state, existing)
            results.update(updated)
            refused = next((r for r in updated.values() if r.status == NOT_STARTED), None)
            unseen = next((r for r in updated.values() if r.status == OUT_OF_SIGHT), None)
            if refused is not None:  # the StackSet kept its template
                set_result.action, set_result.reason = Action.FAILED, refused.reason
            elif unseen is not None:  # CloudFormation took the update; this run did not see it end
                set_result.action, set_result.reason = Action.IN_PROGRESS, unseen.reason
            elif not existing and state.instances:  # every instance there is blocked: the StackSet keeps its template
                set_result.action = Action.SKIPPED
                set_result.reason = f"{', '.join(differences)} not updated: no instance of it can be deployed now"
            elif state.exists:
                set_result.action = Action.UPDATED

        # Instances an earlier operation left OUTDATED, and those whose own values (overrides) differ.
        def needs_instance_update(key: Instance) -> bool:
            row = results.get(key)
            if row is None:  # no StackSet update touched it
                return state.condition(key) is InstanceCondition.OUTDATED or self._stale(spec, state, key)
            return row.action is Action.UPDATED and self._stale(spec, state, key)

        retry = [key for key in existing if needs_instance_update(key)]
        if retry:
            stackless = frozenset(key for key in retry if not state.instances[key].get("StackId"))
            results.update(self._update_instances(spec, retry, stackless))
        for key in existing:
            if key not in results:
                summary = state.instances[key]
                results[key] = self.row(spec, key, Action.UNCHANGED, status=summary.get("Status", ""))
        missing = [key for key in ready if key not in state.instances]
        if missing:
            results.update(self._operate_grouped(spec, "create_stack_instances", missing, Action.CREATED))
        self.finish_set_row(set_result)
        return set_result, {key: results[key] for key in [*wanted, *results] if key in results}

    @staticmethod
    def _stale(spec: StackSetSpec, state: StackSetState, key: Instance) -> bool:
        """Whether the instance's own parameter values differ from what its account's should be now."""
        wanted = spec.overrides.get(key)
        return bool(wanted) and bool(override_differences(state.overrides.get(key, {}), dict(wanted)))

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

    def _update_stack_set(
        self, spec: StackSetSpec, state: StackSetState, instances: list[Instance]
    ) -> dict[Instance, StackResult]:
        """UpdateStackSet with the spec's template and parameters: for every instance, or exactly `instances`
        when some are blocked (it marks the others OUTDATED: a later deploy updates them with
        UpdateStackInstances). Each instance keeps its own overrides."""
        arguments: dict[str, Any] = {**self._set_arguments(spec), "ManagedExecution": {"Active": True}}
        # an instance whose create failed or was cancelled has no stack yet: the update creates it
        stackless = frozenset(key for key in instances if not state.instances[key].get("StackId"))
        if set(instances) == set(state.instances):
            return self.operate(spec, "update_stack_set", instances, Action.UPDATED, stackless, **arguments)
        calls = [(group.instances, {**group.arguments(), **arguments}) for group in call_groups(instances, {})]
        return self.operate_all(spec, "update_stack_set", calls, Action.UPDATED, stackless)

    def _update_instances(
        self, spec: StackSetSpec, instances: list[Instance], stackless: frozenset[Instance]
    ) -> dict[Instance, StackResult]:
        """UpdateStackInstances, with each instance's own overrides: never an UpdateStackSet, which carries the
        template and so marks every other instance OUTDATED too (API reference, UpdateStackSet): a retry that
        way would never settle."""
        return self._operate_grouped(spec, "update_stack_instances", instances, Action.UPDATED, stackless)

    def _operate_grouped(
        self,
        spec: StackSetSpec,
        call: str,
        instances: list[Instance],
        done: Action,
        created: frozenset[Instance] = frozenset(),
    ) -> dict[Instance, StackResult]:
        """CreateStackInstances or UpdateStackInstances of `instances`, each given its own overrides: operations
        run by operate_scheduled when the values differ from instance to instance, else as few as name them."""
        groups = call_groups(instances, spec.overrides)
        if spec.takes_overrides:
            return self.operate_scheduled(spec, call, groups, done, created)
        return self.operate_all(spec, call, [(group.instances, group.arguments()) for group in groups], done, created)
