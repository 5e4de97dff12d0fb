"""APPLY=1 writes the two batching values into config.yaml and leaves every other byte as it was."""

from __future__ import annotations

import os
import re

import pytest

from generator.config import Batching, load_config
from generator.config.edit import apply_batching, check_applicable
from generator.errors import ConfigError
from tests.support.checkout import DEFAULT_CONFIG

MINIMAL = "# my config\nregions: [us-west-2]  # one region\n"
SETTING = Batching(100, 0.2, None)


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
    assert str(raised.value) == (
        f"{path}:7: destination.batching.count: the value is not written at its key: it is an alias (*size) of a "
        "value written elsewhere; set it by hand"
    )
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


def test_a_read_only_config_is_refused_and_stays_read_only(tmp_path):
    path = written(tmp_path, MINIMAL)
    path.chmod(0o444)
    for attempt in (lambda: check_applicable(path, source="config.yaml"), lambda: apply_batching(path, SETTING)):
        with pytest.raises(ConfigError) as raised:
            attempt()
        (problem,) = raised.value.problems
        assert "is read-only (mode -r--r--r--); nothing to apply" in problem.message
    assert str(raised.value).startswith(f"{path}: is read-only")
    assert path.read_text() == MINIMAL
    assert path.stat().st_mode & 0o777 == 0o444


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o604])
def test_a_writable_config_keeps_its_mode(tmp_path, mode):
    path = written(tmp_path, MINIMAL)
    path.chmod(mode)
    apply_batching(path, SETTING)
    assert path.stat().st_mode & 0o777 == mode
    assert load_config(path).destination.batching.count == SETTING.count


# Anchors, aliases and tags the edit does not touch: every byte but the two values stays.
WITH_ANCHORS = """# anchors, aliases and tags
name_prefix: !!str packet-counter
home_region: &home us-west-2
regions: [*home, eu-west-1]
function:
  memory_mb: &memory 128
  timeout_seconds: !!int 10
tags: {team: &team networking, owner: *team}
destination: !!map
  description: &about "counts packets"
  batching:
    count: 10            # packets
    timeout_in_seconds: !!float 1
"""


def test_anchors_aliases_and_tags_elsewhere_stay_byte_for_byte(tmp_path):
    path = written(tmp_path, WITH_ANCHORS)
    edit = apply_batching(path, Batching(100, 0.2, None))
    # The tag on timeout_in_seconds stays with it: only the value after it changes.
    expected = WITH_ANCHORS.replace("count: 10            #", "count: 100           #").replace(
        "timeout_in_seconds: !!float 1\n", "timeout_in_seconds: !!float 0.2\n"
    )
    assert path.read_text() == expected
    assert [(c.key_path, c.old, c.new) for c in edit.changes] == [
        ("destination.batching.count", "10", "100"),
        ("destination.batching.timeout_in_seconds", "1", "0.2"),
    ]
    config = load_config(path)
    assert config.regions == ("us-west-2", "eu-west-1") and config.tags == {"team": "networking", "owner": "networking"}


def test_a_missing_value_is_added_under_a_tagged_or_anchored_mapping(tmp_path):
    text = MINIMAL + "destination: &dest !!map\n  formatter: hex\n"
    path = written(tmp_path, text)
    apply_batching(path, Batching(100, 0.2, None))
    assert path.read_text() == (
        MINIMAL + "destination: &dest !!map\n  batching:\n    count: 100\n    timeout_in_seconds: 0.2\n"
        "  formatter: hex\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "destination:\n  batching:\n    count: &c 10\nfunction:\n  timeout_seconds: *c\n",
            "destination.batching.count: the value carries the anchor &c, which aliases may refer to",
        ),
        (
            "destination:\n  batching:\n    count: &c 10\n",  # anchored, and nothing refers to it (yet)
            "destination.batching.count: the value carries the anchor &c",
        ),
        (
            "function:\n  timeout_seconds: &t 1\ndestination:\n  batching:\n    timeout_in_seconds: *t\n",
            "destination.batching.timeout_in_seconds: the value is not written at its key: it is an alias (*t)",
        ),
    ],
)
def test_a_value_that_is_an_alias_or_anchored_is_refused_naming_it(tmp_path, text, message):
    path = written(tmp_path, MINIMAL + text)
    with pytest.raises(ConfigError) as raised:
        check_applicable(path)
    (problem,) = raised.value.problems
    assert f"{problem.key_path}: {problem.message}".startswith(message), problem
    assert problem.message.endswith("; set it by hand")
    assert problem.line is not None
    assert path.read_text() == MINIMAL + text


@pytest.mark.parametrize(
    ("newline", "named"),
    [
        ("\r", "has CR-only (old Mac OS) line endings"),
        ("\u2028", "a raw U+2028 LINE SEPARATOR at column "),
        ("\x85", "a raw U+0085 NEXT LINE (NEL) at column "),
    ],
)
def test_line_endings_other_than_lf_and_crlf_are_named_as_such(tmp_path, newline, named):
    path = written(tmp_path, MINIMAL + "destination:\n  batching:\n    count: 10\n", newline=newline)
    before = path.read_bytes()
    for attempt in (lambda: check_applicable(path, source="config.yaml"), lambda: apply_batching(path, SETTING)):
        with pytest.raises(ConfigError) as raised:
            attempt()
        first = raised.value.problems[0]
        assert named in first.message and first.line == 1
    assert path.read_bytes() == before


def test_a_stray_cr_in_a_crlf_file_is_named_with_its_line(tmp_path):
    text = MINIMAL.replace("\n", "\r\n") + "destination:\r\n  batching:\r    count: 10\r\n"
    path = tmp_path / "config.yaml"
    path.write_bytes(text.encode())
    with pytest.raises(ConfigError) as raised:
        check_applicable(path, source="config.yaml")
    assert str(raised.value).startswith(
        "config.yaml:4: a raw carriage return (U+000D) without a line feed after it at column 12"
    )
