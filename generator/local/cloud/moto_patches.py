"""moto's gaps closed, in this process only, by patching moto at the narrowest points (see the package
docstring for the list); the deploy code in generator/deploy knows nothing of them."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda import models as lambda_models
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.responses import ActionResult, EmptyResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3 import exceptions as s3_exceptions
from moto.s3 import responses as s3_responses
from werkzeug.serving import WSGIRequestHandler

from generator.local.cloud.lambda_concurrency import ResourceHandlerFailed
from generator.local.cloud.stand_in import (
    _INCLUDE_BUCKET,
    DESTINATION_ARN_TYPE,
    LISTENER_TYPE,
    Gate,
    ProxylityFailure,
    ProxylityStandIn,
)
from generator.local.lambda_quotas import DEFAULT_ACCOUNT_CONCURRENCY

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
    # Lambda's concurrent executions per account and region: reservations that leave less unreserved than Lambda
    # keeps are refused (lambda_concurrency).
    lambda_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY


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

    def __init__(
        self, resource_type: str, region: str, physical_id: str, data: dict[str, Any], properties: dict, account_id: str
    ):
        self.resource_type = resource_type
        self.region_name = region
        self.account_id = account_id
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
        physical_id, data = _stand_in.handle("Create", resource_type, region_name, properties, None, account_id)
        return cls(resource_type, region_name, physical_id, data, properties, account_id)

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
            "Update", resource_type, region_name, properties, original_resource.physical_resource_id, account_id
        )
        return cls(resource_type, region_name, physical_id, data, properties, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        _stand_in.handle("Delete", self.resource_type, region_name, self.properties, self._physical_id, account_id)


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
    "diff": cfn_models.ChangeSet.diff,
    "get_object": s3_responses.S3Response.get_object,
    "get_backend_for_host": DomainDispatcherApplication.get_backend_for_host,
    "update_lambda": lambda_models.LambdaFunction.update_from_cloudformation_json,
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


def _execute_change_set_response(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    """moto's handler, passing on ClientRequestToken (moto drops it)."""
    self.cloudformation_backend.execute_change_set(
        change_set_name=self._get_param("ChangeSetName"),
        stack_name=self._get_param("StackName"),
        client_request_token=self._get_param("ClientRequestToken"),
    )
    return EmptyResult()


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
        except (ProxylityFailure, ResourceHandlerFailed) as error:
            _add_resource_event(stack, logical_id, resource_type, f"{action}_FAILED", str(error))
            raise ResourceFailed(logical_id, str(error)) from None
        physical = getattr(resource, "physical_resource_id", "") or ""
        _add_resource_event(stack, logical_id, resource_type, f"{action}_COMPLETE", physical=str(physical))
        return resource

    return wrapper


