"""A section of the wrong type gets one true line: `stacksets:` left empty, `[]` or a string says that a
mapping is expected, and nothing else (no rule about keys nobody wrote). Every section and sub-section
the schema has is tried, so a new one is covered without a new test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.config import load_config
from generator.config.schema import check_schema, load_schema
from generator.config.yaml_source import KeyPath, format_key_path, load_yaml_document, yaml_text
from tests.support.cli import run_cli, snapshot
from tests.support.config_files import config_problems as problems_of
from tests.support.config_files import default_config_data, maximal


def mapping_paths(schema: dict[str, Any], path: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path where the schema takes a mapping: each section, sub-section and item of a list of them."""
    for name, subschema in schema.get("properties", {}).items():
        here = (*path, name)
        if subschema.get("type") == "object":
            yield here
            yield from mapping_paths(subschema, here)
        items = subschema.get("items", {})
        if items.get("type") == "object":
            yield (*here, 0)
            yield from mapping_paths(items, (*here, 0))


MAPPING_PATHS = sorted(mapping_paths(load_schema()), key=format_key_path)


def every_section() -> dict[str, Any]:
    """A valid config that writes every section and sub-section."""
    data = default_config_data()
    maximal(data)
    data["observability"]["canary"]["enabled"] = False  # the canary and StackSets do not go together
    data["stacksets"] = {"accounts": ["111111111111"], "administration_role_arn": "arn:aws:iam::111111111111:role/A"}
    return data


def value_at(data: Any, path: KeyPath) -> Any:
    for key in path:
        data = data[key]
    return data


def set_at(data: Any, path: KeyPath, value: Any) -> None:
    value_at(data, path[:-1])[path[-1]] = value


PLACEHOLDER = "PLACEHOLDER-OF-THE-WRONG-VALUE"

# (as written in YAML, as the message says it was read)
WRONG_VALUES = [
    ("", "nothing (the value is empty)"),
    ("~", "null (YAML reads `~` as null)"),
    ("null", "null"),
    ("[]", "a list"),
    ("[accounts]", "a list"),
    ("text", "'text'"),
    ("'permission_model: x'", "'permission_model: x'"),
    ("0", "0"),
    ("true", "true"),
    ("off", "false (YAML reads `off` as false)"),
]


def write_with(tmp_path: Path, path: KeyPath, written: str) -> tuple[Path, int]:
    """every_section() with the value at `path` written as `written`; the file and the line of the value."""
    data = every_section()
    set_at(data, path, PLACEHOLDER)
    text = yaml_text(data)
    line = text[: text.index(PLACEHOLDER)].count("\n") + 1
    config = tmp_path / "config.yaml"
    config.write_text(text.replace(PLACEHOLDER, written), encoding="utf-8")
    return config, line


def test_the_config_with_every_section_is_valid_and_writes_every_section_the_schema_has(tmp_path):
    data = every_section()
    config = tmp_path / "config.yaml"
    config.write_text(yaml_text(data), encoding="utf-8")
    load_config(config)
    for path in MAPPING_PATHS:  # a new section of the schema: write it in every_section()
        assert isinstance(value_at(data, path), dict), format_key_path(path)
    assert len(MAPPING_PATHS) >= 10


@pytest.mark.parametrize(("written", "read_as"), WRONG_VALUES, ids=[w or "empty" for w, _ in WRONG_VALUES])
@pytest.mark.parametrize("path", MAPPING_PATHS, ids=format_key_path)
def test_a_section_of_the_wrong_type_is_one_line_saying_a_mapping_is_expected(tmp_path, path, written, read_as):
    config, line = write_with(tmp_path, path, written)

    assert problems_of(config) == [f"cfg.yaml:{line}: {format_key_path(path)}: expected a mapping; got {read_as}"]


@pytest.mark.parametrize("written", ["", "[]", "text"], ids=["empty", "list", "string"])
@pytest.mark.parametrize("path", MAPPING_PATHS, ids=format_key_path)
def test_no_rule_of_the_schema_applies_to_a_section_that_is_not_a_mapping(tmp_path, path, written):
    """The schema itself (not only the loader's sorting out) says one thing: its if/then rules about a section's
    keys, or a sibling's, hold only for mappings."""
    config, _ = write_with(tmp_path, path, written)

    findings = check_schema(load_yaml_document(config, "cfg.yaml"))

    assert [problem.key_path for problem in findings.problems] == [format_key_path(path)]
    assert findings.wrong_types == {format_key_path(path)}


@pytest.mark.parametrize("written", ["", "[]", "'x'"], ids=["empty", "list", "string"])
def test_stacksets_of_the_wrong_type_through_the_command_line(tmp_path, written):
    config = tmp_path / "config.yaml"
    config.write_text(f"regions: [us-west-2]\nstacksets: {written}\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "global.template.json").write_text("{}\n")
    before = snapshot(out)

    result = run_cli("render", "--config", config, "--out", out)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config}:2: stacksets: expected a mapping; got ")
    assert "permission_model" not in line
    assert snapshot(out) == before


def test_an_empty_wireguard_with_udp_only_says_only_that_it_is_empty(tmp_path):
    """The rule "wireguard is set but protocols does not list wg" is about a wireguard mapping, not an empty key."""
    config = tmp_path / "config.yaml"
    config.write_text("regions: [us-west-2]\nlistener:\n  protocols: [udp]\n  wireguard:\n", encoding="utf-8")

    assert problems_of(config) == [
        "cfg.yaml:4: listener.wireguard: expected a mapping; got nothing (the value is empty)"
    ]


def test_what_is_inside_a_section_of_the_wrong_type_is_not_reported_but_a_repeated_key_is(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "regions: [us-west-2]\n"
        "stacksets: 1\n"
        "stacksets: [.nan, {permission_model: service-managed, accounts: 5, accounts: 6}, 1:30]\n",
        encoding="utf-8",
    )

    assert problems_of(config) == [
        "cfg.yaml:3: stacksets: duplicate key (first at line 2)",
        "cfg.yaml:3: stacksets: expected a mapping; got a list",
    ]


def test_a_wrong_value_beside_a_section_of_the_wrong_type_is_still_reported(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "regions: [us-west-2]\n"
        "destination:\n"
        "  batching: [10]\n"
        "  formatter: base65\n"
        "observability: {canary: off, alarms: true, alarms_topic_arn: 'arn:aws:sns:us-west-2:1:alerts'}\n",
        encoding="utf-8",
    )

    assert problems_of(config) == [
        "cfg.yaml:3: destination.batching: expected a mapping; got a list",
        'cfg.yaml:4: destination.formatter: expected one of "base64", "hex", "ascii", "utf8"; got "base65"',
        "cfg.yaml:5: observability.alarms_topic_arn: account '1' is not 12 digits",
        "cfg.yaml:5: observability.canary: expected a mapping; got false (YAML reads `off` as false)",
    ]


def test_a_value_yaml_reads_as_null_where_text_is_allowed_still_says_to_quote_it(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("regions: [us-west-2]\ntags: {team: ~}\n", encoding="utf-8")

    assert problems_of(config) == [
        "cfg.yaml:2: tags.team: expected a string; got null (YAML reads `~` as null; quote it to mean text)"
    ]
