"""APPLY=1 writes the two batching values into config.yaml and leaves every other byte as it was."""

from __future__ import annotations

import os
import re

import pytest

from generator.config import Batching, load_config
from generator.config.edit import apply_batching
from generator.errors import ConfigError
from generator.paths import DEFAULT_CONFIG

MINIMAL = "# my config\nregions: [us-west-2]  # one region\n"


def written(tmp_path, text: str, newline: str = "\n"):
    path = tmp_path / "config.yaml"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def test_the_default_config_changes_in_those_two_values_only(tmp_path):
    original = DEFAULT_CONFIG.read_text(encoding="utf-8")
    path = written(tmp_path, original)
    edit = apply_batching(path, Batching(100, 0.05, None))
    # Found here by reading the file's text, not by the code under test.
    # The values, and the spaces up to their comments, which keep their column (aligned comments stay aligned).
    count = re.search(r"^    count: (10)( +)#", original, re.MULTILINE)
    timeout = re.search(r"^    timeout_in_seconds: (1)( +)#", original, re.MULTILINE)
    expected = (
        original[: count.start(1)]
        + "100"
        + " " * (len(count.group(2)) - 1)
        + original[count.end(2) : timeout.start(1)]
        + "0.05"
        + " " * (len(timeout.group(2)) - 3)
        + original[timeout.end(2) :]
    )
    assert path.read_text(encoding="utf-8") == expected
    lines_before, lines_after = original.splitlines(), expected.splitlines()
    assert [line.find("#") for line in lines_before] == [line.find("#") for line in lines_after]
    assert [(c.key_path, c.line, c.old, c.new) for c in edit.changes] == [
        ("destination.batching.count", 52, "10", "100"),
        ("destination.batching.timeout_in_seconds", 53, "1", "0.05"),
    ]
    batching = load_config(path).destination.batching
    assert (batching.count, batching.timeout_in_seconds) == (100, 0.05)


def test_a_flow_mapping_keeps_its_style_and_its_comment(tmp_path):
    path = written(tmp_path, MINIMAL + "destination:\n  batching: {count: 10, timeout_in_seconds: 1}  # tuned\n")
    apply_batching(path, Batching(1000, 0.2, None))
    assert path.read_text() == MINIMAL + "destination:\n  batching: {count: 1000, timeout_in_seconds: 0.2}  # tuned\n"


def test_values_the_file_does_not_write_are_added_as_lines_of_their_own(tmp_path):
    text = MINIMAL + "destination:\n    # formatter is how Data is encoded\n    formatter: hex\n"
    path = written(tmp_path, text)
    edit = apply_batching(path, Batching(100, 0.2, None))
    assert path.read_text() == (
        MINIMAL
        + "destination:\n"
        + "    batching:\n      count: 100\n      timeout_in_seconds: 0.2\n"
        + "    # formatter is how Data is encoded\n    formatter: hex\n"  # the comment stays with its key
    )
    assert [change.old for change in edit.changes] == [None, None]
    assert load_config(path).destination.formatter == "hex"


def test_a_config_without_destination_gets_one(tmp_path):
    path = written(tmp_path, MINIMAL)
    apply_batching(path, Batching(10, 0.05, None))
    assert path.read_text() == (
        "# my config\nregions: [us-west-2]  # one region\n"
        "destination:\n  batching:\n    count: 10\n    timeout_in_seconds: 0.05\n"
    )


def test_one_value_written_and_one_not(tmp_path):
    path = written(tmp_path, MINIMAL + "destination:\n  batching:\n    count: 10   # packets\n")
    apply_batching(path, Batching(1000, 1.0, None))
    assert path.read_text() == (
        MINIMAL + "destination:\n  batching:\n    timeout_in_seconds: 1\n    count: 1000 # packets\n"
    )


def test_windows_line_endings_stay(tmp_path):
    original = DEFAULT_CONFIG.read_text(encoding="utf-8")
    path = written(tmp_path, original, newline="\r\n")
    apply_batching(path, Batching(100, 0.05, None))
    data = path.read_bytes()
    assert data.count(b"\r\n") == original.count("\n") and data.count(b"\n") == original.count("\n")
    assert b"    count: 100                 # 1..1000 packets\r\n" in data  # the comment keeps its column


def test_a_setting_the_file_holds_already_writes_nothing(tmp_path):
    path = written(tmp_path, DEFAULT_CONFIG.read_text(encoding="utf-8"))
    before = os.stat(path).st_mtime_ns
    edit = apply_batching(path, Batching(10, 1.0, None))
    assert edit.changes == ()
    assert os.stat(path).st_mtime_ns == before


def test_the_file_keeps_its_permissions(tmp_path):
    path = written(tmp_path, MINIMAL)
    path.chmod(0o600)
    apply_batching(path, Batching(10, 0.05, None))
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_value_written_through_an_alias_is_refused_and_the_file_left_alone(tmp_path):
    text = MINIMAL + "function:\n  memory_mb: &size 128\ndestination:\n  batching:\n    count: *size\n"
    path = written(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        apply_batching(path, Batching(10, 0.05, None))
    assert "destination.batching.count: the value is not written at its key" in str(raised.value)
    assert path.read_text() == text


def test_an_invalid_config_is_refused_as_any_command_refuses_it(tmp_path):
    text = MINIMAL + "destination:\n  batching:\n    count: 0\n"
    path = written(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        apply_batching(path, Batching(10, 0.05, None), source="config.yaml")
    assert str(raised.value) == "config.yaml:5: destination.batching.count: 0 is less than the minimum of 1"
    assert path.read_text() == text


def test_a_file_without_a_final_newline_gets_the_new_section_on_a_line_of_its_own(tmp_path):
    path = written(tmp_path, "# yaml-language-server: $schema=config.schema.json\nregions: [us-west-2]")
    apply_batching(path, Batching(10, 0.05, None))
    assert path.read_text() == (
        "# yaml-language-server: $schema=config.schema.json\nregions: [us-west-2]\n"
        "destination:\n  batching:\n    count: 10\n    timeout_in_seconds: 0.05\n"
    )
