"""The config's JSON Schema: the one home of its types, ranges and defaults."""

from __future__ import annotations

import copy
import difflib
import json
from functools import cache
from typing import Any

import jsonschema

from generator.errors import Problem
from generator.paths import SCHEMA_FILE
from generator.yaml_source import YamlDocument, format_key_path


@cache
def load_schema() -> dict[str, Any]:
    """The parsed config.schema.json (cached; treat as read-only)."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def schema_problems(document: YamlDocument) -> list[Problem]:
    """Every schema violation in the document, one Problem each, in file order."""
    validator = jsonschema.Draft202012Validator(load_schema())
    problems: list[Problem] = []
    for error in validator.iter_errors(document.data):
        problems.extend(_describe(error, document))
    return problems


def apply_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of valid `data` with every missing key that has a schema default filled in."""
    return _with_defaults(load_schema(), copy.deepcopy(data))


def _with_defaults(schema: dict[str, Any], value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for name, subschema in schema.get("properties", {}).items():
        if name not in value and "default" in subschema:
            value[name] = copy.deepcopy(subschema["default"])
        if name in value:
            value[name] = _with_defaults(subschema, value[name])
    return value


def _describe(error: jsonschema.ValidationError, document: YamlDocument) -> list[Problem]:
    path = tuple(error.absolute_path)
    if "propertyNames" in error.schema_path:
        path = path + (error.instance,)  # point at the offending key itself, not its mapping
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = sorted(error.schema.get("properties", {}))
        unknown = [key for key in error.instance if key not in allowed]
        return [_problem(document, path + (key,), _unknown_key_message(key, allowed)) for key in unknown]
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        return [_problem(document, path + (key,), "is required but missing") for key in missing]
    if error.validator == "pattern" and "x-expected" in error.schema:
        return [_problem(document, path, f"expected {error.schema['x-expected']}; got {error.instance!r}")]
    if error.validator == "enum":
        choices = ", ".join(json.dumps(choice) for choice in error.validator_value)
        return [_problem(document, path, f"expected one of {choices}; got {json.dumps(error.instance, default=str)}")]
    if error.validator == "type":
        expected = " or ".join(_TYPE_NAMES.get(name, name) for name in _as_list(error.validator_value))
        return [_problem(document, path, f"expected {expected}; got {_yaml_repr(error.instance)}")]
    return [_problem(document, path, error.message)]


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing (null)",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _yaml_repr(value: Any) -> str:
    """A value as the user wrote it in YAML terms: true, null, a list, 'text'."""
    if isinstance(value, bool | None | int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value} ({type(value).__name__})"


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}expected one of: {', '.join(allowed)}"


def _problem(document: YamlDocument, path: tuple, message: str) -> Problem:
    return Problem(document.source, message, key_path=format_key_path(path), line=document.line_of(path))
