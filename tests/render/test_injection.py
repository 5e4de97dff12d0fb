"""Every user string reaches the templates through tojson: it round-trips exactly and cannot add or
change anything else in the template."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import cfn_flip
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.config import load_config
from generator.errors import ConfigError
from generator.render import render_templates
from generator.render.files import template_text
from tests.support.checkout import DEFAULT_CONFIG
from tests.support.config_files import dump_yaml
from tests.support.properties import PROPERTY_TEST_BOUND

PAYLOADS = [
    'say "hi"',
    "back\\slash \\u0041 \\n",
    "two\nlines\r\n\ttabbed",
    "{{ 7 * 7 }} {{ config }}",
    "{% for x in range(3) %}loop{% endfor %} {# comment #}",
    '"}, "Evil": {"Type": "AWS::IAM::User"}, "x": {"y": "',
    '], "Resources": {}, "z": [',
    "ünïcødé ✓ 🚀 中文 \u200b",
    "${AWS::AccountId} !Ref Evil",
    "</script><b>&amp;</b>'",
    "control \x00\x1f\x7f\x85\x9b\u2028 chars",
    "next\x85line",  # NEL alone: PyYAML's emitter writes it raw, YAML reads it as a line break
    "\ue000\x00\ue000\x00 private use beside NUL, then\x85NEL and\u2029PS",  # the YAML markers cannot collide
]

# Where each free-text field lands in the rendered templates: (template index, path).
FIELDS = {
    "description": (
        ("destination", "description"),
        (0, ("Resources", "UdpListener", "Properties", "Destinations", 0, "Description")),
    ),
    "listener-name": (("listener", "name"), (0, ("Resources", "UdpListener", "Properties", "ListenerName"))),
}


def render_with(tmp: Path, config_path_in_data: tuple, value, raw_unicode: bool = True) -> list[dict]:
    """Render the default config with one value replaced, written as a user would (raw UTF-8) unless
    that YAML would not read back as the same value: PyYAML's emitter writes NEL (U+0085) raw, which
    YAML reads as a line break. raw_unicode=False always writes non-ASCII as escapes. Strings that YAML 1.2
    (the project's reader) takes for numbers, such as `0E0`, are quoted (tests/support/config_files.py)."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    target = data
    for key in config_path_in_data[:-1]:
        target = target.setdefault(key, {})
    target[config_path_in_data[-1]] = value
    text = dump_yaml(data, allow_unicode=raw_unicode)
    if yaml.safe_load(text) != data:
        text = dump_yaml(data, allow_unicode=False)
    path = tmp / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return [template.document for template in render_templates(load_config(path))]


def get_at(document, path):
    for key in path:
        document = document[key]
    return document


def set_at(document, path, value):
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


def assert_only_the_field_changed(documents, baseline, template_index, output_path, expected):
    assert get_at(documents[template_index], output_path) == expected  # exact round trip
    restored = copy.deepcopy(documents)
    set_at(restored[template_index], output_path, get_at(baseline[template_index], output_path))
    assert restored == baseline  # nothing added, removed or changed anywhere else


@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baseline")
    return {name: render_with(tmp, config_path, "baseline") for name, (config_path, _) in FIELDS.items()}


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_payload_round_trips_exactly_and_changes_nothing_else(tmp_path, baselines, field, payload):
    config_path, (template_index, output_path) = FIELDS[field]
    documents = render_with(tmp_path, config_path, payload)
    assert_only_the_field_changed(documents, baselines[field], template_index, output_path, payload)


# Cheap examples (~25 ms): fifteen times the profile's count (tests/conftest.py). `0E0` and `1e3` are numbers
# to YAML 1.2 and text to PyYAML's YAML 1.1 writer, which once left them unquoted; `0o17` is the other way round.
@PROPERTY_TEST_BOUND
@settings(max_examples=15 * settings().max_examples)
@example("0E0")
@example("1e3")
@example("-.5E+1")
@example("0o17")
@example("0x1F")
@example(".inf")
@example("~")
@example("NULL")
@example("yes")
@example("1:30")
@example("010")
@given(st.text(min_size=1, max_size=300))
def test_any_description_round_trips(baselines, text):
    with tempfile.TemporaryDirectory() as folder:
        documents = render_with(Path(folder), ("destination", "description"), text, raw_unicode=False)
    _, (template_index, output_path) = FIELDS["description"]
    assert_only_the_field_changed(documents, baselines["description"], template_index, output_path, text)


@pytest.mark.parametrize(
    ("config_path", "value"),
    [
        (("name_prefix",), 'x"; {{ evil }}'),
        (("destination", "name"), "a\nb"),
        (("tags",), {"team": 'quote " here'}),
        (("tags",), {"{{ key }}": "v"}),
        (("tags",), {"team": "v\n"}),
        (("name_prefix",), "pc\n"),
        (("listener", "client_domains"), ['x.example.com", "Evil": "']),
        (("listener", "client_domains"), ["{{ domain }}.example.com"]),
        (("listener", "client_domains"), ["a.example.com\n"]),
    ],
)
def test_restricted_fields_refuse_such_strings_with_a_clear_error(tmp_path, config_path, value):
    with pytest.raises(ConfigError) as caught:
        render_with(tmp_path, config_path, value)
    assert all(str(problem).startswith(str(tmp_path / "config.yaml")) for problem in caught.value.problems)
    assert "expected" in str(caught.value)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_round_trips_through_the_yaml_format_too(tmp_path, payload):
    _, (template_index, output_path) = FIELDS["description"]
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["destination"]["description"] = payload
    path = tmp_path / "config.yaml"
    path.write_text(dump_yaml(data, allow_unicode=False), encoding="utf-8")
    template = render_templates(load_config(path))[template_index]
    read_back = json.loads(cfn_flip.to_json(template_text(template, "yaml")))
    assert read_back == template.document
    assert get_at(read_back, output_path) == payload
