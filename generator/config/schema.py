"""The config's JSON Schema: the one home of its types, ranges and defaults.

Validation follows JSON Schema with one correction that matters for a generator: a pattern
anchored with `^...$` must match the whole string. (Python's `$` also matches before a final
newline, so `"pc\\n"` would pass `^[a-z]+$` and reach a template; ECMA-262, which JSON Schema
patterns follow, does not allow that.)

A value of the wrong type gets that one problem: a rule about the keys of a section that is not a
mapping would only add noise (the schema's if/then rules apply to mappings only, and the loader drops
what else is found at or below such a value: SchemaFindings.wrong_types).

An ARN (`x-arn`: its kind in arns.py) is checked part by part in checks.py, which says which part is
wrong; its `pattern` is filled in here from the same rules and botocore's partitions and regions, for
tools that read the schema (a generator of example configs), and is not reported on its own.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from generator.config.arns import arn_pattern
from generator.config.yaml_source import YamlDocument, format_key_path
from generator.errors import Problem, closest_match, shown
from generator.resources import schema_file


@cache
def load_schema() -> dict[str, Any]:
    """The parsed config.schema.json, each ARN's pattern filled in (cached; treat as read-only)."""
    return _with_arn_patterns(json.loads(schema_file().read_text(encoding="utf-8")))


