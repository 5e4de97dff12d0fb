"""Bad input: one line per problem naming file, line, key path and what was expected; exit 2; out/ untouched."""

from __future__ import annotations

import pytest

from generator.config.yaml_source import MAX_FILE_BYTES
from tests.support.cli import run_cli, run_cli_in_process, snapshot
from tests.support.config_files import config_problems as problems_of


def test_the_issue_example_names_file_line_key_path_and_expectation(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("regions: [us-west-2]\ndestination:\n  batching:\n    count: 0\n")
    assert problems_of(path) == ["cfg.yaml:4: destination.batching.count: 0 is less than the minimum of 1"]


def test_every_problem_is_reported_in_one_run_sorted_by_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "name_prefix: 'has space'\n"
        "regions: [us-west-2, us-west-9, us-west-2]\n"
        "routing: mapp\n"
        "listener:\n"
        "  client_networks: [10.0.0.1/8, 1.2.3.4, '2001:db8::/32']\n"
        "destination:\n"
        "  batching: {count: 1001, timeout_in_seconds: 0, countt: 2}\n"
        "function: {memory_mb: true}\n"
        "tags: {'aws:owner': me}\n"
    )
    problems = problems_of(path)
    assert problems == [
        "cfg.yaml:1: name_prefix: expected a letter followed by up to 47 letters, digits or hyphens; got 'has space'",
        "cfg.yaml:2: regions[1]: 'us-west-9' is not an AWS region; did you mean us-west-2?",
        "cfg.yaml:2: regions[2]: us-west-2 is listed twice (first at line 2)",
        'cfg.yaml:3: routing: expected one of "bind", "map"; got "mapp"',
        "cfg.yaml:5: listener.client_networks[0]: '10.0.0.1/8' is not a valid network: 10.0.0.1/8 has host bits set",
        "cfg.yaml:5: listener.client_networks[1]: '1.2.3.4' is not a CIDR; expected an address with a prefix length,"
        " e.g. 203.0.113.0/24",
        "cfg.yaml:7: destination.batching.count: 1001 is greater than the maximum of 1000",
        "cfg.yaml:7: destination.batching.countt: unknown key; did you mean 'count'? expected one of: count,"
        " size_in_mb, timeout_in_seconds",
        "cfg.yaml:7: destination.batching.timeout_in_seconds: 0 is less than the minimum of 0.01",
        "cfg.yaml:8: function.memory_mb: expected an integer; got true",
        "cfg.yaml:9: tags.aws:owner: tag keys starting with 'aws:' are reserved by AWS",
    ]


def test_missing_required_key_and_wrong_types_are_named(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("home_region: mars-1\nlistener: [udp]\n")
    assert problems_of(path) == [
        "cfg.yaml: regions: is required but missing",
        "cfg.yaml:1: home_region: 'mars-1' is not an AWS region; expected one of "
        + ", ".join(__import__("generator.config.regions", fromlist=["known_regions"]).known_regions()),
        "cfg.yaml:2: listener: expected a mapping; got a list",
    ]


def test_duplicate_and_non_string_keys_are_problems_not_silently_merged(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("regions: [us-west-2]\nrouting: bind\nrouting: map\ntags:\n  1: x\n")
    assert problems_of(path) == [
        "cfg.yaml:3: routing: duplicate key (first at line 2)",
        "cfg.yaml:5: tags: key '1' must be a plain string; quote it",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"regions: [us-west-2\n", "cfg.yaml:2: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
        (b"- us-west-2\n", "cfg.yaml:1: expected a mapping of settings at the top, got a list"),
        (b"just text\n", "cfg.yaml:1: expected a mapping of settings at the top, got a str"),
        (b"", "cfg.yaml: the file is empty; expected a mapping of settings"),
        (b"a: 1\n---\nb: 2\n", "cfg.yaml:2: YAML syntax error: expected a single document in the stream"),
        (b"regions: !!python/object:os.system [x]\n", "cfg.yaml:1: regions: cannot be read:"),
        (b"\xff\xfe\x00", "cfg.yaml: is not UTF-8 text (byte 0)"),
        (b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n", "cfg.yaml: YAML is nested too deeply to be a config file"),
    ],
    ids=["syntax", "list", "scalar", "empty", "two-documents", "python-tag", "not-utf8", "deep-nesting"],
)
def test_unreadable_input_is_one_clear_line(tmp_path, content, expected):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_alias_bomb_fails_fast_with_a_clear_line(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]  # 9**12 values
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\nregions: [us-west-2]\n")
    assert problems_of(path) == [
        "cfg.yaml: YAML expands to more than 100,000 values (aliases?); a config is far smaller"
    ]


def test_merge_keys_are_refused_rather_than_expanded(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("base: &b {count: 5}\nregions: [us-west-2]\ndestination:\n  batching:\n    <<: *b\n")
    problems = problems_of(path)
    assert "cfg.yaml:5: destination.batching: key '<<' must be a plain string; quote it" in problems


def test_a_10_mb_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"# padding\n" * 1_000_000)
    assert problems_of(path) == [f"cfg.yaml: the file is larger than {MAX_FILE_BYTES:,} bytes; a config is far smaller"]


def test_missing_file_and_directory(tmp_path):
    assert problems_of(tmp_path / "nope.yaml") == ["cfg.yaml: no such file"]
    assert problems_of(tmp_path) == ["cfg.yaml: is a directory; expected a YAML file"]


def test_cli_prints_problems_exits_2_without_traceback_and_leaves_out_untouched(tmp_path, write_config):
    out = tmp_path / "out"
    good = write_config(name="good.yaml")
    assert run_cli_in_process("render", "--config", good, "--out", out).returncode == 0
    before = snapshot(out)

    bad = write_config(lambda c: c["destination"]["batching"].update(count=0, timeout_in_seconds=-1), name="bad.yaml")
    result = run_cli_in_process("render", "--config", bad, "--out", out)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert "destination.batching.count: 0 is less than the minimum of 1" in lines[0]
    assert result.stdout == ""
    assert snapshot(out) == before


def test_cli_names_the_file_relative_to_where_the_user_is(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.yaml").write_text("regions: [nowhere-1]\n")
    result = run_cli("validate", "--config", "conf/c.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("conf/c.yaml:1: regions[0]: 'nowhere-1' is not an AWS region")
