"""out/outputs.json: the one module that writes, reads and forgets it.

It describes what is deployed now: the global stack's outputs and StackId, and each region's function
(with StackSets, that per account: write_account_outputs). It is our own cache: whatever is wrong with it
is a warning, never a failed deploy. The smoke client reads its Domain and Port (read_endpoint).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.atomic_files import write_atomically
from generator.config import Config
from generator.deploy.reports import StackResult
from generator.deploy.specs import GLOBAL_OUTPUT_KEYS
from generator.errors import OutputsFileError, Problem
from generator.paths import DEFAULT_OUT_DIR

OUTPUTS_FILE_NAME = "outputs.json"
DEFAULT_OUTPUTS_FILE = DEFAULT_OUT_DIR / OUTPUTS_FILE_NAME


def read_outputs(path: Path) -> dict[str, object]:
    """The stack outputs in `path` as {key: value}, for clients (the smoke client); {} when there is no file.

    Two shapes are read: ours (a flat object, {"Domain": ..., "Port": ...}) and the list `aws cloudformation
    describe-stacks` prints ([{"OutputKey": "Domain", "OutputValue": ...}, ...])."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise OutputsFileError([Problem(str(path), f"cannot read: {error.strerror or error}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OutputsFileError([Problem(str(path), f"not valid JSON: {error.msg}", line=error.lineno)]) from None
    if isinstance(data, list):
        return {
            item["OutputKey"]: item.get("OutputValue")
            for item in data
            if isinstance(item, dict) and isinstance(item.get("OutputKey"), str)
        }
    accounts = data.get("accounts") if isinstance(data, dict) else None
    if isinstance(accounts, dict) and len(accounts) > 1 and "Domain" not in data:
        # A StackSets deploy to several accounts: one listener each, and no telling which one is meant.
        endpoints = ", ".join(
            f"{account} {entry.get('Endpoint')}" for account, entry in accounts.items() if isinstance(entry, dict)
        )
        raise OutputsFileError(
            [
                Problem(
                    str(path),
                    f"holds {len(accounts)} accounts' listeners (StackSets); pass HOST and PORT of one "
                    f"(make smoke HOST=... PORT=...): {endpoints}",
                    key_path="accounts",
                )
            ]
        )
    if isinstance(data, dict):
        return data
    raise OutputsFileError(
        [Problem(str(path), "expected an object of stack outputs or a list of OutputKey/OutputValue")]
    )


def outputs_path(out_dir: Path) -> Path:
    return Path(out_dir) / OUTPUTS_FILE_NAME


def read_outputs_record(path: Path) -> tuple[dict[str, Any], str | None]:
    """What an earlier deploy recorded at `path` ({} when nothing), and why it was ignored when it was.

    outputs.json is our own cache: whatever is wrong with it is a warning, never a failed deploy."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as error:
        return {}, f"cannot read it ({getattr(error, 'strerror', None) or error})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return {}, f"not valid JSON (line {error.lineno}: {error.msg})"
    if not isinstance(data, dict):
        return {}, f"expected a JSON object, got {type(data).__name__}"
    regions = data.get("regions", {})
    if not isinstance(regions, dict) or not all(isinstance(entry, dict) for entry in regions.values()):
        return {}, "expected `regions` to be an object of region -> {stack, action, FunctionArn}"
    return data, None


def write_outputs(
    config: Config, global_result: StackResult, regional_results: list[StackResult], out_dir: Path
) -> tuple[Path | None, list[str]]:
    """out/outputs.json from this deploy, written atomically: the global outputs and StackId, and each region's
    function. Earlier entries of other regions are kept only when they belong to this same global stack
    (same StackId), never carried into a new one. Returns the path (None when it could not be written) and
    one-line warnings."""
    outputs = global_result.outputs
    document: dict[str, Any] = {
        "stack": config.global_stack_name,
        "region": config.home_region,
        "StackId": global_result.stack_id,
        **{key: outputs.get(key) for key in GLOBAL_OUTPUT_KEYS},
        "Port": _port(outputs.get("Port")),
        "regions": {},
    }
    path = outputs_path(out_dir)
    previous, warnings = _earlier_record(path)
    if document["StackId"] and previous.get("StackId") == document["StackId"]:
        # A partial deploy (REGIONS=...) keeps what an earlier deploy of this global stack recorded.
        document["regions"] = dict(previous["regions"])
    for result in regional_results:
        function_arn = result.outputs.get("FunctionArn")
        earlier = document["regions"].get(result.region, {})
        if not result.ok and not function_arn:
            # A region that failed this run still has the function an earlier deploy recorded.
            function_arn = earlier.get("FunctionArn")
        document["regions"][result.region] = {
            "stack": result.stack,
            "action": result.action,
            "FunctionArn": function_arn,
        }
    return _write_record(path, document, warnings)


def _earlier_record(path: Path) -> tuple[dict[str, Any], list[str]]:
    """What an earlier deploy recorded (empty when nothing usable), and a warning when it is ignored."""
    previous, problem = read_outputs_record(path)
    warnings = [f"{path}: ignored what an earlier deploy recorded there ({problem}); rewriting it"] if problem else []
    return previous, warnings


def _port(value: Any) -> Any:
    """The listener's Port output as a number when it is one (CloudFormation outputs are strings)."""
    return int(value) if str(value or "").isdigit() else value


