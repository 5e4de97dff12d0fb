"""The local cloud: a local AWS endpoint on 127.0.0.1 for rehearsing deploys with no AWS account.

It is moto's server (the real CloudFormation, IAM, Lambda and Logs APIs, reached by boto3 through its
real HTTP path) plus **ProxylityStandIn, a stand-in for Proxylity's control plane**: Proxylity is a
third-party service that cannot run here, so this small class answers Create, Update and Delete of the
two Proxylity custom resource types (Custom::ProxylityUdpGatewayListener with the attributes Domain,
Port, DestinationNames and Id; Custom::ProxylityUdpGatewayDestinationArn), keeps the destination
bindings, and serves the `ProxylityConfig` include document (ServiceToken, ServiceRole, Account.ApiKey)
for any account and region. It can wait before answering (so stacks spend real time in progress),
hold chosen requests until a test releases them (`ProxylityStandIn.gate`), fail every request in one
region (to rehearse failures), and treat one region as not subscribed (no include document there, so
CloudFormation fails the change set: "Transform AWS::Include failed").

How the stand-in routes (an assumption on the safe side, as Proxylity's docs do not say): it keeps one
function ARN per destination and ingress region key. The listener's DestinationArn map writes entries
and a DestinationArn resource (a "binding") writes one; removing a binding removes its entry, and an
update of the listener removes the entries its previous map wrote and the new one no longer has (an
unchanged empty map removes nothing, so bindings survive a global update).

moto 5.2 has gaps that real CloudFormation does not. They are closed here, inside this process only,
by patching moto at the narrowest points found in moto/cloudformation/; the deploy code in generator/
knows nothing of them:

- AWS::Include with an Fn::Sub Location raises in moto -> ResourceMap.transform_mapping/load_mapping
  resolve the location and take the stand-in's document (also when a change set is applied).
- Custom:: resources need a Docker Lambda in moto -> resource_class_from_type maps the two Proxylity
  types to ProxylityResource, which calls the stand-in for Create, Update and Delete.
- no resource events -> parse_and_create_resource / parse_and_update_resource emit them.
- execute_change_set runs synchronously, does not rebuild Outputs, simulates no failure -> it runs in a
  background thread (status *_IN_PROGRESS meanwhile), rebuilds Outputs, and rolls back on a failure
  (ROLLBACK_COMPLETE after a failed create, UPDATE_ROLLBACK_COMPLETE after a failed update; a failed
  update does not restore resources it already changed: good enough to rehearse, not a simulator).
- delete_stack is synchronous -> it runs in a background thread too (DELETE_IN_PROGRESS meanwhile).
- change sets are ready at once and never fail a transform -> `LocalCloud.aws.change_sets` (a Gate) can
  keep them CREATE_IN_PROGRESS until released, as real CloudFormation does for seconds; a change set
  whose AWS::Include names an unsubscribed region's document ends FAILED, as a failed transform does.
- ListChangeSets lists every change set of the region -> only the named stack's, as CloudFormation does.
- a CREATE change set for a stack already under review makes a second stack of the same name -> it is
  added to that stack, as CloudFormation does (and refused when the stack exists in any other status).
- an update whose template drops a parameter (bind -> map routing drops DestinationId) raises KeyError
  in moto's load_parameters, which keeps the old values -> the parameters the new template no longer
  declares are forgotten first.
- every region answers -> `LocalCloud.aws.refused_region` answers DescribeStacks there with
  InvalidClientTokenId, as AWS does in an opt-in region the account has not enabled (only DescribeStacks,
  the first call every command makes there).
- moto parses every template with PyYAML's pure-Python loader (~20 ms each, several times per change
  set), CPU that real CloudFormation does not spend on this machine -> JSON templates parse as JSON.

`python -m tests.support.local_cloud --port 4566 --delay 2 --fail-region eu-west-1` runs it in the
foreground until Ctrl-C (`make local-cloud`); `--port 0` takes a free port, and the startup hint
prints the real one with the variables that point the generator at it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import re
import signal
import socket
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.responses import ActionResult
from moto.server import ThreadedMotoServer

LISTENER_TYPE = "Custom::ProxylityUdpGatewayListener"
DESTINATION_ARN_TYPE = "Custom::ProxylityUdpGatewayDestinationArn"
PROXYLITY_ACCOUNT = "111122223333"  # the stand-in's own "account", as real ServiceTokens name Proxylity's
STAND_IN_API_KEY = "local-cloud-api-key"
_INCLUDE_BUCKET = re.compile(r"^s3://proxylity-config-(?P<region>[a-z0-9-]+)/(?P<account>[^/]+)/customer-config\.json$")


# Dummy credentials: moto accepts any, and boto3 refuses to sign a request without some.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


class Gate:
    """Holds the callers it matches until released, so tests synchronise on events, never on sleeps.

    Open by default. `close(match)` makes every later caller for which match(key) is true wait in
    pass_through(); `wait_held(n)` returns once n of them wait together (proof they are in flight at the
    same time); `release()` lets them all go. A caller waits at most MAX_HOLD seconds, so a test that
    forgets to release slows down instead of hanging."""

    MAX_HOLD = 60.0

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._match: Callable[[Any], bool] | None = None
        self._held = 0
        self._releases = 0

    def close(self, match: Callable[[Any], bool] = lambda key: True) -> None:
        with self._condition:
            self._match = match

    def release(self) -> None:
        with self._condition:
            self._match = None
            self._releases += 1
            self._condition.notify_all()

    def holds(self, key: Any) -> bool:
        with self._condition:
            return self._match is not None and self._match(key)

    @property
    def held(self) -> int:
        with self._condition:
            return self._held

    def wait_held(self, count: int, timeout: float = MAX_HOLD) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self._held >= count, timeout)

    def pass_through(self, key: Any) -> None:
        with self._condition:
            if self._match is None or not self._match(key):
                return
            releases = self._releases
            self._held += 1
            self._condition.notify_all()
            try:
                self._condition.wait_for(lambda: self._releases > releases, self.MAX_HOLD)
            finally:
                self._held -= 1


class ProxylityFailure(Exception):
    """The stand-in refused a request; the message is the status reason CloudFormation shows."""


@dataclass
class StandInCall:
    """One request the stand-in answered, for tests that check order and overlap."""

    request_type: str
    resource_type: str
    region: str
    started: float
    finished: float = 0.0
    failed: bool = False


@dataclass
class ProxylityStandIn:
    """STAND-IN for Proxylity's control plane (a third-party service that cannot run here)."""

    delay: float = 0.0
    fail_region: str | None = None
    unsubscribed_region: str | None = None  # no customer-config.json in this region's bucket
    listeners: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The routing: (destination name, ingress region key) -> function ARN, written by maps and bindings.
    bindings: dict[tuple[str, str], str] = field(default_factory=dict)
    # What each listener's DestinationArn map last wrote there (listener id -> its entries).
    map_entries: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)
    calls: list[StandInCall] = field(default_factory=list)
    # Holds the requests (StandInCall) a test chooses until it releases them.
    gate: Gate = field(default_factory=Gate)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        self.gate.release()
        with self._lock:
            self.listeners.clear()
            self.bindings.clear()
            self.map_entries.clear()
            self.calls.clear()

    def include_document(self, account_id: str, region: str) -> dict[str, Any]:
        """What s3://proxylity-config-<region>/<account>/customer-config.json holds for a customer."""
        return {
            region: {
                "ServiceToken": f"arn:aws:lambda:{region}:{PROXYLITY_ACCOUNT}:function:proxylity-udp-gateway",
                "ServiceRole": f"arn:aws:iam::{PROXYLITY_ACCOUNT}:role/proxylity-udp-gateway-{region}",
            },
            "Account": {"ApiKey": STAND_IN_API_KEY},
        }

    def handle(
        self,
        request_type: str,
        resource_type: str,
        region: str,
        properties: dict[str, Any],
        physical_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        """Answer one custom resource request: (physical id, attributes) or ProxylityFailure."""
        call = StandInCall(request_type, resource_type, region, started=time.monotonic())
        with self._lock:
            self.calls.append(call)
        self.gate.pass_through(call)
        time.sleep(self.delay)
        try:
            if region == self.fail_region and request_type != "Delete":
                raise ProxylityFailure(f"Proxylity stand-in: failing every request in {region} (--fail-region)")
            if properties.get("ApiKey") != STAND_IN_API_KEY and request_type != "Delete":
                raise ProxylityFailure("Invalid ApiKey (was the ProxylityConfig include resolved?)")
            with self._lock:
                if resource_type == LISTENER_TYPE:
                    return self._listener(request_type, properties, physical_id)
                return self._binding(request_type, properties, physical_id)
        except ProxylityFailure:
            call.failed = True
            raise
        finally:
            call.finished = time.monotonic()

    def _listener(self, request_type: str, properties: dict[str, Any], physical_id: str | None):
        if request_type == "Delete":
            listener = self.listeners.pop(physical_id or "", None)
            self.map_entries.pop(physical_id or "", None)
            if listener:
                names = set(listener["DestinationNames"])
                self.bindings = {key: arn for key, arn in self.bindings.items() if key[0] not in names}
            return physical_id or "", {}
        listener_id = physical_id if request_type == "Update" and physical_id in self.listeners else None
        listener_id = listener_id or f"lst{uuid.uuid4().hex[:12]}"
        destinations = properties.get("Destinations") or []
        names = [d.get("Name") or f"{listener_id}-destination-{index}" for index, d in enumerate(destinations)]
        port = 2000 + int(hashlib.sha256(listener_id.encode()).hexdigest(), 16) % 60000
        attributes = {"Id": listener_id, "Domain": listener_id, "Port": port, "DestinationNames": names}
        self.listeners[listener_id] = {**attributes, "Properties": properties}
        mapped = {
            (name, ingress): arn
            for destination, name in zip(destinations, names, strict=True)
            for ingress, arn in (destination.get("DestinationArn") or {}).items()
        }
        for key in self.map_entries.get(listener_id, {}).keys() - mapped.keys():
            self.bindings.pop(key, None)  # the map no longer has it
        self.bindings.update(mapped)
        self.map_entries[listener_id] = mapped
        return listener_id, attributes

    def _binding(self, request_type: str, properties: dict[str, Any], physical_id: str | None):
        if request_type == "Delete":
            destination, _, ingress = (physical_id or "").partition("|")
            self.bindings.pop((destination, ingress), None)
            return physical_id or "", {}
        destination, ingress = properties.get("Destination"), properties.get("IngressRegionKey")
        known = {name for listener in self.listeners.values() for name in listener["DestinationNames"]}
        if destination not in known:
            raise ProxylityFailure(f"Destination {destination!r} does not exist")
        if request_type == "Update" and physical_id:
            old_destination, _, old_ingress = physical_id.partition("|")
            self.bindings.pop((old_destination, old_ingress), None)
        self.bindings[(destination, ingress)] = properties.get("Arn")
        return f"{destination}|{ingress}", {}


# The one stand-in the patched moto talks to; LocalCloud sets it.
_stand_in = ProxylityStandIn()


@dataclass
class AwsBehaviour:
    """How the patched moto behaves where real AWS takes time or refuses (not Proxylity's part)."""

    # New change sets whose stack name it holds stay CREATE_IN_PROGRESS until released.
    change_sets: Gate = field(default_factory=Gate)
    # CreateChangeSet requests whose stack name it holds get their answer only when released (the change
    # set exists meanwhile): two runs can be made to create change sets for one stack at the same time.
    change_set_requests: Gate = field(default_factory=Gate)
    refused_region: str | None = None  # DescribeStacks there fails as in an opt-in region not enabled


_aws = AwsBehaviour()


class RegionNotEnabled(CloudFormationError):
    """AWS's answer in a region the account has not enabled (a code outside CloudFormation's own model,
    so moto warns "does not match an error shape" when it sends it)."""

    code = "InvalidClientTokenId"

    def __init__(self) -> None:
        super().__init__("The security token included in the request is invalid.")


class ProxylityResource:
    """A Proxylity custom resource inside moto, answered by the stand-in instead of a Docker Lambda.

    Duck-typed to moto's CloudFormationModel (subclassing it registers the class as a moto service,
    which breaks `python -m` of this module).
    """

    def __init__(self, resource_type: str, region: str, physical_id: str, data: dict[str, Any], properties: dict):
        self.resource_type = resource_type
        self.region_name = region
        self._physical_id = physical_id
        self.data = data
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @staticmethod
    def cloudformation_type() -> str:
        return "Custom::Proxylity"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.data.get(attribute_name)

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> ProxylityResource:
        properties = cloudformation_json.get("Properties", {})
        resource_type = kwargs["ResourceType"]
        physical_id, data = _stand_in.handle("Create", resource_type, region_name, properties, None)
        return cls(resource_type, region_name, physical_id, data, properties)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> ProxylityResource:
        properties = cloudformation_json.get("Properties", {})
        resource_type = cloudformation_json["Type"]
        physical_id, data = _stand_in.handle(
            "Update", resource_type, region_name, properties, original_resource.physical_resource_id
        )
        return cls(resource_type, region_name, physical_id, data, properties)

    def delete(self, account_id: str, region_name: str) -> None:
        _stand_in.handle("Delete", self.resource_type, region_name, self.properties, self._physical_id)


class ResourceFailed(Exception):
    """A resource failed while a stack was being changed; carries what the failure event said."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


# --- patches ------------------------------------------------------------------------------------

_original = {
    "resource_class_from_type": cfn_parsing.resource_class_from_type,
    "parse_and_create_resource": cfn_parsing.parse_and_create_resource,
    "parse_and_update_resource": cfn_parsing.parse_and_update_resource,
    "transform_mapping": cfn_parsing.ResourceMap.transform_mapping,
    "load_mapping": cfn_parsing.ResourceMap.load_mapping,
    "parse_template": cfn_models.Stack.parse_template,
    "create_change_set": cfn_models.CloudFormationBackend.create_change_set,
    "describe_stacks": cfn_models.CloudFormationBackend.describe_stacks,
    "update": cfn_parsing.ResourceMap.update,
}
_patched = False
_create_change_set_lock = threading.Lock()


def _resource_class_from_type(resource_type: str):
    if resource_type in (LISTENER_TYPE, DESTINATION_ARN_TYPE):
        return ProxylityResource
    return _original["resource_class_from_type"](resource_type)


def _include_location(location: Any, account_id: str, region: str) -> Any:
    if isinstance(location, dict) and "Fn::Sub" in location and isinstance(location["Fn::Sub"], str):
        return location["Fn::Sub"].replace("${AWS::Region}", region).replace("${AWS::AccountId}", account_id)
    return location


def _transform_mapping(self: cfn_parsing.ResourceMap) -> None:
    for name, mapping in list(self._template.get("Mappings", {}).items()):
        transform = mapping.get("Fn::Transform") if isinstance(mapping, dict) else None
        if not transform or transform.get("Name") != "AWS::Include":
            continue
        location = _include_location(transform["Parameters"]["Location"], self._account_id, self._region_name)
        match = _INCLUDE_BUCKET.match(location) if isinstance(location, str) else None
        if match:
            self._parsed_resources[name] = _stand_in.include_document(match["account"], match["region"])
        else:
            _original["transform_mapping"](self)


def _load_mapping(self: cfn_parsing.ResourceMap) -> None:
    _original["load_mapping"](self)
    _transform_mapping(self)  # moto applies includes only on create_stack; change sets need them too


def _parse_template(template: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(template, dict):  # a stack under review has an empty dict for a template
        return template
    try:
        return json.loads(template)
    except (TypeError, ValueError):
        return _original["parse_template"](template)


def _parse_change_set_template(self: cfn_models.ChangeSet) -> None:
    self.template_dict = _parse_template(self.template)


def _create_change_set(
    self: cfn_models.CloudFormationBackend,
    stack_name: str,
    change_set_name: str,
    template: str,
    parameters: dict[str, str],
    description: str,
    change_set_type: str,
    *args: Any,
    **kwargs: Any,
) -> tuple[str, str]:
    with _create_change_set_lock:  # CloudFormation makes one stack of a name, however many runs ask at once
        under_review = None
        if change_set_type == "CREATE":
            existing = next((stack for stack in self.stacks.values() if stack.name == stack_name), None)
            if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
                raise ValidationError(
                    stack_name,
                    message=f"Stack [{stack_name}] already exists and cannot be created again with the changeSet "
                    f"[{change_set_name}].",
                )
            under_review = existing
        # moto looks the stack up by name for UPDATE: that adds the change set to the stack under review.
        kind = "UPDATE" if under_review is not None else change_set_type
        change_set_id, stack_id = _original["create_change_set"](
            self, stack_name, change_set_name, template, parameters, description, kind, *args, **kwargs
        )
        change_set = self.change_sets[change_set_id]
        change_set.change_set_type = change_set_type
    if self.region_name == _stand_in.unsubscribed_region and "AWS::Include" in change_set.template:
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = (
            f"Transform AWS::Include failed with: S3 object s3://proxylity-config-{self.region_name}/"
            f"{self.account_id}/customer-config.json does not exist"
        )
    elif _aws.change_sets.holds(stack_name):
        final = (change_set.status, change_set.execution_status)
        change_set.status, change_set.execution_status = "CREATE_IN_PROGRESS", "UNAVAILABLE"

        def ready() -> None:
            _aws.change_sets.pass_through(stack_name)
            change_set.status, change_set.execution_status = final

        threading.Thread(target=ready, name="local-cloud-change-set", daemon=True).start()
    _aws.change_set_requests.pass_through(stack_name)
    return change_set_id, stack_id


def _list_change_sets(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    stack = self._get_param("StackName")
    change_sets = list(self.cloudformation_backend.list_change_sets())
    return ActionResult({"Summaries": [cs for cs in change_sets if stack in (cs.stack_name, cs.stack_id)]})


def _update(self: cfn_parsing.ResourceMap, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
    declared = template.get("Parameters") or {}
    for name in [name for name in self.resolved_parameters if name not in declared]:
        del self.resolved_parameters[name]
    _original["update"](self, template, parameters)
    self.input_parameters = dict(parameters or {})  # moto keeps the old ones when the new set is empty


def _describe_stacks(self: cfn_models.CloudFormationBackend, *args: Any, **kwargs: Any):
    if self.region_name == _aws.refused_region:
        raise RegionNotEnabled()
    return _original["describe_stacks"](self, *args, **kwargs)


def _stack_of(resources_map: cfn_parsing.ResourceMap, account_id: str, region: str):
    try:
        return cfn_models.cloudformation_backends[account_id][region].get_stack(resources_map.stack_id)
    except ValidationError:
        return None


def _add_resource_event(stack, logical_id: str, resource_type: str, status: str, reason=None, physical="") -> None:
    if stack is None:
        return
    event = cfn_models.Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical,
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    stack.events.append(event)


def _with_events(action: str, original_name: str):
    def wrapper(logical_id, resource_json, resources_map, account_id, region_name):
        stack = _stack_of(resources_map, account_id, region_name)
        resource_type = resource_json.get("Type", "")
        _add_resource_event(stack, logical_id, resource_type, f"{action}_IN_PROGRESS")
        try:
            resource = _original[original_name](logical_id, resource_json, resources_map, account_id, region_name)
        except ProxylityFailure as error:
            _add_resource_event(stack, logical_id, resource_type, f"{action}_FAILED", str(error))
            raise ResourceFailed(logical_id, str(error)) from None
        physical = getattr(resource, "physical_resource_id", "") or ""
        _add_resource_event(stack, logical_id, resource_type, f"{action}_COMPLETE", physical=str(physical))
        return resource

    return wrapper


def _stack_event(stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack._add_stack_event(status, resource_status_reason=reason)


def _execute_change_set(self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None):
    change_set = self.change_sets.get(change_set_name) or next(
        (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
    )
    if change_set is None:
        raise ValidationError(stack_name or change_set_name, message=f"ChangeSet [{change_set_name}] does not exist")
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            change_set_name, message=f"ChangeSet [{change_set_name}] cannot be executed in its current status"
        )
    stack = self.stacks[change_set.stack_id]
    kind = change_set.change_set_type
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    _stack_event(stack, f"{kind}_IN_PROGRESS", "User Initiated")
    threading.Thread(target=_run_change_set, args=(change_set, stack, kind), daemon=True).start()


def _run_change_set(change_set, stack, kind: str) -> None:
    try:
        change_set.apply()
    except Exception as error:  # any failure rolls back, as CloudFormation does
        failed = error.logical_id if isinstance(error, ResourceFailed) else "?"
        if not isinstance(error, ResourceFailed):
            _add_resource_event(stack, failed, "", f"{kind}_FAILED", f"{type(error).__name__}: {error}")
        verb = "create" if kind == "CREATE" else "update"
        prefix = "ROLLBACK" if kind == "CREATE" else "UPDATE_ROLLBACK"
        reason = f"The following resource(s) failed to {verb}: [{failed}]. Rollback requested by user."
        _stack_event(stack, f"{prefix}_IN_PROGRESS", reason)
        if kind == "CREATE":
            # best effort: a rollback that cannot clean up still completes here
            with contextlib.suppress(Exception):
                stack.resource_map.delete()
        change_set.execution_status = "EXECUTE_FAILED"
        _stack_event(stack, f"{prefix}_COMPLETE")
        return
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = change_set.parameters
    stack.output_map = stack._create_output_map()  # moto leaves Outputs missing/stale here
    change_set.execution_status = "EXECUTE_COMPLETE"
    _stack_event(stack, f"{kind}_COMPLETE")


def _delete_stack(self: cfn_models.CloudFormationBackend, name_or_stack_id: str) -> None:
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in self.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None or stack.status == "DELETE_IN_PROGRESS":
        return  # CloudFormation: deleting a stack that does not exist succeeds
    _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    threading.Thread(target=_run_delete, args=(self, stack), daemon=True).start()


def _run_delete(backend: cfn_models.CloudFormationBackend, stack) -> None:
    try:
        stack.resource_map.delete()
    except Exception as error:
        _stack_event(stack, "DELETE_FAILED", f"{type(error).__name__}: {error}")
        return
    backend.stacks.pop(stack.stack_id, None)
    for export in stack.exports:
        backend.exports.pop(export.name, None)
    backend.deleted_stacks[stack.stack_id] = stack
    _stack_event(stack, "DELETE_COMPLETE")


def install_moto_patches() -> None:
    """Close moto's gaps (module docstring) in this process; idempotent."""
    global _patched
    if _patched:
        return
    cfn_parsing.resource_class_from_type = _resource_class_from_type
    cfn_parsing.parse_and_create_resource = _with_events("CREATE", "parse_and_create_resource")
    cfn_parsing.parse_and_update_resource = _with_events("UPDATE", "parse_and_update_resource")
    cfn_parsing.ResourceMap.transform_mapping = _transform_mapping
    cfn_parsing.ResourceMap.load_mapping = _load_mapping
    cfn_models.CloudFormationBackend.execute_change_set = _execute_change_set
    cfn_models.CloudFormationBackend.delete_stack = _delete_stack
    cfn_models.CloudFormationBackend.create_change_set = _create_change_set
    cfn_models.CloudFormationBackend.describe_stacks = _describe_stacks
    cfn_parsing.ResourceMap.update = _update
    cfn_responses.CloudFormationResponse.list_change_sets = _list_change_sets
    cfn_models.Stack.parse_template = staticmethod(_parse_template)
    cfn_models.ChangeSet._parse_template = _parse_change_set_template
    _patched = True


class LocalCloud:
    """moto's server on 127.0.0.1 plus the Proxylity stand-in; port 0 picks a free port."""

    def __init__(self, port: int = 0, delay: float = 0.0, fail_region: str | None = None) -> None:
        global _stand_in
        install_moto_patches()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns everything else
        _stand_in = ProxylityStandIn(delay=delay, fail_region=fail_region)
        self.proxylity = _stand_in
        self.aws = _aws
        self._port = port
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint_url = ""

    def start(self) -> LocalCloud:
        if self._port:
            _check_port_free(self._port)  # moto's server would wait forever for a port it cannot bind
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def reset(self) -> None:
        """Forget every stack and resource (moto's reset API), the stand-in's state and AwsBehaviour."""
        self.aws.change_sets.release()
        self.aws.change_set_requests.release()
        self.aws.refused_region = None
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        self.proxylity.reset()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class PortInUse(Exception):
    pass


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is fine
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PortInUse(
                f"127.0.0.1:{port} is in use ({error.strerror}); is a local cloud already running?"
            ) from None


def hint(endpoint_url: str) -> str:
    """The command that deploys against this local cloud, to run as typed in another terminal."""
    variables = {"AWS_ENDPOINT_URL": endpoint_url, **DUMMY_CREDENTIALS}
    return " ".join(f"{name}={value}" for name, value in variables.items()) + " make deploy"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.local_cloud", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (default 4566; 0 takes a free one)")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the Proxylity stand-in waits per answer")
    parser.add_argument("--fail-region", default=None, help="region in which the Proxylity stand-in fails")
    args = parser.parse_args(argv)
    cloud = LocalCloud(port=args.port, delay=args.delay, fail_region=args.fail_region or None)
    try:
        cloud.start()
    except PortInUse as error:
        print(f"local cloud: {error}", file=sys.stderr)
        return 2
    failing = f", failing in {args.fail_region}" if args.fail_region else ""
    print(
        f"local cloud on {cloud.endpoint_url}: AWS APIs by moto, and a STAND-IN for Proxylity's control plane "
        f"(not the real service; answers after {args.delay:g}s{failing})"
    )
    print(f"in another terminal: {hint(cloud.endpoint_url)}    (Ctrl-C here to stop)", flush=True)
    stop = threading.Event()
    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    cloud.stop()
    print("local cloud stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
