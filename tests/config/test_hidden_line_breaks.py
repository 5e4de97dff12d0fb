"""What the editor shows is what is read: YAML 1.1 also breaks lines at NEL, LINE SEPARATOR, PARAGRAPH
SEPARATOR and a lone carriage return, which editors and diffs do not show, so a raw one could hide a key in
a comment or a value. Each is refused wherever it stands, at its line (counted by \\n) and column, saying
how to write the character if it is meant; lines everywhere else are counted by \\n too."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from generator.config import load_config
from generator.config.edit import settings_the_config_refuses
from generator.errors import ConfigError
from tests.support.cli import run_cli, snapshot
from tests.support.config_files import text_problems as problems_of

HEAD = "# packet counter\nregions: [us-west-2]\n"  # two lines: what follows starts on line 3

# (character, how messages name it, its escape inside double quotes)
BREAKS = [
    ("\x85", "U+0085 NEXT LINE (NEL)", "\\N (or \\x85)"),
    ("\u2028", "U+2028 LINE SEPARATOR", "\\L (or \\u2028)"),
    ("\u2029", "U+2029 PARAGRAPH SEPARATOR", "\\P (or \\u2029)"),
    ("\r", "carriage return (U+000D) without a line feed after it", "\\r"),
]
BREAK_IDS = ["NEL", "LS", "PS", "lone-CR"]


def refusal(line: int, column: int, name: str, key_path: str = "") -> str:
    where = f"cfg.yaml:{line}: {key_path}: " if key_path else f"cfg.yaml:{line}: "
    return f"{where}a raw {name} at column {column}: YAML 1.1 reads it as a line break, but "


@pytest.mark.parametrize(("char", "name", "escape"), BREAKS, ids=BREAK_IDS)
def test_in_a_comment_it_is_refused_and_the_key_behind_it_is_not_read(tmp_path, char, name, escape):
    # An editor shows one comment line; YAML 1.1 would read `stacksets: x` as a key after it.
    problems = problems_of(tmp_path, f"{HEAD}routing: bind  # was map{char}stacksets: x\n")

    [problem] = problems
    assert problem.startswith(refusal(3, 25, name))
    assert problem.endswith(f"remove it, or if the character is meant in a value, write it as the escape {escape}"
                            " inside double quotes")  # fmt: skip
    assert "stacksets" not in problem


@pytest.mark.parametrize(("char", "name", "escape"), BREAKS, ids=BREAK_IDS)
@pytest.mark.parametrize(
    "written",
    [
        'destination: {description: "counter{C}in every region"}\n',
        "destination: {description: 'counter{C}in every region'}\n",
        "destination:\n  description: counter{C}in every region\n",
        "destination:\n  description: |\n    counter{C}in every region\n",
    ],
    ids=["double-quoted", "single-quoted", "plain", "block"],
)
def test_in_a_value_it_is_refused_under_the_values_key_path(tmp_path, char, name, escape, written):
    text = HEAD + written.replace("{C}", char)
    line_text = next(line for line in text.split("\n") if char in line)
    line = text.split("\n").index(line_text) + 1
    column = line_text.index(char) + 1

    [problem] = problems_of(tmp_path, text)

    assert problem.startswith(refusal(line, column, name, "destination.description"))
    assert f"write it as the escape {escape} inside double quotes" in problem


def test_lines_and_columns_are_counted_as_an_editor_counts_them(tmp_path):
    text = (
        "# a\x85b\u2028c\n"  # line 1: two of them; no more lines for an editor
        "regions: [us-west-2]\r\n"  # \r\n is an ordinary line end
        "tags: {team: 'net\u2029work'}\n"  # line 3
    )
    problems = problems_of(tmp_path, text)
    assert [problem.split(": a raw ", 1)[0] for problem in problems] == [
        "cfg.yaml:1",
        "cfg.yaml:1",
        "cfg.yaml:3: tags.team",
    ]
    assert [problem.split(" at column ", 1)[1].split(":", 1)[0] for problem in problems] == ["4", "6", "18"]


def test_many_are_listed_up_to_a_limit_with_how_many_more(tmp_path):
    problems = problems_of(tmp_path, HEAD + "".join(f"# {index}\x85\n" for index in range(25)))
    assert len(problems) == 21
    assert problems[19].startswith("cfg.yaml:22: a raw U+0085 NEXT LINE (NEL) at column 5")
    assert problems[20] == "cfg.yaml: and 5 more such characters after line 22"


@pytest.mark.parametrize(("char", "escapes"), [(char, escapes) for char, _, escapes in BREAKS], ids=BREAK_IDS)
def test_written_as_an_escape_the_character_is_a_value_like_any_other(tmp_path, char, escapes):
    path = tmp_path / "config.yaml"
    for escape in escapes.replace("(or ", "").rstrip(")").split():  # each escape the message offers
        path.write_text(f'{HEAD}destination: {{description: "counter{escape}here"}}\n', encoding="utf-8")
        assert load_config(path).destination.description == f"counter{char}here"


def test_crlf_line_ends_are_not_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"# packet counter\r\nregions: [us-west-2]\r\ndestination:\r\n  batching: {count: 0}\r\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, source="cfg.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        "cfg.yaml:4: destination.batching.count: 0 is less than the minimum of 1"
    ]


def test_a_control_character_yaml_refuses_is_named_at_its_line_and_column(tmp_path):
    assert problems_of(tmp_path, f"{HEAD}tags: {{team: 'a\x0bb'}}\n") == [
        "cfg.yaml:3: YAML syntax error: the character U+000B at column 16 is a control character YAML does not"
        " allow; remove it"
    ]


def test_the_command_line_exits_2_names_the_place_and_writes_nothing(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_bytes(f"{HEAD}routing: bind  # note\u2028stacksets: {{accounts: ['111111111111']}}\n".encode())
    out = tmp_path / "out"
    out.mkdir()
    (out / "global.template.json").write_text("{}\n")
    before = snapshot(out)

    result = run_cli("render", "--config", config, "--out", out)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config}:3: a raw U+2028 LINE SEPARATOR at column 22: ")
    assert snapshot(out) == before


@dataclass(frozen=True)
class Setting:
    count: int
    timeout_in_seconds: float


def test_tunings_trial_of_a_setting_keeps_an_escaped_line_break_escaped(tmp_path):
    """tune writes each setting into a copy of the config to see whether the config would refuse it: a value
    holding NEL must not come out as a raw NEL there (and so every setting be refused)."""
    path = tmp_path / "config.yaml"
    path.write_text(f'{HEAD}destination: {{description: "a\\Nb \\L c"}}\n', encoding="utf-8")
    load_config(path)

    assert settings_the_config_refuses(path, [Setting(10, 0.5), Setting(20, 1)]) == {}