def _write_record(path: Path, document: dict[str, Any], warnings: list[str]) -> tuple[Path | None, list[str]]:
    """Write outputs.json atomically; when it cannot be written, None and one more warning."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(document, indent=2) + "\n")
    except OSError as error:
        warnings.append(f"{path}: cannot write the outputs ({error.strerror or error}); the summary above stands")
        return None, warnings
    return path, warnings


def forget_outputs(config: Config, out_dir: Path, deleted: list[StackResult]) -> tuple[list[str], list[str]]:
    """After destroy: outputs.json drops the regions whose stacks are gone, and goes entirely with the
    global stack (it would send the smoke client to a listener that no longer exists). A file that records
    another config's stack is left alone. Returns (what was done, warnings), one line each."""
    path = outputs_path(out_dir)
    if not path.exists():
        return [], []
    previous, problem = read_outputs_record(path)
    ours = previous.get("stack") == config.global_stack_name and previous.get("region") == config.home_region
    global_gone = any(r.stack == config.global_stack_name and r.region == config.home_region for r in deleted)
    try:
        if global_gone and (ours or problem):
            path.unlink()
            return [f"removed {path}: its listener was deleted"], []
        if problem:
            return [], [f"{path}: left as it was ({problem}); it may name deleted stacks"]
        gone = {r.region for r in deleted if r.stack == config.regional_stack_name} & set(previous.get("regions", {}))
        if not ours or not gone:
            return [], []
        previous["regions"] = {region: entry for region, entry in previous["regions"].items() if region not in gone}
        write_atomically(path, json.dumps(previous, indent=2) + "\n")
        return [f"updated {path}: {', '.join(sorted(gone))} no longer listed"], []
    except OSError as error:
        return [], [f"{path}: cannot update it ({error.strerror or error}); it may still name deleted stacks"]


# --- StackSets: one listener per account ------------------------------------------------------------------

# What outputs.json keeps of each account's global instance.
ACCOUNT_KEYS = ("StackId", *GLOBAL_OUTPUT_KEYS)


def write_account_outputs(
    config: Config, accounts: dict[str, dict[str, Any]], out_dir: Path
) -> tuple[Path | None, list[str]]:
    """out/outputs.json after a StackSets deploy: per account its global instance's outputs and StackId and
    each region's function, `{"accounts": {"111111111111": {"Endpoint": ..., "regions": {"us-west-2":
    {"FunctionArn": ...}}}}}`. With exactly one account its entry is also at the top, in the shape a
    single-account deploy writes, so `make smoke` finds Domain and Port as before. A region whose instance
    failed this run keeps the function an earlier deploy recorded for the same global instance (StackId)."""
    path = outputs_path(out_dir)
    previous, warnings = _earlier_record(path)
    earlier_accounts = previous.get("accounts") if isinstance(previous.get("accounts"), dict) else {}
    entries: dict[str, Any] = {}
    for account, found in accounts.items():
        earlier = earlier_accounts.get(account) if isinstance(earlier_accounts.get(account), dict) else {}
        same_listener = bool(found.get("StackId")) and earlier.get("StackId") == found.get("StackId")
        earlier_regions = earlier.get("regions") if same_listener and isinstance(earlier.get("regions"), dict) else {}
        entry: dict[str, Any] = {key: found.get(key) for key in ACCOUNT_KEYS}
        entry["Port"] = _port(found.get("Port"))
        entry["regions"] = {}
        for region, regional in found.get("regions", {}).items():
            arn = regional.get("FunctionArn") or (earlier_regions.get(region) or {}).get("FunctionArn")
            entry["regions"][region] = {**regional, "FunctionArn": arn}
        entries[account] = entry
    document: dict[str, Any] = {"stack": config.global_stack_name, "region": config.home_region}
    if len(entries) == 1:
        document.update(next(iter(entries.values())))
    document["accounts"] = entries
    return _write_record(path, document, warnings)


def forget_account_outputs(config: Config, out_dir: Path, deleted: list[StackResult]) -> tuple[list[str], list[str]]:
    """After a StackSets destroy: outputs.json goes with the global StackSet; else it drops each deleted
    instance (an account whose global instance went, a region of an account). Returns (done, warnings)."""
    path = outputs_path(out_dir)
    if not path.exists():
        return [], []
    previous, problem = read_outputs_record(path)
    ours = previous.get("stack") == config.global_stack_name and previous.get("region") == config.home_region
    global_gone = any(r.stack_set and r.stack == config.global_stack_name for r in deleted)
    try:
        if global_gone and (ours or problem):
            path.unlink()
            return [f"removed {path}: its listeners were deleted"], []
        if problem:
            return [], [f"{path}: left as it was ({problem}); it may name deleted stacks"]
        accounts = previous.get("accounts")
        if not ours or not isinstance(accounts, dict):
            return [], []
        gone = []
        for result in deleted:
            entry = accounts.get(result.account)
            if result.stack_set or not isinstance(entry, dict):
                continue
            if result.stack == config.global_stack_name:
                accounts.pop(result.account, None)
                gone.append(result.account)
            elif isinstance(entry.get("regions"), dict) and entry["regions"].pop(result.region, None) is not None:
                gone.append(f"{result.account} {result.region}")
        if not gone:
            return [], []
        for key in ("regions", *ACCOUNT_KEYS):
            previous.pop(key, None)
        if len(accounts) == 1:
            previous.update(next(iter(accounts.values())))
        write_atomically(path, json.dumps(previous, indent=2) + "\n")
        return [f"updated {path}: {', '.join(gone)} no longer listed"], []
    except OSError as error:
        return [], [f"{path}: cannot update it ({error.strerror or error}); it may still name deleted stacks"]
