"""The functions the local cloud's Lambda holds, as the data plane runs them.

A function is read from moto's Lambda backend of its own account and region, named by its ARN: its code (the
handler module out of the deployment package moto keeps, which for inline code is index.py), handler,
environment, timeout and memory, exactly as deployed (an update through CloudFormation or UpdateFunctionCode
shows at the next invocation). What is read is cached by what identifies a version of it, so a batch costs a few
attribute reads, not an unzip.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from typing import Any

from moto.awslambda.models import lambda_backends

from generator.local.gateway.function_process import FunctionSpec

_FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):function:(?P<name>[A-Za-z0-9_-]+)(:\$LATEST)?"
)


def parse_function_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, region, name) of a function ARN; None for anything else."""
    match = _FUNCTION_ARN.fullmatch(arn or "")
    return (match["account"], match["region"], match["name"]) if match else None


def moto_function(account: str, region: str, name: str) -> Any | None:
    """moto's LambdaFunction, or None; without creating a backend for an account or region that has none."""
    regions = dict.get(lambda_backends, account)
    backend = dict.get(regions, region) if regions is not None else None
    if backend is None:
        return None
    try:
        return backend.get_function(name)
    except Exception:  # moto's UnknownFunctionException, or the function deleted while we read it
        return None


class DeployedFunctions:
    """FunctionSpecs of the functions deployed in the local cloud, by ARN. Every spec captures what the handler
    prints (for CloudWatch Logs) and resolves the local cloud's listener names (`hosts_file`)."""

    def __init__(self, hosts_file: str = "") -> None:
        self.hosts_file = hosts_file
        self._cache: dict[tuple[str, str, str], tuple[tuple, FunctionSpec | None]] = {}
        self._lock = threading.Lock()

    def spec(self, arn: str) -> FunctionSpec | None:
        """The function an ARN names as it is deployed now; None when it does not exist or cannot run here (no
        package of Python code moto keeps, as for a container image)."""
        parsed = parse_function_arn(arn)
        if parsed is None:
            return None
        function = moto_function(*parsed)
        if function is None:
            return None
        version = _version_of(function)
        with self._lock:
            cached = self._cache.get(parsed)
            if cached is not None and cached[0] == version:
                return cached[1]
        spec = self._read(parsed, function, version)
        with self._lock:
            self._cache[parsed] = (version, spec)
        return spec

    def _read(self, parsed: tuple[str, str, str], function: Any, version: tuple) -> FunctionSpec | None:
        account, region, name = parsed
        module, _, handler = (getattr(function, "handler", None) or "index.handler").rpartition(".")
        try:
            with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as package:
                code = package.read(f"{module.replace('.', '/')}.py").decode("utf-8")
        except (AttributeError, KeyError, OSError, ValueError, zipfile.BadZipFile):
            return None
        variables = getattr(function, "environment_vars", None) or {}
        return FunctionSpec(
            region=region,
            name=name,
            code=code,
            memory_mb=int(function.memory_size),
            timeout_seconds=float(function.timeout),
            handler=handler,
            module=module or "index",
            environment=tuple(sorted((str(key), str(value)) for key, value in variables.items())),
            arn=f"arn:aws:lambda:{region}:{account}:function:{name}",
            account=account,
            capture_output=True,
            hosts_file=self.hosts_file,
            revision=f"{version[0]:x}",
        )


def _version_of(function: Any) -> tuple:
    """What changes when the function's code or configuration does (the object itself: a function deleted and
    created again is a new one)."""
    variables = getattr(function, "environment_vars", None) or {}
    return (
        id(function),
        getattr(function, "code_sha_256", None),
        getattr(function, "handler", None),
        tuple(sorted((str(key), str(value)) for key, value in variables.items())),
        str(getattr(function, "timeout", "")),
        str(getattr(function, "memory_size", "")),
    )