def _with_arn_patterns(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_with_arn_patterns(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    filled = {key: _with_arn_patterns(value) for key, value in schema.items()}
    if isinstance(schema.get("x-arn"), str):
        filled["pattern"] = arn_pattern(schema["x-arn"])
    return filled


@cache
def _compiled_pattern(pattern: str) -> re.Pattern[str]:
    # An unescaped `$` at the end means "end of the string" here, as in ECMA-262.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _whole_string_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _compiled_pattern(pattern).search(instance):
        yield ValidationError(f"{shown(instance)} does not match {pattern!r}")


ConfigValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, validators={"pattern": _whole_string_pattern}
)


def validator() -> Any:
    """A validator of config data against config.schema.json (whole-string patterns)."""
    return ConfigValidator(load_schema())


@dataclass(frozen=True)
class SchemaFindings:
    """Every schema violation in a document, one Problem each: those of a value of the wrong type apart."""

    type_problems: list[Problem]
    other_problems: list[Problem]
    wrong_types: frozenset[str]  # the key paths whose value is not of a type the schema allows there

    @property
    def problems(self) -> list[Problem]:
        return self.type_problems + self.other_problems


def check_schema(document: YamlDocument) -> SchemaFindings:
    """The document against the schema."""
    type_problems: list[Problem] = []
    other_problems: list[Problem] = []
    wrong_types: set[str] = set()
    for error in validator().iter_errors(document.data):
        if error.validator == "type":
            type_problems.extend(_describe(error, document))
            wrong_types.add(format_key_path(tuple(error.absolute_path)))
        else:
            other_problems.extend(_describe(error, document))
    return SchemaFindings(type_problems, other_problems, frozenset(wrong_types))


def apply_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of valid `data` with every missing key that has a schema default filled in, and every
    whole number written as a float (`count: 10.0`) where the schema wants an integer made an int,
    so that the templates say 10, as CloudFormation and Lambda expect."""
    return _normalised(load_schema(), copy.deepcopy(data))


def _normalised(schema: dict[str, Any], value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and _wants_integer(schema):
        return int(value)
    if isinstance(value, list):
        return [_normalised(schema.get("items", {}), item) for item in value]
    if not isinstance(value, dict):
        return value
    for name, subschema in schema.get("properties", {}).items():
        if name not in value and "default" in subschema:
            value[name] = copy.deepcopy(subschema["default"])
        if name in value:
            value[name] = _normalised(subschema, value[name])
    return value


def _wants_integer(schema: dict[str, Any]) -> bool:
    enum = schema.get("enum")
    if enum is not None:
        return all(isinstance(choice, int) and not isinstance(choice, bool) for choice in enum)
    return schema.get("type") == "integer"


def _describe(error: ValidationError, document: YamlDocument) -> list[Problem]:
    path = tuple(error.absolute_path)
    instance = error.instance
    if "propertyNames" in error.schema_path:
        path = path + (instance,)  # point at the offending key itself, not its mapping
    if error.validator == "pattern" and "x-arn" in error.schema:
        return []  # checks.py says which part of the ARN is wrong
    if "x-message" in error.schema:  # a rule across keys (if/then) says in its own words what is wrong
        at = path + ((error.schema["x-key"],) if "x-key" in error.schema else ())
        return [_problem(document, at, error.schema["x-message"])]
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = sorted(error.schema.get("properties", {}))
        unknown = [key for key in instance if key not in allowed]
        return [_problem(document, path + (key,), _unknown_key_message(key, allowed)) for key in unknown]
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in instance]
        return [_problem(document, path + (key,), "is required but missing") for key in missing]
    return [_problem(document, path, _message(error, document.spelled.get(path)))]


def _message(error: ValidationError, spelled: str | None) -> str:
    """What is wrong with the value, in words, the value shown short however long it is."""
    kind, limit, instance = error.validator, error.validator_value, error.instance
    if kind == "pattern" and "x-expected" in error.schema:
        return f"expected {error.schema['x-expected']}; got {shown(instance)}"
    if kind == "enum":
        choices = ", ".join(json.dumps(choice) for choice in limit)
        text_allowed = any(isinstance(choice, str) for choice in limit)
        return f"expected one of {choices}; got {_as_written(instance, spelled, True, text_allowed)}"
    if kind == "type":
        expected = " or ".join(_TYPE_NAMES.get(name, name) for name in _as_list(limit))
        written = _as_written(instance, spelled, text_allowed="string" in _as_list(limit))
        return f"expected {expected}; got {written}{_text_hint(instance, limit)}"
    if kind == "minimum":
        return f"{shown(instance)} is less than the minimum of {limit}"
    if kind == "exclusiveMinimum":
        return f"{shown(instance)} is less than or equal to the minimum of {limit}"
    if kind == "maximum":
        return f"{shown(instance)} is greater than the maximum of {limit}"
    if kind == "minLength":
        return "must not be empty" if limit == 1 else f"expected at least {limit} characters; got {len(instance)}"
    if kind == "maxLength":
        return f"expected at most {limit:,} characters; got {len(instance):,}: {shown(instance)}"
    if kind == "minItems":
        return f"expected at least {_count(limit, 'item')}; got {len(instance) or 'none'}"
    if kind == "maxItems":
        return f"expected at most {_count(limit, 'item')}; got {len(instance)}"
    if kind == "maxProperties":
        return f"expected at most {_count(limit, 'entry', 'entries')}; got {len(instance)}"
    if kind == "uniqueItems":
        first, second = _first_repeat(instance)
        return f"lists {shown(instance[second])} twice (items {first} and {second})"
    return error.message


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


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def _as_written(value: Any, spelled: str | None, as_json: bool = False, text_allowed: bool = True) -> str:
    """A value as the user wrote it in YAML terms: true, null, a list, 'text' (and how YAML read it; where text
    would be allowed, that quoting makes it text)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None and spelled == "":
        return "nothing (the value is empty)"
    text = shown(value, as_json=as_json)
    if spelled is not None and spelled != text:
        advice = "; quote it to mean text" if text_allowed else ""
        return f"{text} (YAML reads `{shown(spelled, quote=False)}` as {text}{advice})"
    return text


def _text_hint(value: Any, expected: Any) -> str:
    """`0128` is text to YAML 1.1 (a leading zero), though it looks like a number."""
    wants_number = {"integer", "number"} & set(_as_list(expected))
    if wants_number and isinstance(value, str) and re.fullmatch(r"[-+]?0[0-9]+(\.[0-9]*)?", value):
        return " (a leading zero makes YAML read it as text; write it without the zero)"
    return ""


def _first_repeat(items: list[Any]) -> tuple[int, int]:
    for second, item in enumerate(items):
        for first in range(second):
            if jsonschema._utils.equal(items[first], item):  # JSON equality: 1 and true differ
                return first, second
    return 0, 0


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    close = closest_match(key, allowed)
    hint = f"did you mean {close!r}? " if close else ""
    return f"unknown key; {hint}expected one of: {', '.join(allowed)}"


def _problem(document: YamlDocument, path: tuple, message: str) -> Problem:
    source, line = document.where(path)
    return Problem(source, message, key_path=format_key_path(path), line=line)