def _stack_event(stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack._add_stack_event(status, resource_status_reason=reason)


class ChangeSetNotFound(CloudFormationError):
    """CloudFormation's answer for a change set it does not have (moto says "Stack with id ... does not exist")."""

    code = "ChangeSetNotFound"

    def __init__(self, change_set_name: str) -> None:
        super().__init__(f"ChangeSet [{change_set_name}] does not exist")


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatus"

    def __init__(self, change_set_name: str, status: str) -> None:
        super().__init__(f"ChangeSet [{change_set_name}] cannot be executed in its current status of [{status}]")


def _find_change_set(backend: cfn_models.CloudFormationBackend, change_set_name: str):
    change_set = backend.change_sets.get(change_set_name) or next(
        (cs for cs in backend.change_sets.values() if cs.change_set_name == change_set_name), None
    )
    if change_set is None:
        raise ChangeSetNotFound(change_set_name)
    return change_set


def _describe_change_set(self: cfn_models.CloudFormationBackend, change_set_name: str):
    return _find_change_set(self, change_set_name)


def _delete_change_set(self: cfn_models.CloudFormationBackend, change_set_name: str) -> None:
    change_set = _find_change_set(self, change_set_name)
    for arn, other in list(self.change_sets.items()):
        if other is change_set:
            del self.change_sets[arn]


def _execute_change_set(
    self: cfn_models.CloudFormationBackend,
    change_set_name: str,
    stack_name: str | None = None,
    client_request_token: str | None = None,
):
    change_set = _find_change_set(self, change_set_name)
    # ExecuteChangeSet's ClientRequestToken: "Specify this token if you plan to retry requests so that
    # CloudFormation knows that you're not attempting to execute a change set to update a stack with the same
    # name" (API reference, ExecuteChangeSet): a retry with the executing request's token is answered as done.
    if client_request_token and getattr(change_set, "client_request_token", None) == client_request_token:
        return
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(change_set_name, change_set.execution_status)
    change_set.client_request_token = client_request_token
    stack = self.stacks[change_set.stack_id]
    kind = change_set.change_set_type
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    # CloudFormation deletes a stack's other change sets once one is executed: they no longer apply.
    for arn, other in list(self.change_sets.items()):
        if other is not change_set and other.stack_id == change_set.stack_id:
            del self.change_sets[arn]
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


def apply_change_set_now(backend: cfn_models.CloudFormationBackend, change_set_id: str):
    """Execute a ready change set in the calling thread (as _execute_change_set does in a thread of its own),
    with the same events, Outputs and rollback; the stack afterwards. For the StackSets model's instances."""
    change_set = backend.change_sets[change_set_id]
    stack = backend.stacks[change_set.stack_id]
    kind = change_set.change_set_type
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    _stack_event(stack, f"{kind}_IN_PROGRESS", "User Initiated")
    _run_change_set(change_set, stack, kind)
    return stack


def delete_stack_now(backend: cfn_models.CloudFormationBackend, stack) -> None:
    """Delete a stack in the calling thread, with its events; DELETE_FAILED when a resource refuses."""
    _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    _run_delete(backend, stack)


def _diff_with_details(self: cfn_models.ChangeSet) -> list[Any]:
    """moto's resource-level changes, each Modify with the property-level Details CloudFormation gives
    (the properties whose template text differs, with their values before and after, as JSON). Whether a
    change replaces the resource is not said: that needs each resource type's schema, which moto lacks."""
    changes = _original["diff"](self)
    before = (self.stack.template_dict or {}).get("Resources", {}) if self.stack.template else {}
    after = (self.template_dict or {}).get("Resources", {})
    for change in changes:
        old = (before.get(change.logical_resource_id) or {}).get("Properties") or {}
        new = (after.get(change.logical_resource_id) or {}).get("Properties") or {}
        change.details = [
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": name,
                    "AttributeChangeType": "Add" if name not in old else "Remove" if name not in new else "Modify",
                    **({"BeforeValue": json.dumps(old[name], sort_keys=True)} if name in old else {}),
                    **({"AfterValue": json.dumps(new[name], sort_keys=True)} if name in new else {}),
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
            for name in sorted(set(old) | set(new))
            if change.action == "Modify" and old.get(name) != new.get(name)
        ]
    return changes


_CUSTOMER_CONFIG_BUCKET = re.compile(r"proxylity-config-(?P<region>[a-z0-9-]+)\Z")
_CUSTOMER_CONFIG_KEY = re.compile(r"(?P<account>[0-9]{12})/customer-config\.json\Z")


def _get_object(self: s3_responses.S3Response) -> Any:
    """GetObject of s3://proxylity-config-REGION/ACCOUNT/customer-config.json is answered by the stand-in, as
    Proxylity's own bucket in every region answers a subscribed customer: the document of that account, readable
    by that account alone (another account's key is AccessDenied, an unsubscribed region NoSuchKey)."""
    bucket = _CUSTOMER_CONFIG_BUCKET.match(self.bucket_name or "")
    key = _CUSTOMER_CONFIG_KEY.match(self.parse_key_name() or "") if bucket else None
    if key is None:
        return _original["get_object"](self)
    account, region = key["account"], bucket["region"]
    if self.current_account != account:
        raise s3_exceptions.S3AccessDeniedError()
    if region == _stand_in.unsubscribed_region:
        raise s3_exceptions.MissingKey(key=self.parse_key_name())
    body = json.dumps(_stand_in.include_document(account, region)).encode()
    return 200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body


def _get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    """moto's lookup of the service a request is for, remembered per host name: moto lists its own package
    folder and tries hundreds of URL patterns on every request, under a lock all requests share (the answer
    for a host never changes)."""
    cache = self.__dict__.setdefault("_packet_counter_backends", {})
    if host not in cache:
        cache[host] = _original["get_backend_for_host"](self, host)
    return cache[host]


def _update_lambda_function(
    cls: type, original_resource: Any, new_resource_name: str, cloudformation_json: dict, *args: Any, **kwargs: Any
) -> Any:
    """An update of a function with inline code (Code.ZipFile, the source text) deploys that code: moto zips it
    on create but hands the text to UpdateFunctionCode on update, which takes it for a base64 zip and keeps junk."""
    code = (cloudformation_json.get("Properties") or {}).get("Code") or {}
    if isinstance(code.get("ZipFile"), str):
        package = lambda_models.LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"])
        properties = {**cloudformation_json["Properties"], "Code": {**code, "ZipFile": base64.b64encode(package)}}
        cloudformation_json = {**cloudformation_json, "Properties": properties}
    return _original["update_lambda"].__func__(
        cls, original_resource, new_resource_name, cloudformation_json, *args, **kwargs
    )


def _buffer_responses() -> None:
    """werkzeug's request handler writes each response header with a send of its own (StreamRequestHandler's
    wbufsize is 0, unbuffered): a dozen system calls per answer, which on a sandboxed kernel cost more than
    moto's work. Buffered, the answer leaves in one send when http.server flushes it after each request."""
    WSGIRequestHandler.wbufsize = 64 * 1024


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
    cfn_models.CloudFormationBackend.describe_change_set = _describe_change_set
    cfn_models.CloudFormationBackend.delete_change_set = _delete_change_set
    cfn_models.CloudFormationBackend.delete_stack = _delete_stack
    cfn_models.CloudFormationBackend.create_change_set = _create_change_set
    cfn_models.CloudFormationBackend.describe_stacks = _describe_stacks
    cfn_parsing.ResourceMap.update = _update
    cfn_responses.CloudFormationResponse.list_change_sets = _list_change_sets
    cfn_responses.CloudFormationResponse.execute_change_set = _execute_change_set_response
    cfn_models.Stack.parse_template = staticmethod(_parse_template)
    cfn_models.ChangeSet._parse_template = _parse_change_set_template
    cfn_models.ChangeSet.diff = _diff_with_details
    s3_responses.S3Response.get_object = _get_object
    DomainDispatcherApplication.get_backend_for_host = _get_backend_for_host
    lambda_models.LambdaFunction.update_from_cloudformation_json = classmethod(_update_lambda_function)
    _buffer_responses()
    _patched = True


def use_stand_in(stand_in: ProxylityStandIn) -> None:
    """Make `stand_in` the one the patched moto talks to."""
    global _stand_in
    _stand_in = stand_in


def aws_behaviour() -> AwsBehaviour:
    return _aws
