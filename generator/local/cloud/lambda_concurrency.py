"""Lambda's account concurrency quota, enforced inside moto (this process only): a reservation that would leave
less unreserved than Lambda keeps is refused with Lambda's message, through the Lambda API (PutFunctionConcurrency)
and through CloudFormation (an AWS::Lambda::Function's ReservedConcurrentExecutions, on create and on update),
where the resource fails and the stack rolls back, as on AWS. The rule and the message: generator/local/
lambda_quotas.py.

moto 5.2 enforces a quota only when MOTO_LAMBDA_CONCURRENCY_QUOTA is set, and then keeps 100 unreserved whatever
the quota; through CloudFormation it enforces nothing, and an update ignores ReservedConcurrentExecutions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException

from generator.local.lambda_quotas import DEFAULT_ACCOUNT_CONCURRENCY, reservation_refusal


class ResourceHandlerFailed(Exception):
    """A resource type's handler refused a request during a stack operation; the message is the status reason
    CloudFormation shows, in the form it gives for resource types served by a handler, for example
    'Resource handler returned message: "Unzipped size must be smaller than 262144000 bytes (Service: Lambda,
    Status Code: 400, Request ID: ...)" (RequestToken: ..., HandlerErrorCode: InvalidRequest)'."""

    def __init__(self, service_message: str, service: str = "Lambda") -> None:
        super().__init__(
            f'Resource handler returned message: "{service_message} (Service: {service}, Status Code: 400, '
            f'Request ID: {uuid.uuid4()})" (RequestToken: {uuid.uuid4()}, HandlerErrorCode: InvalidRequest)'
        )


_original = {
    "create_from_cloudformation_json": lambda_models.LambdaFunction.create_from_cloudformation_json,
    "update_from_cloudformation_json": lambda_models.LambdaFunction.update_from_cloudformation_json,
}


def _default_account_concurrency() -> int:
    return DEFAULT_ACCOUNT_CONCURRENCY


_account_concurrency: Callable[[], int] = _default_account_concurrency
# A reservation is checked and made as one step: regional stacks of one account and region may run at once.
_reservations = threading.Lock()
_patched = False


def _refusal(backend: Any, function_name: str, requested: Any) -> str | None:
    """Lambda's message when `function_name` may not reserve `requested` in `backend`'s account and region."""
    if requested is None:
        return None
    reserved_elsewhere = sum(
        int(function.reserved_concurrency)
        for function in backend.list_functions()
        if function.reserved_concurrency is not None and function.function_name != function_name
    )
    return reservation_refusal(_account_concurrency(), reserved_elsewhere, int(requested))


def _put_function_concurrency(self: Any, function_name: str, reserved_concurrency: Any) -> Any:
    function = self.get_function(function_name)
    with _reservations:
        if message := _refusal(self, function.function_name, reserved_concurrency):
            raise InvalidParameterValueException(message)
        function.reserved_concurrency = reserved_concurrency
    return function.reserved_concurrency


def _create_from_cloudformation_json(
    cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
) -> Any:
    requested = cloudformation_json.get("Properties", {}).get("ReservedConcurrentExecutions")
    with _reservations:
        if message := _refusal(lambda_models.lambda_backends[account_id][region_name], resource_name, requested):
            raise ResourceHandlerFailed(message)
        return _original["create_from_cloudformation_json"].__func__(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )


def _update_from_cloudformation_json(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> Any:
    # CloudFormation sets the function's reservation to the template's, and removes it when the property is gone.
    requested = cloudformation_json.get("Properties", {}).get("ReservedConcurrentExecutions")
    backend = lambda_models.lambda_backends[account_id][region_name]
    with _reservations:
        if message := _refusal(backend, original_resource.function_name, requested):
            raise ResourceHandlerFailed(message)
        updated = _original["update_from_cloudformation_json"].__func__(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        updated.reserved_concurrency = requested
    return updated


def install_lambda_concurrency_patches(account_concurrency: Callable[[], int]) -> None:
    """Enforce the quota `account_concurrency()` (read at every reservation) in every account and region;
    idempotent (the latest reader wins)."""
    global _account_concurrency, _patched
    _account_concurrency = account_concurrency
    if _patched:
        return
    lambda_models.LambdaBackend.put_function_concurrency = _put_function_concurrency
    lambda_models.LambdaFunction.create_from_cloudformation_json = classmethod(_create_from_cloudformation_json)
    lambda_models.LambdaFunction.update_from_cloudformation_json = classmethod(_update_from_cloudformation_json)
    _patched = True
